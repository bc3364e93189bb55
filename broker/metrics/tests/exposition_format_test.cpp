#include "broker/metrics/exposition_format.hpp"

#include <gtest/gtest.h>

#include <limits>

#include "broker/metrics/tests/exposition_parser.hpp"

namespace sektorbro::metrics {
namespace {

TEST(ExpositionFormat, Values) {
  EXPECT_EQ(format_value(3), "3");
  EXPECT_EQ(format_value(0), "0");
  EXPECT_EQ(format_value(0.005), "0.005");
  EXPECT_EQ(format_value(-2.5), "-2.5");
  EXPECT_EQ(format_value(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(format_value(-std::numeric_limits<double>::infinity()), "-Inf");
  EXPECT_EQ(format_value(std::numeric_limits<double>::quiet_NaN()), "NaN");
  EXPECT_EQ(std::stod(format_value(1e21)), 1e21);
  EXPECT_EQ(std::stod(format_value(0.1 + 0.2)), 0.1 + 0.2);  // reads back exactly
}

TEST(ExpositionFormat, EscapesLabelValuesAndHelp) {
  EXPECT_EQ(escape_label_value(R"(a"b\c)"
                               "\n"),
            R"(a\"b\\c\n)");
  EXPECT_EQ(escape_help("a\"b\\c\nd"), "a\"b\\\\c\\nd");
}

TEST(ExpositionFormat, SampleLinesReadBack) {
  EXPECT_EQ(sample_line("x_total", {}, 2), "x_total 2\n");
  const std::string line =
      sample_line("x_total", {{"endpoint", "jc-aarhus"}, {"odd", "q\"\\\n"}}, 1.5);
  EXPECT_EQ(line, "x_total{endpoint=\"jc-aarhus\",odd=\"q\\\"\\\\\\n\"} 1.5\n");
  std::string error;
  const auto page = testing::parse_page(line, error);
  ASSERT_TRUE(page) << error;
  EXPECT_EQ(page->value("x_total", {{"endpoint", "jc-aarhus"}, {"odd", "q\"\\\n"}}), 1.5);
}

TEST(ExpositionParser, RefusesMalformedLines) {
  std::string error;
  EXPECT_FALSE(testing::parse_page("x{a=\"1} 2\n", error));
  EXPECT_FALSE(testing::parse_page("x 2", error));  // no final newline
  EXPECT_FALSE(testing::parse_page("x two\n", error));
  EXPECT_FALSE(testing::parse_page("x{a=1} 2\n", error));
  EXPECT_FALSE(testing::parse_page("# TYPE x counter\n# TYPE x gauge\n", error));
}

}  // namespace
}  // namespace sektorbro::metrics
