// Single-node metadata: a JSON document in the data directory, replaced atomically on every change.
#pragma once

#include "cluster/metadata_store.h"
#include "storage/file_system.h"

namespace fjord::cluster {

class LocalMetadataStore final : public MetadataStore {
 public:
  // Loads DATA_DIR/cluster-metadata.json, creating it (with a new cluster id) when absent.
  LocalMetadataStore(storage::FileSystem& fs, std::string data_directory);
  const ClusterMetadata& current() const override { return metadata_; }
  void update(const std::function<void(ClusterMetadata&)>& change, std::function<void(std::error_code)> done) override;

  static std::string to_json(const ClusterMetadata& metadata);
  static ClusterMetadata from_json(const std::string& text);

 private:
  void write(const ClusterMetadata& metadata);
  storage::FileSystem& fs_;
  std::string path_;
  ClusterMetadata metadata_;
};

protocol::Uuid random_uuid();

}  // namespace fjord::cluster
