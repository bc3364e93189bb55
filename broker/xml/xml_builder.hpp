// The one XML writer of Sektorbro, for the native codec and every MedCom adapter: prefixed
// names, attributes, namespace declarations, text with line-break elements, and pre-checked
// mixed content (MedCom formatted text). UTF-8 output, two-space indent, or no whitespace at all
// (MedCom's receipts are one line). Equal calls give equal bytes, which the native content hash
// relies on.
#pragma once

#include <array>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sektorbro {

using XmlAttributes = std::vector<std::pair<std::string_view, std::string_view>>;

class XmlBuilder {
 public:
  // `declaration`: the full XML declaration to start with, e.g.
  // R"(<?xml version="1.0" encoding="UTF-8"?>)"; empty for none. `indent`: pretty-print.
  // `expected_bytes`: room for about that much output from the start (as reserve(), but the
  // declaration is then written into the one buffer instead of one allocated for it alone).
  XmlBuilder(std::string_view declaration, bool indent, std::size_t expected_bytes = 0);

  // Names are written as given ("sbdh:Scope"); attributes (including xmlns declarations) in
  // the order given, values escaped.
  void open(std::string_view name, const XmlAttributes& attributes = {});
  void close();
  // An element with escaped text (empty text gives <name/>).
  void leaf(std::string_view name, std::string_view text, const XmlAttributes& attributes = {});
  // An element whose text has its line feeds written as empty `break_name` elements
  // (<Break/> in MedCom RefuseText, <br/> in Text01). Never indented inside.
  void leaf_with_breaks(std::string_view name, std::string_view text, std::string_view break_name);
  // An element whose content is `markup`, mixed content that the caller has produced with this
  // module's escaping (e.g. write_formatted_text); never indented inside.
  void leaf_markup(std::string_view name, std::string_view markup);
  // An empty element with attributes only (FHIR's <code value="ok"/>).
  void empty(std::string_view name, const XmlAttributes& attributes);

  // Room for about `bytes` of output, so a writer that knows roughly how big its document is
  // avoids growing the buffer step by step (each step copies what is written so far).
  void reserve(std::size_t bytes) { out_.reserve(bytes); }

  std::string finish();

 private:
  void start_line();
  void start_tag(std::string_view name, const XmlAttributes& attributes);

  // An open element: where its name was written in out_ (its start tag), so close() copies
  // the name from the output itself. No string per element, and for the first kInlineDepth
  // levels no allocation at all (a builder per letter and per answer: these were two
  // allocations each, issue 8).
  struct OpenElement {
    std::size_t name_at = 0;
    std::size_t name_size = 0;
  };
  static constexpr std::size_t kInlineDepth = 16;
  void push_open(OpenElement open);
  OpenElement pop_open();

  std::string out_;
  std::array<OpenElement, kInlineDepth> open_inline_{};
  std::vector<OpenElement> open_deeper_;  // levels past kInlineDepth (rare)
  std::size_t depth_ = 0;
  bool indent_;
};

// Escapes character data: & < > and CR (as &#13;, so it survives line-end normalisation).
// Bytes that are not valid UTF-8 and characters XML 1.0 forbids become U+FFFD, so the output
// is always well-formed.
void append_escaped(std::string& out, std::string_view text);

// Escapes an attribute value: & < > " and tab/LF/CR as character references.
void append_attribute_escaped(std::string& out, std::string_view value);

}  // namespace sektorbro
