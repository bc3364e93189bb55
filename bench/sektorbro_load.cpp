#include "bench/sektorbro_load.hpp"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <mutex>
#include <stdexcept>
#include <string_view>
#include <thread>
#include <vector>

#include "broker/codec/codec.hpp"
#include "broker/core/clock.hpp"
#include "tests/harness/http_client.hpp"
#include "tests/harness/sample_messages.hpp"

namespace sektorbro::bench {
namespace {

constexpr const char* kPlaceholder = "QZQZQZQZQZQZQZ";  // kIdLength characters

std::string describe(const testing::HttpResult& r) {
  const auto why = r.body.find("<RefuseText>");
  return "HTTP " + std::to_string(r.status) + (r.error.empty() ? "" : " (" + r.error + ")") + ": " +
         r.body.substr(why == std::string::npos ? 0 : why, 300);
}

// Free text as filler, `bytes` long, with the statistics of prose: 2,000 words of 2–11 letters
// (Danish letter frequencies, a fixed seed), drawn with Zipf's law (the k-th most common word
// k times rarer than the first). The whole 4 KB letter then compresses about as well as MedCom's
// public XDIS91 correspondence sample (zlib level 1: 2.2 against 2.4 times); a run of one
// letter would compress ~100 times and flatter the store's compression of bodies (issue 8).
std::string filler_text(std::size_t bytes) {
  static constexpr std::string_view kLetters =
      "eeeeeeeeeerrrrrrnnnnnnnttttttiiiiiisssssddddaaaaallllloooookkkkgggmmmvvvfffuuupppbbhhjjyyc";
  std::uint32_t x = 2463534242u;  // xorshift32: the same text every run
  auto next = [&x] {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return x;
  };
  constexpr std::size_t kWords = 2000;
  std::vector<std::string> vocabulary(kWords);
  std::vector<double> cumulative(kWords);
  double total = 0;
  for (std::size_t k = 0; k < kWords; ++k) {
    const std::size_t length = 2 + next() % 10;
    for (std::size_t i = 0; i < length; ++i) vocabulary[k] += kLetters[next() % kLetters.size()];
    total += 1.0 / static_cast<double>(k + 1);
    cumulative[k] = total;
  }
  std::string text;
  while (text.size() < bytes) {
    const double u = total * (next() / 4294967296.0);
    const auto k = static_cast<std::size_t>(
        std::upper_bound(cumulative.begin(), cumulative.end(), u) - cumulative.begin());
    text += vocabulary[std::min(k, kWords - 1)];
    text += next() % 9 == 0 ? ". " : " ";
  }
  text.resize(bytes);
  return text;
}

}  // namespace

BenchParties::BenchParties()
    : jobcenter(testing::make_party("579000012345", "265161000016001", "Jobcenter Bench")),
      psychiatry(testing::make_party("579000054321", "265161000016003", "Psykiatrien Bench")),
      broker(testing::make_party("579000099999", "265161000016999", "Sektorbro")) {}

nlohmann::json bench_config(const BenchParties& p, const std::string& store_path,
                            const std::string& receiver_url, const nlohmann::json& extra) {
  auto endpoint = [&](const std::string& id, const std::string& kind, const Party& party,
                      std::vector<std::string> accepts) {
    return nlohmann::json{{"id", id},          {"kind", kind},     {"name", party.name},
                          {"gln", party.gln},  {"sor", party.sor}, {"url", receiver_url},
                          {"accepts", accepts}};
  };
  nlohmann::json config = {
      {"listen", {{"address", "127.0.0.1"}, {"port", 0}, {"allow_plain_http", true}}},
      {"store", {{"path", store_path}}},
      {"identity", {{"gln", p.broker.gln}, {"sor", p.broker.sor}, {"name", "Sektorbro"}}},
      {"endpoints",
       {endpoint("jc", "jobcenter", p.jobcenter, {"Certificate"}),
        endpoint("psy", "psychiatry", p.psychiatry, {"CertificateRequest"})}}};
  config.merge_patch(extra);
  return config;
}

LetterTemplate::LetterTemplate(const BenchParties& p, std::size_t bytes) {
  static_assert(std::char_traits<char>::length(kPlaceholder) == kIdLength);
  Envelope e = testing::make_certificate_request(p.jobcenter, p.psychiatry, kPlaceholder,
                                                 kPlaceholder, SystemClock{}.now());
  auto& body = std::get<CertificateRequest>(e.letters[0].body);
  const std::size_t size = encode_envelope(e).size();
  if (size + 40 < bytes) body.questions.push_back(filler_text(bytes - size - 40));
  xml_ = encode_envelope(e);
  for (std::size_t at = xml_.find(kPlaceholder); at != std::string::npos;
       at = xml_.find(kPlaceholder, at + kIdLength))
    id_offsets_.push_back(at);
  if (id_offsets_.size() < 2) throw std::logic_error("letter template: ids not found in the XML");
}

void LetterTemplate::write_id(char* out, char prefix, std::uint64_t counter) {
  out[0] = prefix;  // then the counter, zero-padded to 13 digits (its last 13 beyond that)
  for (std::size_t i = kIdLength - 1; i >= 1; --i) {
    out[i] = static_cast<char>('0' + counter % 10);
    counter /= 10;
  }
}

std::string LetterTemplate::with_id(char prefix, std::uint64_t counter) const {
  char id[kIdLength];
  write_id(id, prefix, counter);
  std::string xml = xml_;
  for (const std::size_t at : id_offsets_) xml.replace(at, kIdLength, id, kIdLength);
  return xml;
}

IntakeResult post_at_full_speed(const std::string& url, const LetterTemplate& letters, int clients,
                                SteadyClock::time_point start, SteadyClock::time_point end,
                                char prefix, std::atomic<std::uint64_t>& next_id) {
  std::atomic<std::uint64_t> accepted{0}, late{0}, failed{0};
  std::mutex mu;
  std::string first_failure;
  std::vector<std::thread> threads;
  for (int c = 0; c < clients; ++c) {
    threads.emplace_back([&] {
      testing::HttpClient client;
      std::this_thread::sleep_until(start);  // everyone starts together
      while (SteadyClock::now() < end) {
        const auto r = client.post(url, letters.with_id(prefix, next_id++));
        const bool in_window = SteadyClock::now() < end;
        if (r.status == 202) ++(in_window ? accepted : late);
        if (r.status != 202 && failed++ == 0) {
          std::lock_guard lock(mu);
          first_failure = describe(r);
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  return {accepted, late, failed, std::chrono::duration<double>(end - start).count(),
          first_failure};
}

LatencyResult post_at_rate(const std::string& url, const LetterTemplate& letters, int clients,
                           int rate, double seconds, char prefix,
                           std::atomic<std::uint64_t>& next_id) {
  const auto total = static_cast<std::int64_t>(rate * seconds);
  const auto t0 = SteadyClock::now() + std::chrono::milliseconds{200};
  LatencyResult result;
  std::mutex mu;
  std::vector<std::thread> threads;
  for (int c = 0; c < clients; ++c) {
    threads.emplace_back([&, c] {
      testing::HttpClient client;
      std::vector<double> mine;
      std::uint64_t failed = 0;
      std::string first;
      for (std::int64_t k = c; k < total; k += clients) {
        const auto scheduled = t0 + std::chrono::microseconds{1'000'000LL * k / rate};
        std::this_thread::sleep_until(scheduled);  // pacing the offered load
        const auto r = client.post(url, letters.with_id(prefix, next_id++),
                                   "application/xml; charset=utf-8", std::chrono::seconds{10});
        if (r.status == 202)
          mine.push_back(
              std::chrono::duration<double, std::milli>(SteadyClock::now() - scheduled).count());
        else if (failed++ == 0)
          first = describe(r);
      }
      std::lock_guard lock(mu);
      result.ms.insert(result.ms.end(), mine.begin(), mine.end());
      result.failed += failed;
      if (result.first_failure.empty()) result.first_failure = first;
    });
  }
  for (auto& t : threads) t.join();
  const double elapsed = std::chrono::duration<double>(SteadyClock::now() - t0).count();
  std::sort(result.ms.begin(), result.ms.end());
  result.offered_per_second = rate;
  result.achieved_per_second = static_cast<double>(result.ms.size()) / elapsed;
  return result;
}

}  // namespace sektorbro::bench
