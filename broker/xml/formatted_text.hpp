// MedCom's formatted text (FormattedText.xsd of the OIOXML namespaces: the content of XDIS91's
// Text01) as one canonical markup fragment, so that line breaks, fixed-font runs and emphasis
// survive every trip through the broker (issue 9). Pure; any thread.
//
// The fragment is mixed content without namespaces or attributes: character data escaped as
// append_escaped does, and only these elements, nested as MedCom's schema allows:
//   top level : text, Space, Break, Right, Center, Bold, Italic, Underline, FixedFont
//   FixedFont : text, Space, Break, Right, Center, Bold, Italic, Underline
//   Right, Center, Bold, Italic, Underline : text, Space, Break
// Space and Break are written empty (<Break/>). Whitespace inside the block is kept as written
// (it matters in FixedFont); whitespace at the very start and end of the block is dropped, as
// is indentation around it in pretty-printed files.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "broker/core/result.hpp"
#include "broker/xml/xml_document.hpp"

namespace sektorbro {

// The content of `node` (an element such as Text01) as a canonical fragment. Child elements
// count when they are in namespace `ns`; `br` in that namespace is read as Break (MedCom's own
// XDIS91 sample writes <br/>, which its schema does not allow). kInvalid for any other element,
// or an element where the schema does not allow it; the detail names the element only when it
// is a short word.
Result<std::string> formatted_text_from(const XmlNode& node, std::string_view ns);

// Checks that `fragment` is a canonical fragment (what formatted_text_from gives). kInvalid
// otherwise. Used where a fragment arrives from outside (the native codec).
Result<void> check_formatted_text(std::string_view fragment);

// The plain text of a canonical fragment: Break as '\n', Space as ' ', elements' text inline.
std::string plain_text_of(std::string_view fragment);

// The plain text of several blocks (a letter's ClinicalInformation): each rendered, trimmed of
// XML whitespace at both ends, joined by '\n'.
std::string plain_text_of_blocks(const std::vector<std::string>& fragments);

// A canonical fragment for plain text: escaped, '\n' as <Break/>.
std::string formatted_text_of_plain(std::string_view text);

}  // namespace sektorbro
