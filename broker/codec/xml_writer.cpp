#include "broker/codec/xml_writer.hpp"

#include <cassert>

#include "broker/codec/text_encoding.hpp"

namespace sektorbro {
namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";

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
