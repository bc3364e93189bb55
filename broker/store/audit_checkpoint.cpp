#include "broker/store/audit_checkpoint.hpp"

#include <charconv>
#include <filesystem>
#include <fstream>
#include <iterator>

namespace sektorbro {
namespace {

constexpr std::string_view kMagic = "sektorbro-audit-checkpoint 1";

// The next line of `text` (without its '\n'), advancing `text` past it.
std::string_view next_line(std::string_view& text) {
  const auto end = text.find('\n');
  const std::string_view line = text.substr(0, end);
  text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
  return line;
}

}  // namespace

std::string format_audit_checkpoint(const AuditHead& head) {
  return std::string(kMagic) + "\nseq " + std::to_string(head.seq) + "\nhash " + head.hash + "\n";
}

Result<AuditHead> parse_audit_checkpoint(std::string_view text) {
  if (next_line(text) != kMagic)
    return make_error(Errc::kInvalid, "audit checkpoint: line 1 is not '" + std::string(kMagic) +
                                          "'");
  const std::string_view seq_line = next_line(text);
  AuditHead head;
  if (!seq_line.starts_with("seq "))
    return make_error(Errc::kInvalid, "audit checkpoint: line 2 is not 'seq N'");
  const std::string_view digits = seq_line.substr(4);
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), head.seq);
  if (ec != std::errc() || end != digits.data() + digits.size() || head.seq < 0)
    return make_error(Errc::kInvalid, "audit checkpoint: line 2: seq is not a number");
  const std::string_view hash_line = next_line(text);
  if (!hash_line.starts_with("hash ") || hash_line.size() < 6)
    return make_error(Errc::kInvalid, "audit checkpoint: line 3 is not 'hash H'");
  head.hash = std::string(hash_line.substr(5));
  if (!text.empty()) return make_error(Errc::kInvalid, "audit checkpoint: more than three lines");
  return head;
}

Result<AuditHead> read_audit_checkpoint(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec))
    return make_error(Errc::kNotFound, "audit checkpoint " + path + " does not exist");
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error(Errc::kStorage, "audit checkpoint " + path + " cannot be read");
  const std::string text(std::istreambuf_iterator<char>(in), {});
  auto head = parse_audit_checkpoint(text);
  if (!head) return make_error(Errc::kInvalid, path + ": " + head.error().detail);
  return head;
}

}  // namespace sektorbro
