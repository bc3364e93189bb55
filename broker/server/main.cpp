// sektorbro: the broker daemon.
//
//   sektorbro --config FILE [--port-file FILE]
//   sektorbro --check-config FILE | --version | --help      (command_line.hpp)
//
// Checks the configuration, opens the store, resumes pending deliveries and serves HTTPS (or
// plain HTTP on loopback, when the configuration allows it) until SIGINT or SIGTERM, which drain
// (requests in flight answered, deliveries in flight settled, within a bound; exit 0). Prints
// "listening on https://ADDRESS:PORT" (http:// when plain) on stdout once it accepts connections
// (and writes the port to --port-file, if given, for scripts and tests).
// Start-up failures print one line and exit non-zero.
#include <pthread.h>

#include <csignal>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "broker/config/config.hpp"
#include "broker/core/clock.hpp"
#include "broker/core/log.hpp"
#include "broker/delivery/beast_transport.hpp"
#include "broker/filedrop/file_transport.hpp"
#include "broker/filedrop/routing_transport.hpp"
#include "broker/http/http_server.hpp"
#include "broker/server/allocator.hpp"
#include "broker/server/audit_checkpointer.hpp"
#include "broker/server/audit_key_setup.hpp"
#include "broker/server/broker.hpp"
#include "broker/server/command_line.hpp"
#include "broker/server/config_check.hpp"
#include "broker/server/configured_store.hpp"
#include "broker/server/retention_sweeper.hpp"
#include "broker/server/service_notify.hpp"
#include "broker/server/version.hpp"
#include "broker/store/group_commit_writer.hpp"

namespace {

using namespace sektorbro;

// A request handed to the broker and not yet answered, counted for the drain at shutdown.
asio::awaitable<HttpResponse> counted(Broker& broker, std::size_t& in_flight, HttpRequest request,
                                      PeerIdentity peer) {
  ++in_flight;
  struct Done {
    std::size_t& n;
    ~Done() { --n; }
  } done{in_flight};
  co_return co_await broker.handle(std::move(request), std::move(peer));
}

// The drain at SIGTERM/SIGINT (issue 12, item 12), once nothing new is accepted and no new
// delivery attempt starts: waits until the requests being read or handled are answered and the
// deliveries in flight have their outcome committed, or until `bound` has passed, then stops
// the io_context. What is cut off at the bound is still pending in the store and is attempted
// again at the next start (a possible duplicate, which MedCom's receivers dedupe by letter id).
asio::awaitable<void> drain(asio::io_context& io, const HttpServer& server, Broker& broker,
                            const std::size_t& in_flight, std::chrono::milliseconds bound) {
  const auto until = std::chrono::steady_clock::now() + bound;
  asio::steady_timer tick(io);
  auto busy = [&] {
    return in_flight > 0 || server.requests_in_progress() > 0 || server.buffered_bytes() > 0 ||
           broker.dispatcher().busy() > 0;
  };
  while (busy() && std::chrono::steady_clock::now() < until) {
    tick.expires_after(std::chrono::milliseconds{10});
    co_await tick.async_wait(asio::use_awaitable);
  }
  if (busy())
    log_warn("shutting down with work in flight after " + std::to_string(bound.count()) +
             " ms: what was not committed is tried again at the next start");
  else
    log_info("drained: every request answered, every delivery in flight settled");
  io.stop();
}

int usage() {
  std::cerr << usage_text();
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace sektorbro;
  auto command = parse_command_line(std::vector<std::string>(argv + 1, argv + argc));
  if (!command) {
    std::cerr << "sektorbro: " << command.error().detail << "\n";
    return usage();
  }
  switch (command->mode) {
    case CommandLine::Mode::kHelp:
      std::cout << usage_text();
      return 0;
    case CommandLine::Mode::kVersion:
      std::cout << version_line("sektorbro") << "\n"
                << "allocator " << allocator_in_use() << "\n";
      return 0;
    case CommandLine::Mode::kCheckConfig: {
      // Everything start-up checks, without opening the store (config_check.hpp).
      auto checked = check_config_file(command->config_path);
      if (!checked) {
        std::cerr << "sektorbro: " << checked.error().detail << "\n";
        return 1;
      }
      std::cout << "ok\n";
      return 0;
    }
    case CommandLine::Mode::kRun:
      break;
  }
  const std::string config_path = command->config_path;
  const std::string port_file = command->port_file;

  auto config = load_config(config_path);
  if (!config) {
    std::cerr << "sektorbro: " << config.error().detail << "\n";
    return 2;
  }
  // The log's format and level (issue 10), before anything else is logged.
  configure_log(config->log.format, config->log.level);
  // The SQLite file (locked: one broker per file) or a PostgreSQL database (issue 11).
  auto store = open_configured_store(config->store);
  if (!store) {
    std::cerr << "sektorbro: " << store.error().detail << "\n";
    return 1;
  }
  // The audit chain's key, kept outside the store (issue 12, item 5; docs/audit.md).
  if (auto keyed = key_audit_chain(**store, config->audit); !keyed) {
    std::cerr << "sektorbro: " << keyed.error().detail << "\n";
    return 2;
  }

  // Two threads carry the network: `http_io` serves the connections (accepts, TLS, reads,
  // parses, writes answers) and `io`, the broker's thread, handles every request and owns the
  // broker's state (HttpServer::set_handler_executor). On one thread the io thread was the
  // bottleneck under load, a third of its time the kernel's loopback TCP (docs/performance.md).
  // `http_io` is declared first so that it outlives `io`: handlers that `io` still holds at exit
  // hold connection frames whose sockets belong to `http_io`.
  asio::io_context http_io{1};
  asio::io_context io{1};
  // The clock: the real time, except in tests (manual) and the demo (accelerated).
  std::unique_ptr<Clock> clock;
  ManualClock* manual = nullptr;
  const TimePoint start = config->clock.start.value_or(SystemClock{}.now());
  switch (config->clock.mode) {
    case ClockConfig::Mode::kSystem:
      clock = std::make_unique<SystemClock>();
      break;
    case ClockConfig::Mode::kManual: {
      auto m = std::make_unique<ManualClock>(start);
      manual = m.get();
      clock = std::move(m);
      log_warn("MANUAL CLOCK at " + format_timestamp(start) +
               ": for tests only; POST /v1/test/clock/advance moves it");
      break;
    }
    case ClockConfig::Mode::kAccelerated:
      clock = std::make_unique<AcceleratedClock>(start, config->clock.factor);
      log_warn("ACCELERATED CLOCK x" + std::to_string(config->clock.factor) + " from " +
               format_timestamp(start) + ": for the demo only, every figure is fiction");
      break;
  }
  // On a manual or accelerated clock every log line also carries the broker's own time.
  if (config->clock.mode != ClockConfig::Mode::kSystem)
    configure_log(config->log.format, config->log.level, clock.get());
  // The deliveries' TLS material, read now: a broker that could not deliver over https does not
  // start (as --check-config says).
  const TlsClientOptions outbound = outbound_tls_options(*config);
  if (auto usable = check_tls_client(outbound); !usable) {
    std::cerr << "sektorbro: " << usable.error().detail << "\n";
    return 2;
  }
  // One transport: file:/// URLs (file drop) to a FileTransport, everything else over HTTP(S).
  RoutingTransport transport(std::make_unique<FileTransport>(*clock),
                             std::make_unique<BeastTransport>(outbound));
  GroupCommitWriter writer(**store, config->store.group_commit_max);
  Broker broker(io, *config, **store, writer, transport, *clock, manual);
  // Intake's decoding and hashing run on a thread of their own (Intake::set_codec_executor);
  // declared after `io`, so it is joined before `io` goes.
  asio::thread_pool codec_thread(1);
  asio::post(codec_thread, [] { pthread_setname_np(pthread_self(), "sb-codec"); });
  broker.intake().set_codec_executor(codec_thread.get_executor());
  HttpLimits limits;
  limits.max_body_bytes = config->limits.max_body_bytes;
  limits.max_buffered_bytes = config->limits.max_buffered_bytes;  // issue 12, item 6
  limits.max_connections_per_client = config->limits.max_connections_per_client;
  limits.max_pipelined_requests = config->limits.max_pipelined_requests;
  std::size_t requests_in_flight = 0;
  HttpServer server(
      http_io, limits, [&broker, &requests_in_flight](HttpRequest request, PeerIdentity peer) {
        return counted(broker, requests_in_flight, std::move(request), std::move(peer));
      });
  server.set_handler_executor(io.get_executor());

  // The configuration allows plain HTTP only when asked for, on loopback; the server checks the
  // loopback rule again. The listener is bound before the broker starts (issue 12, item 15): a
  // port in use or a bad certificate fails start-up before anything says "ready". Nothing is
  // answered before io.run() below, by when the broker has started.
  Result<unsigned short> port = make_error(Errc::kConfig, "no listener configured");
  if (config->tls) {
    TlsServerOptions tls;
    tls.certificate_file = config->tls->certificate;
    tls.key_file = config->tls->key;
    tls.client_ca_file = config->tls->client_ca;
    tls.require_client_certificate = config->tls->require_client_certificate;
    port = server.listen_tls(config->listen.address, config->listen.port, tls);
  } else if (config->listen.allow_plain_http) {
    port = server.listen(config->listen.address, config->listen.port);
  }
  if (!port) {
    std::cerr << "sektorbro: " << port.error().detail << "\n";
    return 1;
  }
  if (auto started = broker.start(); !started) {
    std::cerr << "sektorbro: cannot resume deliveries: " << started.error().detail << "\n";
    return 1;
  }
  // Retention (issue 11, item 4) and the audit checkpoint (issue 12, item 5), both through the
  // writer thread; each does nothing unless configured.
  RetentionSweeper retention(io, config->retention, **store, writer, *clock);
  AuditCheckpointer checkpointer(io, config->audit, **store, writer);
  retention.start();
  checkpointer.start();
  if (!port_file.empty()) {
    const std::string tmp = port_file + ".tmp";
    std::ofstream(tmp) << *port << "\n";
    std::rename(tmp.c_str(), port_file.c_str());
  }
  const std::string scheme = config->tls ? "https" : "http";
  std::cout << "listening on " << scheme << "://" << config->listen.address << ":" << *port
            << std::endl;
  log_info("sektorbro listening on " + scheme + "://" + config->listen.address + ":" +
           std::to_string(*port) + ", store " + describe_store(config->store));
  if (!config->tls) log_warn("PLAIN HTTP on loopback: no TLS, for the demo and tests only");
  // systemd (Type=notify; issue 11, item 6): READY=1 below, once SIGTERM drains.
  ServiceNotify service(io);

  // SIGTERM or SIGINT drains (issue 12, item 12): no new connections, no new delivery attempts;
  // what is in flight is answered and settled within the bound (a delivery's own timeout and a
  // little more), then exit 0. A second signal stops at once.
  asio::signal_set signals(io, SIGINT, SIGTERM);
  const auto bound = std::chrono::duration_cast<std::chrono::milliseconds>(
      config->delivery.timeout + std::chrono::seconds{5});
  signals.async_wait([&](const boost::system::error_code& ec, int) {
    if (ec) return;
    log_info("shutting down: accepting nothing new, finishing what is in flight (at most " +
             std::to_string(bound.count()) + " ms)");
    service.stopping("draining: finishing what is in flight");
    asio::post(http_io, [&server] { server.stop(); });
    broker.stop();
    retention.stop();
    checkpointer.stop();
    asio::co_spawn(io, drain(io, server, broker, requests_in_flight, bound), asio::detached);
    signals.async_wait([&](const boost::system::error_code& again, int) {
      if (again) return;
      log_warn("second signal: stopping now");
      io.stop();
    });
  });
  // Ready for systemd only now that SIGTERM drains; the watchdog pings run on this io thread.
  service.ready(version_line("sektorbro") + " listening on " + scheme + "://" +
                config->listen.address + ":" + std::to_string(*port));
  auto http_work = asio::make_work_guard(http_io);
  std::thread http_thread([&http_io] {
    pthread_setname_np(pthread_self(), "sb-http");  // for profiles and top -H
    http_io.run();
  });
  io.run();
  // Drained (or stopped by a second signal): the answers are written, the connections go.
  http_work.reset();
  http_io.stop();
  http_thread.join();
  // The clean shutdown's checkpoint: the head after everything that was committed.
  if (auto written = checkpointer.write_now(); !written)
    log_error("audit checkpoint: " + written.error().detail);
  return 0;
}
