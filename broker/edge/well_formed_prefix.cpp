#include "broker/edge/well_formed_prefix.hpp"

#include <algorithm>

#include "broker/xml/text_encoding.hpp"

namespace sektorbro {
namespace {

bool name_start(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_' || c == ':' || c >= 0x80;
}

bool name_char(unsigned char c) {
  return name_start(c) || (c >= '0' && c <= '9') || c == '-' || c == '.';
}

bool allowed_code_point(unsigned long v) {
  return v == 0x9 || v == 0xA || v == 0xD || (v >= 0x20 && v <= 0xD7FF) ||
         (v >= 0xE000 && v <= 0xFFFD) || (v >= 0x10000 && v <= 0x10FFFF);
}

std::string_view local_name(std::string_view qname) {
  const auto colon = qname.find(':');
  return colon == std::string_view::npos ? qname : qname.substr(colon + 1);
}

// One pass over the bytes. Every step either consumes a complete construct and returns true, or
// returns false at the first fault (or the end of the bytes): the walk then stops for good.
class Walker {
 public:
  Walker(std::string_view bytes, const std::function<bool(const PrefixElement&)>& on_close,
         PrefixLimits limits)
      : b_(bytes.substr(0, std::min(bytes.size(), limits.max_bytes))),
        on_close_(on_close),
        max_depth_(limits.max_depth) {}

  std::size_t run() {
    if (b_.substr(0, 3) == "\xEF\xBB\xBF") pos_ = 3;
    if (!declaration()) return read_;
    read_ = pos_;
    // The prolog: space, comments, processing instructions; a DOCTYPE ends the walk.
    for (;;) {
      skip_space();
      if (at("<!--")) {
        if (!comment()) return read_;
      } else if (at("<?")) {
        if (!pi()) return read_;
      } else if (at("<") && !at("<!")) {
        break;
      } else {
        return read_;
      }
      read_ = pos_;
    }
    if (!start_tag()) return read_;
    read_ = pos_;
    while (!stack_.empty()) {
      if (!content_step()) return read_;
      read_ = pos_;
    }
    return read_;
  }

 private:
  struct Open {
    std::string_view qname;
    std::size_t content_begin;
    std::string_view value;
    bool has_child = false;
  };

  bool at(std::string_view s) const { return b_.substr(pos_, s.size()) == s; }

  bool skip_space() {
    const std::size_t from = pos_;
    while (pos_ < b_.size() && is_xml_space(b_[pos_])) ++pos_;
    return pos_ > from;
  }

  // The XML declaration, if any: its encoding must be one the broker reads.
  bool declaration() {
    if (!at("<?xml") || pos_ + 5 >= b_.size() || !is_xml_space(b_[pos_ + 5])) return true;
    const std::size_t end = b_.find("?>", pos_);
    if (end == std::string_view::npos) return false;
    const std::string_view decl = b_.substr(pos_ + 5, end - pos_ - 5);
    if (!std::all_of(decl.begin(), decl.end(),
                     [](char c) { return c >= 0x20 && c < 0x7F ? true : is_xml_space(c); }))
      return false;
    if (const auto e = decl.find("encoding"); e != std::string_view::npos) {
      std::size_t i = e + 8;
      while (i < decl.size() && is_xml_space(decl[i])) ++i;
      if (i >= decl.size() || decl[i] != '=') return false;
      ++i;
      while (i < decl.size() && is_xml_space(decl[i])) ++i;
      if (i >= decl.size() || (decl[i] != '"' && decl[i] != '\'')) return false;
      const std::size_t close = decl.find(decl[i], i + 1);
      if (close == std::string_view::npos) return false;
      auto named = encoding_named(decl.substr(i + 1, close - i - 1));
      if (!named) return false;
      encoding_ = *named;
    }
    pos_ = end + 2;
    return true;
  }

  // One character allowed in XML and valid in the document's encoding.
  bool character() {
    if (pos_ >= b_.size()) return false;
    const auto c = static_cast<unsigned char>(b_[pos_]);
    if (c < 0x80 || encoding_ == TextEncoding::kUtf8) {
      const std::size_t len = xml_char_length(b_, pos_);
      if (len == 0) return false;
      pos_ += len;
      return true;
    }
    // ISO-8859-1 takes every byte from 0x80; windows-1252 leaves five undefined.
    if (encoding_ == TextEncoding::kWindows1252 &&
        (c == 0x81 || c == 0x8D || c == 0x8F || c == 0x90 || c == 0x9D))
      return false;
    ++pos_;
    return true;
  }

  bool name(std::string_view& out) {
    const std::size_t from = pos_;
    if (pos_ >= b_.size() || !name_start(static_cast<unsigned char>(b_[pos_]))) return false;
    while (pos_ < b_.size() && name_char(static_cast<unsigned char>(b_[pos_]))) {
      if (static_cast<unsigned char>(b_[pos_]) >= 0x80) {
        if (!character()) return false;
      } else {
        ++pos_;
      }
    }
    if (pos_ >= b_.size()) return false;  // the name may go on past the cut
    out = b_.substr(from, pos_ - from);
    return true;
  }

  // At '&': one of XML's five entities or a character reference to an allowed character.
  bool reference() {
    const std::size_t semi = b_.substr(0, std::min(b_.size(), pos_ + 13)).find(';', pos_);
    if (semi == std::string_view::npos) return false;
    const std::string_view ref = b_.substr(pos_ + 1, semi - pos_ - 1);
    bool ok = ref == "lt" || ref == "gt" || ref == "amp" || ref == "apos" || ref == "quot";
    if (!ok && ref.size() >= 2 && ref[0] == '#') {
      const bool hex = ref[1] == 'x';
      const std::string_view digits = ref.substr(hex ? 2 : 1);
      unsigned long v = 0;
      ok = !digits.empty() && digits.size() <= 8;
      for (char d : digits) {
        if (!ok) break;
        unsigned long n = 0;
        if (d >= '0' && d <= '9') {
          n = static_cast<unsigned long>(d - '0');
        } else if (hex && d >= 'a' && d <= 'f') {
          n = static_cast<unsigned long>(d - 'a' + 10);
        } else if (hex && d >= 'A' && d <= 'F') {
          n = static_cast<unsigned long>(d - 'A' + 10);
        } else {
          ok = false;
          break;
        }
        v = v * (hex ? 16 : 10) + n;
      }
      ok = ok && allowed_code_point(v);
    }
    if (!ok) return false;
    pos_ = semi + 1;
    return true;
  }

  bool attribute_value(std::string_view& out) {
    if (pos_ >= b_.size() || (b_[pos_] != '"' && b_[pos_] != '\'')) return false;
    const char quote = b_[pos_++];
    const std::size_t from = pos_;
    for (;;) {
      if (pos_ >= b_.size() || b_[pos_] == '<') return false;
      if (b_[pos_] == quote) break;
      if (!(b_[pos_] == '&' ? reference() : character())) return false;
    }
    out = b_.substr(from, pos_ - from);
    ++pos_;
    return true;
  }

  // At '<' of a start tag. An empty element is reported at once.
  bool start_tag() {
    if (stack_.size() >= max_depth_) return false;
    ++pos_;
    Open open;
    if (!name(open.qname)) return false;
    std::vector<std::string_view> attributes;
    for (;;) {
      const bool spaced = skip_space();
      if (at(">")) {
        ++pos_;
        open.content_begin = pos_;
        push(open);
        return true;
      }
      if (at("/>")) {
        pos_ += 2;
        open.content_begin = pos_;
        push(open);
        return close(pos_);
      }
      if (!spaced || attributes.size() >= 64) return false;
      std::string_view attribute;
      std::string_view value;
      if (!name(attribute)) return false;
      skip_space();
      if (!at("=")) return false;
      ++pos_;
      skip_space();
      if (!attribute_value(value)) return false;
      if (std::find(attributes.begin(), attributes.end(), attribute) != attributes.end())
        return false;
      attributes.push_back(attribute);
      if (attribute == "value") open.value = value;
    }
  }

  void push(const Open& open) {
    if (!stack_.empty()) stack_.back().has_child = true;
    stack_.push_back(open);
    path_.push_back(local_name(open.qname));
  }

  // Reports and pops the innermost element, whose content ends at `content_end`.
  bool close(std::size_t content_end) {
    const Open& top = stack_.back();
    const std::string_view text =
        top.has_child || content_end < top.content_begin
            ? std::string_view{}
            : b_.substr(top.content_begin, content_end - top.content_begin);
    const bool go_on = on_close_(PrefixElement{path_, text, top.value});
    stack_.pop_back();
    path_.pop_back();
    return go_on;
  }

  // At "</": must close the innermost open element.
  bool end_tag() {
    const std::size_t lt = pos_;
    pos_ += 2;
    std::string_view qname;
    if (!name(qname)) return false;
    skip_space();
    if (!at(">") || qname != stack_.back().qname) return false;
    ++pos_;
    return close(lt);
  }

  bool until(std::string_view end) {
    for (;;) {
      if (at(end)) {
        pos_ += end.size();
        return true;
      }
      if (!character()) return false;
    }
  }

  bool comment() {  // at "<!--"; "--" may only end it
    pos_ += 4;
    for (;;) {
      if (at("--")) {
        if (!at("-->")) return false;
        pos_ += 3;
        return true;
      }
      if (!character()) return false;
    }
  }

  bool pi() {  // at "<?"
    pos_ += 2;
    std::string_view target;
    if (!name(target)) return false;
    if (!at("?>") && !skip_space()) return false;
    return until("?>");
  }

  bool content_step() {
    if (pos_ >= b_.size()) return false;
    if (b_[pos_] == '<') {
      if (at("</")) return end_tag();
      if (at("<!--")) return comment();
      if (at("<![CDATA[")) {
        pos_ += 9;
        return until("]]>");
      }
      if (at("<?")) return pi();
      if (at("<!")) return false;
      return start_tag();
    }
    if (b_[pos_] == '&') return reference();
    if (at("]]>")) return false;
    return character();
  }

  std::string_view b_;
  const std::function<bool(const PrefixElement&)>& on_close_;
  std::size_t max_depth_;
  std::size_t pos_ = 0;
  std::size_t read_ = 0;
  TextEncoding encoding_ = TextEncoding::kUtf8;
  std::vector<Open> stack_;
  std::vector<std::string_view> path_;
};

}  // namespace

std::size_t walk_well_formed_prefix(std::string_view bytes,
                                    const std::function<bool(const PrefixElement&)>& on_close,
                                    PrefixLimits limits) {
  return Walker(bytes, on_close, limits).run();
}

}  // namespace sektorbro
