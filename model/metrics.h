// The metrics facade every layer's probes register with. It wraps a prometheus-cpp registry: counters and gauges
// are thread-safe and cheap to bump, and observe/ turns the registry into Prometheus text at /metrics.
#pragma once

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <memory>
#include <string>

namespace fjord {

class Metrics {
 public:
  Metrics() : registry_(std::make_shared<prometheus::Registry>()) {}

  prometheus::Counter& counter(const std::string& name, const std::string& help,
                               const prometheus::Labels& labels = {}) {
    return prometheus::BuildCounter().Name(name).Help(help).Register(*registry_).Add(labels);
  }
  prometheus::Gauge& gauge(const std::string& name, const std::string& help, const prometheus::Labels& labels = {}) {
    return prometheus::BuildGauge().Name(name).Help(help).Register(*registry_).Add(labels);
  }
  prometheus::Histogram& histogram(const std::string& name, const std::string& help,
                                   const prometheus::Histogram::BucketBoundaries& buckets,
                                   const prometheus::Labels& labels = {}) {
    return prometheus::BuildHistogram().Name(name).Help(help).Register(*registry_).Add(labels, buckets);
  }
  // A family whose series come and go (one per partition, say): Add(labels) and Remove(&series) on it.
  prometheus::Family<prometheus::Gauge>& gauge_family(const std::string& name, const std::string& help) {
    return prometheus::BuildGauge().Name(name).Help(help).Register(*registry_);
  }
  prometheus::Family<prometheus::Counter>& counter_family(const std::string& name, const std::string& help) {
    return prometheus::BuildCounter().Name(name).Help(help).Register(*registry_);
  }
  const std::shared_ptr<prometheus::Registry>& registry() const { return registry_; }

 private:
  std::shared_ptr<prometheus::Registry> registry_;
};

}  // namespace fjord
