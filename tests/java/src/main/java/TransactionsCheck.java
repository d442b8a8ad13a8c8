// The Java client's transactions: a consume-transform-produce loop (read_committed consumer in a group, a
// transactional producer committing the group's offsets with sendOffsetsToTransaction) that aborts every third
// transaction and rewinds; at the end the output, read committed, holds every input record exactly once and the
// group's committed offsets are at the input's end. Then a second producer with the same transactional.id fences
// the first, whose commit must fail with ProducerFencedException. The second argument is the transaction
// version the broker finalizes: under 2 the client uses transactions v2 (no AddPartitionsToTxn or
// AddOffsetsToTxn; every EndTxn bumps the producer epoch, which the coordinator's state shows), under 1 it does not.
// Used by tests/java_transactions_test.sh.
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

public class TransactionsCheck {
  static final int RECORDS = 300;

  static KafkaProducer<String, String> transactional(String bootstrap, String id) {
    Properties p = new Properties();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, id);
    p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
    p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
    return new KafkaProducer<>(p);
  }

  static KafkaConsumer<String, String> consumer(String bootstrap, String group) {
    Properties c = new Properties();
    c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    c.put(ConsumerConfig.GROUP_ID_CONFIG, group);
    c.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    c.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
    c.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    c.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "40");
    c.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
    c.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
    return new KafkaConsumer<>(c);
  }

  static void check(boolean ok, String what) {
    if (!ok) throw new AssertionError(what);
  }

  public static void main(String[] args) throws Exception {
    String bootstrap = args[0];
    int transactionVersion = Integer.parseInt(args[1]);
    Properties a = new Properties();
    a.put("bootstrap.servers", bootstrap);
    try (Admin admin = Admin.create(a)) {
      admin.createTopics(List.of(new NewTopic("java-txn-in", 2, (short) 1), new NewTopic("java-txn-out", 2, (short) 1)))
          .all().get();
    }
    Properties plain = new Properties();
    plain.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    plain.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
    plain.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
    try (KafkaProducer<String, String> seed = new KafkaProducer<>(plain)) {
      for (int i = 0; i < RECORDS; i++) seed.send(new ProducerRecord<>("java-txn-in", i % 2, "k" + i, "v" + i));
    }

    int transactions = 0, aborted = 0;
    try (KafkaConsumer<String, String> in = consumer(bootstrap, "java-txn-job");
        KafkaProducer<String, String> out = transactional(bootstrap, "java-txn-job")) {
      out.initTransactions();
      in.subscribe(List.of("java-txn-in"));
      long deadline = System.currentTimeMillis() + 60_000;
      while (System.currentTimeMillis() < deadline) {
        var records = in.poll(Duration.ofMillis(200));
        if (records.isEmpty()) {
          var ends = in.endOffsets(in.assignment());
          boolean done = !in.assignment().isEmpty();
          for (var tp : in.assignment()) done &= in.position(tp) >= ends.get(tp);
          if (done) break;
          continue;
        }
        out.beginTransaction();
        Map<TopicPartition, OffsetAndMetadata> next = new HashMap<>();
        for (ConsumerRecord<String, String> r : records) {
          out.send(new ProducerRecord<>("java-txn-out", r.partition(), r.key(), "out-" + r.value()));
          next.put(new TopicPartition(r.topic(), r.partition()), new OffsetAndMetadata(r.offset() + 1));
        }
        out.sendOffsetsToTransaction(next, in.groupMetadata());
        transactions++;
        if (transactions % 3 == 0) {
          out.flush();  // in the log, then aborted
          out.abortTransaction();
          aborted++;
          // Back to what the group has committed: the aborted batch is processed again.
          var committed = in.committed(next.keySet());
          for (var tp : next.keySet()) {
            var c = committed.get(tp);
            in.seek(tp, c == null ? 0 : c.offset());
          }
        } else {
          out.commitTransaction();
        }
      }
      var committed = in.committed(Set.of(new TopicPartition("java-txn-in", 0), new TopicPartition("java-txn-in", 1)));
      long total = 0;
      for (var c : committed.values()) total += c == null ? 0 : c.offset();
      check(total == RECORDS, "the group's committed offsets add up to " + total + ", not " + RECORDS);
    }
    check(aborted > 0, "no transaction was aborted");
    short epoch;
    try (Admin admin = Admin.create(a)) {
      epoch = (short) admin.describeTransactions(List.of("java-txn-job")).description("java-txn-job").get()
          .producerEpoch();
    }
    int expectedEpoch = transactionVersion >= 2 ? transactions : 0;
    check(epoch == expectedEpoch, "after " + transactions + " transactions under transaction.version "
        + transactionVersion + " the producer epoch is " + epoch + ", not " + expectedEpoch);

    Map<String, Integer> seen = new HashMap<>();
    try (KafkaConsumer<String, String> reader = consumer(bootstrap, "java-txn-reader")) {
      reader.assign(List.of(new TopicPartition("java-txn-out", 0), new TopicPartition("java-txn-out", 1)));
      reader.seekToBeginning(reader.assignment());
      long deadline = System.currentTimeMillis() + 20_000;
      int count = 0;
      while (count < RECORDS && System.currentTimeMillis() < deadline) {
        for (ConsumerRecord<String, String> r : reader.poll(Duration.ofMillis(200))) {
          seen.merge(r.value(), 1, Integer::sum);
          count++;
        }
      }
    }
    check(seen.size() == RECORDS, "output holds " + seen.size() + " distinct records, not " + RECORDS);
    for (var e : seen.entrySet()) check(e.getValue() == 1, e.getKey() + " was written " + e.getValue() + " times");

    KafkaProducer<String, String> first = transactional(bootstrap, "java-txn-fenced");
    first.initTransactions();
    first.beginTransaction();
    first.send(new ProducerRecord<>("java-txn-out", 0, "k", "fenced"));
    first.flush();
    try (KafkaProducer<String, String> second = transactional(bootstrap, "java-txn-fenced")) {
      second.initTransactions();
      try {
        first.commitTransaction();
        throw new AssertionError("a fenced producer committed");
      } catch (ProducerFencedException expected) {
        // as Kafka answers
      }
    }
    first.close(Duration.ofSeconds(5));
    System.out.println("java transactions (transaction.version " + transactionVersion + "): " + transactions
        + " transactions, " + aborted + " aborted, " + RECORDS + " records each exactly once; producer epoch " + epoch
        + "; fencing refused the old producer");
  }
}
