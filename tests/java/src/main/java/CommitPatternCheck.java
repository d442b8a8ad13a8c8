// Java consumers for the commit-pattern check (tests/java_commit_pattern_test.sh): RUNS that auto-commit (the Java
// client's default, with its default assignors range and cooperative-sticky) and RUNS that commit after
// processing, each in its own group on its own topic, with commit periods, processing times and commit sizes that
// vary from run to run, fed by a producer whose records arrive at random (Poisson) times. Prints each run's
// settings, then "consuming" once every consumer has its partition, and consumes until its input closes.
import java.time.Duration;
import java.util.*;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.*;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

public class CommitPatternCheck {
  static final int RUNS = 10;
  static final int[] INTERVALS_MS = {1000, 1500, 2000, 2500, 3000};
  static final int[] PROCESSING_MS = {0, 5, 20, 40, 60};
  static final int[] COMMIT_EVERY = {0, 1, 3, 5, 10}; // 0: commitSync() of the whole poll batch

  record Run(String name, boolean autoCommit, int intervalMs, int commitEvery, boolean sync, int meanProcessingMs) {}

  static List<Run> runs() {
    List<Run> runs = new ArrayList<>();
    for (int i = 0; i < RUNS; i++) {
      runs.add(new Run("java-auto-" + i, true, INTERVALS_MS[i % 5], 0, true, PROCESSING_MS[(i / 2) % 5]));
      runs.add(new Run("java-manual-" + i, false, 0, COMMIT_EVERY[i % 5], i % 2 == 0,
          PROCESSING_MS[(i + 3) % 5] * (i >= 5 ? 4 : 1)));
    }
    return runs;
  }

  static void consume(String bootstrap, Run run, AtomicBoolean stop, CountDownLatch assigned) {
    Properties p = new Properties();
    p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(ConsumerConfig.GROUP_ID_CONFIG, run.name());
    p.put(ConsumerConfig.CLIENT_ID_CONFIG, run.name());
    p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, Boolean.toString(run.autoCommit()));
    if (run.autoCommit()) p.put(ConsumerConfig.AUTO_COMMIT_INTERVAL_MS_CONFIG, Integer.toString(run.intervalMs()));
    p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
    p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
    try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(p)) {
      consumer.subscribe(List.of(run.name()), new ConsumerRebalanceListener() {
        public void onPartitionsRevoked(Collection<TopicPartition> partitions) {}
        public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
          if (!partitions.isEmpty()) assigned.countDown();
        }
      });
      int uncommitted = 0;
      while (!stop.get()) {
        ConsumerRecords<String, String> records = consumer.poll(Duration.ofMillis(100));
        for (ConsumerRecord<String, String> record : records) {
          sleep(ThreadLocalRandom.current().nextInt(2 * run.meanProcessingMs() + 1));
          if (run.autoCommit() || run.commitEvery() == 0 || ++uncommitted < run.commitEvery()) continue;
          uncommitted = 0;
          Map<TopicPartition, OffsetAndMetadata> processed = Map.of(
              new TopicPartition(record.topic(), record.partition()), new OffsetAndMetadata(record.offset() + 1));
          if (run.sync()) consumer.commitSync(processed); else consumer.commitAsync(processed, null);
        }
        if (!run.autoCommit() && run.commitEvery() == 0 && !records.isEmpty()) consumer.commitSync();
      }
    }
  }

  static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  public static void main(String[] args) throws Exception {
    String bootstrap = args[0];
    List<Run> runs = runs();
    try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrap))) {
      List<NewTopic> topics = new ArrayList<>();
      for (Run run : runs) topics.add(new NewTopic(run.name(), 1, (short) 1));
      admin.createTopics(topics).all().get();
    }
    for (Run run : runs) System.out.println(run);
    AtomicBoolean stop = new AtomicBoolean();
    CountDownLatch assigned = new CountDownLatch(runs.size());
    Thread feeder = new Thread(() -> {
      Properties p = new Properties();
      p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
      p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
      p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
      p.put(ProducerConfig.LINGER_MS_CONFIG, "0");
      try (KafkaProducer<String, String> producer = new KafkaProducer<>(p)) {
        ThreadLocalRandom random = ThreadLocalRandom.current();
        double perSecond = 10.0 * runs.size();
        for (long i = 0; !stop.get(); i++) {
          producer.send(new ProducerRecord<>(runs.get(random.nextInt(runs.size())).name(), "record-" + i));
          LockSupport.parkNanos((long) (-Math.log(1.0 - random.nextDouble()) / perSecond * 1e9));
        }
      }
    });
    feeder.start();
    List<Thread> consumers = new ArrayList<>();
    for (Run run : runs) {
      Thread t = new Thread(() -> consume(bootstrap, run, stop, assigned));
      t.start();
      consumers.add(t);
    }
    assigned.await();
    System.out.println("consuming");
    System.out.flush();
    while (System.in.read() >= 0) {}
    stop.set(true);
    for (Thread t : consumers) t.join();
    feeder.join();
  }
}
