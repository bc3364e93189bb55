#include "broker/codec/text_encoding.hpp"

#include <array>
#include <cstdint>

namespace sektorbro {
namespace {

enum class Encoding { kUtf8, kLatin1 };

constexpr std::string_view kBom = "\xEF\xBB\xBF";

char ascii_lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
  return true;
}

Error malformed(std::string detail) { return make_error(Errc::kMalformed, std::move(detail)); }

// The encoding named in `<?xml ... encoding="..."?>` at the start of `doc`; empty if the
// document has no declaration or the declaration names no encoding.
Result<std::string_view> declared_encoding(std::string_view doc) {
  if (doc.size() < 6 || doc.substr(0, 5) != "<?xml" || !is_xml_space(doc[5]))
    return std::string_view{};
  const auto end = doc.find("?>");
  if (end == std::string_view::npos) return malformed("XML declaration: not terminated");
  const std::string_view decl = doc.substr(5, end - 5);
  auto pos = decl.find("encoding");
  if (pos == std::string_view::npos) return std::string_view{};
  pos += 8;
  while (pos < decl.size() && is_xml_space(decl[pos])) ++pos;
  if (pos >= decl.size() || decl[pos] != '=') return malformed("XML declaration: bad encoding");
  ++pos;
  while (pos < decl.size() && is_xml_space(decl[pos])) ++pos;
  if (pos >= decl.size() || (decl[pos] != '"' && decl[pos] != '\''))
    return malformed("XML declaration: bad encoding");
  const char quote = decl[pos++];
  const auto close = decl.find(quote, pos);
  if (close == std::string_view::npos) return malformed("XML declaration: bad encoding");
  return decl.substr(pos, close - pos);
}

Result<Encoding> encoding_of(std::string_view name) {
  if (name.empty() || iequals(name, "UTF-8") || iequals(name, "UTF8")) return Encoding::kUtf8;
  static constexpr std::array<std::string_view, 5> kLatin1{"ISO-8859-1", "ISO_8859-1", "ISO8859-1",
                                                           "latin1", "latin-1"};
  for (auto n : kLatin1)
    if (iequals(name, n)) return Encoding::kLatin1;
  return malformed("XML declaration: unsupported encoding (use UTF-8 or ISO-8859-1)");
}

// Appends `c`, folding CR LF and lone CR into LF (XML 1.0 §2.11). `prev_cr` carries state.
void put_normalised(std::string& out, char c, bool& prev_cr) {
  if (c == '\n' && prev_cr) {
    prev_cr = false;
    return;
  }
  prev_cr = (c == '\r');
  out.push_back(c == '\r' ? '\n' : c);
}

bool forbidden_control(unsigned char c) { return c < 0x20 && c != '\t' && c != '\n' && c != '\r'; }

std::string at(std::size_t offset) { return "byte offset " + std::to_string(offset); }

Result<std::string> from_latin1(std::string_view in, std::size_t base) {
  std::string out;
  out.reserve(in.size() + in.size() / 8);
  bool prev_cr = false;
  for (std::size_t i = 0; i < in.size(); ++i) {
    const auto c = static_cast<unsigned char>(in[i]);
    if (forbidden_control(c))
      return malformed("control character not allowed in XML at " + at(base + i));
    if (c < 0x80) {
      put_normalised(out, static_cast<char>(c), prev_cr);
    } else {
      prev_cr = false;
      out.push_back(static_cast<char>(0xC0 | (c >> 6)));
      out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
    }
  }
  return out;
}

Result<std::string> from_utf8(std::string_view in, std::size_t base) {
  std::string out;
  out.reserve(in.size());
  bool prev_cr = false;
  std::size_t i = 0;
  while (i < in.size()) {
    const std::size_t len = xml_char_length(in, i);
    if (len == 0) {
      const auto c = static_cast<unsigned char>(in[i]);
      if (forbidden_control(c))
        return malformed("control character not allowed in XML at " + at(base + i));
      if (c == 0xEF && i + 2 < in.size() && in[i + 1] == '\xBF' &&
          (in[i + 2] == '\xBE' || in[i + 2] == '\xBF'))
        return malformed("character not allowed in XML at " + at(base + i));
      return malformed("invalid UTF-8 at " + at(base + i));
    }
    if (len == 1) {
      put_normalised(out, in[i], prev_cr);
    } else {
      prev_cr = false;
      out.append(in.substr(i, len));
    }
    i += len;
  }
  return out;
}

}  // namespace

std::size_t xml_char_length(std::string_view s, std::size_t i) {
  const auto c = static_cast<unsigned char>(s[i]);
  if (c < 0x80) return forbidden_control(c) ? 0 : 1;
  // Well-formed sequences per Unicode Table 3-7: no overlongs, no surrogates, at most U+10FFFF.
  std::size_t len = 0;
  unsigned char lo = 0x80, hi = 0xBF;
  if (c >= 0xC2 && c <= 0xDF) {
    len = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    len = 3;
    if (c == 0xE0) lo = 0xA0;
    if (c == 0xED) hi = 0x9F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    len = 4;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;
  } else {
    return 0;
  }
  if (i + len > s.size()) return 0;
  const auto c1 = static_cast<unsigned char>(s[i + 1]);
  if (c1 < lo || c1 > hi) return 0;
  for (std::size_t k = 2; k < len; ++k) {
    const auto ck = static_cast<unsigned char>(s[i + k]);
    if (ck < 0x80 || ck > 0xBF) return 0;
  }
  // U+FFFE and U+FFFF are not XML characters.
  if (c == 0xEF && c1 == 0xBF && static_cast<unsigned char>(s[i + 2]) >= 0xBE) return 0;
  return len;
}

Result<std::string> to_utf8_document(std::string_view bytes) {
  std::size_t base = 0;
  const bool bom = bytes.substr(0, 3) == kBom;
  if (bom) base = 3;
  if (bytes.substr(0, 2) == "\xFE\xFF" || bytes.substr(0, 2) == "\xFF\xFE")
    return malformed("unsupported encoding: UTF-16 (use UTF-8 or ISO-8859-1)");
  const std::string_view doc = bytes.substr(base);
  auto name = declared_encoding(doc);
  if (!name) return name.error();
  auto encoding = encoding_of(*name);
  if (!encoding) return encoding.error();
  if (*encoding == Encoding::kLatin1) {
    if (bom) return malformed("XML declaration: ISO-8859-1 declared but a UTF-8 BOM is present");
    return from_latin1(doc, base);
  }
  return from_utf8(doc, base);
}

}  // namespace sektorbro
