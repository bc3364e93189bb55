// Opens the store the configuration names (issue 11): the SQLite file, locked for this broker
// alone (sqlite_store.hpp), or a PostgreSQL database several brokers may share
// (postgres_store.hpp). The shell's one place that knows both.
#pragma once

#include <memory>
#include <string>

#include "broker/config/config.hpp"
#include "broker/core/result.hpp"
#include "broker/store/store.hpp"

namespace sektorbro {

// kStorage with one line naming the store ("cannot open store var/x.db: …", or "cannot open
// PostgreSQL store (host=… dbname=…): …" — never a password).
Result<std::unique_ptr<Store>> open_configured_store(const StoreConfig& config);

// What a log line may say about the store: "var/x.db", or "postgres host=db1 dbname=sb".
std::string describe_store(const StoreConfig& config);

}  // namespace sektorbro
