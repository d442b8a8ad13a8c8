// The Java client over a secured listener: its settings come from a properties file (security.protocol, sasl.*,
// ssl.*, as Kafka's tools take them with --command-config). "accepted" creates the topic, produces COUNT records
// with acks=all and idempotence, reads them back in a consumer group and commits; "refused" expects the first
// request to fail authentication, writing nothing. Used by tests/java_security_test.sh.
import java.io.FileInputStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.AuthenticationException;
import org.apache.kafka.common.errors.SslAuthenticationException;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

public class SecureClientCheck {
  public static void main(String[] args) throws Exception {
    String bootstrap = args[0];
    Properties security = new Properties();
    try (FileInputStream in = new FileInputStream(args[1])) {
      security.load(in);
    }
    String mode = args[2];
    String topic = args[3];
    int count = Integer.parseInt(args[4]);
    Properties common = new Properties();
    common.putAll(security);
    common.put("bootstrap.servers", bootstrap);

    if (mode.equals("refused")) {
      Properties props = new Properties();
      props.putAll(common);
      props.put("key.serializer", StringSerializer.class.getName());
      props.put("value.serializer", StringSerializer.class.getName());
      props.put("max.block.ms", "10000");
      try (KafkaProducer<String, String> producer = new KafkaProducer<>(props)) {
        producer.send(new ProducerRecord<>(topic, "never")).get();
        System.out.println("written although it should have been refused");
        System.exit(1);
      } catch (ExecutionException e) {
        boolean authentication = e.getCause() instanceof AuthenticationException
            || e.getCause() instanceof SslAuthenticationException;
        System.out.println("refused: " + e.getCause());
        System.exit(authentication ? 0 : 1);
      } catch (AuthenticationException e) {
        System.out.println("refused: " + e);
        System.exit(0);
      }
    }

    try (Admin admin = Admin.create(common)) {
      admin.createTopics(List.of(new NewTopic(topic, 1, (short) 1))).all().get();
    }
    Properties producerProps = new Properties();
    producerProps.putAll(common);
    producerProps.put("acks", "all");
    producerProps.put("enable.idempotence", "true");
    producerProps.put("key.serializer", StringSerializer.class.getName());
    producerProps.put("value.serializer", StringSerializer.class.getName());
    try (KafkaProducer<String, String> producer = new KafkaProducer<>(producerProps)) {
      for (int i = 0; i < count; i++) producer.send(new ProducerRecord<>(topic, "key-" + i, "value-" + i)).get();
    }
    Properties consumerProps = new Properties();
    consumerProps.putAll(common);
    consumerProps.put("group.id", topic + "-readers");
    consumerProps.put("auto.offset.reset", "earliest");
    consumerProps.put("enable.auto.commit", "false");
    consumerProps.put("key.deserializer", StringDeserializer.class.getName());
    consumerProps.put("value.deserializer", StringDeserializer.class.getName());
    List<String> values = new ArrayList<>();
    try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(consumerProps)) {
      consumer.subscribe(List.of(topic));
      long deadline = System.currentTimeMillis() + 30000;
      while (values.size() < count && System.currentTimeMillis() < deadline) {
        for (ConsumerRecord<String, String> record : consumer.poll(Duration.ofMillis(500))) values.add(record.value());
      }
      consumer.commitSync();
    }
    for (int i = 0; i < count; i++) {
      if (values.size() <= i || !values.get(i).equals("value-" + i)) {
        System.out.println("read " + values.size() + " of " + count + " back, or out of order");
        System.exit(1);
      }
    }
    System.out.println("produced and consumed " + count + " records");
  }
}
