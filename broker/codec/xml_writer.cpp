#include "broker/codec/xml_writer.hpp"

#include <cassert>
#include <cstdint>

namespace sektorbro {
namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";

// Length of the well-formed UTF-8 sequence at s[i] that encodes an XML character, or 0.
std::size_t xml_char_length(std::string_view s, std::size_t i) {
  const auto c = static_cast<unsigned char>(s[i]);
  if (c < 0x80) return (c >= 0x20 || c == '\t' || c == '\n' || c == '\r') ? 1 : 0;
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
  if (c == 0xEF && c1 == 0xBF && static_cast<unsigned char>(s[i + 2]) >= 0xBE) return 0;
  return len;
}

}  // namespace

void append_escaped(std::string& out, std::string_view text) {
  std::size_t i = 0;
  while (i < text.size()) {
    const std::size_t len = xml_char_length(text, i);
    if (len == 0) {
      out.append(kReplacement);
      ++i;
      continue;
    }
    if (len == 1) {
      switch (text[i]) {
        case '&':
          out.append("&amp;");
          break;
        case '<':
          out.append("&lt;");
          break;
        case '>':
          out.append("&gt;");
          break;
        case '\r':
          out.append("&#13;");
          break;
        default:
          out.push_back(text[i]);
          break;
      }
    } else {
      out.append(text.substr(i, len));
    }
    i += len;
  }
}

XmlWriter::XmlWriter(bool declaration) {
  if (declaration) out_ = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
}

void XmlWriter::indent() { out_.append(2 * open_.size(), ' '); }

void XmlWriter::open(std::string_view name, std::string_view xmlns) {
  indent();
  out_.push_back('<');
  out_.append(name);
  if (!xmlns.empty()) {
    out_.append(" xmlns=\"");
    out_.append(xmlns);  // a constant URI of ours: nothing to escape
    out_.push_back('"');
  }
  out_.append(">\n");
  open_.push_back(name);
}

void XmlWriter::close() {
  assert(!open_.empty());
  const std::string_view name = open_.back();
  open_.pop_back();
  indent();
  out_.append("</");
  out_.append(name);
  out_.append(">\n");
}

void XmlWriter::leaf(std::string_view name, std::string_view text) {
  indent();
  out_.push_back('<');
  out_.append(name);
  if (text.empty()) {
    out_.append("/>\n");
    return;
  }
  out_.push_back('>');
  append_escaped(out_, text);
  out_.append("</");
  out_.append(name);
  out_.append(">\n");
}

std::string XmlWriter::finish() {
  assert(open_.empty());
  return std::move(out_);
}

}  // namespace sektorbro
