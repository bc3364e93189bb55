#include "broker/xml/xml_builder.hpp"

#include <cassert>
#include <cstdint>

#include "broker/xml/ascii_words.hpp"
#include "broker/xml/text_encoding.hpp"

namespace sektorbro {
namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";

}  // namespace

void append_escaped(std::string& out, std::string_view text) {
  out.reserve(out.size() + text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    // A run of plain ASCII (no markup character, no CR) goes in with one append: most text is
    // such runs, and a byte at a time was a tenth of the io thread under load (performance.md).
    std::size_t run = i;
    while (run < text.size()) {
      if (run + 8 <= text.size()) {
        const std::uint64_t w = ascii_words::load(text.data() + run);
        if (ascii_words::all_in_20_to_7f(w) && !ascii_words::has_byte(w, 0x7F) &&
            !ascii_words::has_byte(w, '&') && !ascii_words::has_byte(w, '<') &&
            !ascii_words::has_byte(w, '>')) {
          run += 8;
          continue;
        }
      }
      const auto c = static_cast<unsigned char>(text[run]);
      const bool plain =
          (c >= 0x20 && c < 0x7F && c != '&' && c != '<' && c != '>') || c == '\t' || c == '\n';
      if (!plain) break;
      ++run;
    }
    if (run > i) {
      out.append(text.data() + i, run - i);
      i = run;
      continue;
    }
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

void append_attribute_escaped(std::string& out, std::string_view value) {
  std::size_t start = 0;
  for (std::size_t i = 0; i < value.size(); ++i) {
    const char* ref = nullptr;
    switch (value[i]) {
      case '"':
        ref = "&quot;";
        break;
      case '\t':
        ref = "&#9;";
        break;
      case '\n':
        ref = "&#10;";
        break;
      default:
        break;
    }
    if (ref == nullptr) continue;
    append_escaped(out, value.substr(start, i - start));
    out.append(ref);
    start = i + 1;
  }
  append_escaped(out, value.substr(start));
}

XmlBuilder::XmlBuilder(std::string_view declaration, bool indent, std::size_t expected_bytes)
    : indent_(indent) {
  if (expected_bytes > 0) out_.reserve(expected_bytes);
  out_.append(declaration);
  if (!declaration.empty()) out_.push_back('\n');
}

void XmlBuilder::push_open(OpenElement open) {
  if (depth_ < kInlineDepth)
    open_inline_[depth_] = open;
  else
    open_deeper_.push_back(open);
  ++depth_;
}

XmlBuilder::OpenElement XmlBuilder::pop_open() {
  assert(depth_ > 0);
  --depth_;
  if (depth_ < kInlineDepth) return open_inline_[depth_];
  const OpenElement open = open_deeper_.back();
  open_deeper_.pop_back();
  return open;
}

void XmlBuilder::start_line() {
  if (indent_) out_.append(2 * depth_, ' ');
}

void XmlBuilder::start_tag(std::string_view name, const XmlAttributes& attributes) {
  start_line();
  out_.push_back('<');
  out_.append(name);
  for (const auto& [key, value] : attributes) {
    out_.push_back(' ');
    out_.append(key);
    out_.append("=\"");
    append_attribute_escaped(out_, value);
    out_.push_back('"');
  }
}

void XmlBuilder::open(std::string_view name, const XmlAttributes& attributes) {
  // The name follows the indent and the '<' that start_tag writes.
  const std::size_t name_at = out_.size() + (indent_ ? 2 * depth_ : 0) + 1;
  start_tag(name, attributes);
  out_.push_back('>');
  if (indent_) out_.push_back('\n');
  push_open({name_at, name.size()});
}

void XmlBuilder::close() {
  const OpenElement open = pop_open();
  start_line();
  // Room first, so that the name is copied from out_ into out_ without a reallocation between.
  out_.reserve(out_.size() + open.name_size + 4);
  out_.append("</");
  out_.append(out_.data() + open.name_at, open.name_size);
  out_.push_back('>');
  if (indent_) out_.push_back('\n');
}

void XmlBuilder::leaf(std::string_view name, std::string_view text,
                      const XmlAttributes& attributes) {
  start_tag(name, attributes);
  if (text.empty()) {
    out_.append("/>");
  } else {
    out_.push_back('>');
    append_escaped(out_, text);
    out_.append("</");
    out_.append(name);
    out_.push_back('>');
  }
  if (indent_) out_.push_back('\n');
}

void XmlBuilder::leaf_with_breaks(std::string_view name, std::string_view text,
                                  std::string_view break_name) {
  start_tag(name, {});
  out_.push_back('>');
  std::size_t start = 0;
  while (true) {
    const auto nl = text.find('\n', start);
    append_escaped(out_, text.substr(start, nl == std::string_view::npos ? nl : nl - start));
    if (nl == std::string_view::npos) break;
    out_.push_back('<');
    out_.append(break_name);
    out_.append("/>");
    start = nl + 1;
  }
  out_.append("</");
  out_.append(name);
  out_.push_back('>');
  if (indent_) out_.push_back('\n');
}

void XmlBuilder::leaf_markup(std::string_view name, std::string_view markup) {
  start_tag(name, {});
  if (markup.empty()) {
    out_.append("/>");
  } else {
    out_.push_back('>');
    out_.append(markup);
    out_.append("</");
    out_.append(name);
    out_.push_back('>');
  }
  if (indent_) out_.push_back('\n');
}

void XmlBuilder::empty(std::string_view name, const XmlAttributes& attributes) {
  start_tag(name, attributes);
  out_.append("/>");
  if (indent_) out_.push_back('\n');
}

std::string XmlBuilder::finish() {
  assert(depth_ == 0);
  return std::move(out_);
}

}  // namespace sektorbro
