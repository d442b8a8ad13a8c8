// `fjord lag [GROUP...]`: consumer lag in records and seconds, its velocity and a status per group and partition,
// as a client of any Kafka-compatible cluster (DescribeGroups, OffsetFetch, ListOffsets, and a fetch of the first
// record each group has not consumed for its timestamp). The statuses are the broker's lag engine's
// (observe/lag_status.h), concluded from what this command sees while it runs: one sample gives OK, WARN or ERR;
// STOP and REWIND need it to watch for a window (`--for`, `--watch`). A group that keeps committing the same
// offset looks like STOP from outside, since the protocol does not show commits that change nothing; the broker's
// own engine (/metrics, /api/lag) tells STALL apart.
#pragma once

#include <string>
#include <vector>

namespace fjord::cli {

// The exit status when some group is in ERR, STOP or STALL: scripts and health checks can tell it from a failure
// to reach the cluster (1) and a usage error (2).
inline constexpr int kLagNeedsAttentionExitStatus = 3;

struct LagOptions {
  std::string bootstrap = "127.0.0.1:9092";
  std::string format = "text";      // or "json" (with --watch: one JSON document per line and refresh)
  std::vector<std::string> groups;  // empty: every consumer group
  bool watch = false;               // refresh until interrupted (or --iterations)
  int iterations = 0;               // with --watch: stop after this many refreshes (0: never)
  double interval_seconds = 1;
  double observe_seconds = 0;   // without --watch: sample for this long before answering (0: once)
  double window_seconds = 0;    // the status window (0: --for when given, else 60)
  double warning_seconds = 60;  // lag in seconds that makes a partition WARN
  double critical_seconds = 300;
};

int run_lag(const LagOptions& options);

}  // namespace fjord::cli
