// sektorbro-sim: simulated jobcenter and psychiatry systems for the demo.
//
//   sektorbro-sim --config deploy/demo/sektorbro.json --broker http://127.0.0.1:8440
//                 [--seconds N] [--interval-ms M]
//
// For every endpoint in the broker's configuration it runs a real HTTP receiver on the
// endpoint's delivery URL, answers deliveries with MedCom-style receipts, and plays its part:
// jobcenters request certificates and answer discharge notices with a mentor response;
// psychiatry answers certificate requests (some quickly, some slowly) and sends discharge
// notices. Now and then a receiver answers 503, so retries show in the broker's timeline.
// Psychiatry answers about half of the requests in good time, a third late and the rest never;
// jobcenters leave some discharge notices unanswered — so the broker's reminders, overdue list
// and late shares have something to show. Dates in letters follow the broker's clock (the demo
// runs it accelerated), read from /v1/health.
// Every step prints one line. All data is fictitious.
#include <atomic>
#include <condition_variable>
#include <csignal>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <queue>
#include <random>
#include <sstream>
#include <thread>

#include "broker/codec/codec.hpp"
#include "broker/core/clock.hpp"
#include "broker/core/copenhagen_time.hpp"
#include "tests/harness/http_client.hpp"
#include "tests/harness/sample_messages.hpp"
#include "tests/support/http_receiver.hpp"

namespace sektorbro {
namespace {

using testing::HttpClient;
using testing::HttpReceiver;
using testing::ReceivedRequest;
using testing::ReplyPlan;

struct SimEndpoint {
  std::string id;
  std::string kind;
  Party party;
  unsigned short port = 0;
};

std::atomic<bool> g_stop{false};

class Simulator {
 public:
  Simulator(std::vector<SimEndpoint> endpoints, std::string broker, std::chrono::milliseconds step)
      : endpoints_(std::move(endpoints)), broker_(std::move(broker)), step_(step) {}

  int run(std::chrono::seconds duration);

 private:
  ReplyPlan on_delivery(const SimEndpoint& self, const ReceivedRequest& request);
  ReplyPlan reply_with_receipt(const Envelope& envelope);
  void later(std::chrono::milliseconds delay, std::function<void()> action);
  void send(const SimEndpoint& from, const Envelope& envelope, const std::string& what);
  std::string next_id(const std::string& prefix);
  TimePoint broker_now();
  const SimEndpoint& pick(const std::string& kind);

  std::vector<SimEndpoint> endpoints_;
  std::string broker_;
  std::chrono::milliseconds step_;
  SystemClock clock_;
  std::mutex mu_;
  std::condition_variable cv_;
  using Task = std::pair<std::chrono::steady_clock::time_point, std::function<void()>>;
  struct Later {
    bool operator()(const Task& a, const Task& b) const { return a.first > b.first; }
  };
  std::priority_queue<Task, std::vector<Task>, Later> tasks_;
  std::mt19937 rng_{20261122};
  std::atomic<unsigned> counter_{0};
  std::mutex print_mu_;
};

std::string Simulator::next_id(const std::string& prefix) {
  // Letter ids must be unique per sender across demo runs on the same store: use the clock.
  const auto ms = to_millis(clock_.now()) % 100000000;
  return prefix + std::to_string(ms) + std::to_string(counter_++ % 100);
}

TimePoint Simulator::broker_now() {
  thread_local HttpClient client;
  const auto health = client.get(broker_ + "/v1/health");
  const auto j = nlohmann::json::parse(health.body, nullptr, false);
  if (!j.is_discarded() && j.contains("now"))
    if (auto t = parse_timestamp(j["now"].get<std::string>())) return *t;
  return clock_.now();
}

const SimEndpoint& Simulator::pick(const std::string& kind) {
  std::vector<const SimEndpoint*> of_kind;
  for (const auto& e : endpoints_)
    if (e.kind == kind) of_kind.push_back(&e);
  std::lock_guard lock(mu_);
  return *of_kind[std::uniform_int_distribution<std::size_t>(0, of_kind.size() - 1)(rng_)];
}

void Simulator::later(std::chrono::milliseconds delay, std::function<void()> action) {
  std::lock_guard lock(mu_);
  tasks_.emplace(std::chrono::steady_clock::now() + delay, std::move(action));
  cv_.notify_one();
}

void Simulator::send(const SimEndpoint& from, const Envelope& envelope, const std::string& what) {
  thread_local HttpClient client;
  const auto result = client.post(broker_ + "/v1/messages", encode_envelope(envelope));
  std::lock_guard lock(print_mu_);
  std::cout << "  " << from.id << " sends " << what << " (letter " << envelope.letters[0].id
            << ") → broker answers "
            << (result.status ? std::to_string(result.status) : result.error) << std::endl;
}

ReplyPlan Simulator::on_delivery(const SimEndpoint& self, const ReceivedRequest& request) {
  auto decoded = decode_envelope(request.body);
  if (!decoded) return ReplyPlan{400, "", "text/plain", {}};
  const Envelope envelope = *decoded;
  const Letter& letter = envelope.letters.front();
  {
    std::lock_guard lock(print_mu_);
    std::cout << "  " << self.id << " receives " << to_string(letter.type()) << " (letter "
              << letter.id << ") from " << letter.sender.name << std::endl;
  }
  if (is_receipt(letter.type())) return ReplyPlan{};
  {
    // A system that is briefly down: the broker retries with backoff.
    std::lock_guard lock(mu_);
    if (std::uniform_int_distribution<int>(0, 9)(rng_) == 0) {
      std::lock_guard plock(print_mu_);
      std::cout << "  " << self.id << " is busy and answers 503 (the broker will retry)"
                << std::endl;
      return ReplyPlan{503, "", "text/plain", {}};
    }
  }
  if (const auto* request_body = std::get_if<CertificateRequest>(&letter.body)) {
    // Psychiatry: half answer within a few (real) seconds, a third much later, the rest never.
    std::chrono::milliseconds delay{0};
    {
      std::lock_guard lock(mu_);
      const int fate = std::uniform_int_distribution<int>(0, 99)(rng_);
      if (fate >= 85) return reply_with_receipt(envelope);  // never answered
      delay = std::chrono::milliseconds(
          fate < 50 ? std::uniform_int_distribution<int>(2000, 10000)(rng_)
                    : std::uniform_int_distribution<int>(30000, 45000)(rng_));
    }
    later(delay, [this, self, envelope, form = request_body->form] {
      const Letter& l = envelope.letters.front();
      send(self,
           testing::make_certificate(self.party, l.sender, next_id("E"), next_id("ATT"), l.id,
                                     broker_now(), form, l.patient ? l.patient->cpr : ""),
           "Certificate " + form);
    });
  } else if (std::holds_alternative<DischargeNotice>(letter.body)) {
    {
      std::lock_guard lock(mu_);
      if (std::uniform_int_distribution<int>(0, 99)(rng_) >= 60)
        return reply_with_receipt(envelope);
    }
    later(std::chrono::milliseconds(3000), [this, self, envelope] {
      const Letter& l = envelope.letters.front();
      send(self,
           testing::make_mentor_response(self.party, l.sender, next_id("E"), next_id("MEN"), l.id,
                                         broker_now(), l.patient ? l.patient->cpr : ""),
           "MentorResponse");
    });
  }
  return reply_with_receipt(envelope);
}

ReplyPlan Simulator::reply_with_receipt(const Envelope& envelope) {
  ReplyPlan reply;
  if (envelope.positive_receipt_requested) {
    reply.body = encode_envelope(
        testing::make_positive_receipt(envelope, next_id("K"), next_id("KV"), broker_now()));
  }
  return reply;
}

int Simulator::run(std::chrono::seconds duration) {
  std::vector<std::unique_ptr<HttpReceiver>> receivers;
  for (const auto& e : endpoints_) {
    receivers.push_back(std::make_unique<HttpReceiver>(
        [this, e](const ReceivedRequest& r) { return on_delivery(e, r); }, e.port));
    std::cout << "simulated " << e.kind << " " << e.id << " receives on " << receivers.back()->url()
              << std::endl;
  }
  std::thread worker([this] {
    std::unique_lock lock(mu_);
    while (!g_stop) {
      if (tasks_.empty()) {
        cv_.wait_for(lock, std::chrono::milliseconds(200));
        continue;
      }
      // A copy: the queue may grow (and move its elements) while this thread waits.
      const auto next = tasks_.top().first;
      if (next > std::chrono::steady_clock::now()) {
        cv_.wait_until(lock, next);
        continue;
      }
      auto task = tasks_.top().second;
      tasks_.pop();
      lock.unlock();
      task();
      lock.lock();
    }
  });

  const auto end = std::chrono::steady_clock::now() + duration;
  unsigned tick = 0;
  while (!g_stop && (duration.count() == 0 || std::chrono::steady_clock::now() < end)) {
    const SimEndpoint& jobcenter = pick("jobcenter");
    const SimEndpoint& psychiatry = pick("psychiatry");
    const TimePoint now = broker_now();
    if (tick % 3 == 2) {
      const Date discharge{std::chrono::sys_days{copenhagen_date(now)} + std::chrono::days{5}};
      send(psychiatry,
           testing::make_discharge_notice(psychiatry.party, jobcenter.party, next_id("E"),
                                          next_id("UDS"), now, discharge),
           "DischargeNotice");
    } else {
      const char* forms[] = {"LÆ125", "LÆ135", "LÆ225", "LÆ265", "LÆ285"};
      const std::string form = forms[tick % 5];
      send(jobcenter,
           testing::make_certificate_request(jobcenter.party, psychiatry.party, next_id("E"),
                                             next_id("REQ"), now, form),
           "CertificateRequest " + form);
    }
    ++tick;
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, step_, [] { return g_stop.load(); });
  }
  g_stop = true;
  cv_.notify_all();
  worker.join();
  return 0;
}

int usage() {
  std::cerr << "usage: sektorbro-sim --config FILE --broker URL [--seconds N] [--interval-ms M]\n";
  return 2;
}

}  // namespace
}  // namespace sektorbro

int main(int argc, char** argv) {
  using namespace sektorbro;
  std::string config_path, broker;
  int seconds = 0, interval_ms = 1500;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string arg = argv[i];
    if (arg == "--config")
      config_path = argv[i + 1];
    else if (arg == "--broker")
      broker = argv[i + 1];
    else if (arg == "--seconds")
      seconds = std::atoi(argv[i + 1]);
    else if (arg == "--interval-ms")
      interval_ms = std::atoi(argv[i + 1]);
    else
      return usage();
  }
  if (config_path.empty() || broker.empty() || argc % 2 == 0) return usage();
  std::ifstream in(config_path);
  const auto config = nlohmann::json::parse(in, nullptr, false);
  if (config.is_discarded() || !config.contains("endpoints")) {
    std::cerr << "sektorbro-sim: cannot read endpoints from " << config_path << "\n";
    return 2;
  }
  std::vector<SimEndpoint> endpoints;
  for (const auto& e : config["endpoints"]) {
    SimEndpoint s;
    s.id = e.value("id", "");
    s.kind = e.value("kind", "");
    s.party.gln = e.value("gln", "");
    s.party.sor = e.value("sor", "");
    s.party.name = e.value("name", "");
    const std::string url = e.value("url", "");
    const auto colon = url.rfind(':');
    s.port = static_cast<unsigned short>(std::atoi(url.c_str() + colon + 1));
    endpoints.push_back(s);
  }
  std::signal(SIGINT, [](int) { g_stop = true; });
  std::signal(SIGTERM, [](int) { g_stop = true; });
  Simulator sim(std::move(endpoints), broker, std::chrono::milliseconds(interval_ms));
  return sim.run(std::chrono::seconds(seconds));
}
