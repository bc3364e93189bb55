// CHECK constraints SQLite can evaluate cheaply (issue 8). SQLite evaluates a table's CHECKs for
// every row an INSERT writes and for every UPDATE of a column they name. For `x IN (a, b, c)`
// with three or more values it builds a temporary B-tree of the list on each evaluation
// (`OpenEphemeral` in EXPLAIN): with five such lists among the rows of one letter that was ~8 % of
// the writer thread under load (docs/performance.md, "CHECK lists"). The same condition written
// as comparisons joined by OR is a few byte-code steps. Pure.
#pragma once

#include <string>
#include <string_view>

namespace sektorbro {

// `create_table_sql` with every `CHECK (column IN (v1, v2, v3, …))` whose list holds three or more
// literals (single-quoted strings without a quote inside, or integers) written as
// `CHECK (column = v1 OR column = v2 OR …)`. Both forms give the same truth value for every row,
// NULL included (SQL's three-valued logic), so the rows a table holds satisfy either. Every other
// byte is copied unchanged; a CHECK of another shape is left as it is.
std::string expand_check_in_lists(std::string_view create_table_sql);

}  // namespace sektorbro
