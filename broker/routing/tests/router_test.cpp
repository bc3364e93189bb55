#include "broker/routing/router.hpp"

#include <gtest/gtest.h>

#include "broker/core/identifiers.hpp"

namespace sektorbro {
namespace {

std::string gln(const std::string& first12) { return first12 + gln_check_digit(first12); }

const std::string kJobcenterGln = gln("579000075100");
const std::string kPsychiatryGln = gln("579000066200");
const std::string kOtherGln = gln("579000099900");
const std::string kCpr = "0101801234";

Endpoint jobcenter() {
  Endpoint e;
  e.id = "jc-aarhus";
  e.party = Party{kJobcenterGln, "123456000016001", "kommunenummer", "751", "Jobcenter Aarhus"};
  e.kind = EndpointKind::kJobcenter;
  e.url = "http://127.0.0.1:9101/inbox";
  e.accepts = {LetterType::kCertificate, LetterType::kDischargeNotice, LetterType::kReminder};
  return e;
}

Endpoint psychiatry() {
  Endpoint e;
  e.id = "psy-risskov";
  e.party = Party{kPsychiatryGln, "265161000016000", "", "", "Psykiatrien Risskov"};
  e.kind = EndpointKind::kPsychiatry;
  e.url = "http://127.0.0.1:9103/inbox";
  e.accepts = {LetterType::kCertificateRequest, LetterType::kMentorResponse, LetterType::kReminder};
  return e;
}

Letter letter(std::string id, const Endpoint& from, const Endpoint& to, LetterBody body) {
  Letter l;
  l.id = std::move(id);
  l.sender = from.party;
  l.receiver = to.party;
  l.patient = Patient{kCpr};
  l.body = std::move(body);
  return l;
}

Envelope envelope(std::vector<Letter> letters) {
  Envelope e;
  e.id = "ENV1";
  e.letters = std::move(letters);
  return e;
}

class RouterTest : public ::testing::Test {
 protected:
  Directory directory_{{jobcenter(), psychiatry()}};
  const Endpoint& jc_ = *directory_.by_id("jc-aarhus");
  const Endpoint& psy_ = *directory_.by_id("psy-risskov");

  void expect_error(const Envelope& env, Errc code, const std::string& detail) {
    const auto route = route_envelope(env, directory_);
    ASSERT_FALSE(route.ok());
    EXPECT_EQ(route.error().code, code) << errc_name(route.error().code);
    EXPECT_EQ(route.error().detail, detail);
    EXPECT_EQ(route.error().detail.find(kCpr), std::string::npos);
  }
};

TEST(Directory, FindsEndpointsByGlnAndId) {
  const Directory d({jobcenter(), psychiatry()});
  ASSERT_NE(d.by_gln(kJobcenterGln), nullptr);
  EXPECT_EQ(d.by_gln(kJobcenterGln)->id, "jc-aarhus");
  ASSERT_NE(d.by_id("psy-risskov"), nullptr);
  EXPECT_EQ(d.by_id("psy-risskov")->party.gln, kPsychiatryGln);
  EXPECT_EQ(d.by_gln(kOtherGln), nullptr);
  EXPECT_EQ(d.by_id("jc-odense"), nullptr);
  EXPECT_EQ(d.all().size(), 2u);
}

TEST(Directory, LookupsSurviveMovingTheDirectory) {
  Directory a({jobcenter(), psychiatry()});
  const Directory b = std::move(a);
  ASSERT_NE(b.by_id("jc-aarhus"), nullptr);
  EXPECT_EQ(b.by_id("jc-aarhus"), &b.all()[0]);
}

TEST_F(RouterTest, RoutesARequestFromJobcenterToPsychiatry) {
  const auto route =
      route_envelope(envelope({letter("L1", jc_, psy_, CertificateRequest{})}), directory_);
  ASSERT_TRUE(route.ok()) << route.error().detail;
  EXPECT_EQ(route->sender, &jc_);
  EXPECT_EQ(route->receiver, &psy_);
}

TEST_F(RouterTest, RoutesEveryLetterOfAMultiLetterEnvelope) {
  const auto route = route_envelope(envelope({letter("L1", psy_, jc_, Certificate{}),
                                              letter("L2", psy_, jc_, DischargeNotice{})}),
                                    directory_);
  ASSERT_TRUE(route.ok()) << route.error().detail;
  EXPECT_EQ(route->receiver, &jc_);
}

TEST_F(RouterTest, UnknownSender) {
  Endpoint stranger = jobcenter();
  stranger.party.gln = kOtherGln;
  expect_error(envelope({letter("L1", stranger, psy_, CertificateRequest{})}), Errc::kUnknownSender,
               "sender GLN " + kOtherGln + " is not a known endpoint");
}

TEST_F(RouterTest, UnknownReceiver) {
  Endpoint stranger = psychiatry();
  stranger.party.gln = kOtherGln;
  expect_error(envelope({letter("L1", jc_, stranger, CertificateRequest{})}),
               Errc::kUnknownReceiver, "receiver GLN " + kOtherGln + " is not a known endpoint");
}

TEST_F(RouterTest, ReceiverSorMismatch) {
  Endpoint wrong_sor = psychiatry();
  wrong_sor.party.sor = "265161000099999";
  expect_error(envelope({letter("L1", jc_, wrong_sor, CertificateRequest{})}),
               Errc::kReceiverMismatch,
               "receiver SOR 265161000099999 does not match SOR 265161000016000 of endpoint "
               "psy-risskov (GLN " +
                   kPsychiatryGln + ")");
}

TEST_F(RouterTest, ReceiverNameAndIdentifierDoNotMatter) {
  Endpoint renamed = psychiatry();
  renamed.party.name = "Another display name";
  const auto route =
      route_envelope(envelope({letter("L1", jc_, renamed, CertificateRequest{})}), directory_);
  EXPECT_TRUE(route.ok());
}

TEST_F(RouterTest, LetterTypeTheReceiverDoesNotAccept) {
  expect_error(envelope({letter("L1", jc_, psy_, CertificateRequest{}),
                         letter("L2", jc_, psy_, Certificate{})}),
               Errc::kUnsupportedType,
               "letter L2: endpoint psy-risskov (GLN " + kPsychiatryGln +
                   ") does not accept Certificate letters");
}

TEST_F(RouterTest, ReceiptsAreAcceptedByEveryEndpoint) {
  const Directory bare({[] {
                          Endpoint e = jobcenter();
                          e.accepts.clear();
                          return e;
                        }(),
                        psychiatry()});
  const Endpoint& jc = *bare.by_id("jc-aarhus");
  const Endpoint& psy = *bare.by_id("psy-risskov");
  for (const LetterBody& body : {LetterBody{PositiveReceipt{}}, LetterBody{NegativeReceipt{}}}) {
    Letter l = letter("R1", psy, jc, body);
    l.patient.reset();
    const auto route = route_envelope(envelope({l}), bare);
    EXPECT_TRUE(route.ok()) << route.error().detail;
  }
  const auto refused = route_envelope(envelope({letter("L1", psy, jc, Certificate{})}), bare);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, Errc::kUnsupportedType);
}

TEST_F(RouterTest, RemindersFromEndpointsAreInvalidEvenWhereAccepted) {
  // The jobcenter accepts Reminders, but only from the broker.
  expect_error(envelope({letter("L1", psy_, jc_, Reminder{})}), Errc::kInvalid,
               "letter L1: Reminder letters are written by the broker only, not by endpoint "
               "psy-risskov");
}

TEST_F(RouterTest, EmptyEnvelopeIsInvalidNotACrash) {
  expect_error(envelope({}), Errc::kInvalid, "envelope has no letters");
}

}  // namespace
}  // namespace sektorbro
