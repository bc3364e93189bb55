// The PostgreSQL store's schema and its versions (issue 11, item 1). The version lives in the
// one-row table `schema_version`; migrate_postgres() brings a database to kPostgresSchemaVersion
// at start-up, in one transaction, under an advisory lock so brokers starting together migrate
// once. A database whose version is newer than this code knows is refused with one line: this
// broker would not know what the newer tables mean.
//
// Adding a migration: append one entry to kPostgresMigrations (postgres_migrations.cpp) and the
// version follows; never edit an entry that has shipped.
#pragma once

#include "broker/core/result.hpp"
#include "broker/store/postgres_connection.hpp"

namespace sektorbro {

// The schema version this code reads and writes.
int postgres_schema_version();

// The version a database is at (0 for an empty database). kStorage on a connection error.
Result<int> read_postgres_schema_version(PgConnection& conn);

// Creates or upgrades the schema. kStorage "schema version N is newer than this broker
// supports (M)" for a newer database; nothing is changed then.
Result<void> migrate_postgres(PgConnection& conn);

// The same up to version `target` only (1 … postgres_schema_version()); a database at or past
// it is left as it is. For upgrade tests: a database as an older broker left it.
Result<void> migrate_postgres_to(PgConnection& conn, int target);

}  // namespace sektorbro
