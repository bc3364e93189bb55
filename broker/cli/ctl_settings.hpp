// CtlSettings: where sektorbro-ctl finds the broker and how it proves who it is. Each setting
// comes from, in this order of precedence: a command-line flag, an environment variable
// (SEKTORBRO_URL, SEKTORBRO_CACERT, SEKTORBRO_CERT, SEKTORBRO_KEY, SEKTORBRO_TOKEN,
// SEKTORBRO_TOKEN_FILE), the configuration file, the default. Pure: the caller passes the
// environment and the file's text in.
//
// The configuration file ($SEKTORBRO_CONFIG, --config, or ~/.config/sektorbro/ctl.conf) has one
// `key = value` per line, '#' starts a comment; keys: broker, cacert, cert, key, token,
// token_file.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "broker/core/result.hpp"

namespace sektorbro::ctl {

struct Settings {
  std::string broker = "http://127.0.0.1:8440";
  std::string cacert;       // CA bundle that verifies the broker (https)
  std::string cert, key;    // the operator's client certificate and its key (mutual TLS)
  std::string token;        // sent as "Authorization: Bearer <token>"
  std::string token_file;   // a file whose first line is the token
  std::string config_file;  // the file the settings were read from, if any
};

// One setting's value as given on the command line (flags) — only those given are set.
struct Flags {
  std::optional<std::string> broker, cacert, cert, key, token, token_file, config;
};

using Environment = std::function<std::optional<std::string>(const std::string& name)>;

// Reads `key = value` lines into `into`. Errors (kConfig) name the line number.
Result<void> apply_config_text(const std::string& text, const std::string& file_name,
                               Settings& into);

// Combines the three sources. `read_file` returns the text of a file or nullopt when it does not
// exist; a config file named by flag or environment must exist, the default one may not.
Result<Settings> resolve_settings(
    const Flags& flags, const Environment& env,
    const std::function<std::optional<std::string>(const std::string&)>& read_file);

}  // namespace sektorbro::ctl
