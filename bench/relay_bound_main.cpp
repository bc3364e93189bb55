// sektorbro-relay-bound: RelayBound (relay_bound.hpp) as a program of its own, so that the
// side-by-side bench can count its CPU as it counts the broker's (docs/performance.md, "The two
// hops alone").
//
//   sektorbro-relay-bound --port P --to URL [--window 64]
//
// Prints "relaying http://127.0.0.1:P to URL" once it listens; stops on SIGTERM or SIGINT.
#include <csignal>
#include <cstdlib>
#include <iostream>
#include <string>

#include "bench/relay_bound.hpp"

int main(int argc, char** argv) {
  long port = -1, window = 64;
  std::string to;
  bool known = argc % 2 == 1;
  for (int i = 1; known && i + 1 < argc; i += 2) {
    const std::string arg = argv[i];
    if (arg == "--port")
      port = std::strtol(argv[i + 1], nullptr, 10);
    else if (arg == "--to")
      to = argv[i + 1];
    else if (arg == "--window")
      window = std::strtol(argv[i + 1], nullptr, 10);
    else
      known = false;
  }
  if (!known || port < 0 || port > 65535 || to.empty() || window < 1) {
    std::cerr << "usage: sektorbro-relay-bound --port P --to URL [--window 64]\n";
    return 2;
  }
  // The relay's threads start after the signals are blocked, so SIGTERM and SIGINT reach
  // sigwait below and nothing else.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  auto relay = sektorbro::bench::RelayBound::start(static_cast<unsigned short>(port), to,
                                                   static_cast<int>(window));
  if (!relay) {
    std::cerr << "relay-bound: " << relay.error().detail << "\n";
    return 1;
  }
  std::cout << "relaying http://127.0.0.1:" << (*relay)->port() << " to " << to << std::endl;
  int signal = 0;
  sigwait(&stop_signals, &signal);
  return 0;
}
