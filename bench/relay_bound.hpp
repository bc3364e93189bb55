// RelayBound: the broker with everything taken out but its two HTTP hops (issue 8;
// docs/performance.md, "The two hops alone"). It is made of the broker's own shell: an
// `HttpServer` whose connections run on a thread of their own (`sb-http`) and whose requests are
// handled on another (the io thread), as main.cpp wires them, and a `BeastTransport` (`sb-post`).
// Each POST is answered 202 at once and its body posted to `to`, at most `window` transfers in
// flight (the broker's default `per_endpoint_concurrency` is 64), the rest queued in memory in
// arrival order. Nothing is decoded, checked, stored, fsynced or audited: an upper bound for the
// side-by-side bench (`--relay-bound`, run as the `sektorbro-relay-bound` program), never a
// broker — a failed transfer is not retried, and what is queued is lost when it stops.
//
// Thread rules: construct and destroy on one thread; the relay runs on threads of its own
// meanwhile. The destructor stops accepting, abandons what is queued and joins.
#pragma once

#include <memory>
#include <string>

#include "broker/core/result.hpp"

namespace sektorbro::bench {

class RelayBound {
 public:
  // Listens on 127.0.0.1:`port` (0: a free port); kConfig if it cannot.
  static Result<std::unique_ptr<RelayBound>> start(unsigned short port, std::string to, int window);
  ~RelayBound();
  RelayBound(const RelayBound&) = delete;
  RelayBound& operator=(const RelayBound&) = delete;

  unsigned short port() const;
  // Transfers that got no 2xx answer so far.
  std::size_t failed() const;

 private:
  struct Impl;
  explicit RelayBound(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace sektorbro::bench
