#include "bench/wal_pages.hpp"

#include <sqlite3.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <memory>
#include <utility>

namespace sektorbro::bench {
namespace {

constexpr std::size_t kWalHeader = 32;
constexpr std::size_t kFrameHeader = 24;
constexpr std::uint32_t kWalMagic = 0x377f0682;  // | 1: checksums over big-endian words

std::uint32_t big_endian(const unsigned char* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
         std::uint32_t{p[3]};
}

std::uint32_t word(const unsigned char* p, bool big) {
  return big ? big_endian(p)
             : (std::uint32_t{p[3]} << 24) | (std::uint32_t{p[2]} << 16) |
                   (std::uint32_t{p[1]} << 8) | std::uint32_t{p[0]};
}

// The WAL's running checksum over `n` bytes (a multiple of 8), continuing from s[0], s[1].
void checksum(const unsigned char* p, std::size_t n, bool big, std::uint32_t s[2]) {
  for (std::size_t i = 0; i < n; i += 8) {
    s[0] += word(p + i, big) + s[1];
    s[1] += word(p + i + 4, big) + s[0];
  }
}

struct Frames {
  std::size_t page_size = 0;
  std::vector<std::vector<std::uint32_t>> commits;  // the page numbers each commit wrote
};

Result<Frames> read_frames(const std::string& wal_path) {
  std::ifstream in(wal_path, std::ios::binary);
  if (!in) return make_error(Errc::kNotFound, "no WAL at " + wal_path);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // SQLite leaves an empty WAL after a checkpoint that truncates it: nothing to count.
  if (bytes.empty()) return Frames{};
  const auto* data = reinterpret_cast<const unsigned char*>(bytes.data());
  if (bytes.size() < kWalHeader || (big_endian(data) & ~1u) != kWalMagic)
    return make_error(Errc::kMalformed, wal_path + " is not a SQLite WAL");
  const bool big = (big_endian(data) & 1u) != 0;
  Frames out;
  out.page_size = big_endian(data + 8);
  if (out.page_size < 512 || out.page_size > 65536 || (out.page_size & (out.page_size - 1)))
    return make_error(Errc::kMalformed, wal_path + ": page size out of range");
  std::uint32_t sum[2] = {0, 0};
  checksum(data, 24, big, sum);
  if (sum[0] != big_endian(data + 24) || sum[1] != big_endian(data + 28))
    return make_error(Errc::kMalformed, wal_path + ": header checksum does not match");
  std::vector<std::uint32_t> pending;
  for (std::size_t at = kWalHeader; at + kFrameHeader + out.page_size <= bytes.size();
       at += kFrameHeader + out.page_size) {
    const unsigned char* frame = data + at;
    // A frame from before the log last restarted, or one torn by a crash: the log ends here.
    if (std::memcmp(frame + 8, data + 16, 8) != 0) break;
    checksum(frame, 8, big, sum);
    checksum(frame + kFrameHeader, out.page_size, big, sum);
    if (sum[0] != big_endian(frame + 16) || sum[1] != big_endian(frame + 20)) break;
    pending.push_back(big_endian(frame));
    if (big_endian(frame + 4) != 0) out.commits.push_back(std::exchange(pending, {}));
  }
  return out;
}

}  // namespace

std::size_t WalPages::frames() const {
  std::size_t n = 0;
  for (const auto& [name, count] : frames_by_btree) n += count;
  return n;
}

Result<WalPages> count_wal_pages(const std::string& database_path) {
  // The frames first: opening the database may recover the WAL, and closing it checkpoints.
  auto frames = read_frames(database_path + "-wal");
  if (!frames) return frames.error();

  sqlite3* raw = nullptr;
  const int rc = sqlite3_open_v2(database_path.c_str(), &raw, SQLITE_OPEN_READWRITE, nullptr);
  std::unique_ptr<sqlite3, decltype(&sqlite3_close)> db(raw, &sqlite3_close);
  if (rc != SQLITE_OK)
    return make_error(Errc::kStorage, "cannot open " + database_path + ": " + sqlite3_errstr(rc));
  auto query = [&](const char* sql, auto&& row) -> Result<void> {
    sqlite3_stmt* raw_stmt = nullptr;
    if (sqlite3_prepare_v2(db.get(), sql, -1, &raw_stmt, nullptr) != SQLITE_OK)
      return make_error(Errc::kStorage, std::string(sql) + ": " + sqlite3_errmsg(db.get()));
    std::unique_ptr<sqlite3_stmt, decltype(&sqlite3_finalize)> stmt(raw_stmt, &sqlite3_finalize);
    int step;
    while ((step = sqlite3_step(stmt.get())) == SQLITE_ROW) row(stmt.get());
    if (step != SQLITE_DONE)
      return make_error(Errc::kStorage, std::string(sql) + ": " + sqlite3_errmsg(db.get()));
    return {};
  };

  std::map<std::uint32_t, std::string> owner;
  if (auto r = query("SELECT name, pageno FROM dbstat",
                     [&](sqlite3_stmt* s) {
                       owner[static_cast<std::uint32_t>(sqlite3_column_int64(s, 1))] =
                           reinterpret_cast<const char*>(sqlite3_column_text(s, 0));
                     });
      !r)
    return r.error();
  std::int64_t auto_vacuum = 0;
  if (auto r = query("PRAGMA auto_vacuum",
                     [&](sqlite3_stmt* s) { auto_vacuum = sqlite3_column_int64(s, 0); });
      !r)
    return r.error();
  // The bytes reserved at the end of each page (byte 20 of the database header) are not usable.
  std::size_t reserved = 0;
  {
    std::ifstream file(database_path, std::ios::binary);
    char header[21] = {};
    if (file.read(header, sizeof header)) reserved = static_cast<unsigned char>(header[20]);
  }

  WalPages out;
  out.page_size = frames->page_size;
  const auto pages_per_map = static_cast<std::uint32_t>((out.page_size - reserved) / 5 + 1);
  for (const auto& commit : frames->commits) {
    out.frames_per_commit.push_back(commit.size());
    for (const std::uint32_t page : commit) {
      if (auto it = owner.find(page); it != owner.end())
        ++out.frames_by_btree[it->second];
      else if (auto_vacuum != 0 && page >= 2 && (page - 2) % pages_per_map == 0)
        ++out.frames_by_btree[kPointerMapPages];
      else
        ++out.frames_by_btree[kFreePages];
    }
  }
  return out;
}

std::string format_wal_pages(const WalPages& pages) {
  std::string out;
  char line[160];
  std::snprintf(line, sizeof line, "WAL: %zu frames of %zu bytes in %zu complete commits",
                pages.frames(), pages.page_size, pages.frames_per_commit.size());
  out += line;
  std::string sep = " (";
  for (const std::size_t n : pages.frames_per_commit) {
    out += sep + std::to_string(n);
    sep = ", ";
  }
  out += pages.frames_per_commit.empty() ? "\n" : " frames)\n";
  std::vector<std::pair<std::string, std::size_t>> rows(pages.frames_by_btree.begin(),
                                                        pages.frames_by_btree.end());
  std::stable_sort(rows.begin(), rows.end(),
                   [](const auto& a, const auto& b) { return a.second > b.second; });
  const double total = static_cast<double>(std::max<std::size_t>(pages.frames(), 1));
  for (const auto& [name, count] : rows) {
    std::snprintf(line, sizeof line, "  %-32s %7zu  %5.1f %%\n", name.c_str(), count,
                  100.0 * static_cast<double>(count) / total);
    out += line;
  }
  return out;
}

}  // namespace sektorbro::bench
