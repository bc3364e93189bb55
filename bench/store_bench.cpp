// sektorbro-store-bench: what the writer thread pays per message in SQLite, for choosing
// SqliteTuning by measurement (issue 8, item 3: "SQLite settings chosen by measurement").
//
//   sektorbro-store-bench [--messages 20000] [--rounds 5] [--group 128] [--history 0]
//                         [--intake-only 1] [--outcome-every 1]
//
// Writes, through SqliteStore itself, what the broker writes for each letter it carries: the
// intake plan (the message, its letter, the "received" event), then the delivery outcome
// (delivered, attempt 1), the receipt watch its sender asked for, and the reply deadline the
// delivery opens (Store::open_deadline), with its event. Commits in
// groups of `group` messages as GroupCommitWriter does (synchronous=FULL: one fsync per group),
// each group half new messages and half outcomes of the previous group, as under steady load.
// `history` messages are written first (not measured), so the indexes have a realistic depth.
// `--intake-only 1` leaves out the delivery outcomes: the difference to a full run is what the
// outcome costs. `--outcome-every K` holds the outcomes for K groups and writes them together in
// every K-th (what fewer, larger outcome groups would save; docs/performance.md).
//
// Each variant of SqliteTuning gets a fresh store per round; the variants run interleaved in
// every round (rotating the order), so a noisy neighbour hurts them alike. Printed per variant:
// the median over rounds of messages/s, the store's CPU time per message (process CPU clock:
// SQLite runs on this thread; a thread of its own would count too), the bytes the kernel
// was asked to write per message (/proc/self/io write_bytes; and wchar: what write() was
// handed, temp files included), the store's size per message, and the wall time of the commits
// (median, 99th percentile, longest: what every answer of a group waits for). Not a test.
//
// Besides SqliteTuning settings, variants drop secondary indexes ("-NAME", "-all of them": what
// each costs the writer) or replace the store by JournalBound ("journal bound": the least an
// append-only journal could cost, journal_bound.hpp; "journal + kept tables": with the rows
// queries select on kept beside it; "... + bodies": and the bodies in their own table, as
// retention erases them). `--group` sets the jobs per commit; the
// broker's own figure is in sektorbro-sidebyside-bench's output ("writer jobs per commit").
#include <sqlite3.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "bench/bench_stats.hpp"
#include "bench/journal_bound.hpp"
#include "bench/sektorbro_load.hpp"
#include "broker/core/identifiers.hpp"
#include "broker/store/sqlite_store.hpp"
#include "tests/support/proc_io.hpp"

namespace sektorbro::bench {
namespace {

struct Variant {
  std::string name;
  SqliteTuning tuning;
  // Each Store call in its own SAVEPOINT (Store::guard_calls(true)); the broker's writer runs
  // its groups unguarded first (GroupCommitWriter), as the other variants do.
  bool guarded = false;
  // SQL run on the fresh store before the round (an experiment only: the queries that need
  // what it drops are not run here) — an index dropped, what each costs the writer per message.
  std::vector<std::string> schema_changes = {};
  // The delivered letter's receipt watch written as the broker writes it (its sender asked for
  // a receipt); off: what that write costs.
  bool watch_receipt = true;
  // What the letters are written to: the store itself, or JournalBound — the lower bound of an
  // append-only journal (docs/performance.md, "Where the writer's time goes, and what a journal
  // would save"), alone or with the tables that queries select on kept beside it.
  enum class Target {
    kStore,
    kJournal,
    kJournalAndTables,
    kJournalTablesAndBodies
  } target = Target::kStore;
};

std::vector<std::string> drop_indexes(std::initializer_list<const char*> names) {
  std::vector<std::string> sql;
  for (const char* name : names) sql.push_back(std::string("DROP INDEX ") + name);
  return sql;
}

// A variant that changes one or two SqliteTuning settings from the defaults.
Variant tuned(std::string name, void (*change)(SqliteTuning&), bool guarded = false) {
  Variant v{std::move(name), SqliteTuning{}, guarded};
  change(v.tuning);
  return v;
}

std::vector<Variant> variants() {
  std::vector<Variant> v = {
      {"default", SqliteTuning{}},
      tuned("page 8 KiB", [](SqliteTuning& t) { t.page_size = 8192; }),
      tuned("page 16 KiB", [](SqliteTuning& t) { t.page_size = 16384; }),
      tuned("page 2 KiB", [](SqliteTuning& t) { t.page_size = 2048; }),
      tuned("page 1 KiB", [](SqliteTuning& t) { t.page_size = 1024; }),
      tuned("checkpoint 10k", [](SqliteTuning& t) { t.wal_autocheckpoint = 10000; }),
      tuned("checkpoint 250", [](SqliteTuning& t) { t.wal_autocheckpoint = 250; }),
      // The WAL's bulk copied on a thread of its own, the writer copying only the tail
      // (wal_checkpointer.hpp; docs/performance.md, "The tail at 1,000 msg/s").
      tuned("checkpoint in background", [](SqliteTuning& t) { t.checkpoint_in_background = true; }),
      tuned("ckpt 250 in background",
            [](SqliteTuning& t) {
              t.checkpoint_in_background = true;
              t.wal_autocheckpoint = 250;
            }),
      tuned("mmap 256 MiB", [](SqliteTuning& t) { t.mmap_bytes = 256LL << 20; }),
      tuned("page 8 KiB + ckpt 5k",
            [](SqliteTuning& t) {
              t.page_size = 8192;
              t.wal_autocheckpoint = 5000;
            }),
      // SQLite's default: statement journals in a temp file.
      tuned(
          "subjournal on disk", [](SqliteTuning& t) { t.subjournal_in_memory = false; }, true),
      {"each call guarded", SqliteTuning{}, true},
      {"no receipt watch", SqliteTuning{}, false, {}, false},
  };
  // What the indexes cost (--only 'default,-messages_state,...'): one variant per index.
  for (const char* index :
       {"messages_state", "messages_received", "messages_envelope", "messages_sender_endpoint",
        "messages_receiver_endpoint", "audit_chain_timeline", "letters_message",
        "deadlines_state_due", "deadlines_owed_by", "deadlines_owed_to", "deadlines_open_groups"})
    v.push_back({std::string("-") + index, SqliteTuning{}, false, drop_indexes({index})});
  // The upper bound of trimming: every secondary index that no statement names (INDEXED BY).
  v.push_back({"-all of them", SqliteTuning{}, false,
               drop_indexes({"messages_state", "messages_envelope", "messages_sender_endpoint",
                             "messages_receiver_endpoint", "audit_chain_timeline",
                             "letters_message", "deadlines_state_due", "deadlines_owed_by",
                             "deadlines_owed_to", "citizen_index_message", "letter_versions_letter",
                             "sent_envelopes_message", "messages_receipt_owed"})});
  // Not the store: each letter's intake and its outcome appended as one record each to a table
  // with no index but its key, in the same groups and file settings (journal_bound.hpp).
  v.push_back({"journal bound", SqliteTuning{}, false, {}, true, Variant::Target::kJournal});
  // The same with the message, letter and deadline rows (and their indexes) kept beside it: what
  // a store shaped around a journal would still write per letter.
  v.push_back({"journal + kept tables",
               SqliteTuning{},
               false,
               {},
               true,
               Variant::Target::kJournalAndTables});
  // And with the bodies kept in their own table, as retention needs them (issue 11: a body is
  // erased years before its record; an append-only record cannot lose one field).
  v.push_back({"journal + kept tables + bodies",
               SqliteTuning{},
               false,
               {},
               true,
               Variant::Target::kJournalTablesAndBodies});
  return v;
}

double process_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

// Bytes this process caused to be sent to storage, and bytes it handed to write() and pwrite()
// (temporary files included: SQLite's sub-journals), from /proc/self/io (proc_io.hpp).
std::uint64_t write_bytes() { return testing::proc_self_io("write_bytes"); }
std::uint64_t write_calls_bytes() { return testing::proc_self_io("wchar"); }

std::uint64_t store_bytes(const std::filesystem::path& db) {
  std::uint64_t total = 0;
  for (const char* suffix : {"", "-wal"}) {
    std::error_code ec;
    const auto size = std::filesystem::file_size(db.string() + suffix, ec);
    if (!ec) total += size;
  }
  return total;
}

class Writer {
 public:
  Writer(Store* store, JournalBound* journal, const BenchParties& parties,
         const LetterTemplate& letters, bool intake_only, bool guarded, bool watch)
      : store_(store),
        journal_(journal),
        parties_(parties),
        letters_(letters),
        intake_only_(intake_only),
        guarded_(guarded),
        watch_(watch) {}

  // One commit group: `arrivals` new messages and the delivery outcomes of `outcomes`.
  Result<std::vector<std::int64_t>> group(std::uint64_t first, std::uint64_t arrivals,
                                          const std::vector<std::int64_t>& outcomes,
                                          TimePoint now) {
    if (journal_ != nullptr) return journal_group(first, arrivals, outcomes, now);
    Store& store = *store_;
    if (auto r = store.begin_batch(); !r) return r.error();
    store.guard_calls(guarded_);
    std::vector<std::int64_t> stored;
    for (std::uint64_t i = first; i < first + arrivals; ++i) {
      auto id = store.store_message(plan(i, now));
      if (!id) return fail(id.error());
      stored.push_back(*id);
    }
    for (std::int64_t id : intake_only_ ? std::vector<std::int64_t>{} : outcomes) {
      if (auto r = store.update_delivery(id, DeliveryState::kDelivered, 1, now, "",
                                         delivered_event(id, now),
                                         watch_ ? std::optional<TimePoint>(now) : std::nullopt);
          !r)
        return fail(r.error());
      if (auto r = store.open_deadline(deadline(id, now), id, opened_event(id, now)); !r)
        return fail(r.error());
    }
    if (auto r = timed_commit(store); !r) return r.error();
    return stored;
  }

  // The same group appended to the journal bound (journal_bound.hpp).
  Result<std::vector<std::int64_t>> journal_group(std::uint64_t first, std::uint64_t arrivals,
                                                  const std::vector<std::int64_t>& outcomes,
                                                  TimePoint now) {
    if (auto r = journal_->begin_batch(); !r) return r.error();
    const auto failed = [&](const Error& e) {
      journal_->rollback_batch();
      return e;
    };
    std::vector<std::int64_t> stored;
    for (std::uint64_t i = first; i < first + arrivals; ++i) {
      auto id = journal_->store_message(plan(i, now));
      if (!id) return failed(id.error());
      stored.push_back(*id);
    }
    for (std::int64_t id : intake_only_ ? std::vector<std::int64_t>{} : outcomes)
      if (auto r = journal_->record_outcome(id, delivered_event(id, now), deadline(id, now),
                                            opened_event(id, now));
          !r)
        return failed(r.error());
    if (auto r = timed_commit(*journal_); !r) return r.error();
    return stored;
  }

  // Wall time of each commit_batch() so far, in ms (what every answer of a group waits for).
  std::vector<double>& commit_ms() { return commit_ms_; }

 private:
  Error fail(const Error& e) {
    store_->rollback_batch();
    return e;
  }

  // commit_batch(), its wall time kept in commit_ms_.
  template <typename Sink>  // the Store or the JournalBound
  Result<void> timed_commit(Sink& sink) {
    const auto committing = std::chrono::steady_clock::now();
    if (auto r = sink.commit_batch(); !r) return r;
    commit_ms_.push_back(
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - committing)
            .count());
    return {};
  }

  static MessageEvent delivered_event(std::int64_t id, TimePoint now) {
    return {id, now, "delivered", "200 from psy", "psy"};
  }
  static MessageEvent opened_event(std::int64_t id, TimePoint now) {
    return {id, now, "deadline-opened", "LÆ125 due in 10 days", ""};
  }

  MessagePlan plan(std::uint64_t i, TimePoint now) const {
    MessagePlan p;
    NewMessage& m = p.message;
    char letter_id[LetterTemplate::kIdLength + 1];
    std::snprintf(letter_id, sizeof letter_id, "S%013llu", static_cast<unsigned long long>(i));
    m.body = letters_.with_id('S', i);
    m.envelope_id = letter_id;
    m.sender_gln = parties_.jobcenter.gln;
    m.receiver_gln = parties_.psychiatry.gln;
    m.sender_endpoint = "jc";
    m.receiver_endpoint = "psy";
    m.letters.push_back(NewLetter{letter_id, LetterType::kCertificateRequest, sha256_hex(m.body),
                                  LetterStatus::kNew});
    m.acceptance = "<Acceptance><Status>accepted</Status></Acceptance>";
    m.receipt_requested = true;
    m.contains_cpr = true;
    m.received_at = now;
    p.events = {{0, now, "received", "from jc for psy", "jc"}};
    return p;
  }

  Deadline deadline(std::int64_t id, TimePoint now) const {
    char letter_id[LetterTemplate::kIdLength + 1];
    std::snprintf(letter_id, sizeof letter_id, "D%013lld", static_cast<long long>(id));
    Deadline d;
    d.kind = DeadlineKind::kCertificate;
    d.key = DeadlineKey{parties_.jobcenter.gln, letter_id};
    d.owed_by = "psy";
    d.owed_to = "jc";
    d.form = "LÆ125";
    d.opened_at = now;
    d.due_end = now + std::chrono::hours{24 * 14};
    d.due = std::chrono::year_month_day{std::chrono::floor<std::chrono::days>(d.due_end)};
    d.next_action_at = d.due_end - std::chrono::hours{24 * 3};
    return d;
  }

  Store* store_;
  JournalBound* journal_;
  const BenchParties& parties_;
  const LetterTemplate& letters_;
  bool intake_only_;
  bool guarded_;
  bool watch_;
  std::vector<double> commit_ms_;
};

struct Figures {
  double per_second = 0, cpu_us = 0, written_bytes = 0, write_call_bytes = 0, stored_bytes = 0;
  double commit_p50_ms = 0, commit_p99_ms = 0, commit_max_ms = 0;
};

Result<Figures> run(const Variant& v, const std::filesystem::path& dir, std::uint64_t history,
                    std::uint64_t messages, std::uint64_t group, const BenchParties& parties,
                    const LetterTemplate& letters, bool intake_only, std::uint64_t outcome_every) {
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const auto db = dir / "store.db";
  if (!v.schema_changes.empty()) {
    auto created = SqliteStore::open(db.string(), v.tuning);
    if (!created) return created.error();
    created->reset();
    sqlite3* raw = nullptr;
    if (sqlite3_open(db.string().c_str(), &raw) != SQLITE_OK) {
      sqlite3_close(raw);
      return make_error(Errc::kStorage, "cannot open " + db.string());
    }
    for (const std::string& sql : v.schema_changes) {
      if (sqlite3_exec(raw, sql.c_str(), nullptr, nullptr, nullptr) != SQLITE_OK) {
        Error e = make_error(Errc::kStorage, sql + ": " + sqlite3_errmsg(raw));
        sqlite3_close(raw);
        return e;
      }
    }
    sqlite3_close(raw);
  }
  std::unique_ptr<SqliteStore> store;
  std::unique_ptr<JournalBound> journal;
  if (v.target != Variant::Target::kStore) {
    const bool bodies = v.target == Variant::Target::kJournalTablesAndBodies;
    auto opened = JournalBound::open(
        db.string(), bodies || v.target == Variant::Target::kJournalAndTables, bodies);
    if (!opened) return opened.error();
    journal = std::move(*opened);
  } else {
    auto opened = SqliteStore::open(db.string(), v.tuning);
    if (!opened) return opened.error();
    store = std::move(*opened);
  }
  Writer writer(store.get(), journal.get(), parties, letters, intake_only, v.guarded,
                v.watch_receipt);
  const TimePoint now = TimePoint{} + std::chrono::hours{24 * 365 * 56};
  const std::uint64_t half = std::max<std::uint64_t>(group / 2, 1);

  // Delivery outcomes wait for every `outcome_every`-th group (1: the next group, as the
  // broker's writer does today); the ones still waiting at the end are not written.
  std::vector<std::int64_t> waiting;
  std::uint64_t next = 0;
  std::uint64_t groups = 0;
  const std::vector<std::int64_t> none;
  const auto steady = [&](std::uint64_t count) -> Result<void> {
    for (const std::uint64_t end = next + count; next < end;) {
      const std::uint64_t n = std::min(half, end - next);
      const bool with_outcomes = ++groups % outcome_every == 0;
      auto stored = writer.group(next, n, with_outcomes ? waiting : none, now);
      if (!stored) return stored.error();
      if (with_outcomes) waiting.clear();
      waiting.insert(waiting.end(), stored->begin(), stored->end());
      next += n;
    }
    return {};
  };
  if (auto r = steady(history); !r) return r.error();
  writer.commit_ms().clear();

  const std::uint64_t bytes_before = write_bytes();
  const std::uint64_t calls_before = write_calls_bytes();
  const std::uint64_t size_before = store_bytes(db);
  const double cpu_before = process_cpu_seconds();
  const auto start = std::chrono::steady_clock::now();
  if (auto r = steady(messages); !r) return r.error();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const double n = static_cast<double>(messages);
  Figures f;
  f.per_second = n / seconds;
  f.cpu_us = (process_cpu_seconds() - cpu_before) * 1e6 / n;
  f.written_bytes = static_cast<double>(write_bytes() - bytes_before) / n;
  f.write_call_bytes = static_cast<double>(write_calls_bytes() - calls_before) / n;
  f.stored_bytes = static_cast<double>(store_bytes(db) - size_before) / n;
  std::vector<double>& commits = writer.commit_ms();
  std::sort(commits.begin(), commits.end());
  if (!commits.empty()) {
    f.commit_p50_ms = percentile_sorted(commits, 0.50);
    f.commit_p99_ms = percentile_sorted(commits, 0.99);
    f.commit_max_ms = commits.back();
  }
  return f;
}

std::uint64_t flag(int argc, char** argv, const std::string& name, std::uint64_t fallback) {
  for (int i = 1; i + 1 < argc; ++i)
    if (argv[i] == name) return std::stoull(argv[i + 1]);
  return fallback;
}

int main_bench(int argc, char** argv) {
  const std::uint64_t messages = flag(argc, argv, "--messages", 20000);
  const std::uint64_t rounds = flag(argc, argv, "--rounds", 5);
  const std::uint64_t group = flag(argc, argv, "--group", 128);
  const std::uint64_t history = flag(argc, argv, "--history", 0);
  const bool intake_only = flag(argc, argv, "--intake-only", 0) != 0;
  const std::uint64_t outcome_every =
      std::max<std::uint64_t>(flag(argc, argv, "--outcome-every", 1), 1);
  const BenchParties parties;
  const LetterTemplate letters(parties, 4096);
  const auto dir = std::filesystem::temp_directory_path() /
                   ("sektorbro-store-bench-" + std::to_string(::getpid()));
  // --only NAME[,NAME...] runs those variants; --keep leaves the last store in DIR to look inside
  // (sqlite3 DIR/store.db "SELECT name, sum(pgsize) FROM dbstat GROUP BY name").
  std::string only;
  bool keep = false;
  for (int i = 1; i < argc; ++i) {
    if (std::string(argv[i]) == "--only" && i + 1 < argc) only = argv[i + 1];
    if (std::string(argv[i]) == "--keep") keep = true;
  }
  auto all = variants();
  // --only takes one name, or several separated by commas.
  if (!only.empty())
    std::erase_if(all, [&](const Variant& v) {
      return ("," + only + ",").find("," + v.name + ",") == std::string::npos;
    });
  if (all.empty()) {
    std::cerr << "no variant named " << only << "\n";
    return 2;
  }
  std::map<std::string, std::vector<Figures>> results;

  std::cout << "store bench: " << messages << " messages of " << letters.size()
            << " bytes per round, groups of " << group << ", history " << history << ", " << rounds
            << " rounds, variants interleaved"
            << (intake_only ? ", intake only (no delivery outcomes)" : "") << "\n";
  for (std::uint64_t round = 0; round < rounds; ++round) {
    for (std::size_t k = 0; k < all.size(); ++k) {
      const Variant& v = all[(k + round) % all.size()];
      auto f = run(v, dir, history, messages, group, parties, letters, intake_only, outcome_every);
      if (!f) {
        std::cerr << v.name << ": " << f.error().detail << "\n";
        std::filesystem::remove_all(dir);
        return 1;
      }
      std::printf(
          "  round %llu  %-22s %8.0f msg/s %7.1f us cpu/msg %8.0f B written/msg %8.0f "
          "B write()/msg %7.0f B stored/msg; commit p50 %.2f p99 %.2f max %.1f ms\n",
          static_cast<unsigned long long>(round + 1), v.name.c_str(), f->per_second, f->cpu_us,
          f->written_bytes, f->write_call_bytes, f->stored_bytes, f->commit_p50_ms,
          f->commit_p99_ms, f->commit_max_ms);
      results[v.name].push_back(*f);
    }
  }
  if (keep)
    std::cout << "store kept in " << dir.string() << "\n";
  else
    std::filesystem::remove_all(dir);

  const auto med = [&](const std::string& name, double Figures::*field) {
    std::vector<double> values;
    for (const Figures& f : results[name]) values.push_back(f.*field);
    return median(values);
  };
  const double base_rate = med("default", &Figures::per_second);
  const double base_cpu = med("default", &Figures::cpu_us);
  std::cout << "medians (ratio to default in brackets):\n";
  for (const Variant& v : all) {
    const double rate = med(v.name, &Figures::per_second);
    const double cpu = med(v.name, &Figures::cpu_us);
    std::printf(
        "  %-22s %8.0f msg/s (%.2fx) %7.1f us cpu/msg (%.2fx) %8.0f B written/msg %8.0f "
        "B write()/msg %7.0f B stored/msg; commit p50 %.2f p99 %.2f max %.1f ms\n",
        v.name.c_str(), rate, rate / base_rate, cpu, cpu / base_cpu,
        med(v.name, &Figures::written_bytes), med(v.name, &Figures::write_call_bytes),
        med(v.name, &Figures::stored_bytes), med(v.name, &Figures::commit_p50_ms),
        med(v.name, &Figures::commit_p99_ms), med(v.name, &Figures::commit_max_ms));
  }
  return 0;
}

}  // namespace
}  // namespace sektorbro::bench

int main(int argc, char** argv) { return sektorbro::bench::main_bench(argc, argv); }
