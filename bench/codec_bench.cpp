// sektorbro-codec-bench: what the XML codec costs per message on the broker's io thread
// (issue 8, speed), without HTTP, store or threads around it.
//
//   sektorbro-codec-bench [--rounds 7] [--iterations 2000] [--only native]
//
// Cases:
//   native  the exact 4 KB CertificateRequest the side-by-side bench posts (bench/
//           sektorbro_load.cpp, LetterTemplate), with fresh ids like the bench's clients:
//           decode   = decode_envelope (what intake does with the POST body),
//           check    = validate_envelope + sha256_hex(encode_letter) per letter (the intake
//                      decision's validation and content hash),
//           encode   = encode_envelope (the stored body, delivered as is to a native receiver);
//   oioxml  tests/data/medcom/05_oioxml_XDIS91_pluspositivkvitt_to_municipality.xml and
//   fhir    tests/data/medcom/fhir/hospital_notification_admit.xml:
//           decode   = decode_inbound (the edge codec, as intake calls it),
//           encode   = encode_outbound in the same dialect (a delivery to such a receiver).
//
// Each round times `iterations` calls of every operation in turn (the operations interleave, so
// a noisy neighbour hurts them alike); printed per operation: the median over rounds of µs per
// call (wall clock, the best round, and this thread's CPU time, which a busy machine distorts
// less), and the heap allocations and bytes per call (counted by this binary's own replacement
// of the global operator new, single-threaded, outside the timed loops). Not a test.
#include <time.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <iostream>
#include <new>
#include <sstream>
#include <string>
#include <vector>

#include "bench/bench_stats.hpp"
#include "bench/sektorbro_load.hpp"
#include "broker/codec/codec.hpp"
#include "broker/codec/validation.hpp"
#include "broker/core/clock.hpp"
#include "broker/core/identifiers.hpp"
#include "broker/edge/edge_codec.hpp"

namespace {

std::size_t g_allocations = 0;
std::size_t g_allocated_bytes = 0;

}  // namespace

// Counting allocator for this binary only: every operator new form ends in these two.
void* operator new(std::size_t size) {
  ++g_allocations;
  g_allocated_bytes += size;
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t size) { return operator new(size); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }

namespace sektorbro::bench {
namespace {

using Clock = std::chrono::steady_clock;

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

template <typename T>
T must(Result<T> r, const char* what) {
  if (!r) {
    std::cerr << what << ": " << r.error().detail << "\n";
    std::exit(1);
  }
  return std::move(*r);
}

double thread_cpu_us() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) * 1e6 + static_cast<double>(t.tv_nsec) / 1e3;
}

struct Operation {
  std::string name;
  std::function<std::size_t(std::size_t)> run;  // call k; returns a byte count (kept alive)
  std::vector<double> us;                       // wall clock per call, one per round
  std::vector<double> cpu_us;  // this thread's CPU time per call: less hurt by a busy machine
  double allocations = 0;
  double bytes = 0;
};

int run(int argc, char** argv) {
  int rounds = 7;
  std::size_t iterations = 2000;
  std::string only;  // run only the operations whose name starts with this
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string key = argv[i];
    if (key == "--rounds")
      rounds = std::atoi(argv[i + 1]);
    else if (key == "--only")
      only = argv[i + 1];
    else if (key == "--iterations")
      iterations = std::strtoull(argv[i + 1], nullptr, 10);
    else {
      std::cerr
          << "usage: sektorbro-codec-bench [--rounds 7] [--iterations 2000] [--only PREFIX]\n";
      return 2;
    }
  }
  const TimePoint now = SystemClock{}.now();

  // The side-by-side bench's letters, with fresh ids as its clients send them.
  const BenchParties parties;
  const LetterTemplate letters(parties);
  std::vector<std::string> native;
  for (std::size_t k = 0; k < 64; ++k) native.push_back(letters.with_id('c', k + 1));
  const Envelope native_envelope = must(decode_envelope(native[0]), "native sample");
  if (auto valid = validate_envelope(native_envelope, now); !valid) {
    std::cerr << "native sample does not validate: " << valid.error().detail << "\n";
    return 1;
  }

  const std::string data = SEKTORBRO_SOURCE_DIR "/tests/data/medcom/";
  const std::string oioxml =
      read_file(data + "05_oioxml_XDIS91_pluspositivkvitt_to_municipality.xml");
  const std::string fhir = read_file(data + "fhir/hospital_notification_admit.xml");
  const Envelope oioxml_envelope = *must(decode_inbound(oioxml, now), "oioxml sample").envelope;
  const Envelope fhir_envelope = *must(decode_inbound(fhir, now), "fhir sample").envelope;
  must(encode_outbound(oioxml_envelope, Dialect::kOioxml, now, "bench"), "oioxml encode");
  must(encode_outbound(fhir_envelope, Dialect::kFhir, now, "bench"), "fhir encode");

  std::vector<Operation> ops;
  const auto add = [&](std::string name, std::function<std::size_t(std::size_t)> fn) {
    Operation op;
    op.name = std::move(name);
    op.run = std::move(fn);
    ops.push_back(std::move(op));
  };
  add("native decode",
      [&](std::size_t k) { return decode_envelope(native[k % native.size()])->letters.size(); });
  add("native check", [&](std::size_t) {
    std::size_t n = validate_envelope(native_envelope, now) ? 1 : 0;
    for (const auto& letter : native_envelope.letters)
      n += sha256_hex(encode_letter(letter)).size();
    return n;
  });
  add("native encode", [&](std::size_t) { return encode_envelope(native_envelope).size(); });
  add("oioxml decode",
      [&](std::size_t) { return decode_inbound(oioxml, now)->envelope->letters.size(); });
  add("oioxml encode", [&](std::size_t) {
    return encode_outbound(oioxml_envelope, Dialect::kOioxml, now, "bench")->size();
  });
  add("fhir decode",
      [&](std::size_t) { return decode_inbound(fhir, now)->envelope->letters.size(); });
  add("fhir encode", [&](std::size_t) {
    return encode_outbound(fhir_envelope, Dialect::kFhir, now, "bench")->size();
  });

  std::erase_if(ops, [&](const Operation& op) { return !op.name.starts_with(only); });
  if (ops.empty()) {
    std::cerr << "no operation starts with " << only << "\n";
    return 2;
  }

  // Allocations per call: the median of a few single calls (the first may fill caches).
  std::size_t sink = 0;
  for (auto& op : ops) {
    std::vector<double> counts, bytes;
    for (std::size_t k = 0; k < 5; ++k) {
      const std::size_t a0 = g_allocations, b0 = g_allocated_bytes;
      sink += op.run(k);
      counts.push_back(static_cast<double>(g_allocations - a0));
      bytes.push_back(static_cast<double>(g_allocated_bytes - b0));
    }
    op.allocations = median(counts);
    op.bytes = median(bytes);
  }

  for (int round = 0; round < rounds; ++round) {
    for (auto& op : ops) {
      const auto t0 = Clock::now();
      const double cpu0 = thread_cpu_us();
      for (std::size_t k = 0; k < iterations; ++k) sink += op.run(k);
      const std::chrono::duration<double, std::micro> spent = Clock::now() - t0;
      op.us.push_back(spent.count() / static_cast<double>(iterations));
      op.cpu_us.push_back((thread_cpu_us() - cpu0) / static_cast<double>(iterations));
    }
  }

  std::printf("native letter %zu bytes, oioxml sample %zu bytes, fhir sample %zu bytes\n",
              native[0].size(), oioxml.size(), fhir.size());
  std::printf("%d rounds x %zu calls per operation (medians over rounds)\n", rounds, iterations);
  std::printf("%-16s %10s %10s %12s %12s %12s\n", "operation", "us/call", "min us", "allocs/call",
              "bytes/call", "cpu us/call");
  for (const auto& op : ops) {
    std::printf("%-16s %10.2f %10.2f %12.0f %12.0f %12.2f\n", op.name.c_str(), median(op.us),
                *std::min_element(op.us.begin(), op.us.end()), op.allocations, op.bytes,
                median(op.cpu_us));
  }
  if (only.empty())
    std::printf(
        "native per message (decode + check + encode): %.2f us (cpu %.2f us), %.0f allocations\n",
        median(ops[0].us) + median(ops[1].us) + median(ops[2].us),
        median(ops[0].cpu_us) + median(ops[1].cpu_us) + median(ops[2].cpu_us),
        ops[0].allocations + ops[1].allocations + ops[2].allocations);
  return sink == 0 ? 1 : 0;
}

}  // namespace
}  // namespace sektorbro::bench

int main(int argc, char** argv) { return sektorbro::bench::run(argc, argv); }
