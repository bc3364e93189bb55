#include "broker/xml/text_encoding.hpp"

#include <array>
#include <cstdint>
#include <utility>

#include "broker/xml/ascii_words.hpp"

namespace sektorbro {
namespace {

constexpr std::string_view kBom = "\xEF\xBB\xBF";

Error malformed(std::string detail) { return make_error(Errc::kMalformed, std::move(detail)); }

char ascii_lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
  return true;
}

// windows-1252 0x80..0x9F; 0 marks the five undefined bytes.
constexpr std::array<std::uint16_t, 32> kCp1252High{
    0x20AC, 0,      0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
    0x2039, 0x0152, 0,      0x017D, 0,      0,      0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
    0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0,      0x017E, 0x0178};

void put_utf8(std::string& out, std::uint32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

struct Declaration {
  std::size_t length = 0;  // bytes of `<?xml ... ?>`, 0 if none
  std::string_view encoding;
};

Result<Declaration> read_declaration(std::string_view doc) {
  Declaration d;
  if (doc.size() < 6 || doc.substr(0, 5) != "<?xml" || !is_xml_space(doc[5])) return d;
  const auto end = doc.find("?>");
  if (end == std::string_view::npos) return malformed("XML declaration: not terminated");
  d.length = end + 2;
  const std::string_view decl = doc.substr(5, end - 5);
  auto pos = decl.find("encoding");
  if (pos == std::string_view::npos) return d;
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
  d.encoding = decl.substr(pos, close - pos);
  return d;
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

// A byte that stands for itself in the output: ASCII other than CR and the forbidden controls.
bool plain_ascii(unsigned char c) { return c >= 0x20 ? c < 0x80 : (c == '\t' || c == '\n'); }

// kWrite false: only the checks, for a document with no CR, which the normalisation would copy
// unchanged (a CR is the only character from_utf8 writes otherwise than it reads).
template <bool kWrite>
Result<std::string> checked_utf8(std::string_view in, std::size_t base) {
  std::string out;
  if constexpr (kWrite) out.reserve(in.size());
  bool prev_cr = false;
  std::size_t i = 0;
  while (i < in.size()) {
    // Runs of plain ASCII (most of any letter) are copied whole, not byte by byte (issue 8: the
    // byte-by-byte loop was ~8 % of the io thread's time, docs/performance.md).
    if (plain_ascii(static_cast<unsigned char>(in[i]))) {
      const std::size_t start = i;
      if (prev_cr && in[i] == '\n') {  // the LF of a CR LF already written as LF
        prev_cr = false;
        ++i;
        continue;
      }
      while (i < in.size()) {
        if (i + 8 <= in.size() && ascii_words::all_in_20_to_7f(ascii_words::load(in.data() + i))) {
          i += 8;
          continue;
        }
        if (!plain_ascii(static_cast<unsigned char>(in[i]))) break;
        ++i;
      }
      if constexpr (kWrite) out.append(in.substr(start, i - start));
      prev_cr = false;
      continue;
    }
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
      if constexpr (kWrite) put_normalised(out, in[i], prev_cr);
    } else {
      prev_cr = false;
      if constexpr (kWrite) out.append(in.substr(i, len));
    }
    i += len;
  }
  return out;
}

Result<std::string> from_utf8(std::string_view in, std::size_t base) {
  return checked_utf8<true>(in, base);
}

// The mislabelled-UTF-8 rule of the header: all bytes well-formed UTF-8 and at least one
// multibyte sequence.
bool is_utf8_with_multibyte(std::string_view s) {
  bool multibyte = false;
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    const std::size_t len = xml_char_length(s, i);
    if (len < 2) return false;
    multibyte = true;
    i += len;
  }
  return multibyte;
}

Result<std::string> single_byte_to_utf8(std::string_view in, TextEncoding enc, std::size_t base) {
  std::string out;
  out.reserve(in.size() + in.size() / 8);
  for (std::size_t i = 0; i < in.size(); ++i) {
    const auto c = static_cast<unsigned char>(in[i]);
    if (c < 0x80) {
      out.push_back(static_cast<char>(c));
    } else if (c < 0xA0 && enc == TextEncoding::kWindows1252) {
      const std::uint16_t cp = kCp1252High[c - 0x80];
      if (cp == 0)
        return malformed("byte undefined in windows-1252 at byte offset " +
                         std::to_string(base + i));
      put_utf8(out, cp);
    } else {
      put_utf8(out, c);
    }
  }
  return out;
}

}  // namespace

Result<TextEncoding> encoding_named(std::string_view name) {
  if (name.empty() || iequals(name, "UTF-8") || iequals(name, "UTF8")) return TextEncoding::kUtf8;
  for (auto n : {"ISO-8859-1", "ISO_8859-1", "ISO8859-1", "latin1", "latin-1", "l1"})
    if (iequals(name, n)) return TextEncoding::kIso88591;
  for (auto n : {"windows-1252", "cp1252", "x-cp1252"})
    if (iequals(name, n)) return TextEncoding::kWindows1252;
  return malformed("XML declaration: unsupported encoding (use UTF-8, ISO-8859-1 or windows-1252)");
}

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

std::string_view to_string(TextEncoding e) {
  switch (e) {
    case TextEncoding::kUtf8:
      return "UTF-8";
    case TextEncoding::kIso88591:
      return "ISO-8859-1";
    case TextEncoding::kWindows1252:
      return "windows-1252";
  }
  return "?";
}

Result<DecodedDocument> decode_document(std::string_view bytes) {
  return decode_document(bytes, LabelRule::kRepairMislabelledUtf8);
}

namespace {

// decode_document's work. `out.utf8` is filled, unless `may_view` and the document is UTF-8 with
// no CR to normalise: then it is only checked, and the view returned is of `bytes` itself (after
// a BOM). Otherwise the view is of `out.utf8`.
Result<std::string_view> decode_into(std::string_view bytes, LabelRule rule, bool may_view,
                                     DecodedDocument& out) {
  if (bytes.substr(0, 2) == "\xFE\xFF" || bytes.substr(0, 2) == "\xFF\xFE")
    return malformed("unsupported encoding: UTF-16 (use UTF-8, ISO-8859-1 or windows-1252)");
  const bool bom = bytes.substr(0, 3) == kBom;
  const std::size_t base = bom ? 3 : 0;
  std::string_view doc = bytes.substr(base);
  auto decl = read_declaration(doc);
  if (!decl) return decl.error();
  auto declared = encoding_named(decl->encoding);
  if (!declared) return declared.error();
  out.declared = *declared;
  out.used = *declared;
  const std::string_view body = doc.substr(decl->length);
  const std::size_t body_base = base + decl->length;
  if (rule == LabelRule::kTrustDeclaration) {
    if (bom && out.declared != TextEncoding::kUtf8)
      return malformed("XML declaration: " + std::string(to_string(out.declared)) +
                       " declared but a UTF-8 BOM is present");
  } else if (out.declared != TextEncoding::kUtf8 && (bom || is_utf8_with_multibyte(body))) {
    // A BOM is UTF-8 by definition; otherwise the mislabelled-UTF-8 rule (header).
    out.used = TextEncoding::kUtf8;
  }
  // The declaration stays (RapidXML skips it), so that byte offsets in error details count from
  // the start of what the sender sent (after a BOM) for UTF-8 input.
  // UTF-8 input is checked where it lies; other encodings are converted first.
  std::string converted_doc;
  std::string_view utf8 = doc;
  if (out.used != TextEncoding::kUtf8) {
    auto converted = single_byte_to_utf8(body, out.used, body_base);
    if (!converted) return converted.error();
    converted_doc.reserve(decl->length + converted->size());
    converted_doc.append(doc.substr(0, decl->length));
    converted_doc.append(*converted);
    utf8 = converted_doc;
  }
  // The UTF-8 check: invalid sequences, forbidden characters, line-end normalisation.
  if (may_view && out.used == TextEncoding::kUtf8 && utf8.find('\r') == std::string_view::npos) {
    if (auto checked = checked_utf8<false>(utf8, base); !checked) return checked.error();
    return utf8;  // == doc, a part of `bytes`
  }
  auto checked = from_utf8(utf8, base);
  if (!checked) return checked.error();
  out.utf8 = std::move(*checked);
  return std::string_view(out.utf8);
}

}  // namespace

Result<DecodedDocument> decode_document(std::string_view bytes, LabelRule rule) {
  DecodedDocument out;
  if (auto decoded = decode_into(bytes, rule, false, out); !decoded) return decoded.error();
  return out;
}

Result<std::string> to_utf8_document(std::string_view bytes) {
  auto decoded = decode_document(bytes, LabelRule::kTrustDeclaration);
  if (!decoded) return decoded.error();
  return std::move(decoded->utf8);
}

Result<std::string_view> to_utf8_view(std::string_view bytes, std::string& storage) {
  DecodedDocument out;
  auto view = decode_into(bytes, LabelRule::kTrustDeclaration, true, out);
  if (!view) return view.error();
  if (view->data() != out.utf8.data()) return *view;  // a part of `bytes`
  storage = std::move(out.utf8);
  return std::string_view(storage);
}

std::string utf8_to_latin1_xml(std::string_view utf8) {
  // First as plain Latin-1; if those bytes would pass for UTF-8 under the mislabelled-UTF-8
  // rule (text such as "Ã¦"), again with every non-ASCII character as a reference, so the
  // output always reads back as written.
  for (const bool ascii : {false, true}) {
    std::string out;
    out.reserve(utf8.size());
    std::size_t i = 0;
    while (i < utf8.size()) {
      const auto c = static_cast<unsigned char>(utf8[i]);
      const std::size_t len = xml_char_length(utf8, i);
      if (len <= 1) {
        out.push_back(len == 0 ? '?' : static_cast<char>(c));
        ++i;
        continue;
      }
      std::uint32_t cp = c & (0xFF >> (len + 1));
      for (std::size_t k = 1; k < len; ++k) cp = (cp << 6) | (utf8[i + k] & 0x3F);
      if (cp <= 0xFF && !ascii)
        out.push_back(static_cast<char>(cp));
      else
        out.append("&#" + std::to_string(cp) + ";");
      i += len;
    }
    if (ascii || !is_utf8_with_multibyte(out)) return out;
  }
  return {};
}

}  // namespace sektorbro
