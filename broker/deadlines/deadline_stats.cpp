#include "broker/deadlines/deadline_stats.hpp"

#include <algorithm>
#include <cstdio>
#include <map>
#include <utility>

#include "broker/core/copenhagen_time.hpp"

namespace sektorbro {
namespace {
using namespace std::chrono;

std::string month_text(year_month m) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02u", static_cast<int>(m.year()),
                static_cast<unsigned>(m.month()));
  return buf;
}

std::string fixed(std::optional<double> v, int decimals) {
  if (!v) return {};
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, *v);
  return buf;
}

std::string opt_int(std::optional<int> v) { return v ? std::to_string(*v) : std::string{}; }

void append_row(std::string& out, const std::vector<std::string>& fields) {
  for (std::size_t i = 0; i < fields.size(); ++i) {
    if (i > 0) out += ',';
    out += csv_field(fields[i]);
  }
  out += "\r\n";
}

std::vector<std::string> figure_fields(const ReplyFigures& f) {
  return {std::to_string(f.received),        std::to_string(f.answered_on_time),
          std::to_string(f.answered_late),   std::to_string(f.declined),
          std::to_string(f.cancelled),       std::to_string(f.open),
          std::to_string(f.overdue),         fixed(f.late_share, 4),
          fixed(f.median_days_to_answer, 1), opt_int(f.p90_days_to_answer)};
}

const std::vector<std::string> kFigureHeader{
    "received",          "answered_on_time", "answered_late",
    "declined",          "cancelled",        "open",
    "overdue",           "late_share",       "median_days_to_answer",
    "p90_days_to_answer"};

}  // namespace

std::optional<double> median(std::vector<int> values) {
  if (values.empty()) return std::nullopt;
  std::sort(values.begin(), values.end());
  const std::size_t n = values.size();
  if (n % 2 == 1) return values[n / 2];
  return (static_cast<double>(values[n / 2 - 1]) + values[n / 2]) / 2.0;
}

std::optional<int> percentile_nearest_rank(std::vector<int> values, int percent) {
  if (values.empty()) return std::nullopt;
  std::sort(values.begin(), values.end());
  const std::size_t n = values.size();
  // rank = ceil(percent/100 · n) in integers, at least 1.
  std::size_t rank = (static_cast<std::size_t>(std::clamp(percent, 0, 100)) * n + 99) / 100;
  rank = std::clamp<std::size_t>(rank, 1, n);
  return values[rank - 1];
}

void DeadlineStatsCounter::add(const Deadline& d) {
  if (d.kind != kind_) return;
  const Date opened = copenhagen_date(d.opened_at);
  Group& g = groups_[{d.owed_by, opened.year() / opened.month()}];
  ReplyFigures& f = g.replies;
  ++f.received;
  switch (d.state) {
    case DeadlineState::kOpen:
      ++f.open;
      if (past_due(d, now_)) ++f.overdue;
      break;
    case DeadlineState::kCancelled:
      ++f.cancelled;
      break;
    case DeadlineState::kDeclined:
      ++f.declined;
      if (const auto n = days_to_answer(d)) g.days_to_answer.push_back(*n);
      break;
    case DeadlineState::kAnsweredOnTime:
    case DeadlineState::kAnsweredLate:
      if (answered_late(d))
        ++f.answered_late;
      else
        ++f.answered_on_time;
      if (const auto n = days_to_answer(d)) g.days_to_answer.push_back(*n);
      break;
  }
  if (d.lead_time_days) g.lead_times.push_back(*d.lead_time_days);
  if (d.notice_late) ++g.notices_after_discharge;
}

ReplyFigures DeadlineStatsCounter::finished(const Group& g) {
  ReplyFigures f = g.replies;
  const int answered = f.answered_on_time + f.answered_late;
  if (answered > 0) f.late_share = static_cast<double>(f.answered_late) / answered;
  f.median_days_to_answer = median(g.days_to_answer);
  f.p90_days_to_answer = percentile_nearest_rank(g.days_to_answer, 90);
  return f;
}

std::vector<CertificateStatsRow> DeadlineStatsCounter::certificate_rows() const {
  std::vector<CertificateStatsRow> rows;
  for (const auto& [key, g] : groups_)
    rows.push_back(CertificateStatsRow{key.first, key.second, finished(g)});
  return rows;
}

std::vector<MentorStatsRow> DeadlineStatsCounter::mentor_rows() const {
  std::vector<MentorStatsRow> rows;
  for (const auto& [key, g] : groups_) {
    MentorStatsRow row{
        key.first,   key.second, finished(g), median(g.lead_times), g.notices_after_discharge,
        std::nullopt};
    if (row.replies.received > 0)
      row.share_after_discharge =
          static_cast<double>(row.notices_after_discharge) / row.replies.received;
    rows.push_back(std::move(row));
  }
  return rows;
}

std::vector<CertificateStatsRow> certificate_stats(const std::vector<Deadline>& deadlines,
                                                   TimePoint now) {
  DeadlineStatsCounter counter(DeadlineKind::kCertificate, now);
  for (const Deadline& d : deadlines) counter.add(d);
  return counter.certificate_rows();
}

std::vector<MentorStatsRow> mentor_stats(const std::vector<Deadline>& deadlines, TimePoint now) {
  DeadlineStatsCounter counter(DeadlineKind::kMentorResponse, now);
  for (const Deadline& d : deadlines) counter.add(d);
  return counter.mentor_rows();
}

std::string csv_field(std::string_view field) {
  if (field.find_first_of(",\"\r\n") == std::string_view::npos) return std::string{field};
  std::string out = "\"";
  for (const char c : field) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
  return out;
}

std::string certificate_stats_csv(const std::vector<CertificateStatsRow>& rows) {
  std::string out;
  std::vector<std::string> header{"unit", "month"};
  header.insert(header.end(), kFigureHeader.begin(), kFigureHeader.end());
  append_row(out, header);
  for (const auto& r : rows) {
    std::vector<std::string> fields{r.unit, month_text(r.month)};
    const auto f = figure_fields(r.replies);
    fields.insert(fields.end(), f.begin(), f.end());
    append_row(out, fields);
  }
  return out;
}

std::string mentor_stats_csv(const std::vector<MentorStatsRow>& rows) {
  std::string out;
  std::vector<std::string> header{"jobcenter", "month"};
  header.insert(header.end(), kFigureHeader.begin(), kFigureHeader.end());
  header.insert(header.end(),
                {"median_lead_time_days", "notices_after_discharge", "share_after_discharge"});
  append_row(out, header);
  for (const auto& r : rows) {
    std::vector<std::string> fields{r.jobcenter, month_text(r.month)};
    const auto f = figure_fields(r.replies);
    fields.insert(fields.end(), f.begin(), f.end());
    fields.insert(fields.end(),
                  {fixed(r.median_lead_time_days, 1), std::to_string(r.notices_after_discharge),
                   fixed(r.share_after_discharge, 4)});
    append_row(out, fields);
  }
  return out;
}

}  // namespace sektorbro
