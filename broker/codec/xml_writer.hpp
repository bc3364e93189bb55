// A small deterministic XML writer for the codec's output: UTF-8, two-space indentation, one
// element per line, no attributes other than the namespace declaration on the outermost
// element. Equal calls give equal bytes, which the content hash relies on.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace sektorbro {

class XmlWriter {
 public:
  // With `declaration`, the output starts with <?xml version="1.0" encoding="UTF-8"?>.
  explicit XmlWriter(bool declaration);

  // Opens an element; `xmlns` (if not empty) is written as its default namespace.
  void open(std::string_view name, std::string_view xmlns = {});
  void close();
  // A leaf element with escaped character data.
  void leaf(std::string_view name, std::string_view text);

  // The document; every open() must have been closed.
  std::string finish();

 private:
  void indent();

  std::string out_;
  std::vector<std::string_view> open_;
};

// Escapes character data: & < > and CR (as &#13;, so it survives line-end normalisation).
// Bytes that are not valid UTF-8 and characters XML 1.0 forbids become U+FFFD, so the output
// is always well-formed; values from decode_envelope never contain them.
void append_escaped(std::string& out, std::string_view text);

}  // namespace sektorbro
