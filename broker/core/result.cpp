#include "broker/core/result.hpp"

namespace sektorbro {

const char* errc_name(Errc code) {
  switch (code) {
    case Errc::kMalformed:
      return "malformed";
    case Errc::kInvalid:
      return "invalid";
    case Errc::kUnknownReceiver:
      return "unknown_receiver";
    case Errc::kReceiverMismatch:
      return "receiver_mismatch";
    case Errc::kUnsupportedType:
      return "unsupported_type";
    case Errc::kUnknownSender:
      return "unknown_sender";
    case Errc::kDuplicateConflict:
      return "duplicate_conflict";
    case Errc::kUnknownReference:
      return "unknown_reference";
    case Errc::kNotFound:
      return "not_found";
    case Errc::kConflict:
      return "conflict";
    case Errc::kStorage:
      return "storage";
    case Errc::kTransport:
      return "transport";
    case Errc::kConfig:
      return "config";
    case Errc::kTooLarge:
      return "too_large";
    case Errc::kStale:
      return "stale";
  }
  return "unknown";
}

}  // namespace sektorbro
