// The cluster metadata laid out as etcd keys, so that what a change costs follows what it touches — an ISR change
// is one partition's small key, guarded by that key's revision — and a watch delivers only what changed:
//   /fjord/cluster                      the cluster's own fields (cluster id, dynamic broker settings, producer
//                                       id blocks, transactional ids, users' SCRAM credentials, ACLs)
//   /fjord/topics/<topic>               a topic: id, partition count, replication factor, settings
//   /fjord/partitions/<topic>/<index>   a partition's assignment, once the controller has placed it
// Values are the JSON of cluster/metadata_json.h. The layout before this one kept everything in one document,
// /fjord/metadata; a broker that finds it migrates it (etcd_cluster.h).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "cluster/metadata_store.h"

namespace fjord::cluster::etcd {

inline const std::string kClusterKey = "/fjord/cluster";
inline const std::string kTopicsPrefix = "/fjord/topics/";
inline const std::string kPartitionsPrefix = "/fjord/partitions/";
inline const std::string kSingleDocumentKey = "/fjord/metadata";  // the layout before this one

bool is_metadata_key(const std::string& key);

// One key to write: a value to put, or nullopt to delete the key; `existed` says whether the key held a value
// before (a write is guarded by the revision it had then, or by its absence).
struct KeyWrite {
  std::string key;
  std::optional<std::string> value;
  bool existed = true;
  bool operator==(const KeyWrite&) const = default;
};

// The writes that turn `before` into `after`, only for the keys whose content differs: the cluster key first, then
// topics, then partitions — and deletions of a topic's partitions before the topic — so that a watcher applying
// them in order never sees a partition of a topic it does not know.
std::vector<KeyWrite> changed_keys(const ClusterMetadata& before, const ClusterMetadata& after);

// Every key of `metadata` (changed_keys from nothing).
std::vector<KeyWrite> all_keys(const ClusterMetadata& metadata);

// Applies one key as etcd now holds it (nullopt: deleted) to `metadata`. Throws on a malformed key or value.
void apply_metadata_key(ClusterMetadata& metadata, const std::string& key, const std::optional<std::string>& value);

}  // namespace fjord::cluster::etcd
