#include "model/error_codes.h"

#include <gtest/gtest.h>

namespace fjord {
namespace {

TEST(ErrorCodes, NamesMatchKafka) {
  EXPECT_EQ(error_name(ErrorCode::kNotEnoughReplicas), "NOT_ENOUGH_REPLICAS");
  EXPECT_EQ(error_name(ErrorCode::kOutOfOrderSequenceNumber), "OUT_OF_ORDER_SEQUENCE_NUMBER");
  EXPECT_EQ(error_name(ErrorCode::kUnknownTopicOrPartition), "UNKNOWN_TOPIC_OR_PARTITION");
  EXPECT_EQ(wire(ErrorCode::kFencedInstanceId), 82);
}

TEST(ErrorCodes, AreStdErrorCodes) {
  std::error_code ec = ErrorCode::kNotEnoughReplicasAfterAppend;
  EXPECT_EQ(ec.value(), 20);
  EXPECT_EQ(ec.message(), "NOT_ENOUGH_REPLICAS_AFTER_APPEND");
  EXPECT_EQ(std::string(ec.category().name()), "kafka");
}

}  // namespace
}  // namespace fjord
