// The "store" section (issue 11): which store the broker opens — the SQLite file (default) or a
// PostgreSQL database — and what each kind needs. A conninfo may hold a password: no error text
// repeats it.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "broker/config/config.hpp"

namespace sektorbro {
namespace {

using json = nlohmann::json;

json with_store(json store) {
  json doc = json::parse(R"({
    "listen": {"allow_plain_http": true},
    "identity": {"gln": "5790000000012", "sor": "100001000016003", "name": "Sektorbro"},
    "endpoints": [
      {"id": "jc-aarhus", "kind": "jobcenter", "name": "Jobcenter Aarhus",
       "gln": "5790000751013", "sor": "751101000016005",
       "identifier_code": "kommunenummer", "identifier": "751",
       "url": "http://127.0.0.1:9101/inbox", "accepts": ["Certificate"]}
    ]
  })");
  if (!store.is_null()) doc["store"] = std::move(store);
  return doc;
}

std::string refusal(const json& doc) {
  auto config = parse_config(doc.dump());
  EXPECT_FALSE(config);
  if (config) return "<accepted>";
  EXPECT_EQ(config.error().code, Errc::kConfig);
  return config.error().detail;
}

TEST(StoreConfig, SqliteIsTheDefault) {
  auto config = parse_config(with_store(nullptr).dump());
  ASSERT_TRUE(config) << config.error().detail;
  EXPECT_EQ(config->store.kind, StoreConfig::Kind::kSqlite);
  EXPECT_EQ(config->store.path, "var/sektorbro.db");
  EXPECT_TRUE(config->store.conninfo.empty());

  auto explicit_sqlite = parse_config(with_store({{"kind", "sqlite"}, {"path", "x.db"}}).dump());
  ASSERT_TRUE(explicit_sqlite) << explicit_sqlite.error().detail;
  EXPECT_EQ(explicit_sqlite->store.kind, StoreConfig::Kind::kSqlite);
  EXPECT_EQ(explicit_sqlite->store.path, "x.db");
}

TEST(StoreConfig, PostgresTakesAConninfo) {
  const std::string conninfo = "host=db1 port=5433 dbname=sektorbro user=sb password=s3cret";
  auto config = parse_config(
      with_store({{"kind", "postgres"}, {"conninfo", conninfo}, {"group_commit_max", 64}}).dump());
  ASSERT_TRUE(config) << config.error().detail;
  EXPECT_EQ(config->store.kind, StoreConfig::Kind::kPostgres);
  EXPECT_EQ(config->store.conninfo, conninfo);
  EXPECT_EQ(config->store.group_commit_max, 64u);
}

TEST(StoreConfig, WrongOrMissingSettingsAreRefusedClearly) {
  EXPECT_EQ(refusal(with_store({{"kind", "mysql"}})),
            "store.kind: must be \"sqlite\" or \"postgres\" (got \"mysql\")");
  EXPECT_EQ(refusal(with_store({{"kind", 1}})), "store.kind: must be a string");
  EXPECT_EQ(refusal(with_store({{"kind", "postgres"}})),
            "store.conninfo: is required when kind is \"postgres\" (a libpq connection string, "
            "e.g. \"host=db1 dbname=sektorbro user=sektorbro\")");
  EXPECT_EQ(refusal(with_store({{"kind", "postgres"}, {"conninfo", ""}})),
            "store.conninfo: must be a non-empty libpq connection string");
  EXPECT_EQ(refusal(with_store({{"kind", "postgres"}, {"conninfo", "dbname=x"}, {"path", "a.db"}})),
            "store.path: is for kind \"sqlite\"; a PostgreSQL store takes \"conninfo\"");
  // A conninfo without "kind": postgres is never guessed, and the value is not repeated.
  const std::string refused = refusal(with_store({{"conninfo", "dbname=x password=s3cret"}}));
  EXPECT_EQ(refused, "store.conninfo: is for kind \"postgres\" (set \"kind\": \"postgres\")");
  EXPECT_EQ(refused.find("s3cret"), std::string::npos);
  EXPECT_NE(refusal(with_store({{"kind", "postgres"}, {"conninfo", "x"}, {"host", "db"}}))
                .find("store.host: unknown key"),
            std::string::npos);
}

}  // namespace
}  // namespace sektorbro
