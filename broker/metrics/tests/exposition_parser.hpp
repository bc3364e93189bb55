// A strict reader of the text exposition format for the tests: it reads a page back into
// samples, so the tests check what Prometheus would see, not the writer's own strings.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace sektorbro::metrics::testing {

struct Sample {
  std::string name;
  std::map<std::string, std::string> labels;
  double value = 0;
};

struct Page {
  std::map<std::string, std::string> types;  // family → counter|gauge|histogram
  std::map<std::string, std::string> helps;
  std::vector<Sample> samples;

  // The value of the one sample with this name and exactly these labels.
  std::optional<double> value(const std::string& name,
                              const std::map<std::string, std::string>& labels = {}) const;
};

// Parses a page; on a malformed line returns nullopt and sets `error` to the line.
std::optional<Page> parse_page(const std::string& text, std::string& error);

}  // namespace sektorbro::metrics::testing
