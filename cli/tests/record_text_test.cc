#include "cli/record_text.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace fjord::cli {
namespace {

TEST(RecordText, Base64RoundTripsEveryByteAndEveryPaddingLength) {
  std::string all;
  for (int i = 0; i < 256; ++i) all += static_cast<char>(i);
  for (size_t length : {0u, 1u, 2u, 3u, 4u, 255u, 256u}) {
    const std::string bytes = all.substr(0, length);
    EXPECT_EQ(base64_decode(base64_encode(bytes)), bytes) << length;
  }
  EXPECT_EQ(base64_encode("Man"), "TWFu");
  EXPECT_EQ(base64_encode("Ma"), "TWE=");
  EXPECT_EQ(base64_encode("M"), "TQ==");
  EXPECT_THROW(base64_decode("TWE"), std::invalid_argument);
  EXPECT_THROW(base64_decode("TW!u"), std::invalid_argument);
  EXPECT_THROW(base64_decode("T=Fu"), std::invalid_argument);
}

TEST(RecordText, ALineSplitsAtTheFirstSeparatorOnly) {
  auto record = parse_line("k1:v:1", ":");
  EXPECT_EQ(record.key, "k1");
  EXPECT_EQ(record.value, "v:1");
  record = parse_line("no separator", ":");
  EXPECT_FALSE(record.key);
  EXPECT_EQ(record.value, "no separator");
  record = parse_line("k=v", "");
  EXPECT_FALSE(record.key);
  EXPECT_EQ(record.value, "k=v");
}

TEST(RecordText, JsonInputTakesHeadersAsAnObjectOrPairsAndNullsAndBase64) {
  auto record = parse_json(R"({"key":"k","value":null,"headers":{"a":"1","b":null},"partition":2})", false);
  EXPECT_EQ(record.key, "k");
  EXPECT_FALSE(record.value) << "a tombstone";
  ASSERT_EQ(record.headers.size(), 2u);
  EXPECT_EQ(record.headers[0].second, "1");
  EXPECT_FALSE(record.headers[1].second);
  EXPECT_EQ(record.partition, 2);
  record = parse_json(R"({"value":"AP8=","headers":[["h","AQ=="],["h","Ag=="]]})", true);
  EXPECT_FALSE(record.key);
  EXPECT_EQ(record.value, std::string("\x00\xff", 2));
  ASSERT_EQ(record.headers.size(), 2u) << "a repeated header name stays repeated";
  EXPECT_EQ(record.headers[1].second, std::string("\x02", 1));
  EXPECT_THROW(parse_json("[1]", false), std::invalid_argument);
  EXPECT_THROW(parse_json(R"({"value":1})", false), std::invalid_argument);
  EXPECT_THROW(parse_json(R"({"partition":"x"})", false), std::invalid_argument);
  EXPECT_THROW(parse_json(R"({"headers":[["h"]]})", false), std::invalid_argument);
  EXPECT_THROW(parse_json("{not json", false), std::invalid_argument);
}

TEST(RecordText, OutputAsJsonReadsBackAsInput) {
  TextRecord record;
  record.topic = "t";
  record.partition = 3;
  record.offset = 42;
  record.timestamp = 1700000000000;
  record.key = std::string("\x01\x02", 2);
  record.value = std::string("\xff\x00z", 3);
  record.headers = {{"trace", std::string("\x80", 1)}, {"empty", std::nullopt}};
  const auto json = nlohmann::json::parse(to_json(record, true));
  EXPECT_EQ(json["offset"], 42);
  EXPECT_EQ(json["partition"], 3);
  const auto back = parse_json(to_json(record, true), true);
  EXPECT_EQ(back.key, record.key);
  EXPECT_EQ(back.value, record.value);
  EXPECT_EQ(back.headers, record.headers);
  EXPECT_EQ(back.partition, 3);
}

TEST(RecordText, TemplatesFillPlaceholdersAndEscapesAndLeaveTheRest) {
  TextRecord record;
  record.topic = "orders";
  record.partition = 1;
  record.offset = 7;
  record.timestamp = 99;
  record.key = "k";
  record.value = "v";
  record.headers = {{"a", "1"}, {"b", std::nullopt}};
  EXPECT_EQ(render("{topic}/{partition}@{offset} {timestamp} {key}={value} [{headers}] {other}\\n", record),
            "orders/1@7 99 k=v [a=1,b=] {other}\n");
  record.key.reset();
  EXPECT_EQ(render("{key}|{value}\\t{", record), "|v\t{");
}

}  // namespace
}  // namespace fjord::cli
