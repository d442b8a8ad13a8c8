// Protocol details that broke real clients against other Kafka-compatible brokers (shared/PITFALLS.md), staged
// with exact bytes where no client library can stage them.
#include <gtest/gtest.h>

#include <cctype>
#include <fstream>
#include <map>
#include <sstream>

#include "protocol/messages/alter_partition_reassignments.h"
#include "protocol/messages/api_versions.h"
#include "protocol/messages/describe_log_dirs.h"
#include "protocol/messages/fetch.h"
#include "protocol/messages/list_offsets.h"
#include "protocol/messages/list_partition_reassignments.h"
#include "protocol/messages/metadata.h"
#include "protocol/messages/produce.h"
#include "protocol/record_batch.h"
#include "tests/support/broker_process.h"
#include "tests/support/kafka_clients.h"
#include "tests/support/raw_client.h"

namespace fjord::testing {
namespace {

using namespace protocol;

class ProtocolEdges : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    broker = new BrokerProcess();
    broker->start();
    Admin admin(broker->bootstrap());
    admin.create_topic("edges", 1);
    admin.create_topic("empty", 1);
    TestProducer producer(broker->bootstrap(), {{"acks", "all"}});
    for (int i = 0; i < 10; ++i) producer.produce("edges", 0, 1, i);
    producer.flush(10000);
  }
  static void TearDownTestSuite() { delete broker; }
  static BrokerProcess* broker;
};
BrokerProcess* ProtocolEdges::broker = nullptr;

ProduceRequest one_batch_produce(const std::string& topic, int16_t acks) {
  Record record;
  record.timestamp = 1'700'000'000'000;
  record.value = Bytes{'x'};
  ProduceRequest request;
  request.acks = acks;
  request.timeout_ms = 5000;
  auto& t = request.topic_data.emplace_back();
  t.name = topic;
  auto& p = t.partition_data.emplace_back();
  p.index = 0;
  p.records = Records::own(build_batch({record}, {}));
  return request;
}

TEST_F(ProtocolEdges, ApiVersionsV3AnswersWithAV0Header) {
  RawClient c(broker->port());
  ApiVersionsRequest request;
  request.client_software_name = "raw";
  request.client_software_version = "1";
  c.send(request, 3, 7);
  auto frame = c.receive();
  ASSERT_TRUE(frame);
  int32_t id = 0;
  // Decoding with a v0 header (no tagged-field byte) must consume the body exactly.
  auto response = RawClient::decode<ApiVersionsResponse>(*frame, 3, false, &id);
  EXPECT_EQ(id, 7);
  EXPECT_EQ(response.error_code, 0);
  bool has_fetch = false;
  for (const auto& k : response.api_keys) {
    if (k.api_key == 1) {
      has_fetch = true;
      EXPECT_EQ(k.min_version, 4);
      EXPECT_EQ(k.max_version, 17);
    }
    if (k.api_key == 0) {
      EXPECT_EQ(k.min_version, 0) << "librdkafka probes Produce v0-2 to enable features";
    }
  }
  EXPECT_TRUE(has_fetch);
}

// PITFALLS 12: transactions v2 is advertised as a whole. With transaction.version 2 finalized (the default)
// ApiVersions names the feature and offers EndTxn 5, Produce 12 and TxnOffsetCommit 5, which clients then use;
// with 1, none of them, and a request at one of them is refused like any unknown version.
// An ApiVersions v9 request: its body cannot be known, so only the header is sent.
void send_future_api_versions(RawClient& c, int32_t correlation_id) {
  Writer w;
  w.write_int16(18);
  w.write_int16(9);
  w.write_int32(correlation_id);
  w.write_string("future-client", false);
  w.write_uvarint(0);
  w.write_uvarint(0);
  c.send_frame(w.take().bytes);
}

ApiVersionsResponse api_versions(RawClient& c, int16_t version, int16_t answer_version) {
  c.send(ApiVersionsRequest{}, version, 1);
  auto frame = c.receive();
  if (!frame) throw std::runtime_error("no ApiVersions answer");
  int32_t id = 0;
  return RawClient::decode<ApiVersionsResponse>(*frame, answer_version, false, &id);
}

std::map<int16_t, int16_t> max_versions(const ApiVersionsResponse& response) {
  std::map<int16_t, int16_t> out;
  for (const auto& k : response.api_keys) out[k.api_key] = k.max_version;
  return out;
}

TEST_F(ProtocolEdges, TransactionsV2IsAdvertisedWithItsFeatureLevel) {
  RawClient c(broker->port());
  auto v4 = api_versions(c, 4, 4);
  ASSERT_EQ(v4.supported_features.size(), 1u);
  EXPECT_EQ(v4.supported_features[0].name, "transaction.version");
  EXPECT_EQ(v4.supported_features[0].min_version, 0);
  EXPECT_EQ(v4.supported_features[0].max_version, 2);
  ASSERT_EQ(v4.finalized_features.size(), 1u);
  EXPECT_EQ(v4.finalized_features[0].max_version_level, 2);
  EXPECT_GE(v4.finalized_features_epoch, 0);
  auto v2_max = max_versions(v4);
  EXPECT_EQ(v2_max[0], 12);
  EXPECT_EQ(v2_max[26], 5);
  EXPECT_EQ(v2_max[28], 5);
  EXPECT_EQ(v2_max[24], 5);
  // A v3 answer leaves out supported features whose minimum is 0: v3 clients refuse them.
  auto v3 = api_versions(c, 3, 3);
  EXPECT_TRUE(v3.supported_features.empty());
  EXPECT_EQ(v3.finalized_features.size(), 1u);

  BrokerProcess v1({"--set", "transaction.version=1"});
  v1.start();
  RawClient old(v1.port());
  auto response = api_versions(old, 4, 4);
  ASSERT_EQ(response.finalized_features.size(), 1u);
  EXPECT_EQ(response.finalized_features[0].max_version_level, 1);
  auto v1_max = max_versions(response);
  EXPECT_EQ(v1_max[0], 11);
  EXPECT_EQ(v1_max[26], 4);
  EXPECT_EQ(v1_max[28], 4);
  // A version above ours is answered in v0 with error 35 and the same ranges.
  send_future_api_versions(old, 5);
  auto frame = old.receive();
  ASSERT_TRUE(frame);
  int32_t id = 0;
  auto refused = RawClient::decode<ApiVersionsResponse>(*frame, 0, false, &id);
  EXPECT_EQ(refused.error_code, 35);
  EXPECT_EQ(max_versions(refused)[26], 4);
  old.send(one_batch_produce("edges", -1), 12, 3);
  EXPECT_FALSE(old.receive()) << "Produce v12 without transactions v2 closes the connection";
}

// protocol/API_VERSIONS.md: per API key, the advertised [min, max] with transaction.version 2 and with 0-1.
struct TableRow {
  std::pair<int16_t, int16_t> v2;
  std::pair<int16_t, int16_t> v1;
};
std::pair<int16_t, int16_t> parse_range(std::string cell) {
  // "4–17" (an en dash) or "0".
  const std::string dash = "\u2013";
  auto at = cell.find(dash);
  if (at == std::string::npos) return {static_cast<int16_t>(std::stoi(cell)), static_cast<int16_t>(std::stoi(cell))};
  return {static_cast<int16_t>(std::stoi(cell.substr(0, at))),
          static_cast<int16_t>(std::stoi(cell.substr(at + dash.size())))};
}
std::map<int16_t, TableRow> api_versions_table() {
  std::ifstream in(FJORD_API_VERSIONS_TABLE);
  std::map<int16_t, TableRow> rows;
  std::string line;
  while (std::getline(in, line)) {
    std::vector<std::string> cells;
    std::stringstream cols(line);
    std::string cell;
    while (std::getline(cols, cell, '|')) {
      const auto first = cell.find_first_not_of(' ');
      const auto last = cell.find_last_not_of(' ');
      cells.push_back(first == std::string::npos ? "" : cell.substr(first, last - first + 1));
    }
    // "", API, key, v2 range, v1 range, flexible, notes
    if (cells.size() < 5 || cells[2].empty() || !std::isdigit(static_cast<unsigned char>(cells[2][0]))) continue;
    rows[static_cast<int16_t>(std::stoi(cells[2]))] = {parse_range(cells[3]), parse_range(cells[4])};
  }
  return rows;
}

TEST_F(ProtocolEdges, ApiVersionsMatchesTheTableInApiVersionsMd) {
  const auto table = api_versions_table();
  ASSERT_GT(table.size(), 30u) << FJORD_API_VERSIONS_TABLE;
  BrokerProcess v1({"--set", "transaction.version=1"});
  v1.start();
  for (int version : {2, 1}) {
    RawClient c(version == 2 ? broker->port() : v1.port());
    auto response = api_versions(c, 4, 4);
    std::map<int16_t, std::pair<int16_t, int16_t>> served;
    for (const auto& k : response.api_keys) served[k.api_key] = {k.min_version, k.max_version};
    std::map<int16_t, std::pair<int16_t, int16_t>> documented;
    for (const auto& [key, row] : table) documented[key] = version == 2 ? row.v2 : row.v1;
    EXPECT_EQ(served, documented) << "transaction.version " << version;
  }
}

TEST_F(ProtocolEdges, ApiVersionsAboveOurRangeGetsAV0AnswerWithError35) {
  RawClient c(broker->port());
  send_future_api_versions(c, 99);
  auto frame = c.receive();
  ASSERT_TRUE(frame) << "the connection was closed instead of answered (KIP-511)";
  int32_t id = 0;
  auto response = RawClient::decode<ApiVersionsResponse>(*frame, 0, false, &id);
  EXPECT_EQ(id, 99);
  EXPECT_EQ(response.error_code, 35);
  EXPECT_FALSE(response.api_keys.empty());
  // The connection stays usable.
  c.send(ApiVersionsRequest{}, 2, 100);
  ASSERT_TRUE(c.receive());
}

TEST_F(ProtocolEdges, UnsupportedVersionOfAnotherApiClosesTheConnection) {
  RawClient c(broker->port());
  MetadataRequest request;
  Writer w;
  w.write_int16(3);
  w.write_int16(99);
  w.write_int32(1);
  w.write_string("raw", false);
  c.send_frame(w.take().bytes);
  EXPECT_TRUE(c.closed_by_broker());
}

TEST_F(ProtocolEdges, UnknownApiKeyClosesTheConnection) {
  RawClient c(broker->port());
  Writer w;
  w.write_int16(999);
  w.write_int16(0);
  w.write_int32(1);
  w.write_string("raw", false);
  c.send_frame(w.take().bytes);
  EXPECT_TRUE(c.closed_by_broker());
}

TEST_F(ProtocolEdges, AcksZeroGetsNoResponseAndLaterResponsesKeepTheirOrder) {
  RawClient c(broker->port());
  c.send(one_batch_produce("edges", 0), 7, 1);
  c.send(ApiVersionsRequest{}, 0, 2);
  c.send(one_batch_produce("edges", -1), 7, 3);
  int32_t id = 0;
  auto first = c.receive();
  ASSERT_TRUE(first);
  RawClient::decode<ApiVersionsResponse>(*first, 0, false, &id);
  EXPECT_EQ(id, 2) << "acks=0 must not be answered";
  auto second = c.receive();
  ASSERT_TRUE(second);
  auto produce = RawClient::decode<ProduceResponse>(*second, 7, false, &id);
  EXPECT_EQ(id, 3);
  EXPECT_EQ(produce.responses[0].partition_responses[0].error_code, 0);
}

TEST_F(ProtocolEdges, ResponsesLeaveInRequestOrderBehindALongPoll) {
  RawClient c(broker->port());
  // A fetch at the end of an empty partition waits up to 1.5 s; the metadata request after it must not overtake.
  c.send(single_partition_fetch("empty", 0, 0, 1500), 11, 10);
  c.send(MetadataRequest{}, 1, 11);
  int32_t id = 0;
  auto first = c.receive();
  ASSERT_TRUE(first);
  RawClient::decode<FetchResponse>(*first, 11, false, &id);
  EXPECT_EQ(id, 10);
  auto second = c.receive();
  ASSERT_TRUE(second);
  RawClient::decode<MetadataResponse>(*second, 1, false, &id);
  EXPECT_EQ(id, 11);
}

TEST_F(ProtocolEdges, LongPollReturnsAsSoonAsDataArrives) {
  RawClient c(broker->port());
  int64_t end = 0;
  {
    std::string error;
    std::unique_ptr<RdKafka::Consumer> q(RdKafka::Consumer::create(client_conf(broker->bootstrap()).get(), error));
    int64_t low = 0;
    q->query_watermark_offsets("edges", 0, &low, &end, 5000);
  }
  FetchRequest fetch;
  fetch.max_wait_ms = 10000;
  fetch.min_bytes = 1;
  fetch.max_bytes = 1 << 20;
  auto& t = fetch.topics.emplace_back();
  t.topic = "edges";
  auto& p = t.partitions.emplace_back();
  p.fetch_offset = end;
  p.partition_max_bytes = 1 << 20;
  c.send(fetch, 11, 1);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  auto started = std::chrono::steady_clock::now();
  RawClient producer(broker->port());
  producer.send(one_batch_produce("edges", -1), 7, 1);
  ASSERT_TRUE(producer.receive());
  auto frame = c.receive(std::chrono::seconds(15));
  auto waited = std::chrono::steady_clock::now() - started;
  ASSERT_TRUE(frame);
  auto response = RawClient::decode<FetchResponse>(*frame, 11, false, nullptr);
  EXPECT_GT(response.responses[0].partitions[0].records->size(), 0u);
  EXPECT_LT(waited, std::chrono::seconds(3)) << "the fetch waited for max_wait_ms instead of the data";
}

// DescribeLogDirs v4, which no client library here sends: the broker's one data directory with the file system's
// size and free space, and only the partitions asked for, each as large as its records.
TEST_F(ProtocolEdges, DescribeLogDirsReportsTheDirectorysDiskAndTheAskedPartitions) {
  RawClient c(broker->port());
  DescribeLogDirsRequest request;
  auto& wanted = request.topics.emplace();
  auto& t = wanted.emplace_back();
  t.topic = "edges";
  t.partitions = {0};
  c.send(request, 4, 1);
  auto frame = c.receive();
  ASSERT_TRUE(frame);
  auto response = RawClient::decode<DescribeLogDirsResponse>(*frame, 4, true, nullptr);
  ASSERT_EQ(response.results.size(), 1u);
  const auto& directory = response.results[0];
  EXPECT_EQ(directory.error_code, 0);
  EXPECT_GT(directory.total_bytes, 0);
  EXPECT_GE(directory.usable_bytes, 0);
  EXPECT_LE(directory.usable_bytes, directory.total_bytes);
  ASSERT_EQ(directory.topics.size(), 1u) << "only the topic asked for";
  EXPECT_EQ(directory.topics[0].name, "edges");
  ASSERT_EQ(directory.topics[0].partitions.size(), 1u);
  EXPECT_GT(directory.topics[0].partitions[0].partition_size, 0);
  EXPECT_EQ(directory.topics[0].partitions[0].offset_lag, 0);
}

// A single broker holds every partition itself: there is no other broker to move a replica to, so a
// reassignment is refused with INVALID_REPLICA_ASSIGNMENT and a reason, a cancel finds nothing in progress, an
// unknown partition is named as such, and nothing is listed as moving.
TEST_F(ProtocolEdges, ReassignmentsOnASingleBrokerAreRefusedWithAReason) {
  RawClient c(broker->port());
  AlterPartitionReassignmentsRequest alter;
  auto& t = alter.topics.emplace_back();
  t.name = "edges";
  t.partitions.emplace_back().replicas = std::vector<int32_t>{1};
  t.partitions.emplace_back().partition_index = 7;
  t.partitions.back().replicas = std::vector<int32_t>{1};
  c.send(alter, 1, 1);
  auto frame = c.receive();
  ASSERT_TRUE(frame);
  auto altered = RawClient::decode<AlterPartitionReassignmentsResponse>(*frame, 1, true, nullptr);
  EXPECT_EQ(altered.error_code, 0);
  ASSERT_EQ(altered.responses.size(), 1u);
  ASSERT_EQ(altered.responses[0].partitions.size(), 2u);
  EXPECT_EQ(altered.responses[0].partitions[0].error_code, 39);  // INVALID_REPLICA_ASSIGNMENT
  EXPECT_TRUE(altered.responses[0].partitions[0].error_message.has_value());
  EXPECT_EQ(altered.responses[0].partitions[1].error_code, 3);  // UNKNOWN_TOPIC_OR_PARTITION

  ListPartitionReassignmentsRequest list;
  list.topics.reset();  // every topic
  c.send(list, 0, 2);
  frame = c.receive();
  ASSERT_TRUE(frame);
  auto listed = RawClient::decode<ListPartitionReassignmentsResponse>(*frame, 0, true, nullptr);
  EXPECT_EQ(listed.error_code, 0);
  EXPECT_TRUE(listed.topics.empty());
}

TEST_F(ProtocolEdges, EmptyPartitionHasZeroLengthRecordsNotNull) {
  RawClient c(broker->port());
  FetchRequest fetch;
  fetch.max_wait_ms = 0;
  fetch.max_bytes = 1 << 20;
  auto& t = fetch.topics.emplace_back();
  t.topic = "empty";
  auto& p = t.partitions.emplace_back();
  p.partition_max_bytes = 1 << 20;
  c.send(fetch, 11, 1);
  auto frame = c.receive();
  ASSERT_TRUE(frame);
  auto response = RawClient::decode<FetchResponse>(*frame, 11, false, nullptr);
  const auto& part = response.responses[0].partitions[0];
  EXPECT_EQ(part.error_code, 0);
  ASSERT_TRUE(part.records.has_value()) << "null record set (librdkafka: invalid MessageSetSize -1)";
  EXPECT_EQ(part.records->size(), 0u);
  EXPECT_EQ(part.high_watermark, 0);
  EXPECT_FALSE(part.aborted_transactions.has_value()) << "read_uncommitted must not list aborted transactions";
  EXPECT_EQ(part.preferred_read_replica, -1);
}

TEST_F(ProtocolEdges, FetchOffsetsOutsideTheLogAreOutOfRange) {
  RawClient c(broker->port());
  FetchRequest fetch;
  fetch.max_wait_ms = 0;
  fetch.max_bytes = 1 << 20;
  auto& t = fetch.topics.emplace_back();
  t.topic = "edges";
  auto& p = t.partitions.emplace_back();
  p.fetch_offset = 1'000'000;
  p.partition_max_bytes = 1 << 20;
  c.send(fetch, 11, 1);
  auto frame = c.receive();
  ASSERT_TRUE(frame);
  auto response = RawClient::decode<FetchResponse>(*frame, 11, false, nullptr);
  EXPECT_EQ(response.responses[0].partitions[0].error_code, 1);
  EXPECT_GE(response.responses[0].partitions[0].high_watermark, 10);
}

TEST_F(ProtocolEdges, FirstBatchComesWholeEvenAboveMaxBytes) {
  RawClient c(broker->port());
  FetchRequest fetch;
  fetch.max_wait_ms = 0;
  fetch.max_bytes = 10;
  auto& t = fetch.topics.emplace_back();
  t.topic = "edges";
  auto& p = t.partitions.emplace_back();
  p.partition_max_bytes = 10;
  c.send(fetch, 11, 1);
  auto frame = c.receive();
  ASSERT_TRUE(frame);
  auto response = RawClient::decode<FetchResponse>(*frame, 11, false, nullptr);
  auto records = response.responses[0].partitions[0].records->to_bytes();
  ASSERT_GE(records.size(), kBatchHeaderSize);
  EXPECT_EQ(parse_batch_header(records).total_size(), records.size()) << "exactly one whole batch";
}

TEST_F(ProtocolEdges, ProduceBelowV3IsRefusedWithUnsupportedVersion) {
  RawClient c(broker->port());
  c.send(one_batch_produce("edges", -1), 2, 5);
  auto frame = c.receive();
  ASSERT_TRUE(frame);
  auto response = RawClient::decode<ProduceResponse>(*frame, 2, false, nullptr);
  EXPECT_EQ(response.responses[0].partition_responses[0].error_code, 35);
}

TEST_F(ProtocolEdges, MetadataTopicListSemanticsByVersion) {
  RawClient c(broker->port());
  MetadataRequest all_v0;  // v0: an empty list means every topic
  all_v0.topics = std::vector<MetadataRequest::MetadataRequestTopic>{};
  c.send(all_v0, 0, 1);
  auto frame = c.receive();
  ASSERT_TRUE(frame);
  EXPECT_GE(RawClient::decode<MetadataResponse>(*frame, 0, false, nullptr).topics.size(), 2u);

  MetadataRequest none_v1;  // v1+: an empty list means none
  none_v1.topics = std::vector<MetadataRequest::MetadataRequestTopic>{};
  c.send(none_v1, 1, 2);
  frame = c.receive();
  ASSERT_TRUE(frame);
  auto none = RawClient::decode<MetadataResponse>(*frame, 1, false, nullptr);
  EXPECT_TRUE(none.topics.empty());
  EXPECT_EQ(none.controller_id, 1) << "the controller must be a listed broker";

  MetadataRequest all_v12;  // v1+: null means all
  all_v12.topics = std::nullopt;
  c.send(all_v12, 12, 3);
  frame = c.receive();
  ASSERT_TRUE(frame);
  auto all = RawClient::decode<MetadataResponse>(*frame, 12, true, nullptr);
  ASSERT_GE(all.topics.size(), 2u);
  for (const auto& topic : all.topics) {
    EXPECT_FALSE(topic.topic_id.is_zero()) << *topic.name;
    for (const auto& p : topic.partitions) EXPECT_GE(p.leader_epoch, 0);
  }
}

TEST_F(ProtocolEdges, ListOffsetsForAnEmptyPartitionAndAFutureTimestamp) {
  RawClient c(broker->port());
  ListOffsetsRequest request;
  request.replica_id = -1;
  auto& t = request.topics.emplace_back();
  t.name = "empty";
  for (int64_t ts : {int64_t{-1}, int64_t{-2}, int64_t{-3}, int64_t{4'000'000'000'000}}) {
    auto& p = t.partitions.emplace_back();
    p.timestamp = ts;
  }
  c.send(request, 7, 1);
  auto frame = c.receive();
  ASSERT_TRUE(frame);
  auto response = RawClient::decode<ListOffsetsResponse>(*frame, 7, true, nullptr);
  const auto& parts = response.topics[0].partitions;
  ASSERT_EQ(parts.size(), 4u);
  EXPECT_EQ(parts[0].offset, 0);
  EXPECT_EQ(parts[0].leader_epoch, -1) << "empty partition: epoch -1";
  EXPECT_EQ(parts[1].offset, 0);
  EXPECT_EQ(parts[2].offset, -1);
  EXPECT_EQ(parts[3].offset, -1);
  EXPECT_EQ(parts[3].timestamp, -1);
}

}  // namespace
}  // namespace fjord::testing
