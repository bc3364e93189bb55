// The hospital-stay notice (MedCom HospitalNotification other than the end of an inpatient
// stay: admission, leave, emergency discharge) in every form that carries it, through the real
// broker (issue 9, "How it must show": every dialect pair, every field compared). Psychiatry
// sends in native, MedCom FHIR, and EHMI SBDH with a native or a FHIR payload; the jobcenter
// receives in each of the four: 16 pairs, each with two notices — an admission (admit-inpatient,
// every field filled) and the end of an acute ambulant stay (discharge-emergency-home, with the
// stay's end) — neither of which opens a mentor deadline (only the DischargeNotice does).
//
// The FHIR messages follow the examples of MedCom's dk-medcom-hospitalnotification guide
// (admit-inpatient, and its emergency "discharge-emergency-home" flow), written here by our FHIR
// writer from one native HospitalStayNotice; the SBDH envelopes follow EHMI's envelope with a
// FHIR payload (tests/data/medcom/10_…). OIOXML has no MedCom standard for the notice
// (docs/medcom-conformance.md): not a form here.
//
// What is compared: the letter read back from what the jobcenter got against the one sent
// (id, status, parties' GLN and SOR, CPR, event, event time, stay start and end, encounter status
// and class, department). When psychiatry sent FHIR, a FHIR jobcenter (plain or in SBDH) gets
// the hospital's own message (every element the FHIR reader keeps compared), and a native one
// (plain or in SBDH) gets it kept whole in the letter; when psychiatry sent native, a native
// jobcenter's letter keeps no FHIR message.
#include <ostream>
#include <string>
#include <vector>

#include "adapters/fhir/fhir_json.hpp"
#include "adapters/fhir/fhir_message.hpp"
#include "adapters/fhir/fhir_native.hpp"
#include "adapters/sbdh/sbdh_document.hpp"
#include "broker/edge/edge_codec.hpp"
#include "tests/integration/broker_fixture.hpp"

namespace sektorbro::testing {
namespace {

struct StayForm {
  const char* name;
  const char* dialect;  // config "dialect"
  const char* payload;  // config "sbdh_payload" (sbdh only), else ""
};
const StayForm kStayForms[] = {
    {"native", "native", ""},
    {"fhir", "fhir", ""},
    {"sbdh_native", "sbdh", "native"},
    {"sbdh_fhir", "sbdh", "fhir"},
};

void PrintTo(const StayForm& f, std::ostream* os) { *os << f.name; }  // gtest's parameter names

bool speaks_fhir(const StayForm& f) {
  return std::string(f.name).find("fhir") != std::string::npos;
}
bool in_sbdh(const StayForm& f) { return std::string(f.dialect) == "sbdh"; }

Endpoint endpoint_of(const StayForm& f, const Party& party) {
  Endpoint e;
  e.party = party;
  const std::string d = f.dialect;
  e.dialect = d == "fhir" ? Dialect::kFhir : d == "sbdh" ? Dialect::kSbdh : Dialect::kNative;
  const std::string p = f.payload;
  e.sbdh_payload = p == "fhir" ? SbdhPayload::kFhir : SbdhPayload::kNative;
  return e;
}

// The FHIR message in what an endpoint of form `f` sent or got: the document itself, or the
// payload of its SBDH envelope.
std::string fhir_of(const StayForm& f, const std::string& bytes) {
  if (!in_sbdh(f)) return bytes;
  auto doc = adapters::parse_sbdh(bytes);
  return doc ? doc->payload : std::string();
}

class HospitalStayMatrix : public BrokerFixture,
                           public ::testing::WithParamInterface<std::tuple<StayForm, StayForm>> {
 protected:
  HospitalStayMatrix() {
    for (auto& e : config["endpoints"]) e["accepts"].push_back("HospitalStayNotice");
    config["delivery"]["receipt_timeout_seconds"] = 7 * 24 * 3600;
  }

  Envelope notice(const std::string& envelope_id, const std::string& letter_id,
                  HospitalStayNotice n) const {
    Envelope e;
    e.id = envelope_id;
    e.sent = clock.now();
    Letter l;
    l.id = letter_id;
    l.status = LetterStatus::kNew;
    l.authorised = clock.now();
    l.sender = psy_party;
    l.receiver = jc_party;
    l.patient = Patient{"0101801234"};
    l.body = std::move(n);
    e.letters.push_back(std::move(l));
    return e;
  }

  // Sends `sent` from psychiatry in form `from`; checks what the jobcenter in form `to` gets.
  void carry(const Envelope& sent, const StayForm& from, const StayForm& to) {
    SCOPED_TRACE(sent.letters[0].id);
    const std::size_t before = jc.received().size();
    auto bytes = encode_for_receiver(sent, endpoint_of(from, psy_party), clock.now(),
                                     "SBDHST" + sent.letters[0].id);
    ASSERT_TRUE(bytes) << bytes.error().detail;
    std::optional<adapters::FhirMessage> hospital;
    if (speaks_fhir(from)) {
      auto message = adapters::parse_fhir_message(fhir_of(from, *bytes));
      ASSERT_TRUE(message) << message.error().detail;
      EXPECT_NE(message->event.find("hospital-notification"), std::string::npos);
      hospital = std::move(*message);
    }
    const HttpResult in = client.post(
        broker->url("/v1/messages"), *bytes,
        std::string(from.dialect) == "fhir" ? "application/fhir+xml" : "application/xml");
    ASSERT_EQ(in.status, 202) << in.body;
    ASSERT_TRUE(eventually([&] { return jc.received().size() > before; }));
    const std::string body = jc.received().back().body;

    // The form the jobcenter gets is the one its configuration names.
    if (in_sbdh(to)) {
      auto doc = adapters::parse_sbdh(body);
      ASSERT_TRUE(doc) << doc.error().detail;
      EXPECT_EQ(doc->mime_type, speaks_fhir(to) ? "application/fhir+xml" : "application/xml");
      EXPECT_EQ(doc->sender_gln, psy_party.gln);
      EXPECT_EQ(doc->receiver_gln, jc_party.gln);
    }
    if (speaks_fhir(to)) {
      auto got = adapters::parse_fhir_message(fhir_of(to, body));
      ASSERT_TRUE(got) << got.error().detail << "\n" << body;
      if (hospital) {
        EXPECT_EQ(*got, *hospital) << "the hospital's own message";
      }
    }

    auto read = decode_inbound(body, clock.now());
    ASSERT_TRUE(read) << read.error().detail << "\n" << body;
    ASSERT_TRUE(read->envelope);
    ASSERT_EQ(read->envelope->letters.size(), 1u);
    const Letter& want = sent.letters[0];
    const Letter& got = read->envelope->letters[0];
    ASSERT_EQ(got.type(), LetterType::kHospitalStayNotice);
    EXPECT_EQ(got.id, want.id);
    EXPECT_EQ(got.status, want.status);
    EXPECT_EQ(got.sender.gln, want.sender.gln);
    EXPECT_EQ(got.sender.sor, want.sender.sor);
    EXPECT_EQ(got.receiver.gln, want.receiver.gln);
    EXPECT_EQ(got.receiver.sor, want.receiver.sor);
    ASSERT_TRUE(got.patient);
    EXPECT_EQ(got.patient->cpr, want.patient->cpr);
    const auto& w = std::get<HospitalStayNotice>(want.body);
    const auto& g = std::get<HospitalStayNotice>(got.body);
    EXPECT_EQ(g.event, w.event);
    EXPECT_EQ(g.event_time, w.event_time);
    EXPECT_EQ(g.stay_start, w.stay_start);
    EXPECT_EQ(g.stay_end, w.stay_end);
    EXPECT_EQ(g.encounter_status, w.encounter_status);
    EXPECT_EQ(g.encounter_class, w.encounter_class);
    EXPECT_EQ(g.department, w.department);
    if (hospital && !speaks_fhir(to)) {
      // Nothing the hospital wrote is lost on the way to a native jobcenter.
      auto whole = adapters::fhir_json_to_xml(g.fhir_message);
      ASSERT_TRUE(whole) << whole.error().detail;
      auto kept = adapters::parse_fhir_message(*whole);
      ASSERT_TRUE(kept) << kept.error().detail;
      EXPECT_EQ(*kept, *hospital);
    }
    if (!hospital && !speaks_fhir(to)) {
      EXPECT_EQ(g.fhir_message, "");
    }
  }
};

TEST_P(HospitalStayMatrix, AnAdmissionAndAnEmergencyDischargeArriveWithEveryField) {
  const StayForm from = std::get<0>(GetParam());
  const StayForm to = std::get<1>(GetParam());
  config["endpoints"][2]["dialect"] = from.dialect;  // psy sends
  if (*from.payload) config["endpoints"][2]["sbdh_payload"] = from.payload;
  config["endpoints"][0]["dialect"] = to.dialect;  // jc receives
  if (*to.payload) config["endpoints"][0]["sbdh_payload"] = to.payload;
  start();

  HospitalStayNotice admit;
  admit.event = HospitalStayEvent::kAdmitInpatient;
  admit.event_time = "2026-11-23T10:05:00+01:00";
  admit.stay_start = "2026-11-23T09:30:00+01:00";
  admit.encounter_status = "in-progress";
  admit.encounter_class = "IMP";
  admit.department = "Psykiatrisk Afsnit P3";
  carry(notice("STENV1", "STOPH1", admit), from, to);

  HospitalStayNotice home;
  home.event = HospitalStayEvent::kDischargeEmergency;
  home.event_time = "2026-11-24T16:40:00+01:00";
  home.stay_start = "2026-11-24T08:10:00+01:00";
  home.stay_end = "2026-11-24T16:30:00+01:00";
  home.encounter_status = "finished";
  home.encounter_class = "EMER";
  home.department = "Psykiatrisk Akutmodtagelse";
  carry(notice("STENV2", "STUDS1", home), from, to);

  EXPECT_EQ(jc.received().size(), 2u);
  EXPECT_TRUE(get_json("/v1/deadlines?view=open&kind=mentor-response")["deadlines"].empty());
}

std::string stay_pair_name(const ::testing::TestParamInfo<std::tuple<StayForm, StayForm>>& info) {
  return std::string(std::get<0>(info.param).name) + "_to_" + std::get<1>(info.param).name;
}

INSTANTIATE_TEST_SUITE_P(EveryPair, HospitalStayMatrix,
                         ::testing::Combine(::testing::ValuesIn(kStayForms),
                                            ::testing::ValuesIn(kStayForms)),
                         stay_pair_name);

}  // namespace
}  // namespace sektorbro::testing
