// What the OIOXML writer makes is valid against MedCom's own XSD for its namespace (issue 9):
// XDIS91 against schemas/medcom/2006-07-01, receipts against schemas/medcom/2005-08-07 (see
// schemas/medcom/SOURCES.md), checked with xmllint (libxml2-utils, installed by install-deps).
// Inputs: MedCom's XDIS91 sample (tests/data/medcom/05_…) and our native example
// schemas/examples/correspondence-medcom-details.xml, written in the manner of that sample with
// FixedFont text, a BIN reference and addresses.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <variant>

#include "adapters/common/tests/sample_files.hpp"
#include "adapters/oioxml/oioxml_codec.hpp"
#include "adapters/oioxml/oioxml_native.hpp"
#include "adapters/oioxml/oioxml_receipts.hpp"
#include "broker/codec/codec.hpp"
#include "broker/core/time.hpp"

namespace sektorbro::adapters {
namespace {

namespace fs = std::filesystem;

const fs::path kMedcom = fs::path(SEKTORBRO_SOURCE_DIR) / "schemas" / "medcom";

// Exit status of xmllint --schema (0 = valid); the document goes through a scratch file.
int xmllint(const fs::path& xsd, const std::string& document, const std::string& name) {
  const fs::path dir = fs::temp_directory_path() / ("sektorbro-oioxml-schema-" +
                                                    std::to_string(::getpid()));
  fs::create_directories(dir);
  const fs::path file = dir / name;
  std::ofstream(file, std::ios::binary) << document;
  const std::string cmd = "xmllint --noout --schema '" + xsd.string() + "' '" + file.string() +
                          "' >/dev/null 2>&1";
  const int rc = std::system(cmd.c_str());
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

std::string read(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

TEST(OioxmlSchema, MedcomsXdis91SampleAsWeWriteItIsValid) {
  auto doc = parse_oioxml(testing::read_sample(testing::kXdis91));
  ASSERT_TRUE(doc.ok()) << doc.error().detail;
  // MedCom's sample itself is not valid (<br/>, UTF-8 under a Latin-1 label); ours is.
  EXPECT_NE(xmllint(kMedcom / "2006-07-01" / "EMessage.xsd",
                    testing::read_sample(testing::kXdis91), "sample.xml"),
            0);
  for (auto enc : {TextEncoding::kIso88591, TextEncoding::kUtf8}) {
    const std::string bytes = write_oioxml(doc->message, {enc, true});
    EXPECT_EQ(xmllint(kMedcom / "2006-07-01" / "EMessage.xsd", bytes, "xdis91.xml"), 0) << bytes;
  }
}

// OIOXML → native → native codec → OIOXML: what arrives is MedCom-valid and carries every
// element the sender wrote (the envelope and letter ids are kept here too).
TEST(OioxmlSchema, Xdis91ThroughTheNativeModelLosesNothingAndStaysValid) {
  auto doc = parse_oioxml(testing::read_sample(testing::kXdis91));
  ASSERT_TRUE(doc.ok());
  auto native = oioxml_to_native(doc->message, *parse_timestamp("2023-11-20T17:00:00Z"));
  ASSERT_TRUE(native.ok()) << native.error().detail;
  for (auto& l : native->letters) {  // what the broker fills from its directory
    l.sender.sor = "123451000016001";
    l.receiver.sor = "265161000016000";
  }
  auto stored = decode_envelope(encode_envelope(*native));
  ASSERT_TRUE(stored.ok()) << stored.error().detail;
  ASSERT_EQ(*stored, *native);
  auto out = native_to_oioxml(*stored);
  ASSERT_TRUE(out.ok()) << out.error().detail;
  EXPECT_EQ(xmllint(kMedcom / "2006-07-01" / "EMessage.xsd", *out, "relayed.xml"), 0) << *out;
  auto back = parse_oioxml(*out);
  ASSERT_TRUE(back.ok()) << back.error().detail;
  EXPECT_EQ(back->message, doc->message);
}

TEST(OioxmlSchema, NativeCorrespondenceWithMedcomDetailsIsWrittenValid) {
  auto env = decode_envelope(
      read(fs::path(SEKTORBRO_SOURCE_DIR) / "schemas/examples/correspondence-medcom-details.xml"));
  ASSERT_TRUE(env.ok()) << env.error().detail;
  auto out = native_to_oioxml(*env);
  ASSERT_TRUE(out.ok()) << out.error().detail;
  EXPECT_EQ(xmllint(kMedcom / "2006-07-01" / "EMessage.xsd", *out, "native.xml"), 0) << *out;
  EXPECT_NE(out->find("<FixedFont>Dato    Afsnit<Break/>12.12   P3<Break/></FixedFont>"),
            std::string::npos)
      << *out;
  EXPECT_NE(out->find("<MedicalSpecialityCode>psykiatri_sygehus</MedicalSpecialityCode>"),
            std::string::npos);
  EXPECT_NE(out->find("<BIN><ObjectIdentifier>a1b2c3d4e5f60718293a4b5c6d7e8f90</ObjectIdentifier>"),
            std::string::npos);
  EXPECT_NE(out->find("<EpisodeOfCareStatusCode>indlagt</EpisodeOfCareStatusCode>"),
            std::string::npos);

  // Without the patient's surname MedCom's schema cannot be met: refused, never made up.
  std::get<Correspondence>(env->letters[0].body).patient_details.surname.clear();
  auto refused = native_to_oioxml(*env);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, Errc::kUnsupportedType);
}

TEST(OioxmlSchema, ReceiptsWeWriteAreValid) {
  auto doc = parse_oioxml(testing::read_sample(testing::kXdis91));
  ASSERT_TRUE(doc.ok());
  const OioxmlReceiptIds ids{"KvitKuv0001", "KvitBrev0001", *parse_timestamp("2023-11-20T16:46:00Z"),
                             {}};
  auto positive = build_positive_receipt(doc->message, ids);
  ASSERT_TRUE(positive.ok()) << positive.error().detail;
  auto negative = build_negative_receipt(
      doc->message, OioxmlRefusal{RefuseCode::kVersionProblem, "Kan ikke modtage.\nHilsen", {}, false},
      ids);
  ASSERT_TRUE(negative.ok()) << negative.error().detail;
  auto network = build_network_receipt(
      doc->message, OioxmlRefusal{RefuseCode::kUnknownLocation, "Ukendt modtager", {}, true}, ids);
  ASSERT_TRUE(network.ok()) << network.error().detail;
  for (const auto* m : {&*positive, &*negative, &*network})
    EXPECT_EQ(xmllint(kMedcom / "2005-08-07" / "EMessage.xsd", write_oioxml(*m), "receipt.xml"), 0)
        << write_oioxml(*m);
}

}  // namespace
}  // namespace sektorbro::adapters
