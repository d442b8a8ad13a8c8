// A consumer-group member for the checks (ConsumerProtocolCheck, GroupMigrationCheck): a KafkaConsumer on its own
// thread that records what it processes and commits after processing, and keeps what it owns and what it gave up
// from its rebalance callbacks. `protocol` is the group.protocol: "consumer", or "classic" (cooperative-sticky).
import java.time.Duration;
import java.util.*;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.kafka.clients.consumer.*;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.RebalanceInProgressException;
import org.apache.kafka.common.serialization.StringDeserializer;

public class GroupMember implements ConsumerRebalanceListener {
  final Set<Integer> owned = Collections.synchronizedSet(new TreeSet<>());
  final Set<Integer> revoked = Collections.synchronizedSet(new TreeSet<>());
  final AtomicBoolean stop = new AtomicBoolean();
  final Thread thread;
  volatile Throwable failure;

  GroupMember(String bootstrap, String group, String topic, String name, String protocol, Set<String> processed) {
    Properties p = new Properties();
    p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(ConsumerConfig.GROUP_ID_CONFIG, group);
    p.put(ConsumerConfig.GROUP_PROTOCOL_CONFIG, protocol);
    if (protocol.equals("classic")) {
      p.put(ConsumerConfig.PARTITION_ASSIGNMENT_STRATEGY_CONFIG, CooperativeStickyAssignor.class.getName());
      p.put(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, "10000");
      p.put(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG, "500");
    }
    p.put(ConsumerConfig.CLIENT_ID_CONFIG, name);
    p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
    p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
    p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
    thread = new Thread(() -> {
      try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(p)) {
        consumer.subscribe(List.of(topic), this);
        while (!stop.get()) {
          ConsumerRecords<String, String> records = consumer.poll(Duration.ofMillis(100));
          for (ConsumerRecord<String, String> r : records) processed.add(r.partition() + ":" + r.offset());
          if (records.isEmpty()) continue;
          try {
            consumer.commitSync();  // after processing
          } catch (RebalanceInProgressException e) {
            // A classic member mid-rebalance: what it processed is uncommitted work, processed again later.
          }
        }
      } catch (Throwable t) {
        failure = t;
        t.printStackTrace();
      }
    }, name);
    thread.start();
  }

  public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
    for (TopicPartition tp : partitions) {
      owned.remove(tp.partition());
      revoked.add(tp.partition());
    }
  }

  public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
    for (TopicPartition tp : partitions) owned.add(tp.partition());
  }

  public void onPartitionsLost(Collection<TopicPartition> partitions) {
    onPartitionsRevoked(partitions);
  }

  Set<Integer> owned() {
    synchronized (owned) {
      return new TreeSet<>(owned);
    }
  }

  void close() throws InterruptedException {
    stop.set(true);
    thread.join();
  }

  // Whether, within `timeoutMs`, every member owns something and together they own each of `partitions` once.
  static boolean coverOnce(List<GroupMember> members, int partitions, long timeoutMs) throws InterruptedException {
    long deadline = System.currentTimeMillis() + timeoutMs;
    String last = "";
    while (System.currentTimeMillis() < deadline) {
      Map<Integer, Integer> owners = new HashMap<>();
      boolean eachHasSome = true;
      StringBuilder seen = new StringBuilder();
      for (GroupMember m : members) {
        Set<Integer> owned = m.owned();
        seen.append(m.thread.getName()).append('=').append(owned).append(' ');
        if (owned.isEmpty()) eachHasSome = false;
        for (int p : owned) owners.merge(p, 1, Integer::sum);
      }
      last = seen.toString();
      if (eachHasSome && owners.size() == partitions && owners.values().stream().allMatch(n -> n == 1)) {
        System.out.println("owners: " + last);
        return true;
      }
      Thread.sleep(50);
    }
    System.out.println("owners when giving up: " + last);
    return false;
  }
}
