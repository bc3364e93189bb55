// Reading a damaged XML document as far as it is well-formed (issue 9: a refusal goes to the
// original sender and names the original envelope and letters even when the document is cut
// off, has an undeclared entity or bytes invalid in its encoding). The one lenient reader of the
// edge: every dialect's lenient identifiers (native and OIOXML Emessage, the SBDH header, a FHIR
// Bundle's ids) are taken from what this reports, never from bytes past the first fault. Pure,
// any thread, linear in the bytes read.
#pragma once

#include <cstddef>
#include <functional>
#include <limits>
#include <string_view>
#include <vector>

namespace sektorbro {

// An element of the well-formed prefix, reported when its end tag (or the `/>` of an empty
// element) has been read.
struct PrefixElement {
  const std::vector<std::string_view>& path;  // local names, the root first, this element last
  std::string_view text;   // its content as written (raw, untrimmed), when it has no child
                           // element; empty otherwise
  std::string_view value;  // its value="…" attribute as written (FHIR primitives); empty if none
};

struct PrefixLimits {
  std::size_t max_bytes = std::numeric_limits<std::size_t>::max();  // bytes looked at
  std::size_t max_depth = 64;  // deeper nesting is treated as a fault (MedCom needs < 10)
};

// Walks `bytes` from the start for as long as they are a well-formed XML 1.0 document so far and
// calls `on_close` for each element that closes within that prefix, in document order. Stops at
// the first fault — a tag not complete, an end tag that does not match, a reference to an entity
// XML does not predefine, a character not allowed in XML or invalid in the declared encoding
// (the one list, broker/xml/text_encoding.hpp; an encoding not on it: nothing is read), a DOCTYPE
// (its entities are never expanded), nesting deeper than the limit — at the end of the bytes or
// of the root element, or when `on_close` returns false. Namespaces are not resolved: names are
// matched by local name. Returns how many bytes formed the prefix that was read.
std::size_t walk_well_formed_prefix(std::string_view bytes,
                                    const std::function<bool(const PrefixElement&)>& on_close,
                                    PrefixLimits limits = {});

}  // namespace sektorbro
