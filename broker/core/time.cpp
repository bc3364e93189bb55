#include "broker/core/time.hpp"

#include <cstdio>

namespace sektorbro {
namespace {

bool digits(std::string_view s, std::size_t pos, std::size_t n, int& out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (std::size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  out = v;
  return true;
}

// Writes `v` (0 <= v < 10^n) as n decimal digits at `out`.
void put_digits(char* out, unsigned v, int n) {
  for (int i = n - 1; i >= 0; --i) {
    out[i] = static_cast<char>('0' + v % 10);
    v /= 10;
  }
}

// "YYYY-MM-DD" at out[0..10) for a year in 0..9999 (the only years printf's "%04d" writes in
// exactly four digits; the callers fall back to it for any other).
void put_date(char* out, const std::chrono::year_month_day& ymd) {
  put_digits(out, static_cast<unsigned>(int(ymd.year())), 4);
  out[4] = '-';
  put_digits(out + 5, unsigned(ymd.month()), 2);
  out[7] = '-';
  put_digits(out + 8, unsigned(ymd.day()), 2);
}

bool four_digit_year(const std::chrono::year_month_day& ymd) {
  return int(ymd.year()) >= 0 && int(ymd.year()) <= 9999;
}

}  // namespace

// Timestamps are written for every stored letter, acceptance and event: digits by hand, not
// snprintf (issue 8, the io thread's profile), with the same text as the format below.
std::string format_timestamp(TimePoint t) {
  using namespace std::chrono;
  const auto day = floor<days>(t);
  const year_month_day ymd{day};
  const hh_mm_ss<Duration> tod{t - day};
  if (!four_digit_year(ymd)) {
    char buf[40];
    std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02ld:%02ld:%02ld.%03ldZ", int(ymd.year()),
                  unsigned(ymd.month()), unsigned(ymd.day()), long(tod.hours().count()),
                  long(tod.minutes().count()), long(tod.seconds().count()),
                  long(tod.subseconds().count()));
    return buf;
  }
  std::string out(24, '\0');  // YYYY-MM-DDTHH:MM:SS.mmmZ
  put_date(out.data(), ymd);
  out[10] = 'T';
  put_digits(out.data() + 11, static_cast<unsigned>(tod.hours().count()), 2);
  out[13] = ':';
  put_digits(out.data() + 14, static_cast<unsigned>(tod.minutes().count()), 2);
  out[16] = ':';
  put_digits(out.data() + 17, static_cast<unsigned>(tod.seconds().count()), 2);
  out[19] = '.';
  put_digits(out.data() + 20, static_cast<unsigned>(tod.subseconds().count()), 3);
  out[23] = 'Z';
  return out;
}

std::optional<Date> parse_date(std::string_view s) {
  int y = 0, m = 0, d = 0;
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return std::nullopt;
  if (!digits(s, 0, 4, y) || !digits(s, 5, 2, m) || !digits(s, 8, 2, d)) return std::nullopt;
  const Date date{std::chrono::year{y}, std::chrono::month{unsigned(m)},
                  std::chrono::day{unsigned(d)}};
  if (!date.ok()) return std::nullopt;
  return date;
}

std::string format_date(Date d) {
  if (!four_digit_year(d) || unsigned(d.month()) > 99 || unsigned(d.day()) > 99) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", int(d.year()), unsigned(d.month()),
                  unsigned(d.day()));
    return buf;
  }
  std::string out(10, '\0');
  put_date(out.data(), d);
  return out;
}

std::optional<TimePoint> parse_timestamp(std::string_view s) {
  using namespace std::chrono;
  if (s.size() < 20 || s[10] != 'T') return std::nullopt;
  const auto date = parse_date(s.substr(0, 10));
  if (!date) return std::nullopt;
  int hh = 0, mm = 0, ss = 0;
  if (!digits(s, 11, 2, hh) || s[13] != ':' || !digits(s, 14, 2, mm) || s[16] != ':' ||
      !digits(s, 17, 2, ss))
    return std::nullopt;
  if (hh > 23 || mm > 59 || ss > 59) return std::nullopt;
  std::size_t pos = 19;
  long millis = 0;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    std::size_t n = 0;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      if (n < 3) millis = millis * 10 + (s[pos] - '0');
      ++n;
      ++pos;
    }
    if (n == 0) return std::nullopt;
    for (; n < 3; ++n) millis *= 10;
  }
  if (pos >= s.size()) return std::nullopt;  // no zone: ambiguous instant
  long offset_minutes = 0;
  if (s[pos] == 'Z') {
    ++pos;
  } else if (s[pos] == '+' || s[pos] == '-') {
    int oh = 0, om = 0;
    if (!digits(s, pos + 1, 2, oh) || pos + 3 >= s.size() || s[pos + 3] != ':' ||
        !digits(s, pos + 4, 2, om) || oh > 14 || om > 59)
      return std::nullopt;
    offset_minutes = (oh * 60 + om) * (s[pos] == '-' ? -1 : 1);
    pos += 6;
  } else {
    return std::nullopt;
  }
  if (pos != s.size()) return std::nullopt;
  const TimePoint local =
      sys_days{*date} + hours{hh} + minutes{mm} + seconds{ss} + milliseconds{millis};
  return local - minutes{offset_minutes};
}

}  // namespace sektorbro
