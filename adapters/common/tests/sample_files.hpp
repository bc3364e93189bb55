// Reads the MedCom samples copied into tests/data/medcom (see SOURCES.tsv there).
#pragma once

#include <fstream>
#include <sstream>
#include <string>

namespace sektorbro::adapters::testing {

inline std::string read_sample(const std::string& name) {
  std::ifstream in(std::string(SEKTORBRO_SOURCE_DIR) + "/tests/data/medcom/" + name,
                   std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

inline constexpr const char* kXctl02 = "02_oioxml_XCTL02_NegativeReceipt.xml";
inline constexpr const char* kXctl03 = "03_oioxml_XCTL03_PositiveReceipt.xml";
inline constexpr const char* kXdis91 = "05_oioxml_XDIS91_pluspositivkvitt_to_municipality.xml";
inline constexpr const char* kFhirAckOk = "08_fhir_Acknowledgement_ok.xml";
inline constexpr const char* kSbdhFull = "10_ehmiSBDH_envelope_with_FHIR_message.xml";
inline constexpr const char* kSbdhReceiptAck = "12_ehmiSBDH_ReceiptAcknowledgement.xml";

}  // namespace sektorbro::adapters::testing
