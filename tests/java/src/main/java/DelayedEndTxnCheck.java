// A delayed EndTxn (tests/java_delayed_end_txn_test.sh): the first EndTxn(commit) of a transactional producer
// is held back by the fault proxy (tests/support/fault_proxy.py --hold-end-txn); the producer times out, sends it
// again and commits; its next transaction writes a record, and only then does the proxy deliver the held request.
// The program then reads the coordinator's state for the transactional id, writes a second record, aborts the
// transaction and reads the topic read_committed. It prints one line of JSON for the script to judge:
//   {"state_after_delivery": "...", "abort": "ok" | "<exception>", "committed": [...], "producer_epoch": N}
// Under transactions v2 the held commit (one epoch behind) is refused and the later transaction is unaffected:
// committed holds only "first". Under transactions v1 the same request commits the later transaction.
//
//   DelayedEndTxnCheck PROXY_BOOTSTRAP BROKER_BOOTSTRAP REPORT_FILE TOPIC
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

public class DelayedEndTxnCheck {
  public static void main(String[] args) throws Exception {
    String proxy = args[0], broker = args[1], topic = args[3];
    Path report = Path.of(args[2]);
    String id = topic + "-producer";
    Properties a = new Properties();
    a.put("bootstrap.servers", broker);
    try (Admin admin = Admin.create(a)) {
      admin.createTopics(List.of(new NewTopic(topic, 1, (short) 1))).all().get();

      Properties p = new Properties();
      p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, proxy);
      p.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, id);
      p.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, "2000");  // the held EndTxn times out and is sent again
      p.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, "10000");
      p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
      p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
      String state;
      String abort = "ok";
      short epoch;
      try (KafkaProducer<String, String> producer = new KafkaProducer<>(p)) {
        producer.initTransactions();
        producer.beginTransaction();
        producer.send(new ProducerRecord<>(topic, 0, "k", "first"));
        producer.commitTransaction();  // held once, retried, committed
        producer.beginTransaction();
        producer.send(new ProducerRecord<>(topic, 0, "k", "second-a"));
        producer.flush();  // its answer releases the held EndTxn
        long deadline = System.currentTimeMillis() + 20_000;
        while (!Files.exists(report) || Files.size(report) == 0) {
          if (System.currentTimeMillis() > deadline) throw new AssertionError("the proxy never delivered the EndTxn");
          Thread.sleep(20);
        }
        var described = admin.describeTransactions(List.of(id)).description(id).get();
        state = described.state().toString().toLowerCase();
        epoch = (short) described.producerEpoch();
        producer.send(new ProducerRecord<>(topic, 0, "k", "second-b"));
        try {
          producer.abortTransaction();
        } catch (Exception e) {
          abort = e.getClass().getSimpleName();
        }
      }
      Properties c = new Properties();
      c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, broker);
      c.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
      c.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
      c.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
      List<String> committed = new ArrayList<>();
      try (KafkaConsumer<String, String> reader = new KafkaConsumer<>(c)) {
        TopicPartition tp = new TopicPartition(topic, 0);
        reader.assign(List.of(tp));
        reader.seekToBeginning(List.of(tp));
        // Until the partition is stable again (the abort's marker written) and read to its end.
        long deadline = System.currentTimeMillis() + 20_000;
        while (System.currentTimeMillis() < deadline) {
          for (var r : reader.poll(Duration.ofMillis(200))) committed.add(r.value());
          if (reader.position(tp) >= reader.endOffsets(List.of(tp)).get(tp)
              && admin.describeTransactions(List.of(id)).description(id).get().state().toString()
                  .toLowerCase().startsWith("complete")) {
            for (var r : reader.poll(Duration.ofMillis(200))) committed.add(r.value());
            break;
          }
        }
      }
      StringBuilder out = new StringBuilder("{\"state_after_delivery\": \"" + state + "\", \"abort\": \"" + abort
          + "\", \"producer_epoch\": " + epoch + ", \"committed\": [");
      for (int i = 0; i < committed.size(); i++) out.append(i > 0 ? ", " : "").append('"').append(committed.get(i)).append('"');
      System.out.println(out.append("]}"));
    }
  }
}
