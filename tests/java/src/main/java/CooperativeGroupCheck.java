// The Java client's CooperativeStickyAssignor and static membership against a broker:
//   1. three members cover all partitions exactly once; a fourth joins and only the partitions that move to it
//      are revoked from the others;
//   2. a static member (group.instance.id) closes and comes back within its session: nobody else sees a
//      rebalance, and it gets its partitions back.
// Exits 0 when both hold; prints what it saw either way. Used by tests/java_groups_test.sh.
import java.time.Duration;
import java.util.*;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.*;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;

public class CooperativeGroupCheck {
  static final int PARTITIONS = 12;

  static class Member implements ConsumerRebalanceListener {
    final Set<Integer> owned = Collections.synchronizedSet(new TreeSet<>());
    final Set<Integer> revoked = Collections.synchronizedSet(new TreeSet<>());
    final AtomicInteger rebalances = new AtomicInteger();
    final AtomicBoolean stop = new AtomicBoolean();
    final Thread thread;

    Member(String bootstrap, String group, String topic, String instance) {
      Properties p = new Properties();
      p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
      p.put(ConsumerConfig.GROUP_ID_CONFIG, group);
      p.put(ConsumerConfig.PARTITION_ASSIGNMENT_STRATEGY_CONFIG, CooperativeStickyAssignor.class.getName());
      p.put(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, "10000");
      p.put(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG, "500");
      p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
      p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
      p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
      if (instance != null) p.put(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG, instance);
      thread = new Thread(() -> {
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(p)) {
          consumer.subscribe(List.of(topic), this);
          while (!stop.get()) consumer.poll(Duration.ofMillis(100));
        }
      });
      thread.start();
    }

    public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
      for (TopicPartition tp : partitions) {
        owned.remove(tp.partition());
        revoked.add(tp.partition());
      }
      if (!partitions.isEmpty()) rebalances.incrementAndGet();
    }

    public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
      for (TopicPartition tp : partitions) owned.add(tp.partition());
      // The cooperative protocol calls this after every rebalance, with nothing when nothing moved to the member:
      // each call is a rebalance the member took part in.
      rebalances.incrementAndGet();
    }

    public void onPartitionsLost(Collection<TopicPartition> partitions) {
      onPartitionsRevoked(partitions);
    }

    void close() throws InterruptedException {
      stop.set(true);
      thread.join();
    }

    Set<Integer> owned() {
      synchronized (owned) {
        return new TreeSet<>(owned);
      }
    }
  }

  static boolean coversOnce(List<Member> members, long timeoutMs) throws InterruptedException {
    long deadline = System.currentTimeMillis() + timeoutMs;
    while (System.currentTimeMillis() < deadline) {
      Map<Integer, Integer> owners = new HashMap<>();
      boolean eachHasSome = true;
      for (Member m : members) {
        Set<Integer> owned = m.owned();
        if (owned.isEmpty()) eachHasSome = false;
        for (int p : owned) owners.merge(p, 1, Integer::sum);
      }
      if (eachHasSome && owners.size() == PARTITIONS && owners.values().stream().allMatch(n -> n == 1)) return true;
      Thread.sleep(50);
    }
    return false;
  }

  static void check(boolean ok, String what) {
    System.out.println((ok ? "ok: " : "FAILED: ") + what);
    if (!ok) System.exit(1);
  }

  public static void main(String[] args) throws Exception {
    String bootstrap = args[0];
    Properties admin = new Properties();
    admin.put("bootstrap.servers", bootstrap);
    try (Admin client = Admin.create(admin)) {
      client.createTopics(List.of(new NewTopic("java-coop", PARTITIONS, (short) 1),
                                  new NewTopic("java-static", PARTITIONS, (short) 1))).all().get();
    }

    Member a = new Member(bootstrap, "java-coop", "java-coop", null);
    Member b = new Member(bootstrap, "java-coop", "java-coop", null);
    Member c = new Member(bootstrap, "java-coop", "java-coop", null);
    check(coversOnce(List.of(a, b, c), 60000), "three cooperative members cover 12 partitions once");
    Thread.sleep(1000);
    Map<Member, Set<Integer>> before = new HashMap<>();
    for (Member m : List.of(a, b, c)) {
      before.put(m, m.owned());
      m.revoked.clear();
    }
    Member d = new Member(bootstrap, "java-coop", "java-coop", null);
    check(coversOnce(List.of(a, b, c, d), 60000), "four cooperative members cover 12 partitions once");
    Thread.sleep(1000);
    Set<Integer> taken = d.owned();
    int revokedTotal = 0;
    for (Member m : List.of(a, b, c)) {
      for (int p : m.revoked) check(taken.contains(p), "partition " + p + " revoked only because it moved to the newcomer");
      for (int p : m.owned()) check(before.get(m).contains(p), "partition " + p + " stayed with its owner");
      revokedTotal += m.revoked.size();
    }
    check(revokedTotal == taken.size(), "revoked " + revokedTotal + " = taken by the newcomer " + taken.size());
    for (Member m : List.of(a, b, c, d)) m.close();

    Member s1 = new Member(bootstrap, "java-static", "java-static", "pod-1");
    Member s2 = new Member(bootstrap, "java-static", "java-static", "pod-2");
    Member s3 = new Member(bootstrap, "java-static", "java-static", "pod-3");
    check(coversOnce(List.of(s1, s2, s3), 60000), "three static members cover 12 partitions once");
    Thread.sleep(1000);
    Set<Integer> s2had = s2.owned();
    s1.rebalances.set(0);
    s3.rebalances.set(0);
    s2.close();  // a static member's close does not leave the group
    Thread.sleep(2000);
    Member s2again = new Member(bootstrap, "java-static", "java-static", "pod-2");
    check(coversOnce(List.of(s1, s2again, s3), 30000), "the restarted static member is back");
    Thread.sleep(1000);
    check(s2again.owned().equals(s2had), "it got its partitions back: " + s2again.owned() + " = " + s2had);
    check(s1.rebalances.get() + s3.rebalances.get() == 0, "the others saw no rebalance");
    for (Member m : List.of(s1, s2again, s3)) m.close();
    System.out.println("java groups: ok");
    System.exit(0);
  }
}
