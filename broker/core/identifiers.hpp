// Checks and transformations of the identifiers the domain uses (domain.md §1–2).
#pragma once

#include <string>
#include <string_view>

namespace sektorbro {

// GLN / EAN location number: 13 digits with a GS1 modulo-10 check digit.
bool is_valid_gln(std::string_view gln);
// Computes the GS1 check digit for the first 12 digits (used by tests and the demo).
char gln_check_digit(std::string_view first12);

// CPR: 10 digits DDMMYYSSSS with a possible day and month. The modulus-11 check is not
// enforced: numbers issued since 2007 need not satisfy it (domain.md §2).
bool is_valid_cpr(std::string_view cpr);
// "010180-****": what operators see by default. Never log the unmasked value.
std::string mask_cpr(std::string_view cpr);

// MedCom identifiers (envelope and letter ids) are 1–14 characters; Sektorbro allows
// [A-Za-z0-9._-] so ids are safe in URLs, file names and log lines.
bool is_valid_message_id(std::string_view id);

// Lower-case hex SHA-256 of the bytes (OpenSSL).
std::string sha256_hex(std::string_view bytes);

}  // namespace sektorbro
