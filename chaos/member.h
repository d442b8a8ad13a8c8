// A verifiable consumer member: an SDK consumer (client/consumer.h) that journals every record it processes, every
// commit the broker accepted and every assignment change (chaos/journal.h), and announces on stdout "batch N" when
// it starts processing N records, "done" when it finished them and "assigned N", "revoked N" or "lost N" after each
// assignment callback, so the run can kill it mid-batch and knows when it is in the group and when the group settled.
#pragma once

#include <map>
#include <string>

namespace fjord::chaos {

struct MemberOptions {
  std::string bootstrap;
  std::string group;
  std::string topic;
  std::string journal;   // the journal file
  std::string instance;  // "member-2#3"
  bool static_membership = true;
  std::string group_protocol = "classic";  // or "consumer" (KIP-848): the broker assigns and times the session
  std::string strategy = "cooperative-sticky";
  bool auto_commit = false;
  int session_timeout_ms = 10000;
  int max_poll_interval_ms = 300000;
  int process_ms = 2;  // work per record
  int max_batch = 100;
  std::map<std::string, std::string> properties;  // any other consumer property
};

int run_member(const MemberOptions& options);

// The sequence number a verifiable producer put in a record's value ("chaos-<run>-<seq>"); -1 if none.
int64_t sequence_of(std::string_view value);

}  // namespace fjord::chaos
