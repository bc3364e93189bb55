// SqliteStore and MemoryStore (and SqliteStore and PostgresStore) side by side: the same seeded
// random run of writes (messages,
// plans with stale preconditions, deliveries, receipts, requeues, deadlines, audit lines,
// batches committed and rolled back, ids that do not exist) goes to both, and after every step
// the answers of both — results, error codes and texts, and what the read side shows — must be
// equal. This finds the differences no hand-written case thought of; the contract cases are in
// store_contract_test.cpp.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <random>
#include <sstream>

#include "broker/intake/message_acceptor.hpp"
#include "broker/store/audit_verify.hpp"
#include "broker/store/memory_store.hpp"
#include "broker/store/postgres_audit_verify.hpp"
#include "broker/store/postgres_connection.hpp"
#include "broker/store/postgres_store.hpp"
#include "broker/store/sqlite_store.hpp"
#include "broker/store/tests/postgres_test_database.hpp"
#include "broker/store/tests/store_test_support.hpp"

namespace sektorbro {
namespace {

using store_test::at_ms;
using store_test::kJobcenterGln;
using store_test::kPsychiatryGln;
using store_test::make_message;
using store_test::TempDir;

// --- text forms, so that a difference prints what differs ---

std::string show(const NewLetter& l);
std::string show(const MessageRecord& r);
std::string show(const MessageEvent& e);
std::string show(const PendingDelivery& p);
std::string show(const LetterLocation& l);
std::string show(const Deadline& d);
std::string show(const AcceptOutcome& a);

std::string show(std::int64_t v) { return std::to_string(v); }
std::string show(const TimePoint& t) { return std::to_string(to_millis(t)); }
template <typename T>
std::string show(const std::optional<T>& v) {
  return v ? "some(" + show(*v) + ")" : "none";
}
template <typename T>
std::string show(const std::vector<T>& v) {
  std::string out = "[";
  for (const auto& x : v) out += show(x) + "; ";
  return out + "]";
}
std::string show(const NewLetter& l) {
  return l.letter_id + "/" + std::string(to_string(l.type)) + "/" + l.content_hash + "/" +
         std::string(to_string(l.status));
}
std::string show(const MessageRecord& r) {
  std::ostringstream o;
  o << r.id << " " << r.envelope_id << " " << r.sender_gln << " " << r.receiver_gln << " "
    << r.sender_endpoint << " " << r.receiver_endpoint << " " << show(r.letters) << " " << r.body
    << " " << r.acceptance.size() << ":" << r.acceptance << " " << r.receipt_requested
    << r.contains_cpr << " " << show(r.received_at) << " " << to_string(r.state) << " "
    << r.attempts << " " << show(r.next_attempt_at) << " " << r.last_error << " "
    << to_string(r.receipt);
  return o.str();
}
std::string show(const MessageEvent& e) {
  return show(e.message_id) + " " + show(e.at) + " " + e.kind + " " + e.detail + " " + e.actor;
}
std::string show(const PendingDelivery& p) {
  return show(p.message_id) + " " + p.receiver_endpoint + " " + std::to_string(p.attempts) + " " +
         show(p.received_at) + " " + show(p.next_attempt_at);
}
std::string show(const LetterLocation& l) {
  return show(l.message_id) + " " + std::string(to_string(l.type)) + " " + l.content_hash + " " +
         l.receiver_gln + " " + std::string(to_string(l.status));
}
std::string show(const Deadline& d) {
  std::ostringstream o;
  o << d.key.requester_gln << "/" << d.key.letter_id << " " << to_string(d.kind) << " " << d.owed_by
    << " " << d.owed_to << " " << d.form << " " << show(d.opened_at) << " " << format_date(d.due)
    << " " << show(d.due_end) << " " << to_string(d.state) << " " << show(d.answered_at) << " "
    << show(d.closed_at) << " " << d.days_late << " " << d.overdue << " " << d.reminder_steps_done
    << " " << show(d.next_action_at) << " " << d.generation << " "
    << (d.discharge_date ? format_date(*d.discharge_date) : "none") << " "
    << (d.lead_time_days ? std::to_string(*d.lead_time_days) : "none") << " " << d.notice_late;
  return o.str();
}
std::string show(const AcceptOutcome& a) {
  return std::to_string(static_cast<int>(a.kind)) + " " + show(a.message_id) + " " + a.acceptance +
         " " + a.conflicting_letter_id + " " + show(a.superseded);
}

template <typename T>
std::string show_result(const Result<T>& r) {
  if (!r) return std::string("error ") + errc_name(r.error().code) + ": " + r.error().detail;
  return "ok " + show(*r);
}
std::string show_result(const Result<void>& r) {
  if (!r) return std::string("error ") + errc_name(r.error().code) + ": " + r.error().detail;
  return "ok";
}

// --- the run ---

class Twins {
 public:
  Twins(Store& sqlite, Store& memory) : sqlite_(sqlite), memory_(memory) {}

  // Runs `op` on both stores and expects the same answer. Returns whether it succeeded.
  template <typename Op>
  bool same(const std::string& what, Op&& op) {
    const std::string a = show_result(op(sqlite_));
    const std::string b = show_result(op(memory_));
    EXPECT_EQ(a, b) << "step " << step_ << ": " << what;
    if (a != b) ++differences_;
    return a.rfind("ok", 0) == 0;
  }
  void next_step() { ++step_; }
  int differences() const { return differences_; }

 private:
  Store& sqlite_;
  Store& memory_;
  int step_ = 0;
  int differences_ = 0;
};

class RandomRun {
 public:
  RandomRun(Twins& twins, std::uint32_t seed) : t_(twins), rng_(seed) {}

  int pick(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }
  bool chance(int percent) { return pick(1, 100) <= percent; }
  template <typename T>
  T one_of(const std::vector<T>& v) {
    return v[static_cast<std::size_t>(pick(0, static_cast<int>(v.size()) - 1))];
  }
  // Small ranges, so instants tie often and the tie-breaks are exercised.
  TimePoint instant() { return at_ms(pick(0, 20) * 100); }
  std::int64_t some_id() { return pick(0, max_id_ + 2); }
  std::string gln() { return chance(70) ? kJobcenterGln : kPsychiatryGln; }
  std::string letter_id() { return "L" + std::to_string(pick(1, 10)); }
  std::string content() { return "v" + std::to_string(pick(1, 3)); }
  std::string endpoint() { return one_of<std::string>({"jc", "psyk", "x"}); }
  LetterStatus status() {
    const int r = pick(1, 10);
    return r <= 6   ? LetterStatus::kNew
           : r <= 9 ? LetterStatus::kCorrected
                    : LetterStatus::kCancelled;
  }
  DeliveryState delivery_state() {
    return one_of<DeliveryState>({DeliveryState::kPending, DeliveryState::kDelivered,
                                  DeliveryState::kRefused, DeliveryState::kDeadLettered});
  }
  MessageEvent event(std::int64_t id) {
    return MessageEvent{id, instant(), one_of<std::string>({"attempt", "relayed", "x"}),
                        "d" + std::to_string(pick(0, 3)), chance(50) ? "" : endpoint()};
  }

  NewMessage message() {
    std::vector<std::string> ids;
    for (int i = pick(1, 3); i > 0; --i) ids.push_back(letter_id());
    NewMessage m =
        make_message("E" + std::to_string(++envelopes_), ids, content(), gln(), instant());
    for (auto& l : m.letters) {
      l.status = status();
      if (chance(30)) l.content_hash = sha256_hex(l.letter_id + "/" + content());
    }
    m.sender_endpoint = endpoint();
    m.receiver_endpoint = endpoint();
    return m;
  }

  Deadline deadline() {
    Deadline d;
    d.kind = chance(50) ? DeadlineKind::kCertificate : DeadlineKind::kMentorResponse;
    d.key = DeadlineKey{gln(), letter_id()};
    d.owed_by = endpoint();
    d.owed_to = endpoint();
    d.form = one_of<std::string>({"LÆ125", "LÆ135", ""});
    d.opened_at = instant();
    d.due = std::chrono::year{2026} / std::chrono::month{11} /
            std::chrono::day{static_cast<unsigned>(chance(3) ? 31 : pick(1, 28))};
    d.due_end = instant();
    d.state = one_of<DeadlineState>({DeadlineState::kOpen, DeadlineState::kOpen,
                                     DeadlineState::kAnsweredOnTime, DeadlineState::kCancelled});
    if (chance(40)) d.answered_at = instant();
    if (chance(40)) d.closed_at = instant();
    d.days_late = pick(0, 3);
    d.overdue = chance(30);
    d.reminder_steps_done = pick(0, 3);
    if (chance(70)) d.next_action_at = instant();
    d.generation = pick(0, 2);
    if (chance(30)) d.discharge_date = std::chrono::year{2026} / 11 / pick(1, 28);
    if (chance(30)) d.lead_time_days = pick(-3, 5);
    d.notice_late = chance(20);
    return d;
  }

  MessagePlan raw_plan() {
    MessagePlan p;
    p.message = message();
    p.events.push_back(MessageEvent{0, p.message.received_at, "received", "raw", ""});
    if (chance(40))
      p.supersedes.push_back(
          Supersession{p.message.letters[0].letter_id, some_id(),
                       sha256_hex(p.message.letters[0].letter_id + "/" + content())});
    if (chance(20)) p.events.push_back(event(some_id()));
    if (chance(20))
      p.receipts.push_back(ReceiptUpdate{some_id(), ReceiptState::kNegative, event(0)});
    if (chance(40))
      p.deadlines.push_back(DeadlineWrite{.deadline = deadline(),
                                          .message_id = chance(70) ? 0 : some_id(),
                                          .event = chance(50) ? event(0) : MessageEvent{},
                                          .expect_open = chance(50)});
    return p;
  }

  void write_step() {
    const int r = pick(1, 100);
    if (r <= 25) {
      const NewMessage m = message();
      if (t_.same("accept",
                  [&](Store& s) -> Result<AcceptOutcome> { return accept_message(s, m); }))
        max_id_ += 1;  // an upper bound is enough: ids beyond it are asked for too
    } else if (r <= 40) {
      const MessagePlan p = raw_plan();
      if (t_.same("store_message", [&](Store& s) { return s.store_message(p); })) max_id_ += 1;
    } else if (r <= 52) {
      const auto id = some_id();
      const auto state = delivery_state();
      const int attempts = pick(0, 5);
      const auto next = instant();
      const std::string err = chance(50) ? "" : "HTTP 503";
      const auto e = event(id);
      t_.same("update_delivery",
              [&](Store& s) { return s.update_delivery(id, state, attempts, next, err, e); });
    } else if (r <= 57) {
      const auto id = some_id();
      const auto e = event(id);
      t_.same("set_receipt",
              [&](Store& s) { return s.set_receipt(id, ReceiptState::kPositive, e); });
    } else if (r <= 62) {
      const auto e = event(some_id());
      t_.same("append_event", [&](Store& s) { return s.append_event(e); });
    } else if (r <= 70) {
      const auto id = some_id();
      const auto now = instant();
      t_.same("requeue", [&](Store& s) { return s.requeue(id, now); });
    } else if (r <= 82) {
      const Deadline d = deadline();
      const auto id = some_id();
      const MessageEvent e = chance(50) ? event(id) : MessageEvent{};
      t_.same("put_deadline", [&](Store& s) { return s.put_deadline(d, id, e); });
    } else if (r <= 85) {
      const auto at = instant();
      t_.same("audit", [&](Store& s) { return s.audit(at, "refused", "malformed"); });
      const std::string actor = chance(80) ? "operator:anna" : "";
      t_.same("audit_action",
              [&](Store& s) { return s.audit_action(at, actor, "view-message", "message 1", ""); });
    } else if (r <= 92) {
      if (t_.same("begin_batch", [](Store& s) { return s.begin_batch(); })) in_batch_ = true;
    } else if (r <= 97) {
      t_.same("commit_batch", [](Store& s) { return s.commit_batch(); });
      in_batch_ = false;
    } else {
      t_.same("rollback_batch", [](Store& s) -> Result<void> {
        s.rollback_batch();
        return {};
      });
      in_batch_ = false;
    }
  }

  void read_step() {
    const auto id = some_id();
    t_.same("get_message", [&](Store& s) { return s.get_message(id); });
    t_.same("timeline", [&](Store& s) { return s.timeline(id); });
    const auto g = gln();
    const auto l = letter_id();
    const auto c = content();
    t_.same("find_letter", [&](Store& s) { return s.find_letter(g, l); });
    t_.same("find_letter_version",
            [&](Store& s) { return s.find_letter_version(g, l, sha256_hex(l + "/" + c)); });
    MessageFilter mf;
    if (chance(40)) mf.state = delivery_state();
    if (chance(40)) mf.endpoint = endpoint();
    mf.after_id = pick(-1, max_id_);
    mf.limit = pick(0, 6);
    t_.same("list_messages", [&](Store& s) { return s.list_messages(mf); });
    t_.same("pending_deliveries", [](Store& s) { return s.pending_deliveries(); });
    const DeadlineKey key{gln(), letter_id()};
    t_.same("find_deadline", [&](Store& s) { return s.find_deadline(key); });
    const auto now = instant();
    const int limit = pick(0, 6);
    t_.same("due_deadlines", [&](Store& s) { return s.due_deadlines(now, limit); });
    DeadlineFilter df;
    if (chance(30)) df.state = chance(70) ? DeadlineState::kOpen : DeadlineState::kCancelled;
    if (chance(30)) df.overdue_only = true;
    if (chance(80)) df.now = instant();
    if (chance(30)) df.due_before = instant();
    if (chance(30)) df.endpoint = endpoint();
    if (chance(20)) df.form = "LÆ125";
    if (chance(20)) df.kind = DeadlineKind::kCertificate;
    if (chance(20)) df.opened_before = instant();
    if (chance(20)) df.opened_after = instant();
    df.limit = pick(-1, 8);
    df.offset = pick(-1, 4);
    t_.same("list_deadlines", [&](Store& s) { return s.list_deadlines(df); });
    const auto from = instant();
    const auto to = instant();
    t_.same("deadlines_opened_between",
            [&](Store& s) { return s.deadlines_opened_between(from, to); });
  }

  void finish() {
    if (in_batch_) t_.same("commit_batch", [](Store& s) { return s.commit_batch(); });
    in_batch_ = false;
    // Everything once more, in full.
    MessageFilter all;
    all.limit = 1'000'000;
    t_.same("all messages", [&](Store& s) { return s.list_messages(all); });
    for (std::int64_t id = 0; id <= max_id_ + 1; ++id)
      t_.same("timeline " + std::to_string(id), [&](Store& s) { return s.timeline(id); });
    DeadlineFilter every;
    every.limit = 1'000'000;
    t_.same("all deadlines", [&](Store& s) { return s.list_deadlines(every); });
  }

 private:
  Twins& t_;
  std::mt19937 rng_;
  std::int64_t max_id_ = 0;
  int envelopes_ = 0;
  bool in_batch_ = false;
};

// The audit chain as SqliteStore wrote it, without the hashes: what MemoryStore keeps.
std::vector<std::string> sqlite_audit_entries(const std::string& path) {
  std::vector<std::string> out;
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    sqlite3_close(db);
    return {"<cannot open>"};
  }
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db,
                         "SELECT seq, at, kind, actor, subject, detail FROM audit_chain "
                         "ORDER BY seq",
                         -1, &stmt, nullptr) == SQLITE_OK) {
    while (sqlite3_step(stmt) == SQLITE_ROW) {
      std::string line = std::to_string(sqlite3_column_int64(stmt, 0)) + " " +
                         std::to_string(sqlite3_column_int64(stmt, 1));
      for (int col = 2; col < 6; ++col)
        line += std::string(" ") + reinterpret_cast<const char*>(sqlite3_column_text(stmt, col));
      out.push_back(line);
    }
  } else {
    out.push_back("<cannot read>");
  }
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return out;
}

std::vector<std::string> memory_audit_entries(MemoryStore& store) {
  std::vector<std::string> out;
  for (const AuditEntry& e : store.audit_entries())
    out.push_back(std::to_string(e.seq) + " " + std::to_string(to_millis(e.at)) + " " + e.kind +
                  " " + e.actor + " " + e.subject + " " + e.detail);
  return out;
}

class StoreDifferentialTest : public ::testing::TestWithParam<std::uint32_t> {};

TEST_P(StoreDifferentialTest, SqliteAndMemoryAnswerAlikeOverARandomRun) {
  TempDir dir;
  auto sqlite = SqliteStore::open(dir.file("broker.db"));
  ASSERT_TRUE(sqlite) << sqlite.error().detail;
  MemoryStore memory;
  Twins twins(**sqlite, memory);
  RandomRun run(twins, GetParam());
  for (int step = 0; step < 400 && twins.differences() < 5; ++step) {
    twins.next_step();
    run.write_step();
    run.read_step();
  }
  run.finish();
  EXPECT_EQ(twins.differences(), 0);
  const auto audit = memory_audit_entries(memory);
  EXPECT_GT(audit.size(), 30u);
  EXPECT_EQ(sqlite_audit_entries(dir.file("broker.db")), audit);
}

// The audit chain as PostgresStore wrote it, in sqlite_audit_entries()' form.
std::vector<std::string> postgres_audit_entries(const std::string& conninfo) {
  auto c = PgConnection::connect(conninfo);
  if (!c) return {"<cannot connect>"};
  auto r = (*c)->query("SELECT seq, at, kind, actor, subject, detail FROM audit_chain ORDER BY seq",
                       PgParams{}, "read chain");
  if (!r) return {"<cannot read>"};
  std::vector<std::string> out;
  for (int i = 0; i < r->rows(); ++i) {
    std::string line = r->text_at(i, 0) + " " + r->text_at(i, 1);
    for (int col = 2; col < 6; ++col) line += " " + r->text_at(i, col);
    out.push_back(line);
  }
  return out;
}

// The same run on SQLite and on PostgreSQL: equal answers, and equal audit chains to the last
// hash (the chain's bytes do not depend on the store).
TEST_P(StoreDifferentialTest, SqliteAndPostgresAnswerAlikeOverARandomRun) {
  TempDir dir;
  auto sqlite = SqliteStore::open(dir.file("broker.db"));
  ASSERT_TRUE(sqlite) << sqlite.error().detail;
  const std::string conninfo =
      store_test::fresh_postgres_database("differential_" + std::to_string(GetParam()));
  ASSERT_FALSE(conninfo.empty());
  auto postgres = PostgresStore::open(conninfo);
  ASSERT_TRUE(postgres) << postgres.error().detail;
  Twins twins(**sqlite, **postgres);
  RandomRun run(twins, GetParam());
  for (int step = 0; step < 400 && twins.differences() < 5; ++step) {
    twins.next_step();
    run.write_step();
    run.read_step();
  }
  run.finish();
  EXPECT_EQ(twins.differences(), 0);
  const auto audit = postgres_audit_entries(conninfo);
  EXPECT_GT(audit.size(), 30u);
  EXPECT_EQ(sqlite_audit_entries(dir.file("broker.db")), audit);
  auto a = verify_audit_chain(dir.file("broker.db"));
  auto b = verify_postgres_audit_chain(conninfo);
  ASSERT_TRUE(a && b);
  EXPECT_TRUE(a->ok && b->ok);
  EXPECT_EQ(a->last_hash, b->last_hash);
}

INSTANTIATE_TEST_SUITE_P(Seeds, StoreDifferentialTest, ::testing::Values(1u, 2u, 3u, 4u));

}  // namespace
}  // namespace sektorbro
