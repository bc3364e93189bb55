// The character layer of every XML reader in Sektorbro (the native codec and all MedCom
// adapters): untrusted bytes in, a checked UTF-8 document out, before any XML parsing. One list
// of accepted encodings for the whole broker: UTF-8 (BOM allowed), ISO-8859-1 and windows-1252
// (MedCom files are often latin1, domain.md §2). Pure; any thread.
//
// The mislabelled-UTF-8 rule. Some senders declare ISO-8859-1 (or windows-1252) and write UTF-8
// bytes (MedCom's own XDIS91 sample does). A document that declares a single-byte encoding is
// read as UTF-8 instead when it starts with a UTF-8 BOM, or when (1) ALL its bytes form
// well-formed UTF-8 and (2) it contains at least one multibyte sequence. Why this is safe:
// read as Latin-1, every multibyte UTF-8 sequence is a letter À..ô followed by one to three
// bytes from 0x80..0xBF, which are C1 controls or the symbols ¡..¿ ("Ã¦" for "æ"). Genuine
// Danish Latin-1 text puts æ ø å Æ Ø Å é ü before letters, spaces or punctuation below 0x80,
// which is never valid UTF-8, so one real Latin-1 letter anywhere keeps the declaration. A
// document whose only non-ASCII bytes are such telltale pairs would be mojibake if honoured.
// Pure ASCII is the same in every accepted encoding. The decision is reported, so a caller may
// log that a sender mislabels its files.
#pragma once

#include <string>
#include <string_view>

#include "broker/core/result.hpp"

namespace sektorbro {

enum class TextEncoding { kUtf8, kIso88591, kWindows1252 };
std::string_view to_string(TextEncoding e);  // "UTF-8", "ISO-8859-1", "windows-1252"

// The encoding names accepted in an XML declaration, compared case-insensitively (the one list).
// kMalformed for any other name.
Result<TextEncoding> encoding_named(std::string_view name);

struct DecodedDocument {
  std::string utf8;                             // checked UTF-8, line ends normalised to LF
  TextEncoding declared = TextEncoding::kUtf8;  // from the XML declaration (none = UTF-8)
  TextEncoding used = TextEncoding::kUtf8;      // how the bytes were read
  bool relabelled() const { return declared != used; }
};

// Whether the mislabelled-UTF-8 rule above applies. The MedCom adapters repair what partners
// mislabel; the native codec trusts the declaration (Sektorbro's own integrators must label
// their files right, and a UTF-8 BOM under a single-byte label is refused there).
enum class LabelRule { kRepairMislabelledUtf8, kTrustDeclaration };

// Reads the bytes as their declaration says, with the rule above. Errors are kMalformed:
// unsupported or unreadable declaration, UTF-16, bytes invalid in the encoding used (including
// windows-1252's five undefined bytes), characters XML 1.0 forbids (C0 controls other than
// tab/LF/CR, U+FFFE, U+FFFF), invalid UTF-8 (overlongs, surrogates, stray bytes). Line ends are
// normalised to LF as XML 1.0 §2.11 requires, since RapidXML does not do it. Details name byte
// offsets, never content. The returned document keeps the XML declaration as written (so that
// offsets count from the sender's first byte); its encoding name no longer applies.
Result<DecodedDocument> decode_document(std::string_view bytes);  // kRepairMislabelledUtf8
Result<DecodedDocument> decode_document(std::string_view bytes, LabelRule rule);

// decode_document(bytes, kTrustDeclaration).utf8: the native codec's entry point.
Result<std::string> to_utf8_document(std::string_view bytes);
// The same document without a copy where none is needed: a UTF-8 document (with or without BOM)
// that has no CR is checked where it lies and the view is of `bytes` (after the BOM); any other
// is converted into `storage` and the view is of it. Checks and errors are to_utf8_document's.
Result<std::string_view> to_utf8_view(std::string_view bytes, std::string& storage);

// Encodes UTF-8 text as ISO-8859-1; characters above U+00FF become character references
// (&#NNNN;), so use it only on XML after escaping. Should the Latin-1 bytes happen to form
// UTF-8 (text like "Ã¦"), every non-ASCII character becomes a reference instead, so
// decode_document never relabels what this wrote.
std::string utf8_to_latin1_xml(std::string_view utf8);

// The length of the well-formed UTF-8 sequence at s[i] if it encodes a character XML 1.0
// allows (no overlongs, surrogates, C0 controls other than tab/LF/CR, U+FFFE, U+FFFF); else 0.
std::size_t xml_char_length(std::string_view s, std::size_t i);

// XML whitespace: space, tab, CR, LF (the XSD \s class).
inline bool is_xml_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

}  // namespace sektorbro
