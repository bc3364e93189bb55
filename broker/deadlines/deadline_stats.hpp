// The operators' figures over a set of Deadlines (issue 3, "What operators see"): per answering
// unit and month, how many requests came in, how many were answered on time or late, how many
// are still open and overdue, the late share (the figure the Audit Office measured, domain.md §5)
// and the median and 90th-percentile days to answer; the same per jobcenter for mentor
// responses, plus discharge-notice lead times. And a CSV writer for those rows. Pure functions
// over values, no I/O; any thread.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "broker/core/time.hpp"
#include "broker/deadlines/deadline.hpp"

namespace sektorbro {

// Counting rules, per group (owed_by, Copenhagen month of opened_at). The five states are
// disjoint (issue 12, item 21), so
//     received = answered_on_time + answered_late + declined + cancelled + open,
// and overdue is a part of open (overdue <= open):
//  - received: every deadline in the group, whatever its state;
//  - answered_on_time / answered_late: answers (certificates, mentor responses) before / at or
//    after due_end (past_due); a decline is in neither;
//  - declined: closed by a decline, whenever it came (a decline is not the certificate asked for);
//  - cancelled: closed as cancelled;
//  - open: still open; overdue: open and past_due at `now` (from `now`, not from the overdue
//    flag, so figures are right between sweeps);
//  - late_share = answered_late / (answered_on_time + answered_late), none if nothing answered;
//  - days to answer = days_to_answer() (calendar days between the Copenhagen dates of opening and
//    reply) over every reply, declines included; median: the middle value, or the mean of the
//    two middle values for an even count; p90: NEAREST-RANK, the ceil(0.9 · n)-th smallest value
//    (always one of the observed values; for n < 10 that is the largest).
struct ReplyFigures {
  int received = 0;
  int answered_on_time = 0;
  int answered_late = 0;
  int declined = 0;
  int cancelled = 0;
  int open = 0;
  int overdue = 0;
  std::optional<double> late_share;
  std::optional<double> median_days_to_answer;
  std::optional<int> p90_days_to_answer;
  bool operator==(const ReplyFigures&) const = default;
};

// Certificates, grouped by answering unit (owed_by, a psychiatry endpoint id) and month.
struct CertificateStatsRow {
  std::string unit;
  std::chrono::year_month month;
  ReplyFigures replies;
  bool operator==(const CertificateStatsRow&) const = default;
};

// Mentor responses, grouped by jobcenter (owed_by) and month, with the lead times of the
// discharge notices that opened them (lead_time_days, domain.md §6): median lead time (same
// median rule) and how many / what share of notices arrived after the discharge date.
struct MentorStatsRow {
  std::string jobcenter;
  std::chrono::year_month month;
  ReplyFigures replies;
  std::optional<double> median_lead_time_days;
  int notices_after_discharge = 0;
  std::optional<double> share_after_discharge;  // notices_after_discharge / received
  bool operator==(const MentorStatsRow&) const = default;
};

// The figures counted one deadline at a time, for deadlines read as a stream (a year of them for
// the operators' statistics): memory in proportion to the groups, plus one int per reply and per
// notice for the medians, not to the deadlines. Rows sorted by unit (jobcenter) then month; only
// groups with at least one deadline; deadlines of the other kind are ignored.
class DeadlineStatsCounter {
 public:
  DeadlineStatsCounter(DeadlineKind kind, TimePoint now) : kind_(kind), now_(now) {}
  void add(const Deadline& d);
  DeadlineKind kind() const { return kind_; }  // which rows it counts: certificate or mentor
  std::vector<CertificateStatsRow> certificate_rows() const;  // for kCertificate
  std::vector<MentorStatsRow> mentor_rows() const;            // for kMentorResponse

 private:
  struct Group {
    ReplyFigures replies;  // the counts; the shares and percentiles are made by the rows
    std::vector<int> days_to_answer;
    std::vector<int> lead_times;
    int notices_after_discharge = 0;
  };
  static ReplyFigures finished(const Group& g);
  DeadlineKind kind_;
  TimePoint now_;
  std::map<std::pair<std::string, std::chrono::year_month>, Group> groups_;
};

// The same over a vector (DeadlineStatsCounter fed with each).
std::vector<CertificateStatsRow> certificate_stats(const std::vector<Deadline>& deadlines,
                                                   TimePoint now);
std::vector<MentorStatsRow> mentor_stats(const std::vector<Deadline>& deadlines, TimePoint now);

// The median and nearest-rank 90th percentile as defined above; nullopt for no values.
std::optional<double> median(std::vector<int> values);
std::optional<int> percentile_nearest_rank(std::vector<int> values, int percent);

// CSV (RFC 4180): CRLF line ends, a header line, fields quoted when they contain a comma, a
// double quote, CR or LF (quotes doubled). Months as "2026-04", shares as fractions with 4
// decimals ("0.7500"), medians with 1 decimal, absent values as empty fields.
std::string csv_field(std::string_view field);
std::string certificate_stats_csv(const std::vector<CertificateStatsRow>& rows);
std::string mentor_stats_csv(const std::vector<MentorStatsRow>& rows);

}  // namespace sektorbro
