// A deterministic XML writer for the adapters' foreign formats: prefixed names, attributes,
// namespace declarations, and text with line-break elements. UTF-8 output, two-space indent,
// or no whitespace at all (MedCom's receipts are one line). Equal calls give equal bytes.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sektorbro::adapters {

using XmlAttributes = std::vector<std::pair<std::string_view, std::string_view>>;

class XmlBuilder {
 public:
  // `declaration`: the full XML declaration to start with, e.g.
  // R"(<?xml version="1.0" encoding="UTF-8"?>)"; empty for none. `indent`: pretty-print.
  XmlBuilder(std::string_view declaration, bool indent);

  // Names are written as given ("sbdh:Scope"); attributes (including xmlns declarations) in
  // the order given, values escaped.
  void open(std::string_view name, const XmlAttributes& attributes = {});
  void close();
  // An element with escaped text (empty text gives <name/>).
  void leaf(std::string_view name, std::string_view text, const XmlAttributes& attributes = {});
  // An element whose text has its line feeds written as empty `break_name` elements
  // (<Break/> in MedCom RefuseText, <br/> in Text01). Never indented inside.
  void leaf_with_breaks(std::string_view name, std::string_view text, std::string_view break_name);
  // An empty element with attributes only (FHIR's <code value="ok"/>).
  void empty(std::string_view name, const XmlAttributes& attributes);

  std::string finish();

 private:
  void start_line();
  void start_tag(std::string_view name, const XmlAttributes& attributes);

  std::string out_;
  std::vector<std::string> open_;
  bool indent_;
};

// Escapes an attribute value: & < > " and tab/LF/CR as character references.
void append_attribute_escaped(std::string& out, std::string_view value);

}  // namespace sektorbro::adapters
