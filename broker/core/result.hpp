// Errors as values: every expected failure (malformed XML, unknown receiver, duplicate, peer
// down, disk full) travels as an `Error` inside a `Result<T>`, shaped like C++23's
// std::expected (GCC 12 lacks it). Nothing on the data path throws across module boundaries.
#pragma once

#include <cassert>
#include <string>
#include <utility>
#include <variant>

namespace sektorbro {

// What went wrong, coarse enough to choose an HTTP status and a MedCom refuse code.
enum class Errc {
  kMalformed,          // bytes are not well-formed XML, or the wrong encoding
  kInvalid,            // well-formed, but breaks the schema or a business rule
  kUnknownReceiver,    // no endpoint with that GLN (MedCom: ukendt_lokationsnummer)
  kReceiverMismatch,   // GLN known but SOR/identifier disagrees (MedCom: problem_med_modtagerID)
  kUnsupportedType,    // receiver does not take this letter type (MedCom: problem_med_version)
  kUnknownSender,      // sender GLN is not a configured endpoint
  kDuplicateConflict,  // letter id reused with different content (MedCom reliable messaging)
  kUnknownReference,   // refers to a letter or envelope the broker does not know
  kNotFound,           // operator lookups
  kConflict,   // operation not allowed in the current state (e.g. requeue of a live message)
  kStorage,    // the store failed; nothing was acknowledged
  kTransport,  // network trouble talking to a peer
  kConfig,     // configuration file is wrong
  kTooLarge,   // a configured limit was exceeded
  kStale,      // a decision was made on facts that changed before it was written: decide again
};

const char* errc_name(Errc code);

struct Error {
  Errc code;
  std::string detail;  // human readable; never contains CPR numbers or message content
};

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}      // NOLINT: implicit by design
  Result(Error error) : v_(std::move(error)) {}  // NOLINT: implicit by design

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & {
    assert(ok());
    return std::get<0>(v_);
  }
  const T& value() const& {
    assert(ok());
    return std::get<0>(v_);
  }
  T&& value() && {
    assert(ok());
    return std::get<0>(std::move(v_));
  }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const Error& error() const {
    assert(!ok());
    return std::get<1>(v_);
  }

 private:
  std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)), ok_(false) {}  // NOLINT: implicit by design

  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const Error& error() const {
    assert(!ok_);
    return error_;
  }

 private:
  Error error_{Errc::kInvalid, {}};
  bool ok_ = true;
};

inline Error make_error(Errc code, std::string detail) { return Error{code, std::move(detail)}; }

}  // namespace sektorbro
