// Our MedCom FHIR test messages (tests/data/medcom/fhir/, each naming the public MedCom example
// it follows), readdressed to a test's parties. Every file is written from psychiatry (GLN
// 5790000678907, SOR 265161000016000) to a jobcenter (GLN 5790000123452, SOR 123451000016001);
// the test's own parties take those places, so the broker's routing table knows them.
#pragma once

#include <fstream>
#include <sstream>
#include <string>

#include "broker/message/message.hpp"
#include "tests/integration/medcom_test_files.hpp"

namespace sektorbro::testing {

// The test message `name` as `from` sends it to `to`; empty if there is no such file.
inline std::string medcom_fhir_test_message(const std::string& name, const Party& from,
                                            const Party& to) {
  std::ifstream in(std::string(SEKTORBRO_SOURCE_DIR) + "/tests/data/medcom/fhir/" + name,
                   std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  std::string xml = s.str();
  replace_all(xml, "5790000678907", from.gln);
  replace_all(xml, "265161000016000", from.sor);
  replace_all(xml, "5790000123452", to.gln);
  replace_all(xml, "123451000016001", to.sor);
  return xml;
}

}  // namespace sektorbro::testing
