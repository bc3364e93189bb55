// What only the PostgreSQL store has (the shared contract is in store_contract_test.cpp): its
// schema versions, several brokers on one database (one audit chain, one id sequence, stale
// plans across brokers), the audit verifier on PostgreSQL, bodies as bytes, errors without the
// password, and a backup with pg_dump restored with pg_restore (issue 11, item 5).
#include "broker/store/postgres_store.hpp"

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "broker/intake/message_acceptor.hpp"
#include "broker/store/postgres_audit_verify.hpp"
#include "broker/store/postgres_connection.hpp"
#include "broker/store/postgres_migrations.hpp"
#include "broker/store/tests/postgres_test_database.hpp"
#include "broker/store/tests/store_test_support.hpp"

namespace sektorbro {
namespace {

using store_test::at_ms;
using store_test::fresh_postgres_database;
using store_test::kDayMs;
using store_test::kJobcenterGln;
using store_test::make_deadline;
using store_test::make_message;
using store_test::TempDir;

MessagePlan plan_for(const NewMessage& m) {
  MessagePlan plan;
  plan.message = m;
  plan.events.push_back(
      MessageEvent{0, m.received_at, "received", "envelope " + m.envelope_id, m.sender_endpoint});
  return plan;
}

std::unique_ptr<PostgresStore> open_store(const std::string& conninfo) {
  auto s = PostgresStore::open(conninfo);
  EXPECT_TRUE(s) << s.error().detail;
  return s ? std::move(*s) : nullptr;
}

std::unique_ptr<PgConnection> connect(const std::string& conninfo) {
  auto c = PgConnection::connect(conninfo);
  EXPECT_TRUE(c) << c.error().detail;
  return c ? std::move(*c) : nullptr;
}

// --- schema versions ---

TEST(PostgresStore, ANewDatabaseIsMigratedToTheCurrentVersionOnceAndStaysThere) {
  const auto db = fresh_postgres_database("migrate");
  ASSERT_FALSE(db.empty());
  auto c = connect(db);
  ASSERT_TRUE(c);
  EXPECT_EQ(*read_postgres_schema_version(*c), 0);
  ASSERT_TRUE(open_store(db));
  EXPECT_EQ(*read_postgres_schema_version(*c), postgres_schema_version());
  EXPECT_GE(postgres_schema_version(), 1);
  // Opening again (a restart, or a second broker) migrates nothing and keeps the data.
  auto s = open_store(db);
  ASSERT_TRUE(s);
  ASSERT_TRUE(accept_message(*s, make_message("E1", {"B1"})));
  auto again = open_store(db);
  ASSERT_TRUE(again);
  EXPECT_EQ(*read_postgres_schema_version(*c), postgres_schema_version());
  auto m = again->get_message(1);
  ASSERT_TRUE(m && m->has_value());
  auto rows = c->query("SELECT count(*) FROM schema_version", PgParams{}, "count");
  ASSERT_TRUE(rows);
  EXPECT_EQ(rows->int64_at(0, 0), 1);
}

TEST(PostgresStore, ADatabaseWithANewerSchemaIsRefusedWithOneClearLine) {
  const auto db = fresh_postgres_database("newer");
  ASSERT_FALSE(db.empty());
  ASSERT_TRUE(open_store(db));
  auto c = connect(db);
  ASSERT_TRUE(c);
  const int newer = postgres_schema_version() + 1;
  ASSERT_TRUE(c->query("UPDATE schema_version SET version = $1", PgParams().int64(newer), "set"));
  auto refused = PostgresStore::open(db);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, Errc::kStorage);
  const std::string& why = refused.error().detail;
  EXPECT_NE(
      why.find("schema version " + std::to_string(newer) + " is newer than this broker supports (" +
               std::to_string(postgres_schema_version()) + ")"),
      std::string::npos)
      << why;
  EXPECT_EQ(why.find('\n'), std::string::npos) << why;
  EXPECT_EQ(*read_postgres_schema_version(*c), newer);  // left as it was
}

TEST(PostgresStore, AMigrationThatFailsChangesNothing) {
  const auto db = fresh_postgres_database("halfway");
  ASSERT_FALSE(db.empty());
  auto c = connect(db);
  ASSERT_TRUE(c);
  // A table in the way of the migration's later statements: the migration fails half way.
  ASSERT_TRUE(c->exec("CREATE TABLE deadlines (x integer)", "in the way"));
  auto refused = PostgresStore::open(db);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().detail.find("migrate schema to version 1"), std::string::npos)
      << refused.error().detail;
  EXPECT_EQ(*read_postgres_schema_version(*c), 0);
  auto messages = c->query("SELECT to_regclass('messages') IS NULL", PgParams{}, "look");
  ASSERT_TRUE(messages);
  EXPECT_EQ(messages->text_at(0, 0), "t");  // the tables created before the failure are gone
}

// Version 4 → 5 (issue 11): the lease tables, which brokers of version 4 created on first use,
// become a migration and keep their live leases; message ids come from a sequence that starts
// past every id ever used — the newest message's, and one only the audit chain still names (its
// record deleted by retention).
TEST(PostgresStore, Version4IsUpgradedKeepingItsLeasesAndNeverReusingAnId) {
  const auto db = fresh_postgres_database("upgrade4");
  ASSERT_FALSE(db.empty());
  auto c = connect(db);
  ASSERT_TRUE(c);
  ASSERT_TRUE(migrate_postgres_to(*c, 4));
  ASSERT_EQ(*read_postgres_schema_version(*c), 4);
  // As a version-4 broker left it: two messages (ids 1 and 2), the audit entry of a message 7
  // whose record retention deleted, and the lease tables as it created them, with a live lease.
  ASSERT_TRUE(c->exec(R"sql(
INSERT INTO messages (id, envelope_id, sender_gln, receiver_gln, sender_endpoint,
  receiver_endpoint, body, acceptance, receipt_requested, contains_cpr, received_at, state,
  attempts, next_attempt_at)
VALUES (1, 'E1', 'g1', 'g2', 'jc', 'psyk', 'x', 'y', 0, 0, 1000, 'pending', 0, 1000),
       (2, 'E2', 'g1', 'g2', 'jc', 'psyk', 'x', 'y', 0, 0, 1000, 'pending', 0, 1000);
INSERT INTO audit_chain (seq, at, kind, actor, subject, detail, prev_hash, hash)
VALUES (1, 900, 'record-deleted', 'broker', 'message 7', '', 'p', 'h');
INSERT INTO events (message_id, at, kind, detail) VALUES (1, 1000, 'received', 'old');
CREATE TABLE IF NOT EXISTS delivery_leases (
  message_id  bigint PRIMARY KEY,
  owner       text   NOT NULL,
  lease_until bigint NOT NULL
);
CREATE INDEX IF NOT EXISTS delivery_leases_owner ON delivery_leases (owner, lease_until);
CREATE TABLE IF NOT EXISTS singleton_leases (
  name        text   PRIMARY KEY,
  owner       text   NOT NULL,
  lease_until bigint NOT NULL
);
INSERT INTO delivery_leases VALUES (1, 'broker-a', 1790000005000);
INSERT INTO singleton_leases VALUES ('sweeper', 'broker-a', 1790000005000);
)sql",
                      "a version-4 database"));
  auto s = open_store(db);
  ASSERT_TRUE(s);
  EXPECT_EQ(*read_postgres_schema_version(*c), postgres_schema_version());
  EXPECT_GE(postgres_schema_version(), 5);
  // broker-a's leases survived the upgrade: nobody else may take them before at_ms(5'000).
  auto claimed = s->claim_deliveries("broker-b", at_ms(4'000), at_ms(9'000), 10);
  ASSERT_TRUE(claimed) << claimed.error().detail;
  ASSERT_EQ(claimed->size(), 1u);
  EXPECT_EQ(claimed->front().message_id, 2);
  // broker-a's next pass adopts it (version 7: held as long as broker-a's row lives).
  auto renewed = s->renew_leases("broker-a", at_ms(4'000), at_ms(9'000));
  ASSERT_TRUE(renewed) << renewed.error().detail;
  EXPECT_EQ(*renewed, std::vector<std::int64_t>{1});
  EXPECT_FALSE(*s->hold_singleton("sweeper", "broker-b", at_ms(4'000), at_ms(9'000)));
  EXPECT_TRUE(*s->hold_singleton("sweeper", "broker-b", at_ms(5'000), at_ms(9'000)));
  // The next id is past 7, the largest the chain names (max(id) + 1 would have been 3).
  auto stored = accept_message(*s, make_message("E3", {"B3"}));
  ASSERT_TRUE(stored) << stored.error().detail;
  EXPECT_EQ(stored->message_id, 8);
  auto mailbox = s->claim_mailbox("psyk", "broker-b", at_ms(4'000), at_ms(9'000), 10);
  ASSERT_TRUE(mailbox) << mailbox.error().detail;
  EXPECT_EQ(*mailbox, (std::vector<std::int64_t>{1, 2, 8}));
  // Version 5 → 6: message 1's timeline keeps its event from `events` and goes on in the chain.
  ASSERT_TRUE(s->append_event(MessageEvent{1, at_ms(6'000), "requeued", "new"}));
  auto timeline = s->timeline(1);
  ASSERT_TRUE(timeline) << timeline.error().detail;
  ASSERT_EQ(timeline->size(), 2u);
  EXPECT_EQ(timeline->front().detail, "old");
  EXPECT_EQ(timeline->back().kind, "requeued");
  EXPECT_EQ(timeline->back().at, at_ms(6'000));
}

// --- connection errors ---

TEST(PostgresStore, ErrorsNameTheServerButNeverThePassword) {
  auto* server = store_test::postgres_server();
  ASSERT_TRUE(server);
  // A port nobody listens on (the server's own port + 1 is not guaranteed free; port 1 is).
  const std::string conninfo =
      "host=127.0.0.1 port=1 dbname=sektorbro user=broker password=Hemmelig-42 connect_timeout=5";
  auto refused = PostgresStore::open(conninfo);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, Errc::kStorage);
  EXPECT_EQ(refused.error().detail.find("Hemmelig-42"), std::string::npos)
      << refused.error().detail;
  EXPECT_NE(refused.error().detail.find("dbname=sektorbro"), std::string::npos)
      << refused.error().detail;
  EXPECT_EQ(describe_conninfo(conninfo), "host=127.0.0.1 port=1 dbname=sektorbro");
  EXPECT_EQ(describe_conninfo("postgresql://broker:Hemmelig-42@db.example:5433/sb"),
            "host=db.example port=5433 dbname=sb");
  // A wrong password on a real server: still no password in the text.
  auto bad_db = PostgresStore::open(server->conninfo("no_such_database") + " password=Hemmelig-42");
  ASSERT_FALSE(bad_db);
  EXPECT_EQ(bad_db.error().detail.find("Hemmelig-42"), std::string::npos);
  EXPECT_NE(bad_db.error().detail.find("no_such_database"), std::string::npos)
      << bad_db.error().detail;
}

// A connection the server dropped (a restart, an administrator's pg_terminate_backend) costs at
// most the operation that finds it gone: the next one reconnects and prepares again.
TEST(PostgresStore, ALostConnectionIsMadeAgainByTheNextOperation) {
  const auto db = fresh_postgres_database("reconnect");
  ASSERT_FALSE(db.empty());
  auto s = open_store(db);
  ASSERT_TRUE(s);
  ASSERT_TRUE(accept_message(*s, make_message("E1", {"B1"})));
  ASSERT_TRUE(s->get_message(1));
  auto admin = connect(db);
  ASSERT_TRUE(admin);
  auto killed = admin->query(
      "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
      "WHERE datname = current_database() AND pid <> pg_backend_pid()",
      PgParams{}, "terminate");
  ASSERT_TRUE(killed) << killed.error().detail;
  EXPECT_EQ(killed->int64_at(0, 0), 3);  // the store's writer, reader and counting connection
  (void)s->store_message(plan_for(make_message("E2", {"B2"})));  // may find the connection gone
  (void)s->get_message(1);
  (void)s->operator_counts(at_ms(0));
  auto counts = s->operator_counts(at_ms(0));
  ASSERT_TRUE(counts) << counts.error().detail;
  auto id = s->store_message(plan_for(make_message("E3", {"B3"})));
  ASSERT_TRUE(id) << id.error().detail;
  auto got = s->get_message(*id);
  ASSERT_TRUE(got) << got.error().detail;
  ASSERT_TRUE(got->has_value());
  EXPECT_EQ((*got)->envelope_id, "E3");
}

// --- bodies are bytes ---

TEST(PostgresStore, BodiesAndAcceptancesKeepEveryByte) {
  const auto db = fresh_postgres_database("bytes");
  ASSERT_FALSE(db.empty());
  auto s = open_store(db);
  ASSERT_TRUE(s);
  auto m = make_message("E1", {"B1"});
  m.body = std::string("<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><a>\xe6\xf8\xe5", 47);
  m.body += std::string("\0\x01\xff tail", 8);
  m.acceptance = std::string("\xff\xfe\0ok", 5);
  auto id = s->store_message(plan_for(m));
  ASSERT_TRUE(id) << id.error().detail;
  auto got = s->get_message(*id);
  ASSERT_TRUE(got && got->has_value());
  EXPECT_EQ((*got)->body, m.body);
  EXPECT_EQ((*got)->acceptance, m.acceptance);
}

// --- several brokers on one database ---

// Two stores on one database (two brokers) write batches at the same time: every message gets
// its own id, every write is on ONE audit chain that verifies, and the chain holds exactly the
// entries written.
TEST(PostgresStore, TwoBrokersOnOneDatabaseShareOneChainAndOneIdSequence) {
  const auto db = fresh_postgres_database("two_brokers");
  ASSERT_FALSE(db.empty());
  auto a = open_store(db);
  auto b = open_store(db);
  ASSERT_TRUE(a && b);
  constexpr int kBatches = 25;
  constexpr int kPerBatch = 4;
  std::atomic<int> failures{0};
  std::vector<std::int64_t> ids_a, ids_b;
  const auto run = [&](PostgresStore& store, const std::string& tag,
                       std::vector<std::int64_t>& ids) {
    for (int batch = 0; batch < kBatches; ++batch) {
      if (!store.begin_batch()) {
        ++failures;
        return;
      }
      for (int i = 0; i < kPerBatch; ++i) {
        const std::string key = tag + std::to_string(batch) + "-" + std::to_string(i);
        auto id = store.store_message(plan_for(make_message("E" + key, {"L" + key})));
        if (!id) {
          ++failures;
          continue;
        }
        ids.push_back(*id);
        if (!store.audit_action(at_ms(batch), "operator:" + tag, "view-message",
                                "message " + std::to_string(*id), ""))
          ++failures;
      }
      if (!store.commit_batch()) ++failures;
    }
  };
  std::thread ta([&] { run(*a, "a", ids_a); });
  std::thread tb([&] { run(*b, "b", ids_b); });
  ta.join();
  tb.join();
  EXPECT_EQ(failures, 0);
  std::set<std::int64_t> all(ids_a.begin(), ids_a.end());
  all.insert(ids_b.begin(), ids_b.end());
  constexpr int kMessages = 2 * kBatches * kPerBatch;
  EXPECT_EQ(all.size(), static_cast<std::size_t>(kMessages));
  EXPECT_EQ(*all.begin(), 1);
  EXPECT_EQ(*all.rbegin(), kMessages);  // no gaps: ids are handed out under the head lock

  auto verdict = verify_postgres_audit_chain(db);
  ASSERT_TRUE(verdict) << verdict.error().detail;
  EXPECT_TRUE(verdict->ok) << verdict->explanation;
  EXPECT_EQ(verdict->entries, 2 * kMessages);  // "received" + the operator's view, each
}

// A lease pass costs what changed, not what is held (issue 8; postgres_leases.cpp): a renewal
// rewrites the broker's row and the leases granted since the last pass, not one row per held
// delivery. A lease row's xmin is the transaction that last wrote it.
TEST(PostgresStore, ARenewalWritesTheBrokersRowAndNewLeasesNotEveryHeldOne) {
  const auto db = fresh_postgres_database("renewal");
  ASSERT_FALSE(db.empty());
  auto s = open_store(db);
  auto c = connect(db);
  ASSERT_TRUE(s && c);
  const auto sec = [](int n) { return at_ms(1'000) + std::chrono::seconds{n}; };
  std::vector<std::int64_t> ids;
  for (int i = 1; i <= 50; ++i) {
    auto id = s->store_message(
        plan_for(make_message("E" + std::to_string(i), {"L" + std::to_string(i)})));
    ASSERT_TRUE(id) << id.error().detail;
    ASSERT_TRUE(s->lease_delivery(*id, "node-a", sec(30)));
    ids.push_back(*id);
  }
  const auto renewed = [&](const std::string& owner, int now, int until) {
    auto r = s->renew_leases(owner, sec(now), sec(until));
    EXPECT_TRUE(r) << r.error().detail;
    std::vector<std::int64_t> out = r ? *r : std::vector<std::int64_t>{};
    std::sort(out.begin(), out.end());
    return out;
  };
  const auto writers = [&] {  // message id → the transaction that last wrote its lease
    std::map<std::int64_t, std::string> out;
    auto r = c->query("SELECT message_id, xmin::text FROM delivery_leases", PgParams{}, "xmin");
    EXPECT_TRUE(r) << r.error().detail;
    for (int i = 0; r && i < r->rows(); ++i) out[r->int64_at(i, 0)] = r->text_at(i, 1);
    return out;
  };
  EXPECT_EQ(renewed("node-a", 10, 40), ids) << "the leases granted are adopted";
  const auto adopted = writers();
  ASSERT_EQ(adopted.size(), ids.size());
  EXPECT_EQ(renewed("node-a", 20, 50), ids);
  EXPECT_EQ(writers(), adopted) << "no held lease was written again";
  auto row = c->query("SELECT lease_until FROM broker_leases WHERE owner = 'node-a'", PgParams{},
                      "broker row");
  ASSERT_TRUE(row && row->rows() == 1);
  EXPECT_EQ(row->time_at(0, 0), sec(50)) << "the broker's row carries the renewal";

  // One more granted between passes: the next renewal writes that one only.
  auto fresh = s->store_message(plan_for(make_message("E51", {"L51"})));
  ASSERT_TRUE(fresh);
  ASSERT_TRUE(s->lease_delivery(*fresh, "node-a", sec(55)));
  ids.push_back(*fresh);
  EXPECT_EQ(renewed("node-a", 25, 55), ids);
  const auto after = writers();
  ASSERT_EQ(after.size(), ids.size());
  for (const std::int64_t id : ids) {
    const bool rewritten = adopted.count(id) == 0 || after.at(id) != adopted.at(id);
    EXPECT_EQ(rewritten, id == *fresh) << "message " << id;
  }

  // A broker of schema version 6 (lease_until only) leases the first message to itself; the
  // epoch it does not know stays in the row and means nothing then.
  ASSERT_TRUE(
      c->query("UPDATE delivery_leases SET owner = 'node-old', lease_until = $1 "
               "WHERE message_id = $2",
               PgParams().time(sec(90)).int64(ids.front()), "a version-6 lease"));
  // node-a stops renewing; its leases end with its row, at sec(55) exactly.
  auto early = s->claim_deliveries("node-b", sec(54), sec(84), 100);
  ASSERT_TRUE(early) << early.error().detail;
  EXPECT_TRUE(early->empty()) << "node-a still holds them";
  auto taken = s->claim_deliveries("node-b", sec(55), sec(85), 100);
  ASSERT_TRUE(taken) << taken.error().detail;
  EXPECT_EQ(taken->size(), ids.size() - 1) << "all of node-a's; not the version-6 broker's";
  for (const auto& p : *taken) EXPECT_NE(p.message_id, ids.front());
  EXPECT_TRUE(renewed("node-a", 56, 86).empty()) << "node-a comes back to nothing";
  EXPECT_EQ(renewed("node-b", 56, 86).size(), ids.size() - 1);
  auto epoch = c->query("SELECT epoch FROM broker_leases WHERE owner = 'node-a'", PgParams{}, "e");
  ASSERT_TRUE(epoch && epoch->rows() == 1);
  EXPECT_EQ(epoch->int64_at(0, 0), 2) << "a new epoch: its old leases are nobody's";
}

// sektorbro-audit verify --postgres (issue 11): the chain and the row checks on a PostgreSQL
// store, through the command line, by the same rules as for a SQLite file.
using store_test::run_audit;

TEST(PostgresStore, SektorbroAuditVerifiesAPostgresStoreChainAndRows) {
  const auto db = fresh_postgres_database("audit_cli");
  ASSERT_FALSE(db.empty());
  ASSERT_EQ(db.find('\''), std::string::npos);
  {
    auto s = open_store(db);
    ASSERT_TRUE(s);
    auto first = accept_message(*s, make_message("E1", {"A1"}));
    ASSERT_TRUE(first) << first.error().detail;
    ASSERT_TRUE(accept_message(*s, make_message("E2", {"A2"})));
    ASSERT_TRUE(
        s->update_delivery(first->message_id, DeliveryState::kDelivered, 1, at_ms(5), "",
                           MessageEvent{first->message_id, at_ms(5), "delivered", "HTTP 200"}));
  }
  const std::string target = "verify --postgres '" + db + "'";
  const auto good = run_audit(target);
  EXPECT_EQ(good.status, 0) << good.output;
  EXPECT_EQ(good.output.substr(0, good.output.find('\n')), "audit chain ok: 3 entries");
  EXPECT_NE(good.output.find("message rows: 2 match their bindings"), std::string::npos)
      << good.output;
  // A body changed in the database, past the chain: the row check finds it.
  auto c = connect(db);
  ASSERT_TRUE(c);
  ASSERT_TRUE(c->exec("UPDATE messages SET body = 'tampered' WHERE id = 2", "tamper"));
  const auto bad = run_audit(target);
  EXPECT_EQ(bad.status, 1) << bad.output;
  EXPECT_NE(bad.output.find("row-altered"), std::string::npos) << bad.output;
  EXPECT_NE(bad.output.find("message 2's body"), std::string::npos) << bad.output;
  const auto chain_only = run_audit(target + " --no-rows");
  EXPECT_EQ(chain_only.status, 0) << chain_only.output;
  // Exactly one store; an unreachable server is one line without the conninfo's password.
  EXPECT_EQ(run_audit(target + " --store /nonexistent.db").status, 2);
  const auto unreachable =
      run_audit("verify --postgres 'host=127.0.0.1 port=1 dbname=x user=u password=s3cret'");
  EXPECT_EQ(unreachable.status, 2) << unreachable.output;
  EXPECT_EQ(unreachable.output.find("s3cret"), std::string::npos) << unreachable.output;
}

// A plan decided by one broker is stale when another broker stored the letter meanwhile.
TEST(PostgresStore, APlanIsStaleWhenAnotherBrokerStoredTheLetterMeanwhile) {
  const auto db = fresh_postgres_database("stale");
  ASSERT_FALSE(db.empty());
  auto a = open_store(db);
  auto b = open_store(db);
  ASSERT_TRUE(a && b);
  // Broker b decides "new" before a's letter exists; a stores it first.
  const MessagePlan decided_by_b = plan_for(make_message("E2", {"B1"}));
  ASSERT_TRUE(a->store_message(plan_for(make_message("E1", {"B1"}))));
  auto stale = b->store_message(decided_by_b);
  ASSERT_FALSE(stale);
  EXPECT_EQ(stale.error().code, Errc::kStale);
  // Deciding again on b now finds the letter: a duplicate, nothing new stored.
  auto again = accept_message(*b, make_message("E2", {"B1"}));
  ASSERT_TRUE(again) << again.error().detail;
  EXPECT_EQ(again->kind, AcceptOutcome::Kind::kDuplicate);
  auto listed = b->list_messages(store_test::filter({}, {}, 0, 100));
  ASSERT_TRUE(listed);
  EXPECT_EQ(listed->size(), 1u);
}

// --- the audit verifier on PostgreSQL ---

// Schema version 6: a timeline entry's message_id is outside the seal; the verifier holds it to
// the sealed subject.
TEST(PostgresStore, TheVerifierFindsATimelineEntryMovedToAnotherMessage) {
  const auto db = fresh_postgres_database("timeline");
  ASSERT_FALSE(db.empty());
  auto s = open_store(db);
  ASSERT_TRUE(s);
  const auto a = accept_message(*s, make_message("E1", {"B1"}));
  const auto b = accept_message(*s, make_message("E2", {"B2"}));
  ASSERT_TRUE(a && b);
  auto timeline = s->timeline(b->message_id);
  ASSERT_TRUE(timeline) << timeline.error().detail;
  EXPECT_EQ(timeline->size(), 1u);
  auto c = connect(db);
  ASSERT_TRUE(c);
  ASSERT_TRUE(
      c->exec("ALTER TABLE audit_chain DISABLE TRIGGER audit_chain_no_change; "
              "UPDATE audit_chain SET message_id = " +
                  std::to_string(a->message_id) + " WHERE seq = 2",
              "tamper"));
  auto bad = verify_postgres_audit_chain(db);
  ASSERT_TRUE(bad) << bad.error().detail;
  EXPECT_FALSE(bad->ok);
  EXPECT_EQ(bad->bad_seq, 2);
  EXPECT_EQ(bad->reason, AuditBreak::kAltered);
}

// An audit tool newer than the brokers: a database still at schema version 5 (no timeline
// column) is verified as it is, not refused.
TEST(PostgresStore, TheVerifierReadsADatabaseOfVersion5) {
  const auto db = fresh_postgres_database("verify5");
  ASSERT_FALSE(db.empty());
  auto c = connect(db);
  ASSERT_TRUE(c);
  ASSERT_TRUE(migrate_postgres_to(*c, 5));
  AuditEntry e{1, at_ms(1), "refused", "broker", "input", "bad GLN", std::string(kAuditGenesisHash),
               ""};
  e.hash = audit_entry_hash(e);
  ASSERT_TRUE(
      c->query("INSERT INTO audit_chain (seq, at, kind, actor, subject, detail, prev_hash, hash) "
               "VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
               PgParams()
                   .int64(e.seq)
                   .time(e.at)
                   .text(e.kind)
                   .text(e.actor)
                   .text(e.subject)
                   .text(e.detail)
                   .text(e.prev_hash)
                   .text(e.hash),
               "a version-5 chain"));
  auto verdict = verify_postgres_audit_chain(db);
  ASSERT_TRUE(verdict) << verdict.error().detail;
  EXPECT_TRUE(verdict->ok) << verdict->explanation;
  EXPECT_EQ(verdict->entries, 1);
  EXPECT_EQ(*read_postgres_schema_version(*c), 5);  // the verifier changed nothing
}

TEST(PostgresStore, TheVerifierFindsAnEntryAlteredInTheDatabase) {
  const auto db = fresh_postgres_database("tamper");
  ASSERT_FALSE(db.empty());
  auto s = open_store(db);
  ASSERT_TRUE(s);
  for (int i = 0; i < 5; ++i)
    ASSERT_TRUE(
        accept_message(*s, make_message("E" + std::to_string(i), {"B" + std::to_string(i)})));
  auto good = verify_postgres_audit_chain(db);
  ASSERT_TRUE(good) << good.error().detail;
  EXPECT_TRUE(good->ok);
  EXPECT_EQ(good->entries, 5);

  auto c = connect(db);
  ASSERT_TRUE(c);
  // The trigger stops a change by mistake...
  EXPECT_FALSE(c->exec("UPDATE audit_chain SET detail = 'x' WHERE seq = 3", "tamper"));
  EXPECT_FALSE(c->exec("DELETE FROM audit_chain WHERE seq = 3", "tamper"));
  // ...and the chain shows a deliberate one.
  ASSERT_TRUE(
      c->exec("ALTER TABLE audit_chain DISABLE TRIGGER audit_chain_no_change; "
              "UPDATE audit_chain SET detail = 'envelope E9' WHERE seq = 3",
              "tamper"));
  auto bad = verify_postgres_audit_chain(db);
  ASSERT_TRUE(bad) << bad.error().detail;
  EXPECT_FALSE(bad->ok);
  EXPECT_EQ(bad->bad_seq, 3);
  EXPECT_EQ(bad->reason, AuditBreak::kAltered);
  EXPECT_EQ(bad->entries, 2);

  auto none = verify_postgres_audit_chain(fresh_postgres_database("empty"));
  ASSERT_FALSE(none);  // no audit_chain table: not a store
  EXPECT_EQ(none.error().code, Errc::kStorage);
}

// --- the console's deadline lists read index ranges (as SqliteStoreDeadlinesTest's case) ---

// Calls `f` on the plan node `node` (EXPLAIN's JSON) and on every node below it.
template <typename F>
void each_plan_node(const nlohmann::json& node, const F& f) {
  f(node);
  if (node.contains("Plans"))
    for (const auto& child : node["Plans"]) each_plan_node(child, f);
}

// Whether the plan node `node` or one below it is of `type`.
bool plan_has(const nlohmann::json& node, const std::string& type) {
  bool found = false;
  each_plan_node(
      node, [&](const nlohmann::json& n) { found = found || n.value("Node Type", "") == type; });
  return found;
}

// Appends to `why` every node under `node` that reads the table or sorts more than a page's worth
// of what it read: a scan of the whole table, or a Sort with no LIMIT below it of more than
// 1,000 rows (the planner's estimate). A Sort above the ranges' LIMITs merges at most offset +
// limit ids from each; one below sorts every row its range matched, which grows with the table
// unless the filters together match few (the planner sorts those few rather than walk an index).
// An Incremental Sort orders the ties of an index's order and stops at the LIMIT: allowed.
void find_full_reads(const nlohmann::json& node, std::vector<std::string>& why) {
  each_plan_node(node, [&](const nlohmann::json& n) {
    const std::string type = n.value("Node Type", "");
    if (type == "Seq Scan") why.push_back(type + " on " + n.value("Relation Name", "?"));
    if (type == "Sort" && !plan_has(n, "Limit") && n.value("Plan Rows", 0.0) > 1000)
      why.push_back("a Sort of " + std::to_string(n.value("Plan Rows", 0.0)) + " rows");
  });
}

// A connection to a new database that a store has migrated (its schema and indexes), for a plan
// test to fill by SQL; null after a failure the test has been told of.
std::unique_ptr<PgConnection> migrated_database(const std::string& prefix) {
  const auto db = fresh_postgres_database(prefix);
  if (db.empty() || !open_store(db)) return nullptr;
  return connect(db);
}

// `sql` under EXPLAIN (FORMAT JSON, and ANALYZE if `analyze`): its plan's top node, or an empty
// object after a failure the test has been told of. An analysed statement runs in a transaction
// that is rolled back, so a write in it changes nothing.
nlohmann::json explain(PgConnection& c, const std::string& name, const std::string& sql,
                       const PgParams& params, const std::vector<unsigned>& types,
                       bool analyze = false) {
  const std::string how = analyze ? "EXPLAIN (ANALYZE, FORMAT JSON) " : "EXPLAIN (FORMAT JSON) ";
  if (analyze) {
    EXPECT_TRUE(c.exec("BEGIN", "begin"));
  }
  const auto prepared = c.prepare(name, how + sql, types, "explain");
  EXPECT_TRUE(prepared) << prepared.error().detail << "\n" << sql;
  auto r = prepared ? c.run(name, params, "explain") : Result<PgResult>(prepared.error());
  if (analyze) {
    EXPECT_TRUE(c.exec("ROLLBACK", "rollback"));
  }
  EXPECT_TRUE(r) << name << ": " << r.error().detail;
  if (!r || r->rows() != 1) return nlohmann::json::object();
  return nlohmann::json::parse(r->text_at(0, 0)).at(0).at("Plan");
}

// Every combination of the console's deadline filters reads index ranges in their order, never
// the whole table, and sorts no more than the page's ranges: the overdue page at a million open
// deadlines stays a few index steps (issue 8's scale bench; docs/performance.md, "The console's
// view=all"). PostgreSQL's planner decides by statistics, so the table holds 100,000 deadlines
// (owed by and to 5 endpoints, in every state, of 7 forms and both kinds) and is analysed; they
// are written by SQL, as 100,000 put_deadline() calls would take the test tens of seconds.
// Without the index deadlines_state_due, 54 of the shapes fail (a scan, or sorts of 14,000+ rows).
TEST(PostgresStore, EveryListFilterReadsIndexRangesNotTheTable) {
  auto c = migrated_database("plans");
  ASSERT_TRUE(c);
  ASSERT_TRUE(c->exec(R"(
INSERT INTO deadlines (requester_gln, letter_id, kind, owed_by, owed_to, form, opened_at, due,
                       due_end, state, days_late, overdue, reminder_steps_done, generation,
                       notice_late)
SELECT '579000012345', 'L' || i,
       CASE WHEN i % 4 = 0 THEN 'mentor-response' ELSE 'certificate' END,
       'e' || (i % 5), 'e' || ((i * 3 + 1) % 5), 'LÆ' || (125 + (i % 7) * 10),
       1790000000000 + i * 1000, '2026-12-03', 1790000000000 + i * 1000 + 864000000,
       (ARRAY['open', 'open', 'open', 'answered-on-time', 'answered-late', 'declined',
              'cancelled'])[1 + i % 7],
       0, 0, 0, 0, 0
FROM generate_series(1, 100000) AS i;
ANALYZE deadlines)",
                      "fill"));
  int checked = 0;
  for (unsigned bits = 0; bits < (1u << 8); ++bits) {
    const auto built = PostgresStore::deadline_list_query(store_test::filter_of_shape(bits, "e3"));
    ASSERT_TRUE(built) << built.error().detail;
    const auto& query = *built;
    if ((bits & 3u) == 3u) {  // answered late and overdue: nothing can match, nothing is read
      EXPECT_FALSE(query) << "filter bits " << bits;
      continue;
    }
    ASSERT_TRUE(query) << "filter bits " << bits;
    const auto plan =
        explain(*c, "explain_" + std::to_string(bits), query->sql, query->params, query->types);
    ASSERT_FALSE(plan.empty()) << "filter bits " << bits;
    std::vector<std::string> why;
    find_full_reads(plan, why);
    EXPECT_TRUE(why.empty()) << "filter bits " << bits << ": " << why.front() << "\n"
                             << query->sql << "\n"
                             << plan.dump(1);
    EXPECT_TRUE(plan_has(plan, "Index Scan") || plan_has(plan, "Index Only Scan"))
        << "filter bits " << bits;
    ++checked;
  }
  EXPECT_EQ(checked, 192);  // 256 shapes less the 64 that cannot match
}

TEST(PostgresStore, TheOverdueListWithoutTheCurrentTimeIsAnErrorNotTheEpoch) {
  DeadlineFilter f;
  f.overdue_only = true;
  const auto built = PostgresStore::deadline_list_query(f);
  ASSERT_FALSE(built);
  EXPECT_EQ(built.error().code, Errc::kInvalid);
}

// The tables whose size follows the store's history (not the lease tables, which hold pending
// messages only).
bool holds_history(const std::string& relation) {
  return relation == "messages" || relation == "deadlines" || relation == "letters";
}

// The rows the plan's scans of history tables read: those they returned and those their filters
// removed, on every loop.
double history_rows_read(const nlohmann::json& node) {
  double rows = 0;
  each_plan_node(node, [&](const nlohmann::json& n) {
    if (holds_history(n.value("Relation Name", "")))
      rows += (n.value("Actual Rows", 0.0) + n.value("Rows Removed by Filter", 0.0) +
               n.value("Rows Removed by Index Recheck", 0.0)) *
              std::max(1.0, n.value("Actual Loops", 1.0));
  });
  return rows;
}

// Appends every full scan of a history table.
void find_history_scans(const nlohmann::json& node, std::vector<std::string>& why) {
  each_plan_node(node, [&](const nlohmann::json& n) {
    if (n.value("Node Type", "") == "Seq Scan" && holds_history(n.value("Relation Name", "")))
      why.push_back("Seq Scan on " + n.value("Relation Name", ""));
  });
}

// Issue 8 item 4 ("restart in proportion to pending work, not history") and issue 11's lease
// passes on PostgreSQL: what a start reads and what every lease pass runs read rows in proportion
// to the work pending, not to the messages and deadlines kept. The store holds 100,000 messages
// (100 pending, 40 of them to a mailbox endpoint; 100 waiting for a receipt) and 100,000
// deadlines (about 20 due), analysed; each statement runs under EXPLAIN ANALYZE in a transaction
// that is rolled back, and the rows its plan read are counted.
TEST(PostgresStore, StartAndLeasePassReadPendingWorkNotHistory) {
  auto c = migrated_database("pending_plans");
  ASSERT_TRUE(c);
  constexpr std::int64_t kNow = 50000 * 1000;  // at_ms(kNow): the 50,000th message's time
  const auto filled = c->exec(R"(
INSERT INTO messages (id, envelope_id, sender_gln, receiver_gln, sender_endpoint,
                      receiver_endpoint, body, acceptance, receipt_requested, contains_cpr,
                      received_at, state, attempts, next_attempt_at, receipt_sent_at)
SELECT i, 'E' || i, '5790000123450', '5790000123467', 'psyk',
       CASE WHEN i % 1000 <> 0 THEN 'e' || (i % 5) WHEN (i / 1000) % 5 < 2 THEN 'e0' ELSE 'e1' END,
       '\x00', '\x00',
       1, 0, 1790000000000 + i * 1000,
       CASE WHEN i % 1000 = 0 THEN 'pending' ELSE 'delivered' END,
       1, 1790000000000 + i * 1000,
       CASE WHEN i % 1000 = 1 THEN 1790000000000 + i * 1000 END
FROM generate_series(1, 100000) AS i;
INSERT INTO delivery_leases (message_id, owner, lease_until)
SELECT id, CASE WHEN id % 3000 = 0 THEN 'node-a' ELSE 'node-b' END, 1790000000000 + 60000000
FROM messages WHERE state = 'pending' AND id % 2000 = 0;
INSERT INTO deadlines (requester_gln, letter_id, kind, owed_by, owed_to, form, opened_at, due,
                       due_end, state, days_late, overdue, reminder_steps_done, next_action_at,
                       generation, notice_late)
SELECT '579000012345', 'L' || i, 'certificate', 'e' || (i % 5), 'psyk', 'LÆ125',
       1790000000000 + i * 1000, '2026-12-03', 1790000000000 + i * 1000 + 864000000,
       CASE WHEN i % 7 < 3 THEN 'open' ELSE 'answered-on-time' END, 0, 0, 0,
       CASE WHEN i % 7 >= 3 THEN NULL
            WHEN i % 2000 = 0 THEN 1790000000000 + i * 10
            ELSE 1790000000000 + 25920000000 + i END,
       0, 0
FROM generate_series(1, 100000) AS i;
ANALYZE messages; ANALYZE deadlines; ANALYZE delivery_leases; ANALYZE mailbox_leases)",
                              "fill");
  ASSERT_TRUE(filled) << filled.error().detail;
  auto statements = PostgresStore::start_statements(at_ms(kNow), 100);
  for (auto& s :
       PostgresStore::lease_pass_statements("node-a", "e0", at_ms(kNow), at_ms(kNow + 60000), 100))
    statements.push_back(std::move(s));
  ASSERT_EQ(statements.size(), 9u);
  for (const auto& statement : statements) {
    const auto plan = explain(*c, "explain_" + statement.name, statement.sql, statement.params,
                              statement.types, /*analyze=*/true);
    ASSERT_FALSE(plan.empty()) << statement.name;
    std::vector<std::string> why;
    find_history_scans(plan, why);
    EXPECT_TRUE(why.empty()) << statement.name << ": " << why.front() << "\n" << plan.dump(1);
    // The pending work is at most 100 messages, 100 receipts owed, ~20 due deadlines and a few
    // leases; the statements may read each a few times (a join probes by id), never the 100,000.
    EXPECT_LT(history_rows_read(plan), 1000.0) << statement.name << "\n" << plan.dump(1);
  }
}

// Issue 8's lease passes on PostgreSQL: a claim between the full ones finds what is free from
// the leases that ended, and never reads the deliveries other brokers hold; the full claim a
// minute later takes the pending messages nobody ever leased (postgres_leases.cpp, kEnded).
TEST(PostgresStore, AClaimReadsTheLeasesThatEndedNotTheDeliveriesHeld) {
  const auto db = fresh_postgres_database("claim_ended");
  ASSERT_FALSE(db.empty());
  auto s = open_store(db);
  auto c = connect(db);
  ASSERT_TRUE(s && c);
  const auto sec = [](int n) { return at_ms(1'000'000) + std::chrono::seconds{n}; };
  const auto ids = [](const Result<std::vector<PendingDelivery>>& r) {
    EXPECT_TRUE(r) << r.error().detail;
    std::vector<std::int64_t> out;
    for (const auto& p : r ? *r : std::vector<PendingDelivery>{}) out.push_back(p.message_id);
    std::sort(out.begin(), out.end());
    return out;
  };
  EXPECT_TRUE(ids(s->claim_deliveries("node-x", sec(0), sec(120), 100)).empty())
      << "node-x's first claim, the full one, on an empty store";
  // 20,000 pending: 19,980 held by node-a (alive); 10 whose lease of its own ended (node-c);
  // 5 of node-b, whose row lapsed; 3 of node-a's epoch before; 2 never leased.
  const auto filled = c->exec(R"(
INSERT INTO messages (id, envelope_id, sender_gln, receiver_gln, sender_endpoint,
                      receiver_endpoint, body, acceptance, receipt_requested, contains_cpr,
                      received_at, state, attempts, next_attempt_at)
SELECT i, 'E' || i, '5790000123450', '5790000123467', 'jc', 'psyk', '\x00', '\x00', 0, 0,
       1790000000000 + i, 'pending', 0, 1790000000000 + i
FROM generate_series(1, 20000) AS i;
INSERT INTO broker_leases VALUES ('node-a', 2, 9000000000000), ('node-b', 1, 1000000);
INSERT INTO delivery_leases (message_id, owner, lease_until, epoch)
SELECT i, CASE WHEN i <= 19980 OR i > 19995 THEN 'node-a' WHEN i <= 19990 THEN 'node-c'
               ELSE 'node-b' END,
       CASE WHEN i > 19980 AND i <= 19990 THEN 999000 ELSE 9223372036854775807 END,
       CASE WHEN i <= 19980 THEN 2 WHEN i <= 19990 THEN NULL ELSE 1 END
FROM generate_series(1, 19998) AS i;
ANALYZE messages; ANALYZE delivery_leases; ANALYZE broker_leases)",
                              "fill");
  ASSERT_TRUE(filled) << filled.error().detail;
  const auto statements =
      PostgresStore::lease_pass_statements("node-x", "psyk", sec(1), sec(120), 100);
  const auto ended = std::find_if(statements.begin(), statements.end(),
                                  [](const auto& st) { return st.name == "lease_ended"; });
  ASSERT_NE(ended, statements.end());
  const auto plan = explain(*c, "explain_ended", ended->sql, ended->params, ended->types,
                            /*analyze=*/true);
  double read = 0;
  each_plan_node(plan, [&](const nlohmann::json& n) {
    if (n.contains("Relation Name"))
      read += (n.value("Actual Rows", 0.0) + n.value("Rows Removed by Filter", 0.0)) *
              std::max(1.0, n.value("Actual Loops", 1.0));
  });
  EXPECT_LT(read, 1000.0) << "not the 19,980 held\n" << plan.dump(1);

  std::vector<std::int64_t> free;
  for (std::int64_t i = 19981; i <= 19998; ++i) free.push_back(i);
  EXPECT_EQ(ids(s->claim_deliveries("node-x", sec(1), sec(120), 100)), free)
      << "the ended ones, not the never leased";
  EXPECT_EQ(ids(s->claim_deliveries("node-x", sec(60), sec(120), 100)),
            (std::vector<std::int64_t>{19999, 20000}))
      << "a minute on, the full claim";
  EXPECT_TRUE(ids(s->claim_deliveries("node-x", sec(61), sec(120), 100)).empty());
}

// --- backup and restore (issue 11, item 5): pg_dump, then pg_restore into a new database ---

TEST(PostgresStore, ABackupWithPgDumpRestoresWithPgRestoreAndVerifies) {
  auto* server = store_test::postgres_server();
  ASSERT_TRUE(server);
  const auto db = fresh_postgres_database("backup_source");
  ASSERT_FALSE(db.empty());
  std::vector<MessageRecord> before;
  std::string last_hash;
  {
    auto s = open_store(db);
    ASSERT_TRUE(s);
    for (int i = 1; i <= 6; ++i)
      ASSERT_TRUE(
          accept_message(*s, make_message("E" + std::to_string(i), {"B" + std::to_string(i)})));
    ASSERT_TRUE(s->update_delivery(2, DeliveryState::kDelivered, 1, at_ms(5), "",
                                   MessageEvent{2, at_ms(5), "delivered", "200", {}}));
    ASSERT_TRUE(s->put_deadline(make_deadline("B1", at_ms(0), at_ms(kDayMs)), 1,
                                MessageEvent{1, at_ms(1), "deadline-opened", "due", {}}));
    ASSERT_TRUE(s->audit(at_ms(6), "refused", "malformed XML from 127.0.0.1"));
    auto listed = s->list_messages(store_test::filter({}, {}, 0, 100));
    ASSERT_TRUE(listed);
    before = *listed;
    auto v = verify_postgres_audit_chain(db);
    ASSERT_TRUE(v && v->ok);
    last_hash = v->last_hash;
  }
  TempDir dir;
  const std::string dump = dir.file("sektorbro.dump");
  // The documented commands (docs/architecture.md): a consistent online dump in the custom
  // format, restored into an empty database.
  ASSERT_EQ(server->run_tool("pg_dump", "--format=custom --file='" + dump + "' '" + db + "'"), 0);
  auto restored = server->create_database("backup_restored");
  ASSERT_TRUE(restored) << restored.error().detail;
  ASSERT_EQ(server->run_tool("pg_restore", "--exit-on-error --no-owner --dbname='" + *restored +
                                               "' '" + dump + "'"),
            0);

  auto v = verify_postgres_audit_chain(*restored);
  ASSERT_TRUE(v) << v.error().detail;
  EXPECT_TRUE(v->ok) << v->explanation;
  EXPECT_EQ(v->last_hash, last_hash);
  auto s = open_store(*restored);
  ASSERT_TRUE(s);
  auto listed = s->list_messages(store_test::filter({}, {}, 0, 100));
  ASSERT_TRUE(listed);
  ASSERT_EQ(listed->size(), before.size());
  for (std::size_t i = 0; i < before.size(); ++i) {
    EXPECT_EQ((*listed)[i].id, before[i].id);
    EXPECT_EQ((*listed)[i].body, before[i].body);
    EXPECT_EQ((*listed)[i].state, before[i].state);
    ASSERT_EQ((*listed)[i].letters.size(), before[i].letters.size());
    EXPECT_EQ((*listed)[i].letters[0].letter_id, before[i].letters[0].letter_id);
  }
  auto d = s->find_deadline(DeadlineKey{kJobcenterGln, "B1"});
  ASSERT_TRUE(d && d->has_value());
  auto timeline = s->timeline(2);
  ASSERT_TRUE(timeline);
  ASSERT_EQ(timeline->size(), 2u);
  EXPECT_EQ((*timeline)[1].kind, "delivered");
  // The restored store carries on: the next id and the chain continue where the dump ended.
  auto next = accept_message(*s, make_message("E7", {"B7"}));
  ASSERT_TRUE(next) << next.error().detail;
  EXPECT_EQ(next->message_id, 7);
  auto after = verify_postgres_audit_chain(*restored);
  ASSERT_TRUE(after && after->ok);
  EXPECT_EQ(after->entries, v->entries + 1);
}

}  // namespace
}  // namespace sektorbro
