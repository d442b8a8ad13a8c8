// Regular-expression subscriptions (SubscribedTopicRegex): RE2, whose syntax is the one Kafka's RE2/J follows,
// matched against the whole topic name. Compiled patterns are kept, a bounded number of them.
#pragma once

#include <map>
#include <memory>
#include <string>

namespace re2 {
class RE2;
}

namespace fjord::coordinator::consumer {

class TopicRegex {
 public:
  static constexpr size_t kMaxPatterns = 1000;
  TopicRegex();
  ~TopicRegex();
  // Whether `regex` is valid RE2 (an invalid one is refused when a member subscribes with it).
  bool valid(const std::string& regex);
  bool matches(const std::string& regex, const std::string& topic);

 private:
  const re2::RE2* compiled(const std::string& regex);
  std::map<std::string, std::unique_ptr<re2::RE2>> patterns_;
};

}  // namespace fjord::coordinator::consumer
