// sektorbro-wal-pages DATABASE: which tables and indexes the frames in DATABASE-wal belong to
// (wal_pages.hpp). Give it a copy: opening the database recovers the WAL, closing checkpoints it.
//
//   kill -9 <broker pid>; cp store.db store.db-wal /tmp/x/; sektorbro-wal-pages /tmp/x/store.db
#include <iostream>

#include "bench/wal_pages.hpp"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: sektorbro-wal-pages DATABASE  (reads DATABASE-wal beside it)\n";
    return 2;
  }
  auto pages = sektorbro::bench::count_wal_pages(argv[1]);
  if (!pages) {
    std::cerr << "sektorbro-wal-pages: " << pages.error().detail << "\n";
    return 1;
  }
  std::cout << sektorbro::bench::format_wal_pages(*pages);
  return 0;
}
