// Which B-trees a SQLite store's WAL frames belong to (issue 8, "fewer rows and bytes per
// message"): the writer's CPU follows the pages each commit writes (every page it touched, once
// per commit, then once more by the checkpoint), so this is where the bytes per letter come from.
//
// Reads the frame headers of `<database>-wal` (the WAL format: a 32-byte header, then per frame
// a 24-byte header and one page; a frame whose salts differ from the header's is left over from
// before the last restart, and one whose running checksum fails was torn by a crash: either
// ends the log; a frame with a non-zero "database size" ends a commit; an empty file, as a
// truncating checkpoint leaves it, has no frames), keeps the frames of complete commits, and
// names each frame's page by the B-tree that owns it now (the `dbstat` virtual table, read
// through the WAL). Pages `dbstat` does not list are pointer-map pages when the file has
// auto_vacuum (SQLite's file format: the first at page 2, then one every usable_size / 5 + 1
// pages), or else free pages.
//
// Opening the database runs SQLite's WAL recovery, and closing the last connection checkpoints
// the WAL into the file: give it a copy (taken after `kill -9` of the broker, or while no writer
// runs), or a database another connection keeps open. A diagnostic, not part of the broker.
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <vector>

#include "broker/core/result.hpp"

namespace sektorbro::bench {

// The name count_wal_pages gives pointer-map pages and pages no B-tree owns.
inline constexpr const char* kPointerMapPages = "(pointer map)";
inline constexpr const char* kFreePages = "(free or unknown)";

struct WalPages {
  std::size_t page_size = 0;
  std::vector<std::size_t> frames_per_commit;          // in log order; complete commits only
  std::map<std::string, std::size_t> frames_by_btree;  // table or index name -> frames
  std::size_t frames() const;
};

Result<WalPages> count_wal_pages(const std::string& database_path);

// One line per B-tree, most frames first, with its share, after a line with the commits.
std::string format_wal_pages(const WalPages& pages);

}  // namespace sektorbro::bench
