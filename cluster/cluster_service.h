// The cluster's shared state as one broker takes part in it: the metadata, who is registered, and this broker's
// own registration. etcd in production (cluster/etcd); an in-memory one lets tests run whole clusters in one
// process (cluster/testing).
#pragma once

#include "cluster/membership.h"
#include "cluster/metadata_store.h"

namespace fjord::cluster {

class ClusterService : public MetadataStore, public Membership {
 public:
  // Registers this broker at `self` (blocking), after which it counts as alive and may become controller.
  virtual void join(const BrokerEndpoint& self) = 0;
  // Clean leave: the registration (and the controller role) go at once, not after the session timeout.
  virtual void leave() = 0;
};

}  // namespace fjord::cluster
