// A response assembled from several asynchronous operations (one per topic or partition): it is sent when the
// last of them has finished. Operations fill their part of `response` by index, never through references that a
// later insertion could move.
#pragma once

#include <memory>

#include "server/request_context.h"

namespace fjord::server {

template <typename Response>
class Completion : public std::enable_shared_from_this<Completion<Response>> {
 public:
  static std::shared_ptr<Completion> start(RequestContext context) {
    return std::shared_ptr<Completion>(new Completion(std::move(context)));
  }
  Response response;

  // Registers one more operation; call finish_one() when it is done.
  void add_one() { ++outstanding_; }
  void finish_one() {
    if (--outstanding_ == 0) context_.respond(response);
  }
  // Called once the handler has started every operation.
  void all_started() { finish_one(); }
  const RequestContext& context() const { return context_; }

 private:
  explicit Completion(RequestContext context) : context_(std::move(context)) {}
  RequestContext context_;
  size_t outstanding_ = 1;
};

}  // namespace fjord::server
