#include "coordinator/consumer_group/topic_regex.h"

#include <re2/re2.h>

namespace fjord::coordinator::consumer {

TopicRegex::TopicRegex() = default;
TopicRegex::~TopicRegex() = default;

const re2::RE2* TopicRegex::compiled(const std::string& regex) {
  auto it = patterns_.find(regex);
  if (it == patterns_.end()) {
    if (patterns_.size() >= kMaxPatterns) patterns_.clear();
    re2::RE2::Options options;
    options.set_log_errors(false);
    it = patterns_.emplace(regex, std::make_unique<re2::RE2>(regex, options)).first;
  }
  return it->second->ok() ? it->second.get() : nullptr;
}

bool TopicRegex::valid(const std::string& regex) { return compiled(regex) != nullptr; }

bool TopicRegex::matches(const std::string& regex, const std::string& topic) {
  const auto* pattern = compiled(regex);
  return pattern && re2::RE2::FullMatch(topic, *pattern);
}

}  // namespace fjord::coordinator::consumer
