// The checklist audit on a live broker: every interval it runs the rules (observe/audit.h) over what this broker
// has seen clients do and over the topics and settings it knows, and publishes the findings as JSON for the admin
// endpoint (GET /api/audit, with the observed clients) and as fjord_checklist_violations{rule} (findings per rule,
// 0 for a rule nothing breaks). In a cluster each broker reports the clients that talked to it.
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include "cluster/partition_manager.h"
#include "model/clock.h"
#include "model/executor.h"
#include "model/metrics.h"
#include "server/client_activity.h"

namespace fjord::observe {

class ChecklistAudit {
 public:
  ChecklistAudit(cluster::PartitionManager& partitions, server::ClientActivity& activity, Metrics& metrics,
                 const Clock& clock, Scheduler& scheduler, int64_t interval_ms = 2000);
  ~ChecklistAudit();

  // Runs the rules now (the timer does it every interval); on the event loop.
  void run();
  // The last findings; any thread.
  std::string last_json() const;

 private:
  void schedule();

  cluster::PartitionManager& partitions_;
  server::ClientActivity& activity_;
  const Clock& clock_;
  Scheduler& scheduler_;
  const int64_t interval_ms_;
  prometheus::Family<prometheus::Gauge>& violations_family_;
  std::map<std::string, prometheus::Gauge*> violations_;  // by rule
  std::unique_ptr<TimerHandle> timer_;
  mutable std::mutex mutex_;
  std::string last_json_ = "{\"checked_at_ms\":null,\"findings\":[],\"clients\":[]}";
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace fjord::observe
