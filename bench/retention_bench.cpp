// sektorbro-retention-bench (issue 11, item 4): steady traffic over simulated time with retention
// on, printing the store's size per simulated month — it grows for body_days, then levels off,
// and steps down once minimal records reach record_days.
//
//   sektorbro-retention-bench [--per-day N] [--months M] [--body-days D] [--record-days R]
//                             [--body-bytes B] [--dir DIR]
//
// Each simulated day writes N CertificateRequests through SqliteStore (stored, delivered,
// positively receipted: finished business) in one transaction, then moves the manual clock to
// the day's end and runs one pass of the broker's own RetentionSweeper (the GroupCommitWriter
// and the pure rule, as in the broker). Each month it prints the store's file size (after a WAL
// checkpoint), the pages in use, the messages, and the bodies kept.
#include <utility>  // before asio: boost 1.74 uses std::exchange without it

#include <sqlite3.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <future>
#include <iostream>
#include <string>
#include <utility>

#include "broker/core/clock.hpp"
#include "broker/core/identifiers.hpp"
#include "broker/http/asio.hpp"
#include "broker/server/retention_sweeper.hpp"
#include "broker/store/group_commit_writer.hpp"
#include "broker/store/sqlite_store.hpp"

namespace {

using namespace sektorbro;

struct Args {
  int per_day = 200;
  int months = 30;
  int body_days = 365;
  int record_days = 730;
  int body_bytes = 3000;
  std::string dir;
};

std::int64_t query(const std::string& path, const char* sql) {
  sqlite3* db = nullptr;
  sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr);
  sqlite3_stmt* s = nullptr;
  std::int64_t out = -1;
  if (sqlite3_prepare_v2(db, sql, -1, &s, nullptr) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW)
    out = sqlite3_column_int64(s, 0);
  sqlite3_finalize(s);
  sqlite3_close(db);
  return out;
}

// One day of traffic: `n` requests stored, delivered and receipted (inside the writer's group).
Result<void> write_day(Store& store, int day, int n, const std::string& filler, TimePoint start) {
  for (int i = 0; i < n; ++i) {
    const std::string id = "D" + std::to_string(day) + "-" + std::to_string(i);
    const TimePoint at = start + std::chrono::hours{24} * day + std::chrono::seconds{i * 60};
    MessagePlan plan;
    NewMessage& m = plan.message;
    m.envelope_id = "E" + id;
    m.sender_gln = "5790000000005";
    m.receiver_gln = "5790000000012";
    m.sender_endpoint = "jc";
    m.receiver_endpoint = "psy";
    m.body = "<Envelope id=\"" + id + "\">" + filler + "</Envelope>";
    m.letters.push_back(NewLetter{id, LetterType::kCertificateRequest, sha256_hex(m.body)});
    m.acceptance = "accepted " + id;
    m.receipt_requested = true;
    m.received_at = at;
    plan.events.push_back(MessageEvent{0, at, "received", "envelope E" + id, "jc"});
    auto stored = store.store_message(plan);
    if (!stored) return stored.error();
    const auto later = at + std::chrono::seconds{5};
    if (auto r = store.update_delivery(*stored, DeliveryState::kDelivered, 1, later, "",
                                       MessageEvent{*stored, later, "delivered", "HTTP 200"});
        !r)
      return r;
    if (auto r = store.set_receipt(*stored, ReceiptState::kPositive,
                                   MessageEvent{*stored, later, "receipt-positive", ""});
        !r)
      return r;
  }
  return {};
}

}  // namespace

int main(int argc, char** argv) {
  Args a;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    const std::string value = argv[i + 1];
    if (flag == "--per-day") a.per_day = std::atoi(value.c_str());
    else if (flag == "--months") a.months = std::atoi(value.c_str());
    else if (flag == "--body-days") a.body_days = std::atoi(value.c_str());
    else if (flag == "--record-days") a.record_days = std::atoi(value.c_str());
    else if (flag == "--body-bytes") a.body_bytes = std::atoi(value.c_str());
    else if (flag == "--dir") a.dir = value;
    else {
      std::cerr << "usage: sektorbro-retention-bench [--per-day N] [--months M] [--body-days D] "
                   "[--record-days R] [--body-bytes B] [--dir DIR]\n";
      return 2;
    }
  }
  namespace fs = std::filesystem;
  const fs::path dir = a.dir.empty() ? fs::temp_directory_path() / "sektorbro-retention-bench"
                                     : fs::path(a.dir);
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::string path = (dir / "broker.db").string();
  auto opened = SqliteStore::open(path);
  if (!opened) {
    std::cerr << opened.error().detail << "\n";
    return 1;
  }
  Store& store = **opened;
  const TimePoint start = from_millis(1'767'225'600'000);  // 2026-01-01T00:00:00Z
  ManualClock clock(start);
  RetentionConfig retention;
  retention.enabled = true;
  retention.policy.body_days = a.body_days;
  retention.policy.record_days = a.record_days;
  retention.interval = std::chrono::hours{24};
  retention.batch = 200;
  const std::string filler(static_cast<std::size_t>(a.body_bytes), 'x');

  std::cout << "retention bench: " << a.per_day << " messages/day, body " << a.body_bytes
            << " bytes, body_days " << a.body_days << ", record_days " << a.record_days << ", "
            << a.months << " months of 30 days\n"
            << "month  file_MiB  used_MiB  messages  bodies_kept  deleted_this_month(b/r)  "
               "pass_ms(max)\n";
  asio::io_context io{1};
  // The writer, as in the broker: intake's jobs and retention's jobs share it.
  GroupCommitWriter writer(store, 256);
  RetentionSweeper sweeper(io, retention, store, writer, clock);
  std::int64_t month_bodies = 0, month_records = 0;
  double worst_ms = 0;
  for (int day = 0; day < a.months * 30; ++day) {
    // The day's traffic through the writer thread (one job), then the pass at the day's end.
    std::promise<Result<void>> wrote;
    Result<void> applied;
    writer.submit(GroupCommitWriter::Job{
        [&](Store& s) { applied = write_day(s, day, a.per_day, filler, start); },
        [&](const Result<void>& committed) {
          wrote.set_value(!committed ? committed : applied);
        }});
    if (auto r = wrote.get_future().get(); !r) {
      std::cerr << "day " << day << ": " << r.error().detail << "\n";
      return 1;
    }
    clock.set(start + std::chrono::hours{24} * (day + 1));
    const auto t0 = std::chrono::steady_clock::now();
    RetentionPassCounts counts;
    asio::co_spawn(io, sweeper.pass(), [&](std::exception_ptr, RetentionPassCounts c) {
      counts = c;
    });
    io.restart();
    io.run();
    worst_ms = std::max(
        worst_ms, std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0)
                      .count());
    if (counts.failed) {
      std::cerr << "retention pass failed on day " << day << "\n";
      return 1;
    }
    month_bodies += counts.bodies_deleted;
    month_records += counts.records_deleted;
    if ((day + 1) % 30 == 0) {
      query(path, "PRAGMA wal_checkpoint(TRUNCATE)");
      const double mib = 1024.0 * 1024.0;
      const auto file = static_cast<double>(fs::file_size(path)) / mib;
      const auto pages = query(path, "PRAGMA page_count");
      const auto free_pages = query(path, "PRAGMA freelist_count");
      const auto page_size = query(path, "PRAGMA page_size");
      const double used = static_cast<double>((pages - free_pages) * page_size) / mib;
      std::printf("%5d  %8.1f  %8.1f  %8lld  %11lld  %12lld/%-10lld  %8.1f\n", (day + 1) / 30,
                  file, used, static_cast<long long>(query(path, "SELECT count(*) FROM messages")),
                  static_cast<long long>(
                      query(path, "SELECT count(*) FROM messages WHERE body_deleted_at IS NULL")),
                  static_cast<long long>(month_bodies), static_cast<long long>(month_records),
                  worst_ms);
      std::fflush(stdout);
      month_bodies = month_records = 0;
      worst_ms = 0;
    }
  }
  return 0;
}
