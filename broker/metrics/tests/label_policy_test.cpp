#include "broker/metrics/label_policy.hpp"

#include <gtest/gtest.h>

namespace sektorbro::metrics {
namespace {

TEST(LabelPolicy, TakesEndpointIdsRefuseCodesFormsAndUnits) {
  EXPECT_TRUE(acceptable_label_value("jc-aarhus"));
  EXPECT_TRUE(acceptable_label_value("psy_risskov.2"));
  EXPECT_TRUE(acceptable_label_value("ukendt_lokationsnummer"));
  EXPECT_TRUE(acceptable_label_value("LÆ125"));
  EXPECT_TRUE(acceptable_label_value("LÆ285"));
  EXPECT_TRUE(acceptable_label_value("ØÅ"));
  EXPECT_TRUE(acceptable_label_value("dead-lettered"));
}

TEST(LabelPolicy, RefusesCprNumbersAndOtherLongDigitRuns) {
  EXPECT_FALSE(acceptable_label_value("0101801234"));   // a CPR number
  EXPECT_FALSE(acceptable_label_value("010180-1234"));  // with its dash: six digits first
  EXPECT_FALSE(acceptable_label_value("cpr0101801234"));
  EXPECT_FALSE(acceptable_label_value("5790000751013"));  // a GLN
  EXPECT_FALSE(acceptable_label_value("123456"));
  EXPECT_TRUE(acceptable_label_value("12345"));
}

TEST(LabelPolicy, RefusesContentShapedText) {
  EXPECT_FALSE(acceptable_label_value(""));
  EXPECT_FALSE(acceptable_label_value("Hans Hansen"));  // whitespace: names, sentences
  EXPECT_FALSE(acceptable_label_value("a\"b"));
  EXPECT_FALSE(acceptable_label_value("a\\b"));
  EXPECT_FALSE(acceptable_label_value("a\nb"));
  EXPECT_FALSE(acceptable_label_value("x=y"));
  EXPECT_FALSE(acceptable_label_value("<Emessage>"));
  EXPECT_FALSE(acceptable_label_value(std::string(65, 'a')));
  EXPECT_TRUE(acceptable_label_value(std::string(64, 'a')));
  EXPECT_FALSE(acceptable_label_value("\xC3"));          // truncated UTF-8
  EXPECT_FALSE(acceptable_label_value("\xC3\x28"));      // bad continuation
  EXPECT_FALSE(acceptable_label_value("\xC0\xAF"));      // overlong
  EXPECT_FALSE(acceptable_label_value(std::string("a\0b", 3)));
}

TEST(LabelPolicy, MetricNames) {
  EXPECT_TRUE(valid_metric_name("sektorbro_messages_received_total"));
  EXPECT_TRUE(valid_metric_name("_x1"));
  EXPECT_FALSE(valid_metric_name(""));
  EXPECT_FALSE(valid_metric_name("1abc"));
  EXPECT_FALSE(valid_metric_name("__reserved"));
  EXPECT_FALSE(valid_metric_name("a-b"));
}

}  // namespace
}  // namespace sektorbro::metrics
