// The Java client across an online migration of its group (KIP-848): two classic cooperative-sticky members
// consume, committing after processing;
//   1. the Admin API describes a classic group;
//   2. a member with group.protocol=consumer joins: the group becomes a consumer-protocol group (as the Admin API
//      describes it) of three members covering every partition once, and the classic members give up only
//      partitions that moved to the newcomer;
//   3. the newcomer leaves: the group is classic again and the two cover every partition;
//   4. every record produced is processed, and the committed offsets reach the end of every partition.
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

public class GroupMigrationCheck {
  static final String TOPIC = "migrating-orders";
  static final String GROUP = "migrating-group";
  static final int PARTITIONS = 6;
  static final Set<String> processed = ConcurrentHashMap.newKeySet();
  static String bootstrap;

  static GroupType typeOf(Admin admin) throws Exception {
    ConsumerGroupDescription described = admin.describeConsumerGroups(List.of(GROUP)).describedGroups().get(GROUP).get();
    System.out.println("described: " + described);
    return described.type();
  }

  static boolean becomes(Admin admin, GroupType type, long timeoutMs) throws Exception {
    long deadline = System.currentTimeMillis() + timeoutMs;
    while (System.currentTimeMillis() < deadline) {
      if (typeOf(admin) == type) return true;
      Thread.sleep(500);
    }
    return false;
  }

  static GroupMember member(String name, String protocol) {
    return new GroupMember(bootstrap, GROUP, TOPIC, name, protocol, processed);
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

      GroupMember a = member("classic-a", "classic");
      GroupMember b = member("classic-b", "classic");
      check(GroupMember.coverOnce(List.of(a, b), PARTITIONS, 60000), "two classic members cover " + PARTITIONS + " partitions once");
      check(typeOf(admin) == GroupType.CLASSIC, "the Admin API describes a classic group");
      Map<GroupMember, Set<Integer>> before = new HashMap<>();
      for (GroupMember m : List.of(a, b)) {
        before.put(m, m.owned());
        m.revoked.clear();
      }

      produce(bootstrap, 3000, 1000);
      GroupMember c = member("consumer-c", "consumer");
      check(GroupMember.coverOnce(List.of(a, b, c), PARTITIONS, 60000), "with a consumer-protocol member, three cover every partition once");
      check(becomes(admin, GroupType.CONSUMER, 10000), "the Admin API describes a consumer-protocol group (upgraded)");
      Set<Integer> taken = c.owned();
      for (GroupMember m : List.of(a, b)) {
        for (int p : m.revoked) {
          check(taken.contains(p), m.thread.getName() + " gave up partition " + p + " only because it moved");
        }
      }

      produce(bootstrap, 4000, 1000);
      c.close();
      check(GroupMember.coverOnce(List.of(a, b), PARTITIONS, 60000), "after it leaves, the two classic members cover every partition");
      check(becomes(admin, GroupType.CLASSIC, 30000), "the Admin API describes a classic group again (downgraded)");

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
      check(committed.size() == PARTITIONS && total == 5000,
            "committed offsets reach the end of every partition (" + total + ")");
    }
  }
}
