// deploy/prometheus/sektorbro-rules.yml names only metrics the broker declares (issue 10): a
// renamed metric must not leave an alert that can never fire. (`promtool check rules` and
// `promtool test rules` run as their own ctest cases.)
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "broker/metrics/broker_metrics.hpp"

namespace sektorbro::metrics {
namespace {

std::string read_rules() {
  std::ifstream in(std::string(SEKTORBRO_SOURCE_DIR) + "/deploy/prometheus/sektorbro-rules.yml");
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// The PromQL of every rule: "expr:" on one line, or a folded block (">-" / "|") below it.
std::vector<std::string> expressions(const std::string& yaml) {
  std::vector<std::string> out;
  std::istringstream in(yaml);
  std::string line;
  std::vector<std::string> lines;
  while (std::getline(in, line)) lines.push_back(line);
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const auto at = lines[i].find("expr:");
    if (at == std::string::npos) continue;
    std::string rest = lines[i].substr(at + 5);
    rest.erase(0, rest.find_first_not_of(' '));
    if (rest == ">-" || rest == ">" || rest == "|" || rest == "|-") {
      const std::size_t indent = at + 2;
      std::string block;
      while (i + 1 < lines.size() && lines[i + 1].size() > indent &&
             lines[i + 1].find_first_not_of(' ') >= indent)
        block += lines[++i] + "\n";
      out.push_back(block);
    } else {
      out.push_back(rest);
    }
  }
  return out;
}

// Identifiers of an expression outside quoted strings, that are not PromQL's own words and are
// not followed by '(' (functions) — i.e. metric names and label names.
std::set<std::string> metric_names(const std::string& expr) {
  std::string bare;
  bool quoted = false;
  for (char c : expr) {
    if (c == '"') quoted = !quoted;
    bare += quoted ? ' ' : c;
  }
  std::set<std::string> out;
  const std::regex ident(R"([a-zA-Z_:][a-zA-Z0-9_:]*)");
  for (auto it = std::sregex_iterator(bare.begin(), bare.end(), ident); it != std::sregex_iterator();
       ++it) {
    const std::string word = it->str();
    if (word.rfind("sektorbro_", 0) == 0 || word == "up") out.insert(word);
  }
  return out;
}

TEST(AlertRules, EveryMetricNamedIsDeclared) {
  const std::string yaml = read_rules();
  ASSERT_FALSE(yaml.empty()) << "deploy/prometheus/sektorbro-rules.yml is missing";
  const auto exprs = expressions(yaml);
  ASSERT_GE(exprs.size(), 4u);
  const auto exposed = exposed_series_names();
  std::set<std::string> used;
  for (const auto& e : exprs) {
    const auto names = metric_names(e);
    EXPECT_FALSE(names.empty()) << "an expression that names no metric: " << e;
    for (const auto& n : names) {
      used.insert(n);
      if (n == "up") continue;  // Prometheus's own, per scrape target
      EXPECT_NE(std::find(exposed.begin(), exposed.end(), n), exposed.end())
          << n << " is named in the rules but not declared in broker_metrics.cpp";
    }
  }
  // The alerts issue 10 asks for each watch their metric.
  for (const char* needed :
       {"sektorbro_messages_dead_lettered_total", "sektorbro_receipts_missing_total",
        "sektorbro_deadlines_overdue", "sektorbro_ready"})
    EXPECT_TRUE(used.count(needed)) << needed;
}

TEST(AlertRules, TheCheckerSeesAnUndeclaredName) {
  // The same reading applied to a rule with a misspelt metric must find it.
  const auto exprs = expressions(
      "      - alert: X\n        expr: >-\n          sum(sektorbro_dead_leters)\n"
      "          > 0\n        for: 1m\n      - alert: Y\n        expr: sektorbro_ready{job=\"sektorbro_x\"} == 0\n");
  ASSERT_EQ(exprs.size(), 2u);
  EXPECT_EQ(metric_names(exprs[0]), std::set<std::string>{"sektorbro_dead_leters"});
  EXPECT_EQ(metric_names(exprs[1]), std::set<std::string>{"sektorbro_ready"});  // not in quotes
  const auto exposed = exposed_series_names();
  EXPECT_EQ(std::find(exposed.begin(), exposed.end(), "sektorbro_dead_leters"), exposed.end());
}

}  // namespace
}  // namespace sektorbro::metrics
