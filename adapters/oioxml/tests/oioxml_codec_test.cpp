#include "adapters/oioxml/oioxml_codec.hpp"

#include "broker/xml/formatted_text.hpp"

#include <gtest/gtest.h>

#include "adapters/common/tests/sample_files.hpp"

namespace sektorbro::adapters {
namespace {

using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::sys_days;
using namespace std::chrono_literals;

TimePoint utc(int y, unsigned m, unsigned d, int hh, int mm) {
  return sys_days(std::chrono::year{y} / m / d) + hours(hh) + minutes(mm);
}

OioxmlDocument parse_sample(const char* name) {
  auto r = parse_oioxml(testing::read_sample(name));
  EXPECT_TRUE(r.ok()) << name << ": " << (r.ok() ? "" : r.error().detail);
  return r.ok() ? std::move(*r) : OioxmlDocument{};
}

TEST(OioxmlCodec, ReadsTheXdis91Sample) {
  const OioxmlDocument doc = parse_sample(testing::kXdis91);
  const OioxmlEmessage& m = doc.message;
  EXPECT_EQ(doc.declared_encoding, TextEncoding::kIso88591);
  EXPECT_EQ(doc.used_encoding, TextEncoding::kUtf8);
  EXPECT_EQ(m.namespace_uri, kOioxmlNamespace20060701);
  EXPECT_EQ(m.sent, utc(2023, 11, 20, 16, 45));  // 17:45 CET
  EXPECT_EQ(m.envelope_id, "KuvNrerwerwe99");
  EXPECT_TRUE(m.positive_receipt_requested);
  ASSERT_EQ(m.letters.size(), 1u);
  const OioxmlLetter& l = m.letters[0];
  EXPECT_EQ(l.kind, OioxmlLetterKind::kClinicalEmail);
  EXPECT_EQ(l.id, "Brevt23400929");
  EXPECT_EQ(l.version_code, "XD9134L");
  EXPECT_EQ(l.statistical_code, "XDIS91");
  EXPECT_EQ(l.type_code, "XDIS91");
  EXPECT_EQ(l.status_code, "nytbrev");
  ASSERT_TRUE(l.authorised.has_value());
  EXPECT_EQ(*l.authorised, utc(2023, 11, 20, 16, 45));
  EXPECT_EQ(l.sender.ean, "5790001382445");
  EXPECT_EQ(l.sender.identifier_code, "lokationsnummer");
  EXPECT_EQ(l.sender.organisation_name, "Medcom testcenter");
  EXPECT_EQ(l.sender.department_name, "Certificering");
  EXPECT_EQ(l.receiver.ean, "5790000121441");
  EXPECT_EQ(l.receiver.identifier_code, "kommunenummer");
  EXPECT_EQ(l.receiver.organisation_name, "Hjemmeplejen, Odense Kommune");
  EXPECT_EQ(l.patient_cpr, "2512489996");
  EXPECT_EQ(l.patient_surname, "Ann Berggren");
  EXPECT_EQ(l.patient_given_name, "Nancy");
  EXPECT_EQ(l.priority, "høj_prioritet");
  EXPECT_EQ(l.subject, "Forundersøgelse");
  EXPECT_TRUE(
      l.text.starts_with("Afdeling A har modtaget en henvisning på ovenstående patient.\n"
                         "Forinden der foretages visitation"));
  EXPECT_NE(l.text.find("\nRøntgen af hofte i to planer.\n"), std::string::npos);
  EXPECT_NE(l.text.find("som et \"korrespondancebrev\"."), std::string::npos);
  EXPECT_TRUE(l.text.ends_with("15.01.1999"));
  // Lossless (issue 9): the formatted text keeps every break, the sample's <br/> as MedCom's
  // <Break/>, the trailing one included; addresses, speciality, episode status and the BIN
  // attachment reference are read too.
  ASSERT_EQ(l.formatted_text.size(), 1u);
  EXPECT_TRUE(l.formatted_text[0].starts_with(
      "Afdeling A har modtaget en henvisning på ovenstående patient.<Break/>Forinden"));
  EXPECT_TRUE(l.formatted_text[0].ends_with("15.01.1999<Break/>"));
  EXPECT_NE(l.formatted_text[0].find("som et \"korrespondancebrev\".<Break/>"), std::string::npos);
  EXPECT_EQ(l.sender.speciality_code, "ikkeklassificeret");
  EXPECT_EQ(l.receiver.address.street, "Vandværksvej 99");
  EXPECT_EQ(l.receiver.address.district, "Hillerød");
  EXPECT_EQ(l.receiver.address.post_code, "3400");
  EXPECT_EQ(l.patient_address.street, "Hindbærvej 23");
  EXPECT_EQ(l.patient_address.district, "Odense S");
  EXPECT_EQ(l.patient_address.post_code, "5260");
  EXPECT_EQ(l.episode_of_care_status, "inaktiv");
  ASSERT_EQ(l.references.size(), 1u);
  EXPECT_EQ(l.references[0].description, "BIN");
  EXPECT_EQ(l.references[0].object_id, "c39ea6b2605245e4a207415e0205ab6f");
  EXPECT_EQ(l.references[0].object_code, "billede");
  EXPECT_EQ(l.references[0].extension_code, "pdf");
  EXPECT_EQ(l.references[0].size, 4297u);
  EXPECT_FALSE(l.original.has_value());
  EXPECT_EQ(doc.original_bytes, testing::read_sample(testing::kXdis91));
}

TEST(OioxmlCodec, ReadsTheXctl02Sample) {
  const OioxmlEmessage m = parse_sample(testing::kXctl02).message;
  EXPECT_EQ(m.namespace_uri, kOioxmlReceiptNamespace);
  EXPECT_EQ(m.sent, utc(1999, 11, 11, 17, 50));
  EXPECT_FALSE(m.positive_receipt_requested);
  ASSERT_EQ(m.letters.size(), 1u);
  const OioxmlLetter& l = m.letters[0];
  EXPECT_EQ(l.kind, OioxmlLetterKind::kNegativeReceipt);
  EXPECT_EQ(l.version_code, "XC0230Q");
  EXPECT_EQ(l.statistical_code, "XCTL02");
  EXPECT_EQ(l.sender.ean, "5790000120420");
  EXPECT_EQ(l.receiver.ean, "5790000181872");
  ASSERT_TRUE(l.original.has_value());
  EXPECT_EQ(l.original->envelope_id, "MEDREF01095");
  EXPECT_EQ(l.original->sender.ean, "5790000181872");
  EXPECT_EQ(l.original->receiver.ean, "5790000120420");
  ASSERT_EQ(l.original->letters.size(), 1u);
  const OioxmlOriginalLetter& ol = l.original->letters[0];
  EXPECT_EQ(ol.letter_id, "1111MAN01095");
  EXPECT_EQ(ol.version_code, "H0130R");
  EXPECT_EQ(ol.refuse_code, "problem_med_version");
  EXPECT_TRUE(ol.refuse_text.starts_with("EDI-brev med nummeret 1111MAN01095"));
  EXPECT_NE(ol.refuse_text.find("sygehushenvisninger. \nMed venlig hilsen\n IT-Hotline."),
            std::string::npos);
}

TEST(OioxmlCodec, ReadsTheXctl03Sample) {
  const OioxmlEmessage m = parse_sample(testing::kXctl03).message;
  ASSERT_EQ(m.letters.size(), 1u);
  EXPECT_EQ(m.letters[0].kind, OioxmlLetterKind::kPositiveReceipt);
  EXPECT_EQ(m.letters[0].id, "BrevNr5678");
  ASSERT_TRUE(m.letters[0].original.has_value());
  EXPECT_EQ(m.letters[0].original->letters.at(0).letter_id, "1111FRE01095");
  EXPECT_TRUE(m.letters[0].original->letters.at(0).refuse_code.empty());
}

TEST(OioxmlCodec, RoundTripsEverySampleInBothEncodingsAndLayouts) {
  for (const char* name : {testing::kXdis91, testing::kXctl02, testing::kXctl03}) {
    const OioxmlEmessage m = parse_sample(name).message;
    for (auto enc : {TextEncoding::kIso88591, TextEncoding::kUtf8}) {
      for (bool indent : {false, true}) {
        const std::string bytes = write_oioxml(m, {enc, indent});
        auto back = parse_oioxml(bytes);
        ASSERT_TRUE(back.ok()) << name << ": " << back.error().detail;
        EXPECT_EQ(back->message, m) << name;
        EXPECT_EQ(back->used_encoding, enc);
        EXPECT_EQ(write_oioxml(back->message, {enc, indent}), bytes);
      }
    }
  }
}

TEST(OioxmlCodec, TextThatLooksLikeMojibakeSurvivesLatin1Output) {
  OioxmlEmessage m = parse_sample(testing::kXdis91).message;
  m.letters[0].subject = "Ã¦ble";  // what the fuzzer found: Latin-1 bytes that form UTF-8
  m.letters[0].text = "Ã¦";
  m.letters[0].formatted_text = {formatted_text_of_plain("Ã¦")};
  auto back = parse_oioxml(write_oioxml(m));
  ASSERT_TRUE(back.ok()) << back.error().detail;
  EXPECT_EQ(back->message, m);
}

TEST(OioxmlCodec, Latin1OutputIsRealLatin1) {
  const OioxmlEmessage m = parse_sample(testing::kXdis91).message;
  const std::string bytes = write_oioxml(m);
  EXPECT_TRUE(bytes.starts_with(R"(<?xml version="1.0" encoding="ISO-8859-1"?>)"));
  EXPECT_NE(bytes.find("Forunders\xF8gelse"), std::string::npos);
  EXPECT_NE(bytes.find("<Text01>Afdeling A"), std::string::npos);
  // MedCom's schema allows <Break/>, not the sample's <br/>.
  EXPECT_NE(bytes.find("patient.<Break/>Forinden"), std::string::npos);
  EXPECT_EQ(bytes.find("<br/>"), std::string::npos);
}

TEST(OioxmlCodec, SeveralLettersPerEnvelope) {
  OioxmlEmessage m = parse_sample(testing::kXdis91).message;
  OioxmlLetter second = m.letters[0];
  second.id = "Brev2";
  second.text = "Anden tekst";
  second.formatted_text = {formatted_text_of_plain("Anden tekst")};
  second.patient_cpr.clear();
  m.letters.push_back(second);
  auto back = parse_oioxml(write_oioxml(m));
  ASSERT_TRUE(back.ok()) << back.error().detail;
  ASSERT_EQ(back->message.letters.size(), 2u);
  EXPECT_EQ(back->message.letters[1].id, "Brev2");
  EXPECT_EQ(back->message.letters[1].text, "Anden tekst");
  EXPECT_EQ(back->message, m);
}

TEST(OioxmlCodec, AcceptsAnyDatedNamespaceOnly) {
  OioxmlEmessage m = parse_sample(testing::kXctl03).message;
  m.namespace_uri = std::string(kOioxmlNamespacePrefix) + "2012/03/15/";
  auto ok = parse_oioxml(write_oioxml(m));
  ASSERT_TRUE(ok.ok()) << ok.error().detail;
  EXPECT_EQ(ok->message.namespace_uri, m.namespace_uri);
  for (std::string ns :
       {std::string(kOioxmlNamespacePrefix) + "2012/3/15/", std::string(kOioxmlNamespacePrefix),
        std::string("urn:other"), std::string(kOioxmlNamespacePrefix) + "2012/03/15"}) {
    m.namespace_uri = ns;
    auto bad = parse_oioxml(write_oioxml(m));
    ASSERT_FALSE(bad.ok()) << ns;
    EXPECT_EQ(bad.error().code, Errc::kInvalid);
    EXPECT_EQ(bad.error().detail, "Emessage: namespace is not a dated MedCom namespace");
  }
}

std::string replace(std::string s, std::string_view from, std::string_view to) {
  const auto at = s.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) s.replace(at, from.size(), to);
  return s;
}

// MedCom's EANIdentifierType is 1–35 characters: the VANS network's own identifiers are read,
// not refused for a GS1 check digit (issue 9); whether they can be routed is decided later.
TEST(OioxmlCodec, ReadsNonGlnEanIdentifiers) {
  const std::string good = testing::read_sample(testing::kXdis91);
  auto r = parse_oioxml(replace(good, "<EANIdentifier>5790001382445", "<EANIdentifier>VANS-DK-01"));
  ASSERT_TRUE(r.ok()) << r.error().detail;
  EXPECT_EQ(r->message.letters[0].sender.ean, "VANS-DK-01");
}

TEST(OioxmlCodec, ErrorsNameThePathAndNeverTheValue) {
  const std::string good = testing::read_sample(testing::kXdis91);
  struct Case {
    std::string bytes;
    std::string detail;
  };
  const Case cases[] = {
      {replace(good, "<Identifier>KuvNrerwerwe99</Identifier>", ""),
       "Emessage/Envelope/Identifier: missing"},
      {replace(good, "KuvNrerwerwe99", "2512489996ABCDE"),
       "Emessage/Envelope/Identifier: longer than 14 characters"},
      {replace(good, "pluspositivkvitt", "2512489996"),
       "Emessage/Envelope/AcknowledgementCode: expected pluspositivkvitt or minuspositivkvitt"},
      {replace(good, "<EANIdentifier>5790000121441", "<EANIdentifier>2512489996" + std::string(26, 'X')),
       "Emessage/ClinicalEmail[1]/Receiver/EANIdentifier: longer than 35 characters"},
      {replace(good, "<Time>17:45</Time>\n    </Sent>", "<Time>25:45</Time>\n    </Sent>"),
       "Emessage/Envelope/Sent: expected Date YYYY-MM-DD and Time HH:MM"},
      {replace(good, "<Identifier>Brevt23400929</Identifier>", "<Identifier> </Identifier>"),
       "Emessage/ClinicalEmail[1]/Letter/Identifier: empty"},
      {replace(replace(good, "<Sender>", "<Sender2>"), "</Sender>", "</Sender2>"),
       "Emessage/ClinicalEmail[1]/Sender: missing"},
  };
  for (const auto& c : cases) {
    auto r = parse_oioxml(c.bytes);
    ASSERT_FALSE(r.ok()) << c.detail;
    EXPECT_EQ(r.error().code, Errc::kInvalid);
    EXPECT_EQ(r.error().detail, c.detail);
    EXPECT_EQ(r.error().detail.find("2512489996"), std::string::npos);
  }
}

TEST(OioxmlCodec, ReceiptWithoutOriginalEmessageIsInvalid) {
  const std::string bytes = testing::read_sample(testing::kXctl03);
  const auto from = bytes.find("<OriginalEmessage>");
  const auto to = bytes.find("</OriginalEmessage>") + std::string("</OriginalEmessage>").size();
  std::string cut = bytes;
  cut.erase(from, to - from);
  auto r = parse_oioxml(cut);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().detail, "Emessage/PositiveReceipt[1]/OriginalEmessage: missing");
}

TEST(OioxmlCodec, MalformedInputIsRefused) {
  const std::string good = testing::read_sample(testing::kXdis91);
  for (const std::string& bad :
       {good.substr(0, good.size() / 2), std::string("<!DOCTYPE Emessage []>") + good.substr(44),
        replace(good, "<Envelope>", "<Envelope>&xxe;"), std::string(), std::string("<Emessage")}) {
    auto r = parse_oioxml(bad);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, Errc::kMalformed) << r.error().detail;
  }
  auto no_letter = parse_oioxml(
      R"(<Emessage xmlns="http://rep.oio.dk/sundcom.dk/medcom.dk/xml/schemas/2006/07/01/"><Envelope><Sent><Date>2023-01-01</Date><Time>10:00</Time></Sent><Identifier>E1</Identifier><AcknowledgementCode>minuspositivkvitt</AcknowledgementCode></Envelope></Emessage>)");
  ASSERT_FALSE(no_letter.ok());
  EXPECT_EQ(no_letter.error().detail, "Emessage: no letter");
  auto wrong_root = parse_oioxml("<Envelope/>");
  ASSERT_FALSE(wrong_root.ok());
  EXPECT_EQ(wrong_root.error().code, Errc::kInvalid);
}

TEST(OioxmlCodec, LocalTimesAcrossDaylightSaving) {
  // CEST in summer, CET in winter; minute resolution.
  EXPECT_EQ(parse_oioxml_date_time("2026-07-01", "12:30"), utc(2026, 7, 1, 10, 30));
  EXPECT_EQ(parse_oioxml_date_time("2026-01-01", "00:15"), utc(2025, 12, 31, 23, 15));
  // 2026-10-25 02:30 happens twice: the earlier (CEST) instant.
  EXPECT_EQ(parse_oioxml_date_time("2026-10-25", "02:30"), utc(2026, 10, 25, 0, 30));
  EXPECT_EQ(format_oioxml_time(utc(2026, 7, 1, 10, 30)), "12:30");
  EXPECT_EQ(format_oioxml_date(utc(2025, 12, 31, 23, 15)), "2026-01-01");
  EXPECT_EQ(format_oioxml_time(utc(2025, 12, 31, 23, 15)), "00:15");
  EXPECT_FALSE(parse_oioxml_date_time("2026-02-30", "10:00"));
  EXPECT_FALSE(parse_oioxml_date_time("2026-02-01", "10:0"));
  EXPECT_FALSE(parse_oioxml_date_time("2026-02-01", "10:60"));
}

}  // namespace
}  // namespace sektorbro::adapters
