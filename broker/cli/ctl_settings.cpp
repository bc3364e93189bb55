#include "broker/cli/ctl_settings.hpp"

#include <sstream>

namespace sektorbro::ctl {

namespace {

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos) return "";
  const auto e = s.find_last_not_of(" \t\r");
  return s.substr(b, e - b + 1);
}

}  // namespace

Result<void> apply_config_text(const std::string& text, const std::string& file_name,
                               Settings& into) {
  std::istringstream in(text);
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    line = trim(line);
    if (line.empty() || line[0] == '#') continue;
    const auto eq = line.find('=');
    const std::string where = file_name + ":" + std::to_string(number);
    if (eq == std::string::npos) return Error{Errc::kConfig, where + ": expected key = value"};
    const std::string key = trim(line.substr(0, eq));
    const std::string value = trim(line.substr(eq + 1));
    if (key == "broker") {
      into.broker = value;
    } else if (key == "cacert") {
      into.cacert = value;
    } else if (key == "cert") {
      into.cert = value;
    } else if (key == "key") {
      into.key = value;
    } else if (key == "token") {
      into.token = value;
    } else if (key == "token_file") {
      into.token_file = value;
    } else {
      return Error{Errc::kConfig, where + ": unknown key '" + key +
                                      "' (broker, cacert, cert, key, token, token_file)"};
    }
  }
  return {};
}

Result<Settings> resolve_settings(
    const Flags& flags, const Environment& env,
    const std::function<std::optional<std::string>(const std::string&)>& read_file) {
  Settings s;
  // The configuration file: named by flag, by environment, or the default (optional).
  std::optional<std::string> named = flags.config ? flags.config : env("SEKTORBRO_CONFIG");
  std::string file = named ? *named : "";
  if (!named) {
    if (auto xdg = env("XDG_CONFIG_HOME"); xdg && !xdg->empty()) {
      file = *xdg + "/sektorbro/ctl.conf";
    } else if (auto home = env("HOME"); home && !home->empty()) {
      file = *home + "/.config/sektorbro/ctl.conf";
    }
  }
  if (!file.empty()) {
    const auto text = read_file(file);
    if (!text && named) return Error{Errc::kConfig, "cannot read the configuration file " + file};
    if (text) {
      auto applied = apply_config_text(*text, file, s);
      if (!applied) return applied.error();
      s.config_file = file;
    }
  }
  // Then the environment, then the flags.
  const std::pair<const char*, std::string Settings::*> vars[] = {
      {"SEKTORBRO_URL", &Settings::broker},  {"SEKTORBRO_CACERT", &Settings::cacert},
      {"SEKTORBRO_CERT", &Settings::cert},   {"SEKTORBRO_KEY", &Settings::key},
      {"SEKTORBRO_TOKEN", &Settings::token}, {"SEKTORBRO_TOKEN_FILE", &Settings::token_file}};
  for (const auto& [name, field] : vars)
    if (auto v = env(name); v && !v->empty()) s.*field = *v;
  const std::pair<const std::optional<std::string>*, std::string Settings::*> given[] = {
      {&flags.broker, &Settings::broker}, {&flags.cacert, &Settings::cacert},
      {&flags.cert, &Settings::cert},     {&flags.key, &Settings::key},
      {&flags.token, &Settings::token},   {&flags.token_file, &Settings::token_file}};
  for (const auto& [flag, field] : given)
    if (*flag) s.*field = **flag;
  // A token file is read only when no token was given directly.
  if (s.token.empty() && !s.token_file.empty()) {
    const auto text = read_file(s.token_file);
    if (!text) return Error{Errc::kConfig, "cannot read the token file " + s.token_file};
    s.token = trim(text->substr(0, text->find('\n')));
    if (s.token.empty())
      return Error{Errc::kConfig, "the token file " + s.token_file + " is empty"};
  }
  if (s.cert.empty() != s.key.empty())
    return Error{Errc::kConfig, "--cert and --key go together (a certificate and its key)"};
  if (s.broker.rfind("http://", 0) != 0 && s.broker.rfind("https://", 0) != 0)
    return Error{Errc::kConfig, "the broker URL must start with http:// or https://: " + s.broker};
  while (s.broker.size() > 8 && s.broker.back() == '/') s.broker.pop_back();
  return s;
}

}  // namespace sektorbro::ctl
