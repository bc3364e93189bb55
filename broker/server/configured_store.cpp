#include "broker/server/configured_store.hpp"

#include "broker/store/postgres_connection.hpp"
#include "broker/store/postgres_store.hpp"
#include "broker/store/sqlite_store.hpp"

namespace sektorbro {

Result<std::unique_ptr<Store>> open_configured_store(const StoreConfig& config) {
  if (config.kind == StoreConfig::Kind::kPostgres) {
    auto store = PostgresStore::open(config.conninfo);
    if (!store) return store.error();
    return std::unique_ptr<Store>(std::move(*store));
  }
  // SqliteStore::open's errors already name the store ("cannot open store <path>: …").
  auto store = SqliteStore::open(config.path);
  if (!store) return store.error();
  return std::unique_ptr<Store>(std::move(*store));
}

std::string describe_store(const StoreConfig& config) {
  if (config.kind == StoreConfig::Kind::kPostgres)
    return "postgres " + describe_conninfo(config.conninfo);
  return config.path;
}

}  // namespace sektorbro
