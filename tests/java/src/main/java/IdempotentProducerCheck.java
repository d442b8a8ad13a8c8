// The Java client (idempotence on, as it is by default) writes N keyed records; prints how many were
// acknowledged. Used by tests/java_idempotence_test.sh, through a proxy that loses produce responses.
import java.util.List;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;

public class IdempotentProducerCheck {
  public static void main(String[] args) throws Exception {
    String broker = args[0];    // for the admin request
    String through = args[1];   // the proxy the producer writes through
    String topic = args[2];
    int count = Integer.parseInt(args[3]);
    Properties admin = new Properties();
    admin.put("bootstrap.servers", broker);
    try (Admin client = Admin.create(admin)) {
      client.createTopics(List.of(new NewTopic(topic, 3, (short) 1))).all().get();
    }
    Properties props = new Properties();
    props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, through);
    props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
    props.put(ProducerConfig.ACKS_CONFIG, "all");
    props.put(ProducerConfig.LINGER_MS_CONFIG, "2");
    props.put(ProducerConfig.BATCH_SIZE_CONFIG, "16384");
    props.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
    props.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
    AtomicLong acknowledged = new AtomicLong();
    AtomicLong failed = new AtomicLong();
    try (KafkaProducer<String, String> producer = new KafkaProducer<>(props)) {
      for (int i = 0; i < count; i++) {
        producer.send(new ProducerRecord<>(topic, i % 3, "key-" + i, "value-" + i), (metadata, error) -> {
          if (error == null) {
            acknowledged.incrementAndGet();
          } else {
            failed.incrementAndGet();
            System.err.println("failed: " + error);
          }
        });
      }
      producer.flush();
    }
    System.out.println("acknowledged " + acknowledged.get() + " failed " + failed.get());
    System.exit(failed.get() == 0 && acknowledged.get() == count ? 0 : 1);
  }
}
