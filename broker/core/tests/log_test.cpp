// The log writer itself keeps CPR-shaped numbers out of the log (issue 12, item 3): whatever a
// caller passes — a letter id, an envelope id, an echoed SOR — ten digits, with or without a dash
// after the sixth, never reach stderr. Tested on the real writer, with stderr sent to a file.
#include "broker/core/log.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "broker/core/clock.hpp"

namespace sektorbro {
namespace {

// Runs `write` with stderr redirected to a temporary file and returns what was written.
template <typename F>
std::string captured_stderr(F write) {
  const auto path =
      std::filesystem::temp_directory_path() / ("sektorbro-log-test-" + std::to_string(getpid()));
  std::fflush(stderr);
  const int saved = dup(STDERR_FILENO);
  const int fd = open(path.c_str(), O_CREAT | O_TRUNC | O_WRONLY, 0600);
  EXPECT_GE(fd, 0);
  dup2(fd, STDERR_FILENO);
  close(fd);
  write();
  std::fflush(stderr);
  dup2(saved, STDERR_FILENO);
  close(saved);
  std::ifstream in(path);
  std::ostringstream s;
  s << in.rdbuf();
  std::filesystem::remove(path);
  return s.str();
}

// The scan the integration and hostile tests run over the broker's log.
bool has_cpr_shaped(const std::string& text) {
  return std::regex_search(text, std::regex(R"(\d{6}-?\d{4})"));
}

// How many of these texts `accepts` turns down: every pair of bytes, then 50,000 runs of 1 to 8
// bytes drawn (deterministically, from `seed`) mostly from the bytes UTF-8 is made of.
template <typename Accepts>
int rejected_byte_runs(std::uint32_t seed, Accepts accepts) {
  int rejected = 0;
  for (int a = 0; a < 256; ++a)
    for (int b = 0; b < 256; ++b)
      if (!accepts(std::string{static_cast<char>(a), static_cast<char>(b)})) ++rejected;
  std::uint32_t x = seed;
  const auto next = [&x] { return x = x * 1664525u + 1013904223u; };
  for (int i = 0; i < 50'000; ++i) {
    std::string text;
    const int n = 1 + static_cast<int>(next() >> 29);
    for (int k = 0; k < n; ++k) {
      const std::uint32_t r = next() >> 8;
      text += static_cast<char>(r % 4 == 0 ? 0x80 + (r >> 2) % 0x40 : (r >> 2) % 256);
    }
    if (!accepts(text)) ++rejected;
  }
  return rejected;
}

TEST(Log, NeverWritesACprShapedNumberWhateverTheCallerPasses) {
  const std::string written = captured_stderr([] {
    log_warn("refused envelope 2912791111 from jc: letter id 2912791111");
    log_info("receiver SOR 291279-1111 does not match");
    log_error("ids:0101001234,X2512489996_ and (251248-9996)");
    log_info("at the end 2512489996");
  });
  EXPECT_EQ(std::count(written.begin(), written.end(), '\n'), 4) << written;
  EXPECT_FALSE(has_cpr_shaped(written)) << written;
  EXPECT_NE(written.find("refused envelope"), std::string::npos) << written;
  EXPECT_NE(written.find("does not match"), std::string::npos) << written;
}

TEST(Log, KeepsNumbersThatAreNotCprShaped) {
  const std::string written = captured_stderr(
      [] { log_info("GLN 5790000123452 SOR 265161000016001 id 123456789 attempt 12345678901"); });
  EXPECT_NE(written.find("GLN 5790000123452 SOR 265161000016001 id 123456789 attempt 12345678901"),
            std::string::npos)
      << written;
}

TEST(Log, TheFilterHidesExactlyTheCprShapes) {
  EXPECT_EQ(without_cpr_shaped_numbers("id 2912791111."), "id <10 digits hidden>.");
  EXPECT_EQ(without_cpr_shaped_numbers("291279-1111"), "<10 digits hidden>");
  EXPECT_EQ(without_cpr_shaped_numbers("a2912791111b"), "a<10 digits hidden>b");
  EXPECT_EQ(without_cpr_shaped_numbers("2912791111291279-1111"), "2912791111291279-1111");
  EXPECT_EQ(without_cpr_shaped_numbers("291279-11112"), "291279-11112");  // 5 after the dash
  EXPECT_EQ(without_cpr_shaped_numbers("1291279-1111"), "1291279-1111");  // 7 before it
  EXPECT_EQ(without_cpr_shaped_numbers("29127911111"), "29127911111");    // 11 digits
  EXPECT_EQ(without_cpr_shaped_numbers("291279111"), "291279111");        // 9 digits
  EXPECT_EQ(without_cpr_shaped_numbers("2026-12-01T10:01:22.123Z"), "2026-12-01T10:01:22.123Z");
  EXPECT_EQ(without_cpr_shaped_numbers("x-291279-1111-"), "x-<10 digits hidden>-");
  EXPECT_EQ(without_cpr_shaped_numbers(""), "");
}

// Issue 10: the JSON format, the level, the broker's own clock in each line.
TEST(Log, JsonLinesAreOneObjectEachWithTheTextEscaped) {
  const TimePoint wall = *parse_timestamp("2026-12-01T10:00:00Z");
  EXPECT_EQ(format_log_line(LogFormat::kJson, LogLevel::kWarn, wall, std::nullopt,
                            "quote \" back \\ line\nend\x01"),
            "{\"time\":\"2026-12-01T10:00:00.000Z\",\"level\":\"warning\",\"message\":"
            "\"quote \\\" back \\\\ line\\nend\\u0001\"}\n");
  EXPECT_EQ(format_log_line(LogFormat::kJson, LogLevel::kInfo, wall,
                            *parse_timestamp("2027-03-04T05:06:07Z"), "x"),
            "{\"time\":\"2026-12-01T10:00:00.000Z\",\"level\":\"info\",\"broker_time\":"
            "\"2027-03-04T05:06:07.000Z\",\"message\":\"x\"}\n");
  EXPECT_EQ(format_log_line(LogFormat::kPlain, LogLevel::kError, wall,
                            *parse_timestamp("2027-03-04T05:06:07Z"), "boom"),
            "2026-12-01T10:00:00.000Z ERROR broker_time=2027-03-04T05:06:07.000Z boom\n");
  EXPECT_EQ(format_log_line(LogFormat::kPlain, LogLevel::kDebug, wall, std::nullopt, "d"),
            "2026-12-01T10:00:00.000Z DEBUG d\n");
}

TEST(Log, LevelsAndFormatsAreConfiguredAndCprStaysOutOfJsonToo) {
  const ManualClock broker_clock(*parse_timestamp("2030-01-02T03:04:05Z"));
  const std::string written = captured_stderr([&] {
    configure_log(LogFormat::kJson, LogLevel::kWarn, &broker_clock);
    log_debug("not written: debug");
    log_info("not written: info");
    log_warn("dead-lettered, letter 2912791111");
    log_error("broken");
    configure_log(LogFormat::kPlain, LogLevel::kInfo, nullptr);  // the defaults again
    log_info("plain again");
  });
  EXPECT_EQ(written.find("not written"), std::string::npos) << written;
  EXPECT_FALSE(has_cpr_shaped(written)) << written;
  std::istringstream lines(written);
  std::string line;
  std::vector<std::string> all;
  while (std::getline(lines, line)) all.push_back(line);
  ASSERT_EQ(all.size(), 3u) << written;
  EXPECT_EQ(all[0].rfind("{\"time\":\"", 0), 0u) << all[0];
  EXPECT_NE(all[0].find("\"level\":\"warning\",\"broker_time\":\"2030-01-02T03:04:05.000Z\""),
            std::string::npos)
      << all[0];
  EXPECT_NE(all[0].find("<10 digits hidden>"), std::string::npos) << all[0];
  EXPECT_NE(all[1].find("\"level\":\"error\""), std::string::npos) << all[1];
  EXPECT_NE(all[2].find(" INFO plain again"), std::string::npos) << all[2];
  EXPECT_EQ(all[2].find("broker_time"), std::string::npos) << all[2];
}

// A JSON line is one line of well-formed UTF-8 JSON whatever the text holds (control
// characters, quotes, backslashes, bytes that are not UTF-8), read back by an independent
// parser (nlohmann::json refuses ill-formed UTF-8).
namespace json_lines {

const TimePoint kWall = *parse_timestamp("2026-12-01T10:00:00Z");

std::string line_of(std::string_view text) {
  return format_log_line(LogFormat::kJson, LogLevel::kInfo, kWall, std::nullopt, text);
}
// The "message" as written, between its quotes.
std::string escaped(std::string_view text) {
  const std::string line = line_of(text);
  const std::string head = "\"message\":\"";
  const auto from = line.find(head) + head.size();
  return line.substr(from, line.size() - from - 3);  // without "}\n
}
// The message an independent parser reads back; nullopt if the line is not one JSON object.
std::optional<std::string> read_back(std::string_view text) {
  const std::string line = line_of(text);
  if (line.empty() || line.back() != '\n' || line.find('\n') != line.size() - 1) return {};
  try {
    return nlohmann::json::parse(line.substr(0, line.size() - 1)).at("message").get<std::string>();
  } catch (const nlohmann::json::exception&) {
    return std::nullopt;
  }
}

}  // namespace json_lines

TEST(Log, JsonLinesEscapeEveryControlCharacterQuoteAndBackslash) {
  using namespace json_lines;
  for (int c = 0; c < 0x20; ++c) {
    const std::string text = std::string("a") + static_cast<char>(c) + "b";
    EXPECT_EQ(read_back(text), text) << "control " << c;
    const std::string e = escaped(text);
    EXPECT_TRUE(std::none_of(e.begin(), e.end(),
                             [](char x) { return static_cast<unsigned char>(x) < 0x20; }))
        << "control " << c << " written raw";
  }
  EXPECT_EQ(escaped(std::string("\0\x1f\x7f", 3)), "\\u0000\\u001f\\u007f");
  EXPECT_EQ(escaped("\b\f\n\r\t"), "\\u0008\\u000c\\n\\r\\t");
  EXPECT_EQ(escaped("\xc2\x80 \xc2\x85 \xc2\x9f \xc2\xa0"), "\\u0080 \\u0085 \\u009f \xc2\xa0")
      << "C1 controls escaped; U+00A0 is no control";
  EXPECT_EQ(read_back("\xc2\x85"), "\xc2\x85");
  EXPECT_EQ(escaped(R"(say "hi" \ "\" \\)"), R"(say \"hi\" \\ \"\\\" \\\\)");
  EXPECT_EQ(read_back(R"(say "hi" \ "\" \\)"), R"(say "hi" \ "\" \\)");
}

TEST(Log, JsonLinesKeepUtf8AndReplaceWhatIsNotUtf8) {
  using namespace json_lines;
  const std::string utf8 = "S\xc3\xb8ren \xc3\x86 \xe2\x82\xac \xf0\x9d\x84\x9e \xef\xbf\xbf";
  EXPECT_EQ(escaped(utf8), utf8) << "well-formed UTF-8 is written as it is";
  EXPECT_EQ(read_back(utf8), utf8);
  // One U+FFFD per maximal subpart (Unicode 3.9).
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"S\xf8ren", "S\\ufffdren"},                           // ISO-8859-1
      {"\x80", "\\ufffd"},                                   // a lone continuation byte
      {"\xff\xfe", "\\ufffd\\ufffd"},                        // never in UTF-8
      {"\xc0\xaf", "\\ufffd\\ufffd"},                        // overlong '/'
      {"\xc1\xbf", "\\ufffd\\ufffd"},                        // overlong
      {"\xe0\x80\xaf", "\\ufffd\\ufffd\\ufffd"},             // overlong 3-byte
      {"\xed\xa0\x80", "\\ufffd\\ufffd\\ufffd"},             // a surrogate, U+D800
      {"\xf4\x90\x80\x80", "\\ufffd\\ufffd\\ufffd\\ufffd"},  // above U+10FFFF
      {"\xf5\x80", "\\ufffd\\ufffd"},
      {"\xe2\x82", "\\ufffd"},    // cut off at the end
      {"\xe2\x82x", "\\ufffdx"},  // cut off by ASCII
      {"\xf0\x9f\x98"
       "A\"",
       "\\ufffdA\\\""},
      {"\xe2\x82\xe2\x82\xac", "\\ufffd\xe2\x82\xac"},  // a cut sequence before a whole one
  };
  for (const auto& [in, out] : cases) {
    EXPECT_EQ(escaped(in), out);
    EXPECT_TRUE(read_back(in)) << out;
  }
}

TEST(Log, JsonLinesAreValidForEveryPairOfBytesAndManyLongerRuns) {
  EXPECT_EQ(
      rejected_byte_runs(
          12345, [](const std::string& text) { return json_lines::read_back(text).has_value(); }),
      0);
}

// The plain format is one line per record too (issue 12): a sender-chosen value in a line (an
// envelope or letter id, an endpoint's answer, an error text) holding "\n" or "\r" must not
// forge a second record, nor an ESC sequence rewrite an operator's terminal. Controls are
// written as the JSON escapes (\n, \r, \t, \u00XX), a backslash as \\, ill-formed UTF-8 as
// U+FFFD; well-formed UTF-8 as it is.
namespace plain_lines {

const TimePoint kWall = *parse_timestamp("2026-12-01T10:00:00Z");
const std::string kHead = "2026-12-01T10:00:00.000Z WARN ";
const std::string kReplacement = "\xef\xbf\xbd";  // U+FFFD in UTF-8

std::string line_of(std::string_view text) {
  return format_log_line(LogFormat::kPlain, LogLevel::kWarn, kWall, std::nullopt, text);
}
// The text as written: the line without its head and its newline.
std::string written(std::string_view text) {
  const std::string line = line_of(text);
  EXPECT_EQ(line.rfind(kHead, 0), 0u) << line;
  EXPECT_EQ(line.back(), '\n') << line;
  return line.substr(kHead.size(), line.size() - kHead.size() - 1);
}
// One line, nothing a terminal acts on, and well-formed UTF-8: no byte below 0x20 but the
// final '\n', no DEL, no C1 control (U+0080..U+009F is C2 80..C2 9F in UTF-8), no line or
// paragraph separator (U+2028, U+2029: E2 80 A8, E2 80 A9), and
// nlohmann::json's dump() — which throws on ill-formed UTF-8 — takes the line.
bool is_one_safe_line(const std::string& line) {
  if (line.empty() || line.back() != '\n') return false;
  for (std::size_t i = 0; i + 1 < line.size(); ++i) {
    const auto b = static_cast<unsigned char>(line[i]);
    if (b < 0x20 || b == 0x7f) return false;
    if (b == 0xc2 && static_cast<unsigned char>(line[i + 1]) < 0xa0) return false;
    if (b == 0xe2 && line.compare(i + 1, 1, "\x80") == 0 &&
        (line.compare(i + 2, 1, "\xa8") == 0 || line.compare(i + 2, 1, "\xa9") == 0))
      return false;  // U+2028, U+2029: some viewers break the line there
  }
  try {
    (void)nlohmann::json(line).dump();
  } catch (const nlohmann::json::exception&) {
    return false;
  }
  return true;
}

}  // namespace plain_lines

TEST(Log, PlainLinesAForgedLineStaysInItsOwnRecord) {
  using namespace plain_lines;
  const std::string forged =
      "L1\n2026-12-01T10:00:01.000Z ERROR audit chain broken\r\x1b[2J\x1b]0;owned\x07 end";
  EXPECT_EQ(line_of(forged),
            kHead +
                "L1\\n2026-12-01T10:00:01.000Z ERROR audit chain broken\\r\\u001b[2J"
                "\\u001b]0;owned\\u0007 end\n");
  EXPECT_TRUE(is_one_safe_line(line_of(forged)));
  // Through the real writer, with stderr in a file: two calls, two lines, whatever they hold.
  const std::string out = captured_stderr([&] {
    configure_log(LogFormat::kPlain, LogLevel::kInfo, nullptr);
    log_warn("refused envelope " + forged);
    log_info("answer from endpoint: 200 OK\r\n\r\nINFO broker ready\xc2\x85next");
  });
  std::istringstream lines(out);
  std::vector<std::string> all;
  for (std::string line; std::getline(lines, line);) all.push_back(line);
  ASSERT_EQ(all.size(), 2u) << out;
  EXPECT_NE(all[0].find(" WARN refused envelope L1\\n2026-12-01T10:00:01.000Z ERROR"),
            std::string::npos)
      << all[0];
  EXPECT_NE(all[1].find(" INFO answer from endpoint: 200 OK\\r\\n\\r\\nINFO broker "
                        "ready\\u0085next"),
            std::string::npos)
      << all[1];
  EXPECT_EQ(out.find('\r'), std::string::npos);
  EXPECT_EQ(out.find('\x1b'), std::string::npos);
}

TEST(Log, PlainLinesEscapeEveryC0AndC1ControlAndBackslash) {
  using namespace plain_lines;
  static const char* kHex = "0123456789abcdef";
  const auto u00 = [](int c) { return std::string("\\u00") + kHex[c >> 4] + kHex[c & 0xf]; };
  for (int c = 0; c < 0x20; ++c) {
    const std::string text = std::string("a") + static_cast<char>(c) + "b";
    const std::string expected = c == '\n' ? "\\n" : c == '\r' ? "\\r" : c == '\t' ? "\\t" : u00(c);
    EXPECT_EQ(written(text), "a" + expected + "b") << "C0 control " << c;
    EXPECT_TRUE(is_one_safe_line(line_of(text))) << "C0 control " << c;
  }
  EXPECT_EQ(written("a\x7f"
                    "b"),
            "a\\u007fb")
      << "DEL";
  for (int c = 0x80; c < 0xa0; ++c) {
    const std::string text = std::string("a\xc2") + static_cast<char>(c) + "b";
    EXPECT_EQ(written(text), "a" + u00(c) + "b") << "C1 control " << c;
    EXPECT_TRUE(is_one_safe_line(line_of(text))) << "C1 control " << c;
  }
  EXPECT_EQ(written("\xc2\xa0"), "\xc2\xa0") << "U+00A0 is no control";
  // A backslash is doubled, so a sender's own "\n" (two characters) reads differently from
  // an escaped line feed; quotes stay as they are (plain is not JSON).
  EXPECT_EQ(written(R"(C:\n "q" \\)"), R"(C:\\n "q" \\\\)");
  EXPECT_EQ(written(std::string("a\0b", 3)), "a\\u0000b");
}

TEST(Log, PlainLinesKeepUtf8AndReplaceWhatIsNotUtf8) {
  using namespace plain_lines;
  const std::string danish = "S\xc3\xb8ren \xc3\x86rt\xc3\xb8 \xc3\xa5 \xc3\x98 \xc3\x85 \xc3\xa6";
  EXPECT_EQ(written(danish), danish) << "æøå ÆØÅ written as they are";
  const std::string others = "\xe2\x82\xac \xf0\x9d\x84\x9e \xef\xbf\xbf \xef\xbf\xbd";
  EXPECT_EQ(written(others), others);
  const std::string R = kReplacement;
  // One U+FFFD per maximal subpart (Unicode 3.9), as the JSON format.
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"S\xf8ren", "S" + R + "ren"},                 // ISO-8859-1
      {"\x80", R},                                   // a lone continuation byte
      {"\xff\xfe", R + R},                           // never in UTF-8
      {"\xc0\xaf", R + R},                           // overlong '/'
      {"\xc1\x8a", R + R},                           // overlong '\n': no line break either
      {"\xe0\x80\x8a", R + R + R},                   // overlong 3-byte '\n'
      {"\xed\xa0\x80", R + R + R},                   // a surrogate, U+D800
      {"\xf4\x90\x80\x80", R + R + R + R},           // above U+10FFFF
      {"\xe2\x82", R},                               // cut off at the end
      {"\xe2\x82\n", R + "\\n"},                     // cut off by a line feed
      {"\xe2\x82\xe2\x82\xac", R + "\xe2\x82\xac"},  // a cut sequence before a whole one
  };
  for (const auto& [in, out] : cases) {
    EXPECT_EQ(written(in), out);
    EXPECT_TRUE(is_one_safe_line(line_of(in))) << out;
  }
}

// U+2028 LINE SEPARATOR and U+2029 PARAGRAPH SEPARATOR are no controls, but editors and log
// viewers start a new line there, so a sender's id holding one would show one record as two:
// both are escaped, in both formats (a digit after the escape too, as after \u00XX); their
// neighbours U+2027 and U+202A are written as they are.
TEST(Log, LineAndParagraphSeparatorsAreEscapedInBothFormats) {
  using namespace plain_lines;
  const std::string text =
      "L1\xe2\x80\xa8"
      "2026-12-01T10:00:01.000Z ERROR forged\xe2\x80\xa9"
      "end";
  const std::string expected =
      "L1\\u2028\\u0032\\u0030\\u0032\\u0036-12-01T10:00:01.000Z ERROR forged\\u2029end";
  EXPECT_EQ(written(text), expected);
  EXPECT_TRUE(is_one_safe_line(line_of(text)));
  EXPECT_FALSE(is_one_safe_line(kHead + "a\xe2\x80\xa8"
                                        "b\n"))
      << "the check sees them";
  EXPECT_EQ(written("\xe2\x80\xa7 \xe2\x80\xaa"), "\xe2\x80\xa7 \xe2\x80\xaa");
  EXPECT_EQ(json_lines::escaped("a\xe2\x80\xa8"
                                "b\xe2\x80\xa9"
                                "c"),
            "a\\u2028b\\u2029c");
  EXPECT_EQ(json_lines::read_back("a\xe2\x80\xa8"
                                  "b\xe2\x80\xa9"
                                  "c"),
            "a\xe2\x80\xa8"
            "b\xe2\x80\xa9"
            "c");
  // Through the real writer: the raw bytes never reach stderr.
  const std::string out = captured_stderr([&] {
    configure_log(LogFormat::kPlain, LogLevel::kInfo, nullptr);
    log_warn("refused envelope " + text);
  });
  EXPECT_EQ(out.find("\xe2\x80\xa8"), std::string::npos) << out;
  EXPECT_EQ(out.find("\xe2\x80\xa9"), std::string::npos) << out;
  EXPECT_NE(out.find(" WARN refused envelope " + expected + "\n"), std::string::npos) << out;
}

// An escape's own digits must not join the sender's digits into a CPR-shaped number in the
// line ("\x05" "123456" written as \u0005123456 would read 0005123456): a digit right after an
// escape that ends in two decimal digits is escaped too, so such a run has at most 4 digits.
TEST(Log, EscapesNeverMakeACprShapedNumberWithTheDigitsAfterThem) {
  using namespace plain_lines;
  EXPECT_EQ(written(std::string("\x05") + "123456"),
            "\\u0005\\u0031\\u0032\\u0033\\u0034\\u0035\\u0036");
  EXPECT_EQ(written("\x1b"
                    "123456"),
            "\\u001b123456")
      << "'b' ends the escape's digits";
  EXPECT_EQ(written("\n123456 \t7"), "\\n123456 \\t7");
  for (const auto format : {LogFormat::kPlain, LogFormat::kJson})
    for (const std::string& control :
         {std::string(1, '\0'), std::string("\x12"), std::string("\x19"), std::string("\xc2\x85"),
          std::string("\xc2\x99"), std::string("\xe2\x80\xa8"), std::string("\xe2\x80\xa9")})
      for (const char* digits : {"123456", "1234567890", "123456-1234", "12-3456"}) {
        const std::string line = format_log_line(format, LogLevel::kInfo, kWall, std::nullopt,
                                                 "id " + control + digits + " x");
        EXPECT_FALSE(has_cpr_shaped(line)) << line;
      }
}

TEST(Log, PlainLinesAreOneSafeLineForEveryPairOfBytesAndManyLongerRuns) {
  EXPECT_EQ(rejected_byte_runs(54321,
                               [](const std::string& text) {
                                 return plain_lines::is_one_safe_line(plain_lines::line_of(text));
                               }),
            0);
}

TEST(Log, LevelAndFormatNamesRoundTrip) {
  for (const auto l : {LogLevel::kDebug, LogLevel::kInfo, LogLevel::kWarn, LogLevel::kError})
    EXPECT_EQ(parse_log_level(to_string(l)), l);
  EXPECT_EQ(to_string(LogLevel::kWarn), "warning");
  EXPECT_FALSE(parse_log_level("warn"));
  EXPECT_EQ(parse_log_format("json"), LogFormat::kJson);
  EXPECT_FALSE(parse_log_format("JSON"));
}

}  // namespace
}  // namespace sektorbro
