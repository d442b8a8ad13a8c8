// The Java client on a compacted topic: an idempotent producer (the client's default) writes 20 versions of 200
// keys and deletes 25 of them; a consumer from the start must then see exactly the latest value of every live key
// (and a tombstone for each deleted one) in offset order, and the same producer keeps writing without an error
// after its earlier batches were compacted away. Used by tests/java_compaction_test.sh.
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

public class CompactedTopicCheck {
  static final int KEYS = 200, VERSIONS = 20, DELETED = 25;

  static String value(int key, int version) {
    return "key-" + key + "-version-" + version;
  }

  public static void main(String[] args) throws Exception {
    String broker = args[0];
    String topic = "java-table";
    Properties admin = new Properties();
    admin.put("bootstrap.servers", broker);
    try (Admin client = Admin.create(admin)) {
      NewTopic table = new NewTopic(topic, 1, (short) 1)
          .configs(Map.of("cleanup.policy", "compact", "segment.bytes", "65536", "segment.ms", "1000",
              "min.cleanable.dirty.ratio", "0.01", "delete.retention.ms", "600000"));
      client.createTopics(List.of(table)).all().get();
    }
    Properties props = new Properties();
    props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker);
    props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
    props.put(ProducerConfig.ACKS_CONFIG, "all");
    props.put(ProducerConfig.LINGER_MS_CONFIG, "5");
    props.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
    props.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
    AtomicLong failed = new AtomicLong();
    try (KafkaProducer<String, String> producer = new KafkaProducer<>(props)) {
      for (int version = 0; version < VERSIONS; version++) {
        for (int key = 0; key < KEYS; key++) {
          producer.send(new ProducerRecord<>(topic, 0, "key-" + key, value(key, version)), (m, e) -> {
            if (e != null) {
              failed.incrementAndGet();
              System.err.println("failed: " + e);
            }
          });
        }
      }
      for (int key = 0; key < DELETED; key++) producer.send(new ProducerRecord<>(topic, 0, "key-" + key, null));
      producer.flush();

      long start = System.nanoTime();
      boolean compacted = false;
      for (int round = 0; round < 60 && !compacted; round++) {
        Thread.sleep(500);
        // A fresh record after segment.ms rolls the active segment, which is never cleaned.
        producer.send(new ProducerRecord<>(topic, 0, "filler", "x")).get();
        compacted = latestOnly(broker, topic);
      }
      if (!compacted) {
        System.err.println("the topic never read back as the latest value of every key");
        System.exit(1);
      }
      System.out.printf("compacted after %.1f s%n", (System.nanoTime() - start) / 1e9);
      // The same idempotent producer goes on writing: its sequence survived the compaction of its batches.
      for (int key = 0; key < KEYS; key++) producer.send(new ProducerRecord<>(topic, 0, "key-" + key, "after")).get();
    }
    if (failed.get() != 0) System.exit(1);
    System.out.println("java compaction: ok");
  }

  // Whether reading from the start gives each live key once, at its latest value, and each deleted key only as a
  // tombstone.
  static boolean latestOnly(String broker, String topic) {
    Properties props = new Properties();
    props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, broker);
    props.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
    props.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
    try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(props)) {
      TopicPartition partition = new TopicPartition(topic, 0);
      consumer.assign(List.of(partition));
      consumer.seekToBeginning(List.of(partition));
      long end = consumer.endOffsets(List.of(partition)).get(partition);
      Map<String, Integer> seen = new HashMap<>();
      long previous = -1;
      long deadline = System.currentTimeMillis() + 20000;
      while (consumer.position(partition) < end && System.currentTimeMillis() < deadline) {
        for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) {
          if (r.offset() <= previous) throw new IllegalStateException("offsets went back at " + r.offset());
          previous = r.offset();
          if (r.key().equals("filler")) continue;
          seen.merge(r.key(), 1, Integer::sum);
          int key = Integer.parseInt(r.key().substring(4));
          if (key < DELETED ? r.value() != null : !value(key, VERSIONS - 1).equals(r.value())) return false;
        }
      }
      if (consumer.position(partition) < end) return false;
      for (int key = 0; key < KEYS; key++) {
        if (seen.getOrDefault("key-" + key, 0) != 1) return false;
      }
      return true;
    }
  }
}
