#include "broker/config/config.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>

#include "broker/core/identifiers.hpp"

namespace sektorbro {
namespace {

using json = nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::seconds;

// A small valid configuration: only the required sections, and plain HTTP on loopback (the
// alternative, TLS, is tested in config_tls_test.cpp).
json base() {
  return json::parse(R"({
    "listen": {"allow_plain_http": true},
    "identity": {"gln": "5790000000012", "sor": "100001000016003", "name": "Sektorbro"},
    "endpoints": [
      {"id": "jc-aarhus", "kind": "jobcenter", "name": "Jobcenter Aarhus",
       "gln": "5790000751013", "sor": "751101000016005",
       "identifier_code": "kommunenummer", "identifier": "751",
       "url": "http://127.0.0.1:9101/inbox",
       "accepts": ["Certificate", "DischargeNotice", "Reminder"]},
      {"id": "psy-risskov", "kind": "psychiatry", "name": "Psykiatri Risskov",
       "gln": "5790000662012", "sor": "662101000016009",
       "url": "https://psy.example/inbox",
       "accepts": ["CertificateRequest", "MentorResponse", "Reminder"]}
    ]
  })");
}

TEST(Config, AnSbdhEndpointNamesThePayloadItWants) {
  for (const auto& [text, payload] :
       {std::pair{"native", SbdhPayload::kNative}, std::pair{"oioxml", SbdhPayload::kOioxml},
        std::pair{"fhir", SbdhPayload::kFhir}}) {
    json d = base();
    d["endpoints"][1]["dialect"] = "sbdh";
    d["endpoints"][1]["sbdh_payload"] = text;
    const auto config = parse_config(d.dump());
    ASSERT_TRUE(config.ok()) << config.error().detail;
    EXPECT_EQ(config->endpoints[1].dialect, Dialect::kSbdh);
    EXPECT_EQ(config->endpoints[1].sbdh_payload, payload) << text;
  }
  json d = base();
  d["endpoints"][1]["dialect"] = "fhir";
  const auto fhir = parse_config(d.dump());
  ASSERT_TRUE(fhir.ok()) << fhir.error().detail;
  EXPECT_EQ(fhir->endpoints[1].dialect, Dialect::kFhir);
  EXPECT_EQ(fhir->endpoints[1].sbdh_payload, SbdhPayload::kNative);  // the default
  EXPECT_FALSE(fhir->endpoints[1].fhir_json);                        // FHIR XML by default
  for (const auto& [text, json_wanted] : {std::pair{"json", true}, std::pair{"xml", false}}) {
    json f = d;
    f["endpoints"][1]["fhir_format"] = text;
    const auto parsed = parse_config(f.dump());
    ASSERT_TRUE(parsed.ok()) << parsed.error().detail;
    EXPECT_EQ(parsed->endpoints[1].fhir_json, json_wanted) << text;
  }
}

TEST(Config, BaseIsValidAndTakesTheDefaults) {
  const auto config = parse_config(base().dump());
  ASSERT_TRUE(config.ok()) << config.error().detail;
  const BrokerConfig defaults;
  EXPECT_EQ(config->listen.address, defaults.listen.address);
  EXPECT_EQ(config->listen.port, defaults.listen.port);
  EXPECT_EQ(config->store.path, defaults.store.path);
  EXPECT_EQ(config->store.group_commit_max, defaults.store.group_commit_max);
  EXPECT_EQ(config->delivery.timeout, defaults.delivery.timeout);
  EXPECT_EQ(config->delivery.per_endpoint_concurrency, defaults.delivery.per_endpoint_concurrency);
  EXPECT_EQ(config->delivery.retry.max_attempts, defaults.delivery.retry.max_attempts);
  EXPECT_EQ(config->delivery.retry.max_age, defaults.delivery.retry.max_age);
  EXPECT_EQ(config->delivery.retry.initial_backoff, defaults.delivery.retry.initial_backoff);
  EXPECT_EQ(config->delivery.retry.max_backoff, defaults.delivery.retry.max_backoff);
  EXPECT_EQ(config->delivery.retry.jitter, defaults.delivery.retry.jitter);
  EXPECT_EQ(config->limits.max_body_bytes, defaults.limits.max_body_bytes);
  EXPECT_EQ(config->limits.max_buffered_bytes, defaults.limits.max_buffered_bytes);
  EXPECT_EQ(defaults.limits.max_buffered_bytes, 64u * 1024 * 1024);

  EXPECT_EQ(config->identity, (Party{"5790000000012", "100001000016003", "", "", "Sektorbro"}));
  ASSERT_EQ(config->endpoints.size(), 2u);
  const Endpoint& jc = config->endpoints[0];
  EXPECT_EQ(jc.id, "jc-aarhus");
  EXPECT_EQ(jc.kind, EndpointKind::kJobcenter);
  EXPECT_EQ(jc.party, (Party{"5790000751013", "751101000016005", "kommunenummer", "751",
                             "Jobcenter Aarhus"}));
  EXPECT_EQ(jc.url, "http://127.0.0.1:9101/inbox");
  EXPECT_EQ(jc.accepts,
            (std::vector<LetterType>{LetterType::kCertificate, LetterType::kDischargeNotice,
                                     LetterType::kReminder}));
  EXPECT_EQ(config->endpoints[1].kind, EndpointKind::kPsychiatry);
  EXPECT_EQ(config->endpoints[1].url, "https://psy.example/inbox");
}

TEST(Config, ReadsEveryOptionalSection) {
  json doc = base();
  doc["listen"] = {{"address", "::1"}, {"port", 0}, {"allow_plain_http", true}};
  doc["store"] = {{"path", "/tmp/x.db"}, {"group_commit_max", 1}};
  doc["delivery"] = {{"timeout_ms", 2500},
                     {"per_endpoint_concurrency", 7},
                     {"retry",
                      {{"max_attempts", 3},
                       {"max_age_seconds", 600},
                       {"initial_backoff_ms", 100},
                       {"max_backoff_ms", 100},
                       {"jitter", 0}}}};
  doc["limits"] = {{"max_body_bytes", 1000}, {"max_buffered_bytes", 5000}};
  const auto config = parse_config(doc.dump());
  ASSERT_TRUE(config.ok()) << config.error().detail;
  EXPECT_EQ(config->listen.address, "::1");
  EXPECT_EQ(config->listen.port, 0);
  EXPECT_EQ(config->store.path, "/tmp/x.db");
  EXPECT_EQ(config->store.group_commit_max, 1u);
  EXPECT_EQ(config->delivery.timeout, milliseconds{2500});
  EXPECT_EQ(config->delivery.per_endpoint_concurrency, 7);
  EXPECT_EQ(config->delivery.retry.max_attempts, 3);
  EXPECT_EQ(config->delivery.retry.max_age, seconds{600});
  EXPECT_EQ(config->delivery.retry.initial_backoff, milliseconds{100});
  EXPECT_EQ(config->delivery.retry.max_backoff, milliseconds{100});
  EXPECT_EQ(config->delivery.retry.jitter, 0.0);
  EXPECT_EQ(config->limits.max_body_bytes, 1000u);
  EXPECT_EQ(config->limits.max_buffered_bytes, 5000u);
}

// Mailbox pull (issue 4): the lease of a fetched message, in whole seconds, 1 s to a day.
TEST(Config, ReadsTheMailboxLeaseAndRefusesBadValues) {
  const auto defaults = parse_config(base().dump());
  ASSERT_TRUE(defaults.ok()) << defaults.error().detail;
  EXPECT_EQ(defaults->delivery.mailbox_lease, std::chrono::minutes{5});
  json doc = base();
  doc["delivery"] = {{"mailbox_lease_seconds", 90}};
  const auto config = parse_config(doc.dump());
  ASSERT_TRUE(config.ok()) << config.error().detail;
  EXPECT_EQ(config->delivery.mailbox_lease, seconds{90});
  doc["delivery"] = {{"mailbox_lease_seconds", 86400}};
  EXPECT_EQ(parse_config(doc.dump())->delivery.mailbox_lease, seconds{86400});
  const std::vector<std::pair<json, std::string>> broken = {
      {0, "delivery.mailbox_lease_seconds: must be between 1 and 86400 (got 0)"},
      {-30, "delivery.mailbox_lease_seconds: must be between 1 and 86400 (got -30)"},
      {86401, "delivery.mailbox_lease_seconds: must be between 1 and 86400 (got 86401)"},
      {1.5, "delivery.mailbox_lease_seconds: must be an integer"},
      {"5m", "delivery.mailbox_lease_seconds: must be an integer"},
      {nullptr, "delivery.mailbox_lease_seconds: must be an integer"},
  };
  for (const auto& [value, expected] : broken) {
    json d = base();
    d["delivery"] = {{"mailbox_lease_seconds", value}};
    const auto refused = parse_config(d.dump());
    ASSERT_FALSE(refused.ok()) << expected;
    EXPECT_EQ(refused.error().detail, expected);
  }
}

TEST(Config, ReadsDeadlinesAndClock) {
  json doc = base();
  doc["deadlines"] = {
      {"forms", {{"LÆ125", 10}, {"LÆ165", "none"}, {"LÆ285", {{"set_in_request", 9}}}}},
      {"mentor_response_working_days", 3},
      {"reminders",
       {{"offsets_working_days", {-1}},
        {"repeat_every_working_days", 2},
        {"max_reminders", 4},
        {"send_at", "09:30"}}},
      {"extra_closing_days", {"2026-12-28"}},
      {"sweep_interval_ms", 250}};
  doc["clock"] = {{"mode", "accelerated"}, {"start", "2026-11-20T08:00:00Z"}, {"factor", 3600}};
  auto config = parse_config(doc.dump());
  ASSERT_TRUE(config.ok()) << config.error().detail;
  const DeadlinePolicy& p = config->deadlines.policy;
  EXPECT_EQ(p.forms.at("LÆ125").days, 10);
  EXPECT_EQ(p.forms.at("LÆ165").rule, FormDeadline::Rule::kNone);
  EXPECT_EQ(p.forms.at("LÆ285").rule, FormDeadline::Rule::kSetInRequest);
  EXPECT_EQ(p.forms.at("LÆ285").days, 9);
  EXPECT_EQ(p.forms.at("LÆ135"), default_deadline_policy().forms.at("LÆ135"));  // untouched
  EXPECT_EQ(p.mentor_response_working_days, 3);
  EXPECT_EQ(p.reminders.offsets_working_days, std::vector<int>{-1});
  EXPECT_EQ(p.reminders.send_at, std::chrono::minutes{9 * 60 + 30});
  EXPECT_EQ(p.extra_closing_days.size(), 1u);
  EXPECT_EQ(config->deadlines.sweep_interval, std::chrono::milliseconds{250});
  EXPECT_EQ(config->clock.mode, ClockConfig::Mode::kAccelerated);
  EXPECT_EQ(config->clock.factor, 3600);
  EXPECT_EQ(config->clock.start, parse_timestamp("2026-11-20T08:00:00Z"));
}

TEST(Config, TheDemoConfigurationLoads) {
  const auto config = load_config(SEKTORBRO_SOURCE_DIR "/deploy/demo/sektorbro.json");
  ASSERT_TRUE(config.ok()) << config.error().detail;
  EXPECT_EQ(config->store.path, "var/demo.db");
  EXPECT_TRUE(is_valid_gln(config->identity.gln));
  ASSERT_EQ(config->endpoints.size(), 4u);
  // Every demo endpoint also takes Correspondence, so each example in schemas/examples/ is
  // accepted by the demo as is (issue 12, item 16).
  const std::vector<LetterType> jobcenter_types{LetterType::kCertificate,
                                                LetterType::kDischargeNotice, LetterType::kReminder,
                                                LetterType::kCorrespondence};
  const std::vector<LetterType> psychiatry_types{LetterType::kCertificateRequest,
                                                 LetterType::kMentorResponse, LetterType::kReminder,
                                                 LetterType::kCorrespondence};
  const char* ids[] = {"jc-aarhus", "jc-odense", "psy-risskov", "psy-odense"};
  for (int i = 0; i < 4; ++i) {
    const Endpoint& e = config->endpoints[static_cast<std::size_t>(i)];
    EXPECT_EQ(e.id, ids[i]);
    EXPECT_EQ(e.url, "http://127.0.0.1:" + std::to_string(9101 + i) + "/inbox");
    const bool jobcenter = i < 2;
    EXPECT_EQ(e.kind, jobcenter ? EndpointKind::kJobcenter : EndpointKind::kPsychiatry);
    EXPECT_EQ(e.accepts, jobcenter ? jobcenter_types : psychiatry_types);
  }
}

struct BrokenCase {
  const char* name;
  std::function<void(json&)> edit;
  std::string expected;  // the whole error detail
};

std::string letter_types() {
  return "CertificateRequest, Certificate, DischargeNotice, MentorResponse, Reminder, "
         "PositiveReceipt, NegativeReceipt, Correspondence, HospitalStayNotice";
}

TEST(Config, BrokenConfigurationsNameTheKey) {
  const std::vector<BrokenCase> cases = {
      {"root is not an object", [](json& d) { d = json::array(); },
       "configuration: must be a JSON object"},
      {"top-level typo", [](json& d) { d["endpoint"] = d["endpoints"]; },
       "endpoint: unknown key (expected one of listen, store, delivery, limits, deadlines, "
       "clock, identity, endpoints, tls, outbound_tls, operators, console, log, metrics, privacy, "
       "audit, retention, cluster)"},
      {"unknown form",
       [](json& d) {
         d["deadlines"] = {{"forms", {{"LÆ999", 14}}}};
       },
       "deadlines.forms.LÆ999: unknown form (expected a code such as \"LÆ125\")"},
      {"form days of zero",
       [](json& d) {
         d["deadlines"] = {{"forms", {{"LÆ125", 0}}}};
       },
       "deadlines.forms.LÆ125: must be between 1 and 366 (got 0)"},
      {"form rule of the wrong shape",
       [](json& d) {
         d["deadlines"] = {{"forms", {{"LÆ125", "soon"}}}};
       },
       "deadlines.forms.LÆ125: must be a number of calendar days, \"none\", or "
       "{\"set_in_request\": N}"},
      {"send_at not a time",
       [](json& d) {
         d["deadlines"] = {{"reminders", {{"send_at", "8 o'clock"}}}};
       },
       "deadlines.reminders.send_at: must be a local time HH:MM (got \"8 o'clock\")"},
      {"extra closing day impossible",
       [](json& d) {
         d["deadlines"] = {{"extra_closing_days", {"2026-02-30"}}};
       },
       "deadlines.extra_closing_days[0]: must be a date YYYY-MM-DD (got \"2026-02-30\")"},
      {"clock mode unknown",
       [](json& d) {
         d["clock"] = {{"mode", "fast"}};
       },
       "clock.mode: must be \"system\", \"manual\" (tests) or \"accelerated\" (demo)"},
      {"clock start without zone",
       [](json& d) {
         d["clock"] = {{"mode", "manual"}, {"start", "2026-11-20T08:00:00"}};
       },
       "clock.start: must be a date-time with a zone, e.g. 2026-11-20T08:00:00Z"},
      {"listen typo",
       [](json& d) {
         d["listen"] = {{"prot", 1}};
       },
       "listen.prot: unknown key (expected one of address, port, allow_plain_http)"},
      {"listen not an object", [](json& d) { d["listen"] = 8440; }, "listen: must be an object"},
      {"port as a string",
       [](json& d) {
         d["listen"] = {{"port", "8440"}};
       },
       "listen.port: must be an integer"},
      {"port too large",
       [](json& d) {
         d["listen"] = {{"port", 70000}};
       },
       "listen.port: must be between 0 and 65535 (got 70000)"},
      {"port negative",
       [](json& d) {
         d["listen"] = {{"port", -1}};
       },
       "listen.port: must be between 0 and 65535 (got -1)"},
      {"address not numeric",
       [](json& d) {
         d["listen"] = {{"address", "localhost"}};
       },
       "listen.address: must be an IPv4 or IPv6 address (got \"localhost\")"},
      {"empty store path",
       [](json& d) {
         d["store"] = {{"path", ""}};
       },
       "store.path: must not be empty"},
      {"group commit zero",
       [](json& d) {
         d["store"] = {{"group_commit_max", 0}};
       },
       "store.group_commit_max: must be between 1 and 100000 (got 0)"},
      {"group commit bool",
       [](json& d) {
         d["store"] = {{"group_commit_max", true}};
       },
       "store.group_commit_max: must be an integer"},
      {"timeout fractional",
       [](json& d) {
         d["delivery"] = {{"timeout_ms", 2.5}};
       },
       "delivery.timeout_ms: must be an integer"},
      {"concurrency zero",
       [](json& d) {
         d["delivery"] = {{"per_endpoint_concurrency", 0}};
       },
       "delivery.per_endpoint_concurrency: must be between 1 and 1024 (got 0)"},
      {"retry typo",
       [](json& d) {
         d["delivery"]["retry"] = {{"backoff_ms", 5}};
       },
       "delivery.retry.backoff_ms: unknown key (expected one of max_attempts, max_age_seconds, "
       "initial_backoff_ms, max_backoff_ms, jitter)"},
      {"attempts zero",
       [](json& d) {
         d["delivery"]["retry"] = {{"max_attempts", 0}};
       },
       "delivery.retry.max_attempts: must be between 1 and 1000 (got 0)"},
      {"attempts beyond int64",
       [](json& d) {
         d["delivery"]["retry"] = {{"max_attempts", std::numeric_limits<std::uint64_t>::max()}};
       },
       "delivery.retry.max_attempts: must be between 1 and 1000 (got 18446744073709551615)"},
      {"jitter one",
       [](json& d) {
         d["delivery"]["retry"] = {{"jitter", 1.0}};
       },
       "delivery.retry.jitter: must be at least 0 and below 1 (got 1.0)"},
      {"jitter negative",
       [](json& d) {
         d["delivery"]["retry"] = {{"jitter", -0.1}};
       },
       "delivery.retry.jitter: must be at least 0 and below 1 (got -0.1)"},
      {"jitter string",
       [](json& d) {
         d["delivery"]["retry"] = {{"jitter", "0.2"}};
       },
       "delivery.retry.jitter: must be a number"},
      {"max backoff below initial",
       [](json& d) {
         d["delivery"]["retry"] = {{"max_backoff_ms", 1000}};
       },
       "delivery.retry.max_backoff_ms: must not be below initial_backoff_ms (2000)"},
      {"body limit zero",
       [](json& d) {
         d["limits"] = {{"max_body_bytes", 0}};
       },
       "limits.max_body_bytes: must be between 1 and 1073741824 (got 0)"},
      {"identity missing", [](json& d) { d.erase("identity"); }, "identity: is required"},
      {"identity sor missing", [](json& d) { d["identity"].erase("sor"); },
       "identity.sor: is required"},
      {"identity check digit", [](json& d) { d["identity"]["gln"] = "5790000000013"; },
       "identity.gln: check digit is wrong (expected 5790000000012)"},
      {"identity typo", [](json& d) { d["identity"]["nmae"] = "x"; },
       "identity.nmae: unknown key (expected one of gln, sor, name, identifier_code, "
       "identifier)"},
      {"endpoints missing", [](json& d) { d.erase("endpoints"); }, "endpoints: is required"},
      {"no endpoints", [](json& d) { d["endpoints"] = json::array(); },
       "endpoints: at least one endpoint is required"},
      {"endpoints not an array", [](json& d) { d["endpoints"] = json::object(); },
       "endpoints: must be an array"},
      {"endpoint not an object", [](json& d) { d["endpoints"][1] = "psy-risskov"; },
       "endpoints[1]: must be an object"},
      {"endpoint typo", [](json& d) { d["endpoints"][0]["urll"] = "http://x/"; },
       "endpoints[0].urll: unknown key (expected one of id, kind, name, gln, sor, "
       "identifier_code, identifier, url, accepts, dialect, client_certificate_fingerprint, "
       "client_certificate_cn, inbox, receipt_timeout_seconds, sbdh_payload, fhir_format)"},
      {"unknown dialect", [](json& d) { d["endpoints"][0]["dialect"] = "hl7v2"; },
       "endpoints[0].dialect: must be \"native\", \"oioxml\", \"sbdh\" or \"fhir\""},
      {"unknown sbdh payload",
       [](json& d) {
         d["endpoints"][0]["dialect"] = "sbdh";
         d["endpoints"][0]["sbdh_payload"] = "pdf";
       },
       "endpoints[0].sbdh_payload: must be \"native\", \"oioxml\" or \"fhir\""},
      {"sbdh payload without sbdh", [](json& d) { d["endpoints"][0]["sbdh_payload"] = "fhir"; },
       "endpoints[0].sbdh_payload: is only for an endpoint whose dialect is \"sbdh\""},
      {"unknown fhir format",
       [](json& d) {
         d["endpoints"][0]["dialect"] = "fhir";
         d["endpoints"][0]["fhir_format"] = "turtle";
       },
       "endpoints[0].fhir_format: must be \"xml\" or \"json\""},
      {"fhir format without fhir", [](json& d) { d["endpoints"][0]["fhir_format"] = "json"; },
       "endpoints[0].fhir_format: is only for an endpoint whose dialect is \"fhir\""},
      {"inbox that does not exist",
       [](json& d) { d["endpoints"][0]["inbox"] = "/nonexistent/sektorbro-inbox"; },
       "endpoints[0].inbox: must be an existing folder given by an absolute path (got "
       "\"/nonexistent/sektorbro-inbox\")"},
      {"file url to a missing folder",
       [](json& d) { d["endpoints"][0]["url"] = "file:///nonexistent/outbox"; },
       "endpoints[0].url: names a folder that does not exist: /nonexistent/outbox"},
      {"endpoint check digit", [](json& d) { d["endpoints"][1]["gln"] = "5790000662013"; },
       "endpoints[1].gln: check digit is wrong (expected 5790000662012)"},
      {"endpoint gln short", [](json& d) { d["endpoints"][0]["gln"] = "579000075101"; },
       "endpoints[0].gln: must be 13 digits"},
      {"endpoint gln as a number", [](json& d) { d["endpoints"][0]["gln"] = 5790000751013; },
       "endpoints[0].gln: must be a string"},
      {"endpoint sor with a letter", [](json& d) { d["endpoints"][1]["sor"] = "66210100001600A"; },
       "endpoints[1].sor: must be a SOR code of 1 to 18 digits"},
      {"endpoint sor empty", [](json& d) { d["endpoints"][1]["sor"] = ""; },
       "endpoints[1].sor: must be a SOR code of 1 to 18 digits"},
      {"duplicate id", [](json& d) { d["endpoints"][1]["id"] = "jc-aarhus"; },
       "endpoints[1].id: \"jc-aarhus\" is already used by endpoints[0]"},
      {"duplicate gln", [](json& d) { d["endpoints"][1]["gln"] = "5790000751013"; },
       "endpoints[1].gln: 5790000751013 is already used by endpoints[0] (jc-aarhus)"},
      {"identity gln on an endpoint", [](json& d) { d["endpoints"][0]["gln"] = "5790000000012"; },
       "endpoints[0].gln: 5790000000012 is the broker's own identity.gln"},
      {"id with a space", [](json& d) { d["endpoints"][0]["id"] = "jc aarhus"; },
       "endpoints[0].id: must be 1 to 64 characters of A-Z, a-z, 0-9, '.', '_', '-'"},
      {"id missing", [](json& d) { d["endpoints"][0].erase("id"); },
       "endpoints[0].id: is required"},
      {"unknown kind", [](json& d) { d["endpoints"][0]["kind"] = "hospital"; },
       "endpoints[0].kind: must be jobcenter or psychiatry (got \"hospital\")"},
      {"ftp url", [](json& d) { d["endpoints"][0]["url"] = "ftp://127.0.0.1/inbox"; },
       "endpoints[0].url: must start with http://, https:// or file:///, or be mailbox:"},
      {"url without host", [](json& d) { d["endpoints"][0]["url"] = "http:///inbox"; },
       "endpoints[0].url: has no host"},
      {"url with a space", [](json& d) { d["endpoints"][0]["url"] = "http://h/in box"; },
       "endpoints[0].url: must not contain spaces or controls"},
      {"unknown letter type", [](json& d) { d["endpoints"][0]["accepts"][1] = "Certifcate"; },
       "endpoints[0].accepts[1]: unknown letter type \"Certifcate\" (expected one of " +
           letter_types() + ")"},
      {"letter type twice", [](json& d) { d["endpoints"][0]["accepts"][2] = "Certificate"; },
       "endpoints[0].accepts[2]: \"Certificate\" is listed twice"},
      {"accepts a string", [](json& d) { d["endpoints"][0]["accepts"] = "Certificate"; },
       "endpoints[0].accepts: must be an array of letter types"},
      {"accepts missing", [](json& d) { d["endpoints"][1].erase("accepts"); },
       "endpoints[1].accepts: is required"},
      {"unknown identifier code",
       [](json& d) { d["endpoints"][0]["identifier_code"] = "postnummer"; },
       "endpoints[0].identifier_code: must be one of sygehusafdelingsnummer, ydernummer, "
       "lokationsnummer, kommunenummer, amt, sorkode (got \"postnummer\")"},
      {"identifier code alone", [](json& d) { d["endpoints"][0].erase("identifier"); },
       "endpoints[0].identifier: is required with identifier_code"},
      {"identifier alone", [](json& d) { d["endpoints"][0].erase("identifier_code"); },
       "endpoints[0].identifier_code: is required with identifier"},
      {"buffered cap below one body",
       [](json& d) {
         d["limits"] = {{"max_body_bytes", 2000}, {"max_buffered_bytes", 1999}};
       },
       "limits.max_buffered_bytes: must be at least max_body_bytes (2000)"},
      // Issue 12, item 17: named as missing, not reported as a missing tls section.
      {"listen missing", [](json& d) { d.erase("listen"); },
       "listen: is required (the address and port to listen on; plain HTTP also needs "
       "\"allow_plain_http\": true, on loopback)"},
  };
  ASSERT_GE(cases.size(), 15u);
  for (const BrokenCase& c : cases) {
    json doc = base();
    c.edit(doc);
    const auto config = parse_config(doc.dump());
    ASSERT_FALSE(config.ok()) << c.name;
    EXPECT_EQ(config.error().code, Errc::kConfig) << c.name;
    EXPECT_EQ(config.error().detail, c.expected) << c.name;
  }
}

// Issue 10: logs, metrics and the citizen index's key.
TEST(Config, ReadsLogMetricsAndPrivacy) {
  auto config = parse_config(base().dump());
  ASSERT_TRUE(config.ok()) << config.error().detail;
  EXPECT_EQ(config->log.format, LogFormat::kPlain);
  EXPECT_EQ(config->log.level, LogLevel::kInfo);
  EXPECT_FALSE(config->metrics.unauthenticated);  // /metrics needs an operator by default
  EXPECT_EQ(config->metrics.store_counts_interval, std::chrono::seconds{10});
  EXPECT_TRUE(config->privacy.cpr_index_key_file.empty());
  json doc = base();
  doc["log"] = {{"format", "json"}, {"level", "warning"}};
  doc["metrics"] = {{"unauthenticated", true}, {"store_counts_interval_ms", 45000}};
  doc["privacy"] = {{"cpr_index_key_file", "/etc/sektorbro/cpr-index.key"}};
  config = parse_config(doc.dump());
  ASSERT_TRUE(config.ok()) << config.error().detail;
  EXPECT_EQ(config->log.format, LogFormat::kJson);
  EXPECT_EQ(config->log.level, LogLevel::kWarn);
  EXPECT_TRUE(config->metrics.unauthenticated);
  EXPECT_EQ(config->metrics.store_counts_interval, std::chrono::seconds{45});
  EXPECT_EQ(config->privacy.cpr_index_key_file, "/etc/sektorbro/cpr-index.key");
  struct Broken {
    const char* section;
    json value;
    std::string expected;
  };
  const std::vector<Broken> broken = {
      {"log", json::parse(R"({"format": "xml"})"), "log.format: must be \"plain\" or \"json\""},
      {"log", json::parse(R"({"level": "verbose"})"),
       "log.level: must be \"debug\", \"info\", \"warning\" or \"error\""},
      {"metrics", json::parse(R"({"unauthenticated": "yes"})"),
       "metrics.unauthenticated: must be true or false"},
      {"metrics", json::parse(R"({"store_counts_interval_ms": 999})"),
       "metrics.store_counts_interval_ms: must be between 1000 and 3600000 (got 999)"},
      {"metrics", json::parse(R"({"store_counts_interval_ms": 3600001})"),
       "metrics.store_counts_interval_ms: must be between 1000 and 3600000 (got 3600001)"},
      {"metrics", json::parse(R"({"store_counts_interval_ms": -5})"),
       "metrics.store_counts_interval_ms: must be between 1000 and 3600000 (got -5)"},
      {"metrics", json::parse(R"({"store_counts_interval_ms": 1.5})"),
       "metrics.store_counts_interval_ms: must be an integer"},
      {"metrics", json::parse(R"({"store_counts_interval_ms": "10s"})"),
       "metrics.store_counts_interval_ms: must be an integer"},
      {"privacy", json::parse(R"({"cpr_index_key_file": ""})"),
       "privacy.cpr_index_key_file: must not be empty"},
  };
  for (const auto& [section, value, expected] : broken) {
    json d = base();
    d[section] = value;
    const auto refused = parse_config(d.dump());
    ASSERT_FALSE(refused.ok()) << expected;
    EXPECT_EQ(refused.error().detail, expected);
  }
}

// Issue 12 item 5 and issue 11 item 4: the audit chain's key and checkpoint, retention.
TEST(Config, ReadsAuditAndRetention) {
  auto config = parse_config(base().dump());
  ASSERT_TRUE(config.ok()) << config.error().detail;
  EXPECT_TRUE(config->audit.key_file.empty());  // unkeyed unless configured (a warning)
  EXPECT_FALSE(config->retention.enabled);      // nothing is deleted unless configured
  json doc = base();
  doc["audit"] = {{"key_file", "/etc/sektorbro/audit.key"},
                  {"checkpoint_file", "/var/lib/sektorbro-audit/checkpoint"},
                  {"checkpoint_interval_ms", 5000}};
  doc["retention"] = {{"body_days", 365},
                      {"record_days", 3650},
                      {"per_type", {{"Correspondence", 180}}},
                      {"interval_ms", 60000},
                      {"batch", 20}};
  config = parse_config(doc.dump());
  ASSERT_TRUE(config.ok()) << config.error().detail;
  EXPECT_EQ(config->audit.key_file, "/etc/sektorbro/audit.key");
  EXPECT_EQ(config->audit.checkpoint_file, "/var/lib/sektorbro-audit/checkpoint");
  EXPECT_EQ(config->audit.checkpoint_interval, std::chrono::milliseconds{5000});
  EXPECT_TRUE(config->retention.enabled);
  EXPECT_EQ(config->retention.policy.body_days, 365);
  EXPECT_EQ(config->retention.policy.record_days, 3650);
  EXPECT_EQ(config->retention.policy.body_days_per_type.at(LetterType::kCorrespondence), 180);
  EXPECT_EQ(config->retention.interval, std::chrono::milliseconds{60000});
  EXPECT_EQ(config->retention.batch, 20);
  const std::vector<std::pair<json, std::string>> broken = {
      {json::parse(R"({"audit": {"key_file": ""}})"), "audit.key_file: must not be empty"},
      {json::parse(R"({"retention": {"per_type": {"Letter": 30}}})"),
       "retention.per_type.Letter: is not a letter type"},
      {json::parse(R"({"retention": {"body_days": 400, "record_days": 300}})"),
       "retention.record_days: must be at least every body period (400 days): the minimal record "
       "outlives the body"},
  };
  for (const auto& [section, expected] : broken) {
    json d = base();
    d.update(section);
    const auto refused = parse_config(d.dump());
    ASSERT_FALSE(refused.ok()) << expected;
    EXPECT_EQ(refused.error().detail, expected);
  }
}

TEST(Config, RepeatedKeysAreErrorsNotSilentlyDropped) {
  std::string text = base().dump();
  // The same key twice in the listen section.
  const std::string with_listen = "{\"listen\": {\"port\": 1, \"port\": 2}," + text.substr(1);
  auto config = parse_config(with_listen);
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.error().detail, "listen.port: key appears twice");

  // Inside the second endpoint: the path counts array elements.
  json doc = base();
  std::string second = doc["endpoints"][1].dump();
  second.insert(1, "\"url\": \"http://127.0.0.1:1/x\",");
  const std::string endpoints = "[" + doc["endpoints"][0].dump() + "," + second + "]";
  doc.erase("endpoints");
  std::string repeated = doc.dump();
  repeated.insert(repeated.size() - 1, ",\"endpoints\":" + endpoints);
  config = parse_config(repeated);
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.error().detail, "endpoints[1].url: key appears twice");
}

TEST(Config, SyntaxErrorsSayWhere) {
  const auto config = parse_config("{\n  \"listen\": {\"port\": 1,}\n}");
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.error().code, Errc::kConfig);
  EXPECT_EQ(config.error().detail.rfind("configuration: not valid JSON: parse error at line 2", 0),
            0u)
      << config.error().detail;
  EXPECT_FALSE(parse_config("").ok());
  EXPECT_FALSE(parse_config("{} trailing").ok());
}

class ConfigFile : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("sektorbro-config-test-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string write(const std::string& name, const std::string& text) {
    const auto path = dir_ / name;
    std::ofstream(path) << text;
    return path.string();
  }
  std::filesystem::path dir_;
};

TEST_F(ConfigFile, LoadsAFile) {
  const auto config = load_config(write("ok.json", base().dump(2)));
  ASSERT_TRUE(config.ok()) << config.error().detail;
  EXPECT_EQ(config->endpoints.size(), 2u);
}

TEST_F(ConfigFile, MissingFileIsNamed) {
  const std::string path = (dir_ / "missing.json").string();
  const auto config = load_config(path);
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.error().code, Errc::kConfig);
  EXPECT_EQ(config.error().detail, path + ": cannot read: No such file or directory");
}

TEST_F(ConfigFile, ADirectoryIsNotAConfiguration) {
  const auto config = load_config(dir_.string());
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.error().detail, dir_.string() + ": cannot read: is a directory");
}

TEST_F(ConfigFile, ErrorsInAFileNameTheFileAndTheKey) {
  json doc = base();
  doc["endpoints"][1]["gln"] = "5790000662013";
  const std::string path = write("bad.json", doc.dump(2));
  const auto config = load_config(path);
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.error().code, Errc::kConfig);
  EXPECT_EQ(config.error().detail,
            path + ": endpoints[1].gln: check digit is wrong (expected 5790000662012)");
}

// --- cluster (issue 11, item 2) ---

TEST(Config, ClusterNamesTheNodeAndTheLease) {
  const auto defaults = parse_config(base().dump());
  ASSERT_TRUE(defaults) << defaults.error().detail;
  EXPECT_EQ(defaults->cluster.node, "") << "empty: the host name and pid at run time";
  EXPECT_EQ(defaults->cluster.lease, std::chrono::seconds{30});
  EXPECT_NE(cluster_node(defaults->cluster).find(':'), std::string::npos) << "host:pid";
  json d = base();
  d["cluster"] = {{"node", "sb-1.aarhus"}, {"lease_ms", 45000}};
  const auto set = parse_config(d.dump());
  ASSERT_TRUE(set) << set.error().detail;
  EXPECT_EQ(set->cluster.node, "sb-1.aarhus");
  EXPECT_EQ(cluster_node(set->cluster), "sb-1.aarhus");
  EXPECT_EQ(set->cluster.lease, std::chrono::milliseconds{45000});
}

TEST(Config, ClusterRefusesANodeNameOrALeaseItCannotUse) {
  const struct {
    json cluster;
    std::string error;
  } kCases[] = {
      {{{"node", "sb 1"}},
       "cluster.node: must be 1-100 letters, digits, '-', '_', '.' or ':' (got \"sb 1\")"},
      {{{"node", ""}}, "cluster.node: "},
      {{{"lease_ms", 15000}},
       "cluster.lease_ms: must be at least twice delivery.timeout_ms (20000): an attempt must end "
       "inside a renewed lease"},
      {{{"lease_ms", 500}}, "cluster.lease_ms: "},
      {{{"leases_ms", 30000}}, "cluster.leases_ms: unknown key"},
  };
  for (const auto& c : kCases) {
    json d = base();
    d["cluster"] = c.cluster;
    const auto r = parse_config(d.dump());
    ASSERT_FALSE(r) << c.cluster.dump();
    EXPECT_EQ(r.error().detail.rfind(c.error, 0), 0u) << r.error().detail;
  }
}

// --- end cluster ---

}  // namespace
}  // namespace sektorbro
