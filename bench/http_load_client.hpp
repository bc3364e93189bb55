// The lean HTTP load for the side-by-side bench (issue 8): the same letters, connections and
// rules as post_at_full_speed / post_at_rate in sektorbro_load.hpp — `clients` keep-alive
// connections, each letter POSTed and answered before its connection sends the next (unless
// pipelined, below), ids
// `prefix` + a shared counter — but all connections are driven by ONE Asio thread, and each
// connection sends a request built once (head + the 4 KB letter) with the id written in place:
// no thread per client, no libcurl, no allocation per request. The load shares the machine's
// cores with the broker under test, so what it costs per letter is taken from the broker; the
// curl load cost ~9× RabbitMQ's publisher+consumer per message (docs/performance.md).
//
// Thread rules: each call runs its own io_context on the calling thread and returns when every
// connection has finished; `next_id` may be shared with other threads.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

#include "bench/sektorbro_load.hpp"

namespace sektorbro::bench {

// Closed loop, as post_at_full_speed: from `start` until `end` every connection posts the next
// letter as soon as the previous one is answered; a 202 answered before `end` is accepted,
// after it accepted_late; any other answer, a broken connection or no answer within 30 s is a
// failure (the first one described) and the connection is opened again. The connections are
// opened before `start`. `url` is "http://127.0.0.1:PORT/path" (plain HTTP only).
// With `pipeline` > 1 each connection keeps up to that many letters sent and not yet answered
// (HTTP/1.1 pipelining: the answers come back in order); when its connection breaks, each of
// them is a failure.
IntakeResult lean_post_at_full_speed(const std::string& url, const LetterTemplate& letters,
                                     int clients, SteadyClock::time_point start,
                                     SteadyClock::time_point end, char prefix,
                                     std::atomic<std::uint64_t>& next_id, int pipeline = 1);

// Open loop, as post_at_rate: request k is due at t0 + k/rate (t0 = now + 200 ms, the
// connections opened before it), connection k mod `clients` sends it when it is due and its
// previous request has been answered; latency runs from the scheduled time to the 202, so a
// stalled answer delays that connection's next requests and the delay is counted. Each request
// has a 10 s bound.
LatencyResult lean_post_at_rate(const std::string& url, const LetterTemplate& letters, int clients,
                                int rate, double seconds, char prefix,
                                std::atomic<std::uint64_t>& next_id);

}  // namespace sektorbro::bench
