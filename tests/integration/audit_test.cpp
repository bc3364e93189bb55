// The audit chain's key and checkpoint through the real broker (issue 12, item 5): a broker
// configured with audit.key_file and audit.checkpoint_file seals its entries with the key and,
// at a clean shutdown (SIGTERM), writes the head to the checkpoint file; sektorbro-audit verify
// with both passes, and fails once entries are cut off the end. Without a key the broker says at
// start-up that the chain is unkeyed.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <fstream>

#include "tests/integration/broker_fixture.hpp"
#include "tests/integration/tool_run.hpp"

namespace sektorbro::testing {
namespace {

ToolRun run_audit_tool(const std::string& args) { return run_tool(SEKTORBRO_AUDIT_BIN, args); }

class AuditWiring : public BrokerFixture {};

TEST_F(AuditWiring, AKeyedBrokerWritesItsCheckpointAtShutdownAndVerifyUsesBoth) {
  const std::string key = dir.path() + "/audit.key";
  std::ofstream(key) << std::string(48, 'q') << "\n";
  const std::string checkpoint = dir.path() + "/audit.checkpoint";
  config["audit"] = {{"key_file", key}, {"checkpoint_file", checkpoint}};
  start();
  for (const char* id : {"AW1", "AW2", "AW3"})
    ASSERT_EQ(post(make_certificate_request(jc_party, psy_party, std::string("ENV-") + id, id,
                                            clock.now()))
                  .status,
              202);
  EXPECT_EQ(broker->log().find("UNKEYED"), std::string::npos);
  ASSERT_EQ(broker->terminate(), 0);
  std::ifstream written(checkpoint);
  ASSERT_TRUE(written.good()) << "no checkpoint at shutdown";
  const std::string store = dir.path() + "/broker.db";
  const std::string both = " --key-file '" + key + "' --checkpoint '" + checkpoint + "'";
  const auto good = run_audit_tool("verify --store '" + store + "'" + both);
  EXPECT_EQ(good.status, 0) << good.output;
  EXPECT_NE(good.output.find("matches"), std::string::npos) << good.output;
  EXPECT_EQ(good.output.find("keyed entries: 0"), std::string::npos) << good.output;
  // Cut the last entry off: the checkpoint shows it.
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(store.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db,
                         "DROP TRIGGER audit_chain_no_delete; "
                         "DELETE FROM audit_chain WHERE seq = (SELECT max(seq) FROM audit_chain)",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  const auto cut = run_audit_tool("verify --store '" + store + "'" + both + " --no-rows");
  EXPECT_EQ(cut.status, 1) << cut.output;
  EXPECT_NE(cut.output.find("truncated"), std::string::npos) << cut.output;
}

TEST_F(AuditWiring, WithoutAKeyTheBrokerSaysTheChainIsUnkeyed) {
  start();
  EXPECT_NE(broker->log().find("audit chain UNKEYED"), std::string::npos) << broker->log();
}

}  // namespace
}  // namespace sektorbro::testing
