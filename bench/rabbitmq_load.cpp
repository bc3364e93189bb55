#include "bench/rabbitmq_load.hpp"

#include <algorithm>

#include "bench/amqp_connection.hpp"

namespace sektorbro::bench {
namespace {

timeval timeval_of(std::chrono::microseconds us) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(us.count() / 1'000'000);
  tv.tv_usec = static_cast<suseconds_t>(us.count() % 1'000'000);
  return tv;
}

// Which delivery tags the broker has settled (basic.ack / basic.nack, possibly "multiple").
class Confirms {
 public:
  template <typename F>
  void settle(std::uint64_t tag, bool multiple, bool nack, F&& on_settled) {
    if (done_.size() <= tag) done_.resize(tag + 1, 0);
    for (std::uint64_t t = multiple ? lowest_open_ : tag; t <= tag; ++t) {
      if (done_[t]) continue;
      done_[t] = 1;
      ++(nack ? nacked_ : acked_);
      on_settled(t, nack);
    }
    while (lowest_open_ < done_.size() && done_[lowest_open_]) ++lowest_open_;
  }
  std::uint64_t settled() const { return acked_ + nacked_; }
  std::uint64_t nacked() const { return nacked_; }

 private:
  std::vector<std::uint8_t> done_ = std::vector<std::uint8_t>(1, 1);  // tags start at 1
  std::uint64_t lowest_open_ = 1;
  std::uint64_t acked_ = 0, nacked_ = 0;
};

// Reads one frame (waiting at most `wait`) and settles confirms. 1: a frame was handled,
// 0: nothing arrived in time, -1: error (in `error`).
template <typename F>
int read_confirms(amqp_connection_state_t conn, std::chrono::microseconds wait, Confirms& confirms,
                  F&& on_settled, std::string& error) {
  amqp_frame_t frame;
  timeval tv = timeval_of(wait);
  const int rc = amqp_simple_wait_frame_noblock(conn, &frame, &tv);
  if (rc == AMQP_STATUS_TIMEOUT) return 0;
  if (rc != AMQP_STATUS_OK) {
    error = std::string("reading confirms: ") + amqp_error_string2(rc);
    return -1;
  }
  int result = 1;
  if (frame.frame_type == AMQP_FRAME_METHOD) {
    switch (frame.payload.method.id) {
      case AMQP_BASIC_ACK_METHOD: {
        const auto* m = static_cast<amqp_basic_ack_t*>(frame.payload.method.decoded);
        confirms.settle(m->delivery_tag, m->multiple != 0, false, on_settled);
        break;
      }
      case AMQP_BASIC_NACK_METHOD: {
        const auto* m = static_cast<amqp_basic_nack_t*>(frame.payload.method.decoded);
        confirms.settle(m->delivery_tag, m->multiple != 0, true, on_settled);
        break;
      }
      case AMQP_CHANNEL_CLOSE_METHOD:
      case AMQP_CONNECTION_CLOSE_METHOD:
        error = "the server closed the channel while publishing";
        result = -1;
        break;
      default:
        break;  // basic.return cannot happen (not mandatory); anything else is ignored
    }
  }
  amqp_maybe_release_buffers(conn);
  return result;
}

int publish_one(amqp_connection_state_t conn, const std::string& queue, const std::string& body) {
  amqp_basic_properties_t props{};
  props._flags = AMQP_BASIC_DELIVERY_MODE_FLAG | AMQP_BASIC_CONTENT_TYPE_FLAG;
  props.delivery_mode = 2;  // persistent
  props.content_type = amqp_cstring_bytes("application/xml");
  amqp_bytes_t bytes{body.size(), const_cast<char*>(body.data())};
  return amqp_basic_publish(conn, AmqpConnection::kChannel, amqp_empty_bytes,
                            amqp_cstring_bytes(queue.c_str()), 0, 0, &props, bytes);
}

}  // namespace

RabbitConsumer::RabbitConsumer(unsigned short port, std::string queue, int prefetch,
                               RabbitClock::time_point window_start,
                               RabbitClock::time_point window_end)
    : port_(port),
      queue_(std::move(queue)),
      prefetch_(prefetch),
      start_(window_start),
      end_(window_end),
      thread_([this] { run(); }) {}

RabbitConsumer::~RabbitConsumer() { stop(); }

void RabbitConsumer::stop() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

std::string RabbitConsumer::error() const {
  std::lock_guard lock(mu_);
  return error_;
}

bool RabbitConsumer::wait_subscribed(std::string& error) {
  const auto deadline = RabbitClock::now() + std::chrono::seconds{15};
  while (subscribed_ == 0 && RabbitClock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds{5});  // bounded by the deadline
  if (subscribed_ == 1) return true;
  error = subscribed_ == 0 ? std::string("consumer not subscribed within 15 s") : this->error();
  return false;
}

void RabbitConsumer::run() {
  std::string error;
  auto fail = [&](const std::string& what) {
    std::lock_guard lock(mu_);
    error_ = what;
    subscribed_ = -1;
  };
  auto conn = AmqpConnection::open(port_, error);
  if (!conn) return fail(error);
  if (!conn->start_consuming(queue_, prefetch_, error)) return fail(error);
  subscribed_ = 1;
  amqp_connection_state_t c = conn->state();
  while (!stop_) {
    amqp_maybe_release_buffers(c);
    amqp_envelope_t envelope;
    timeval tv = timeval_of(std::chrono::milliseconds{100});
    const amqp_rpc_reply_t r = amqp_consume_message(c, &envelope, &tv, 0);
    if (r.reply_type == AMQP_RESPONSE_NORMAL) {
      const auto now = RabbitClock::now();
      if (now >= start_ && now < end_) ++in_window_;
      ++total_;
      const int rc = amqp_basic_ack(c, AmqpConnection::kChannel, envelope.delivery_tag, 0);
      amqp_destroy_envelope(&envelope);
      if (rc != AMQP_STATUS_OK) return fail(std::string("basic.ack: ") + amqp_error_string2(rc));
      continue;
    }
    if (r.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION && r.library_error == AMQP_STATUS_TIMEOUT)
      continue;
    if (r.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION &&
        r.library_error == AMQP_STATUS_UNEXPECTED_STATE) {
      // A frame other than a delivery (e.g. basic.cancel when the queue is deleted): read it.
      amqp_frame_t frame;
      timeval wait = timeval_of(std::chrono::milliseconds{100});
      if (amqp_simple_wait_frame_noblock(c, &frame, &wait) == AMQP_STATUS_OK &&
          frame.frame_type == AMQP_FRAME_METHOD &&
          (frame.payload.method.id == AMQP_BASIC_CANCEL_METHOD ||
           frame.payload.method.id == AMQP_CHANNEL_CLOSE_METHOD ||
           frame.payload.method.id == AMQP_CONNECTION_CLOSE_METHOD))
        return;  // the queue went away: the run is over
      continue;
    }
    return fail("consume: " + describe_reply(r));
  }
}

RabbitPublishResult publish_with_window(unsigned short port, const std::string& queue,
                                        const std::string& body, int window,
                                        RabbitClock::time_point start,
                                        RabbitClock::time_point end) {
  RabbitPublishResult result;
  result.seconds = std::chrono::duration<double>(end - start).count();
  auto conn = AmqpConnection::open(port, result.error);
  if (!conn || !conn->select_confirms(result.error)) return result;
  amqp_connection_state_t c = conn->state();
  Confirms confirms;
  auto on_settled = [&](std::uint64_t, bool nack) {
    if (!nack && RabbitClock::now() < end) ++result.confirmed_in_window;
  };
  std::this_thread::sleep_until(start);
  while (RabbitClock::now() < end) {
    while (result.published - confirms.settled() < static_cast<std::uint64_t>(window) &&
           RabbitClock::now() < end) {
      if (const int rc = publish_one(c, queue, body); rc != AMQP_STATUS_OK) {
        result.error = std::string("basic.publish: ") + amqp_error_string2(rc);
        return result;
      }
      ++result.published;
      // Take whatever confirms are already here without waiting.
      while (amqp_frames_enqueued(c) || amqp_data_in_buffer(c)) {
        const int got =
            read_confirms(c, std::chrono::microseconds{0}, confirms, on_settled, result.error);
        if (got < 0) return result;
        if (got == 0) break;  // only part of a frame has arrived
      }
    }
    // Window full: wait for confirms (bounded per call; the loop is bounded by `end`).
    const int got =
        read_confirms(c, std::chrono::milliseconds{50}, confirms, on_settled, result.error);
    if (got < 0) return result;
  }
  result.nacked = confirms.nacked();
  return result;
}

RabbitLatencyResult publish_at_rate(unsigned short port, const std::string& queue,
                                    const std::string& body, int rate, double seconds) {
  RabbitLatencyResult result;
  auto conn = AmqpConnection::open(port, result.error);
  if (!conn || !conn->select_confirms(result.error)) return result;
  amqp_connection_state_t c = conn->state();
  const auto total = static_cast<std::uint64_t>(rate * seconds);
  const auto t0 = RabbitClock::now() + std::chrono::milliseconds{200};
  auto scheduled = [&](std::uint64_t k) {  // k from 0; delivery tag k + 1
    return t0 + std::chrono::microseconds{static_cast<std::int64_t>(1'000'000ULL * k / rate)};
  };
  Confirms confirms;
  auto on_settled = [&](std::uint64_t tag, bool nack) {
    if (nack) return;
    result.ms.push_back(
        std::chrono::duration<double, std::milli>(RabbitClock::now() - scheduled(tag - 1)).count());
  };
  std::uint64_t sent = 0;
  while (sent < total) {
    const auto due = scheduled(sent);
    const auto now = RabbitClock::now();
    if (now >= due) {
      if (const int rc = publish_one(c, queue, body); rc != AMQP_STATUS_OK) {
        result.error = std::string("basic.publish: ") + amqp_error_string2(rc);
        return result;
      }
      ++sent;
      continue;
    }
    // Until the next send is due, read confirms (the wait is the pacing of the offered load).
    const auto wait = std::chrono::duration_cast<std::chrono::microseconds>(due - now);
    if (read_confirms(c, wait, confirms, on_settled, result.error) < 0) return result;
  }
  const auto deadline = RabbitClock::now() + std::chrono::seconds{10};
  while (confirms.settled() < sent && RabbitClock::now() < deadline)
    if (read_confirms(c, std::chrono::milliseconds{50}, confirms, on_settled, result.error) < 0)
      return result;
  result.unconfirmed = sent - confirms.settled();
  result.achieved_per_second = static_cast<double>(result.ms.size()) / seconds;
  std::sort(result.ms.begin(), result.ms.end());
  return result;
}

}  // namespace sektorbro::bench
