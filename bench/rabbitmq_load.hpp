// Load on a RabbitMQ quorum queue through librabbitmq, the counterpart of sektorbro_load:
// persistent messages (delivery_mode 2) published with publisher confirms, either with a
// window of unconfirmed messages (closed loop) or at a fixed offered rate (open loop), and a
// consumer with manual acks running at the same time on a connection of its own.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace sektorbro::bench {

using RabbitClock = std::chrono::steady_clock;

// A consumer thread: basic.consume with manual acks (one basic.ack per message) and a prefetch
// of `prefetch`. Counts the messages it received inside [window_start, window_end).
class RabbitConsumer {
 public:
  RabbitConsumer(unsigned short port, std::string queue, int prefetch,
                 RabbitClock::time_point window_start, RabbitClock::time_point window_end);
  ~RabbitConsumer();  // stop()
  // Blocks until the consumer is subscribed (bounded); false and `error` if it failed.
  bool wait_subscribed(std::string& error);
  void stop();
  std::uint64_t consumed_in_window() const { return in_window_; }
  std::uint64_t consumed_total() const { return total_; }
  std::string error() const;

 private:
  void run();
  unsigned short port_;
  std::string queue_;
  int prefetch_;
  RabbitClock::time_point start_, end_;
  std::atomic<bool> stop_{false};
  std::atomic<int> subscribed_{0};  // 0 pending, 1 ok, -1 failed
  std::atomic<std::uint64_t> in_window_{0}, total_{0};
  mutable std::mutex mu_;
  std::string error_;
  std::thread thread_;
};

struct RabbitPublishResult {
  std::uint64_t published = 0;
  std::uint64_t confirmed_in_window = 0;
  std::uint64_t nacked = 0;
  double seconds = 0;
  std::string error;  // empty: ok
};

// Closed loop from `start` to `end`: keeps up to `window` messages unconfirmed.
RabbitPublishResult publish_with_window(unsigned short port, const std::string& queue,
                                        const std::string& body, int window,
                                        RabbitClock::time_point start, RabbitClock::time_point end);

struct RabbitLatencyResult {
  std::vector<double> ms;  // per confirmed message, sorted; scheduled send time → confirm
  std::uint64_t unconfirmed = 0;
  double achieved_per_second = 0;
  std::string error;
};

// Open loop: message k is due at t0 + k/rate; latency runs from that time to its confirm.
// Waits up to 10 s after the last send for outstanding confirms.
RabbitLatencyResult publish_at_rate(unsigned short port, const std::string& queue,
                                    const std::string& body, int rate, double seconds);

}  // namespace sektorbro::bench
