// Backup of a live SQLite store (issue 11, item 5): sektorbro-backup, through its real binary,
// copies the store of a real broker process while another thread keeps posting requests; the
// check of the copy passes (integrity, audit chain) and the copy holds every message the broker
// acknowledged (202) before the backup began. Then the copy is restored into a fresh folder and
// a broker starts on it.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <atomic>
#include <mutex>
#include <thread>

#include "tests/integration/broker_fixture.hpp"
#include "tests/integration/tool_run.hpp"

namespace sektorbro::testing {
namespace {

ToolRun run_backup_tool(const std::string& args) { return run_tool(SEKTORBRO_BACKUP_BIN, args); }

// Whether the store file at `path` holds a letter with this id (opened read-only).
bool holds_letter(sqlite3* db, const std::string& letter_id) {
  sqlite3_stmt* s = nullptr;
  if (sqlite3_prepare_v2(db, "SELECT count(*) FROM letters WHERE letter_id = ?1", -1, &s,
                         nullptr) != SQLITE_OK)
    return false;
  sqlite3_bind_text(s, 1, letter_id.c_str(), -1, SQLITE_TRANSIENT);
  const bool found = sqlite3_step(s) == SQLITE_ROW && sqlite3_column_int64(s, 0) == 1;
  sqlite3_finalize(s);
  return found;
}

class Backup : public BrokerFixture {};

TEST_F(Backup, AnOnlineBackupHoldsEveryAcknowledgedMessageAndVerifies) {
  start();
  std::mutex mu;
  std::vector<std::string> acknowledged;  // in the order the 202s came
  std::atomic<bool> stop{false};
  std::atomic<int> refused{0};
  const std::string url = broker->url("/v1/messages");
  std::thread writer([&] {
    HttpClient own;  // a client of its own: the fixture's is the test thread's
    for (int i = 0; !stop; ++i) {
      const std::string letter = "BK" + std::to_string(i);
      const auto request = make_certificate_request(jc_party, psy_party, "ENV-" + letter, letter,
                                                    SystemClock{}.now());
      const auto answer = own.post(url, encode_envelope(request));
      if (answer.status == 202) {
        std::lock_guard lock(mu);
        acknowledged.push_back(letter);
      } else {
        ++refused;
      }
    }
  });
  auto acknowledged_count = [&] {
    std::lock_guard lock(mu);
    return acknowledged.size();
  };
  ASSERT_TRUE(eventually([&] { return acknowledged_count() >= 40; }));
  // Everything acknowledged up to here must be in the copy.
  std::vector<std::string> before;
  {
    std::lock_guard lock(mu);
    before = acknowledged;
  }
  const std::string copy = dir.path() + "/backup.db";
  const auto made =
      run_backup_tool("backup --store '" + dir.path() + "/broker.db' --to '" + copy + "'");
  // The broker kept taking messages while the copy was made, and after it.
  const std::size_t during = acknowledged_count();
  ASSERT_TRUE(eventually([&] { return acknowledged_count() >= during + 10; }));
  stop = true;
  writer.join();
  ASSERT_EQ(made.status, 0) << made.output;
  EXPECT_NE(made.output.find("backup written"), std::string::npos) << made.output;
  EXPECT_EQ(refused.load(), 0);

  const auto checked = run_backup_tool("check --backup '" + copy + "'");
  EXPECT_EQ(checked.status, 0) << checked.output;
  EXPECT_NE(checked.output.find("integrity: ok"), std::string::npos) << checked.output;
  EXPECT_NE(checked.output.find("audit chain ok"), std::string::npos) << checked.output;
  EXPECT_NE(checked.output.find("backup ok"), std::string::npos) << checked.output;

  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open_v2(copy.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  std::size_t missing = 0;
  for (const auto& letter : before)
    if (!holds_letter(db, letter)) ++missing;
  sqlite3_close(db);
  EXPECT_EQ(missing, 0u) << "of " << before.size() << " acknowledged before the backup";

  // A second backup to the same name is refused; nothing is overwritten.
  const auto again =
      run_backup_tool("backup --store '" + dir.path() + "/broker.db' --to '" + copy + "'");
  EXPECT_EQ(again.status, 2) << again.output;

  // Restore: the copy is the store of a broker started in a fresh folder.
  TempDir restored;
  ASSERT_EQ(std::rename(copy.c_str(), (restored.path() + "/broker.db").c_str()), 0);
  std::string error;
  auto second = BrokerProcess::start(BrokerProcess::default_binary(), restored.path(),
                                     config.dump(2), error);
  ASSERT_TRUE(second) << error;
  HttpClient reader;
  const auto shown = reader.get(second->url("/v1/letters/" + before.front()));
  EXPECT_EQ(shown.status, 200) << shown.body;
  EXPECT_NE(shown.body.find(before.front()), std::string::npos) << shown.body;
}

TEST_F(Backup, TheCheckFailsOnATamperedCopy) {
  start();
  ASSERT_EQ(post(make_certificate_request(jc_party, psy_party, "ENV-T1", "T1", clock.now())).status,
            202);
  const std::string copy = dir.path() + "/backup.db";
  ASSERT_EQ(run_backup_tool("backup --store '" + dir.path() + "/broker.db' --to '" + copy + "'")
                .status,
            0);
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open_v2(copy.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "UPDATE message_bodies SET body = CAST('x' AS BLOB)", nullptr, nullptr,
                         nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  const auto checked = run_backup_tool("check --backup '" + copy + "'");
  EXPECT_EQ(checked.status, 1) << checked.output;
  EXPECT_NE(checked.output.find("row-altered"), std::string::npos) << checked.output;
  EXPECT_EQ(run_backup_tool("check").status, 2);
  EXPECT_EQ(run_backup_tool("check --backup '" + dir.path() + "/nope.db'").status, 2);
}

}  // namespace
}  // namespace sektorbro::testing
