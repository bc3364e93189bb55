// Awaiting a commit: a coroutine on the io thread hands a store operation to the
// GroupCommitWriter and resumes, on its own thread, once the group holding it is durable (or
// has failed). The only way the drivers write to the store.
#pragma once

#include <memory>
#include <optional>

#include "broker/core/result.hpp"
#include "broker/http/async_bridge.hpp"
#include "broker/store/group_commit_writer.hpp"

namespace sektorbro {

// Not a coroutine itself (GCC 12 mishandles non-trivial coroutine parameters such as lambdas):
// it returns the awaitable that resumes once the writer has committed the job's group. `op`
// runs on the writer thread with the store; its result is the awaited value unless the commit
// failed. `op` may run twice (an optimistic group replayed guarded, GroupCommitWriter::Job): it
// reads and writes the store only — no logging, metrics or other state — and moves nothing out
// of its captures.
template <typename T, typename Op>
asio::awaitable<Result<T>> commit(GroupCommitWriter& writer, Op op) {
  auto shared_op = std::make_shared<Op>(std::move(op));
  return await_callback<Result<T>>([&writer, shared_op](auto done) {
    auto out = std::make_shared<std::optional<Result<T>>>();
    writer.submit(GroupCommitWriter::Job{
        [shared_op, out](Store& store) { out->emplace((*shared_op)(store)); },
        [out, done](const Result<void>& committed) mutable {
          if (!committed) {
            done(Result<T>(committed.error()));
          } else {
            done(std::move(**out));
          }
        }});
  });
}

}  // namespace sektorbro
