// A real broker process between real HTTP receivers on 127.0.0.1, for integration tests: one
// jobcenter (jc), a second jobcenter (jc2) and one psychiatry department (psy).
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "broker/codec/codec.hpp"
#include "broker/core/clock.hpp"
#include "tests/harness/broker_process.hpp"
#include "tests/harness/http_client.hpp"
#include "tests/harness/sample_messages.hpp"
#include "tests/support/http_receiver.hpp"

namespace sektorbro::testing {

class BrokerFixture : public ::testing::Test {
 protected:
  BrokerFixture();
  // Every test's broker log is scanned for CPR-shaped numbers (issue 5: CPR numbers never reach
  // logs, whatever the test did).
  void TearDown() override;

  // The configuration the broker starts with; tests adjust it before start().
  nlohmann::json config;
  void start();
  void restart();  // same directory, same store
  void crash() { broker->kill9(); }

  HttpResult post(const Envelope& envelope);
  HttpResult post_raw(const std::string& body);
  nlohmann::json get_json(const std::string& path);
  nlohmann::json message(const Party& sender, const std::string& letter_id);

  // Re-evaluates `pred` until it holds or `timeout` passes (each evaluation is a real request
  // to the broker or a look at a receiver; nothing sleeps).
  static bool eventually(const std::function<bool()>& pred,
                         std::chrono::milliseconds timeout = std::chrono::seconds{20});

  // Letters of a given type a receiver has been sent, decoded.
  static std::vector<Envelope> envelopes_of(const HttpReceiver& receiver, LetterType type);
  static bool received_letter(const HttpReceiver& receiver, const std::string& letter_id);

  std::string next_id(const std::string& prefix);

  TempDir dir;
  SystemClock clock;
  Party jc_party, jc2_party, psy_party, broker_party;
  HttpReceiver jc, jc2, psy;
  std::unique_ptr<BrokerProcess> broker;
  HttpClient client;
  int counter = 0;
};

}  // namespace sektorbro::testing
