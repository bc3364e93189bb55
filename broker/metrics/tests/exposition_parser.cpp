#include "broker/metrics/tests/exposition_parser.hpp"

#include <cctype>
#include <cstdlib>
#include <sstream>

namespace sektorbro::metrics::testing {

std::optional<double> Page::value(const std::string& name,
                                  const std::map<std::string, std::string>& labels) const {
  std::optional<double> found;
  for (const auto& s : samples) {
    if (s.name != name || s.labels != labels) continue;
    if (found) return std::nullopt;  // two samples with the same identity: not a valid page
    found = s.value;
  }
  return found;
}

namespace {

bool name_char(char c, bool first) {
  return std::isalpha(static_cast<unsigned char>(c)) || c == '_' || c == ':' ||
         (!first && std::isdigit(static_cast<unsigned char>(c)));
}

std::optional<double> number(const std::string& text) {
  if (text == "+Inf") return 1.0 / 0.0;
  if (text == "-Inf") return -1.0 / 0.0;
  if (text == "NaN") return 0.0 / 0.0;
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  if (text.empty() || *end != '\0') return std::nullopt;
  return v;
}

std::optional<Sample> sample(const std::string& line) {
  Sample s;
  std::size_t i = 0;
  while (i < line.size() && name_char(line[i], i == 0)) ++i;
  if (i == 0) return std::nullopt;
  s.name = line.substr(0, i);
  if (i < line.size() && line[i] == '{') {
    ++i;
    while (i < line.size() && line[i] != '}') {
      const std::size_t start = i;
      while (i < line.size() && name_char(line[i], i == start)) ++i;
      const std::string label = line.substr(start, i - start);
      if (label.empty() || i + 1 >= line.size() || line[i] != '=' || line[i + 1] != '"')
        return std::nullopt;
      i += 2;
      std::string value;
      for (;; ++i) {
        if (i >= line.size()) return std::nullopt;
        if (line[i] == '"') break;
        if (line[i] == '\\') {
          if (++i >= line.size()) return std::nullopt;
          if (line[i] == 'n') {
            value += '\n';
          } else if (line[i] == '\\' || line[i] == '"') {
            value += line[i];
          } else {
            return std::nullopt;
          }
        } else if (line[i] == '\n') {
          return std::nullopt;
        } else {
          value += line[i];
        }
      }
      ++i;  // closing quote
      if (!s.labels.emplace(label, value).second) return std::nullopt;
      if (i < line.size() && line[i] == ',') ++i;
    }
    if (i >= line.size()) return std::nullopt;
    ++i;  // '}'
  }
  if (i >= line.size() || line[i] != ' ') return std::nullopt;
  const auto v = number(line.substr(i + 1));
  if (!v) return std::nullopt;
  s.value = *v;
  return s;
}

}  // namespace

std::optional<Page> parse_page(const std::string& text, std::string& error) {
  Page page;
  if (!text.empty() && text.back() != '\n') {
    error = "(no newline at the end)";
    return std::nullopt;
  }
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("# TYPE ", 0) == 0 || line.rfind("# HELP ", 0) == 0) {
      const std::string rest = line.substr(7);
      const auto space = rest.find(' ');
      if (space == std::string::npos || space == 0) {
        error = line;
        return std::nullopt;
      }
      const std::string family = rest.substr(0, space);
      auto& into = line[2] == 'T' ? page.types : page.helps;
      if (!into.emplace(family, rest.substr(space + 1)).second) {
        error = line;  // a family described twice
        return std::nullopt;
      }
      continue;
    }
    if (line.empty() || line[0] == '#') continue;
    auto s = sample(line);
    if (!s) {
      error = line;
      return std::nullopt;
    }
    page.samples.push_back(*s);
  }
  return page;
}

}  // namespace sektorbro::metrics::testing
