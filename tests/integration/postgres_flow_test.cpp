// The real broker binary on a PostgreSQL store (issue 11, item 1): configured with
// "store": {"kind": "postgres", "conninfo": …}, it takes a letter, delivers it end to end, keeps
// it across a restart, and the database holds it with a whole audit chain. The server is a
// private PostgreSQL (tests/support/postgres_server.hpp), never a system cluster.
#include <memory>

#include "broker/store/postgres_audit_verify.hpp"
#include "broker/store/postgres_connection.hpp"
#include "tests/integration/broker_fixture.hpp"
#include "tests/support/postgres_server.hpp"

namespace sektorbro::testing {
namespace {

using std::chrono::seconds;

class PostgresFlow : public BrokerFixture {
 protected:
  void SetUp() override {
    auto server = test::PostgresServer::start();
    ASSERT_TRUE(server) << server.error().detail;
    pg = std::move(*server);
    auto db = pg->create_database("broker");
    ASSERT_TRUE(db) << db.error().detail;
    conninfo = *db;
    config["store"] = {{"kind", "postgres"}, {"conninfo", conninfo}, {"group_commit_max", 64}};
  }
  void TearDown() override {
    BrokerFixture::TearDown();
    broker.reset();  // the broker disconnects before the server stops
  }

  std::int64_t rows(const std::string& sql) {
    auto c = PgConnection::connect(conninfo);
    EXPECT_TRUE(c) << c.error().detail;
    if (!c) return -1;
    auto r = (*c)->query(sql, PgParams{}, "count");
    EXPECT_TRUE(r) << r.error().detail;
    return r ? r->int64_at(0, 0) : -1;
  }

  std::unique_ptr<test::PostgresServer> pg;
  std::string conninfo;
};

TEST_F(PostgresFlow, ALetterGoesEndToEndThroughAPostgresStoreAndSurvivesARestart) {
  start();
  const Envelope request =
      make_certificate_request(jc_party, psy_party, "ENV-PG1", "REQ-PG1", clock.now(), "LÆ285");
  const HttpResult accepted = post(request);
  ASSERT_EQ(accepted.status, 202) << accepted.body;

  ASSERT_TRUE(psy.wait_until([](auto& r) { return !r.empty(); }, seconds{20}));
  auto delivered = decode_envelope(psy.received().front().body);
  ASSERT_TRUE(delivered);
  EXPECT_EQ(*delivered, request);
  ASSERT_TRUE(eventually([&] { return message(jc_party, "REQ-PG1")["state"] == "delivered"; }))
      << message(jc_party, "REQ-PG1").dump();

  // In the database, not in the broker's memory: the row, its letter, and a chain that verifies.
  EXPECT_EQ(rows("SELECT count(*) FROM messages WHERE envelope_id = 'ENV-PG1' AND "
                 "state = 'delivered'"),
            1);
  EXPECT_EQ(rows("SELECT count(*) FROM letters WHERE letter_id = 'REQ-PG1'"), 1);
  auto verdict = verify_postgres_audit_chain(conninfo);
  ASSERT_TRUE(verdict) << verdict.error().detail;
  EXPECT_TRUE(verdict->ok) << verdict->explanation;
  EXPECT_GE(verdict->entries, 2);  // received, delivered, …

  // The broker's log names the database, never the conninfo as such (it may hold a password).
  EXPECT_NE(broker->log().find("dbname=broker"), std::string::npos) << broker->log();

  restart();
  const auto after = message(jc_party, "REQ-PG1");
  EXPECT_EQ(after["http_status"], 200) << after.dump();
  EXPECT_EQ(after["state"], "delivered") << after.dump();
  // A resend after the restart is a duplicate: the store remembers the letter.
  const HttpResult again = post(request);
  EXPECT_EQ(again.status, 202) << again.body;
  EXPECT_EQ(rows("SELECT count(*) FROM messages"), 1);
}

TEST_F(PostgresFlow, ABrokerWhoseDatabaseIsUnreachableRefusesToStartWithOneLine) {
  config["store"] = {{"kind", "postgres"},
                     {"conninfo", "host=127.0.0.1 port=1 dbname=nowhere password=Hemmelig-7 "
                                  "connect_timeout=3"}};
  std::string error;
  broker = BrokerProcess::start(BrokerProcess::default_binary(), dir.path(), config.dump(2), error);
  EXPECT_FALSE(broker);
  EXPECT_NE(error.find("cannot open PostgreSQL store"), std::string::npos) << error;
  EXPECT_EQ(error.find("Hemmelig-7"), std::string::npos) << error;
}

}  // namespace
}  // namespace sektorbro::testing
