// LogExceptions: the completion handler for the broker's detached coroutines (co_spawn). An
// exception escaping one is a bug; it is logged with its message, never with message content.
#pragma once

#include <exception>
#include <string>

#include "broker/core/log.hpp"

namespace sektorbro {

struct LogExceptions {
  void operator()(const std::exception_ptr& e) const {
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& ex) {
      log_error(std::string("internal error in a background task: ") + ex.what());
    }
  }
};

}  // namespace sektorbro
