// The Java client's consumer group protocol (KIP-848, group.protocol=consumer) against a broker:
//   1. two members cover every partition exactly once, with the broker's assignor;
//   2. a third joins and takes partitions without any other member giving up one that did not move to it;
//   3. the group as the Admin API describes it: the consumer protocol, stable, its epoch and members;
//   4. a member that leaves has its partitions taken over by the others;
//   5. commit-after-process over the whole run: every record produced is processed, and the committed offsets
//      reach the end of every partition.
// Exits 0 when all hold; prints what it saw either way. Used by tests/java_consumer_protocol_test.sh.
import java.util.*;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.*;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.GroupType;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringSerializer;

public class ConsumerProtocolCheck {
  static final String TOPIC = "kip848-orders";
  static final String GROUP = "kip848-group";
  static final int PARTITIONS = 6;
  static final Set<String> processed = ConcurrentHashMap.newKeySet();
  static String bootstrap;

  static GroupMember member(String name) {
    return new GroupMember(bootstrap, GROUP, TOPIC, name, "consumer", processed);
  }

  static void check(boolean ok, String what) {
    System.out.println((ok ? "ok: " : "FAILED: ") + what);
    if (!ok) System.exit(1);
  }

  static void produce(String bootstrap, int from, int count) throws Exception {
    Properties p = new Properties();
    p.put("bootstrap.servers", bootstrap);
    p.put("key.serializer", StringSerializer.class.getName());
    p.put("value.serializer", StringSerializer.class.getName());
    try (KafkaProducer<String, String> producer = new KafkaProducer<>(p)) {
      for (int i = from; i < from + count; i++) producer.send(new ProducerRecord<>(TOPIC, "key-" + i, "value-" + i));
      producer.flush();
    }
  }

  public static void main(String[] args) throws Exception {
    bootstrap = args[0];
    Properties adminProps = new Properties();
    adminProps.put("bootstrap.servers", bootstrap);
    try (Admin admin = Admin.create(adminProps)) {
      admin.createTopics(List.of(new NewTopic(TOPIC, PARTITIONS, (short) 1))).all().get();
      produce(bootstrap, 0, 3000);

      GroupMember a = member("member-a");
      GroupMember b = member("member-b");
      check(GroupMember.coverOnce(List.of(a, b), PARTITIONS, 60000), "two members cover " + PARTITIONS + " partitions once");
      Map<GroupMember, Set<Integer>> before = new HashMap<>();
      for (GroupMember m : List.of(a, b)) {
        before.put(m, m.owned());
        m.revoked.clear();
      }
      produce(bootstrap, 3000, 1000);
      GroupMember c = member("member-c");
      check(GroupMember.coverOnce(List.of(a, b, c), PARTITIONS, 60000), "three members cover " + PARTITIONS + " partitions once");
      Set<Integer> taken = c.owned();
      for (GroupMember m : List.of(a, b)) {
        for (int p : m.revoked) check(taken.contains(p), m.thread.getName() + " gave up partition " + p + " only because it moved");
        for (int p : m.owned()) check(before.get(m).contains(p), m.thread.getName() + " kept partition " + p);
      }

      ConsumerGroupDescription described =
          admin.describeConsumerGroups(List.of(GROUP)).describedGroups().get(GROUP).get();
      System.out.println("described: " + described);
      check(described.type() == GroupType.CONSUMER, "the Admin API describes a consumer-protocol group");
      check(described.members().size() == 3, "with its three members");
      check(described.groupEpoch().orElse(0) > 0, "and its group epoch");

      produce(bootstrap, 4000, 1000);
      c.close();
      check(GroupMember.coverOnce(List.of(a, b), PARTITIONS, 60000), "after one leaves, the other two cover every partition again");

      long deadline = System.currentTimeMillis() + 60000;
      while (processed.size() < 5000 && System.currentTimeMillis() < deadline) Thread.sleep(100);
      check(processed.size() == 5000, "every one of 5000 records processed (" + processed.size() + ")");
      a.close();
      b.close();
      for (GroupMember m : List.of(a, b, c)) check(m.failure == null, m.thread.getName() + " ran without error");
      Map<TopicPartition, OffsetAndMetadata> committed =
          admin.listConsumerGroupOffsets(GROUP).partitionsToOffsetAndMetadata().get();
      long total = 0;
      for (OffsetAndMetadata o : committed.values()) total += o.offset();
      check(committed.size() == PARTITIONS && total == 5000, "committed offsets reach the end of every partition (" + total + ")");
    }
  }
}
