#include "tests/integration/openapi_checker.hpp"

#include <cstdio>
#include <regex>

namespace sektorbro::testing {

namespace {

std::string run_and_read(const std::string& command, int& status) {
  std::string out;
  FILE* p = popen(command.c_str(), "r");
  if (!p) {
    status = -1;
    return out;
  }
  char buf[4096];
  std::size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  status = pclose(p);
  return out;
}

const nlohmann::json kEmpty = nlohmann::json::object();

}  // namespace

std::optional<OpenApiChecker> OpenApiChecker::load(const std::string& yaml_path,
                                                   std::string& error) {
  int status = 0;
  const std::string json = run_and_read(
      "python3 -c 'import json, sys, yaml; json.dump(yaml.safe_load(open(sys.argv[1], "
      "encoding=\"utf-8\")), sys.stdout)' '" +
          yaml_path + "' 2>&1",
      status);
  if (status != 0) {
    error = "cannot read " + yaml_path + " (python3-yaml installed?): " + json;
    return std::nullopt;
  }
  OpenApiChecker c;
  c.doc_ = nlohmann::json::parse(json, nullptr, false);
  if (c.doc_.is_discarded() || !c.doc_.is_object() ||
      c.doc_.value("openapi", "").rfind("3.", 0) != 0 || !c.doc_.contains("paths")) {
    error = yaml_path + " is not an OpenAPI 3 document";
    return std::nullopt;
  }
  return c;
}

std::vector<std::pair<std::string, std::string>> OpenApiChecker::operations() const {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& [path, item] : doc_["paths"].items())
    for (const auto& [method, op] : item.items())
      if (method == "get" || method == "post" || method == "put" || method == "delete")
        out.emplace_back(path, method);
  return out;
}

const nlohmann::json& OpenApiChecker::resolve(const nlohmann::json& schema) const {
  const nlohmann::json* s = &schema;
  for (int i = 0; i < 16 && s->is_object() && s->contains("$ref"); ++i) {
    const std::string ref = (*s)["$ref"].get<std::string>();
    if (ref.rfind("#/", 0) != 0) return kEmpty;
    s = &doc_.at(nlohmann::json::json_pointer(ref.substr(1)));
  }
  return *s;
}

std::vector<std::string> OpenApiChecker::validate(const nlohmann::json& value,
                                                  const nlohmann::json& schema) const {
  std::vector<std::string> problems;
  validate_at(value, schema, "$", problems, 0);
  return problems;
}

void OpenApiChecker::validate_at(const nlohmann::json& value, const nlohmann::json& raw,
                                 const std::string& where, std::vector<std::string>& problems,
                                 int depth) const {
  if (depth > 32) {
    problems.push_back(where + ": schema nests too deep");
    return;
  }
  const nlohmann::json& schema = resolve(raw);
  static const std::vector<std::string> kUnderstood{
      "type",     "nullable", "enum",    "required", "properties", "additionalProperties",
      "items",    "minItems", "minimum", "maximum",  "pattern",    "allOf",
      "description", "default", "example", "$ref"};
  for (const auto& [key, v] : schema.items())
    if (std::find(kUnderstood.begin(), kUnderstood.end(), key) == kUnderstood.end())
      problems.push_back(where + ": the checker does not understand schema keyword '" + key + "'");
  if (value.is_null() && schema.value("nullable", false)) return;
  if (schema.contains("allOf"))
    for (const auto& part : schema["allOf"]) validate_at(value, part, where, problems, depth + 1);
  if (schema.contains("type")) {
    const std::string type = schema["type"];
    const bool ok = (type == "object" && value.is_object()) ||
                    (type == "array" && value.is_array()) ||
                    (type == "string" && value.is_string()) ||
                    (type == "integer" && value.is_number_integer()) ||
                    (type == "number" && value.is_number()) ||
                    (type == "boolean" && value.is_boolean());
    if (!ok) {
      problems.push_back(where + ": expected " + type + ", got " + value.dump());
      return;
    }
  }
  if (schema.contains("enum") &&
      std::find(schema["enum"].begin(), schema["enum"].end(), value) == schema["enum"].end())
    problems.push_back(where + ": " + value.dump() + " is not one of " + schema["enum"].dump());
  if (value.is_number()) {
    if (schema.contains("minimum") && value.get<double>() < schema["minimum"].get<double>())
      problems.push_back(where + ": " + value.dump() + " is below the minimum");
    if (schema.contains("maximum") && value.get<double>() > schema["maximum"].get<double>())
      problems.push_back(where + ": " + value.dump() + " is above the maximum");
  }
  if (value.is_string() && schema.contains("pattern") &&
      !std::regex_search(value.get<std::string>(), std::regex(schema["pattern"].get<std::string>())))
    problems.push_back(where + ": " + value.dump() + " does not match " +
                       schema["pattern"].get<std::string>());
  if (value.is_object()) {
    if (schema.contains("required"))
      for (const auto& r : schema["required"])
        if (!value.contains(r.get<std::string>()))
          problems.push_back(where + ": missing required '" + r.get<std::string>() + "'");
    const nlohmann::json& props = schema.contains("properties") ? schema["properties"] : kEmpty;
    for (const auto& [key, v] : value.items()) {
      if (props.contains(key)) {
        validate_at(v, props[key], where + "." + key, problems, depth + 1);
      } else if (schema.contains("additionalProperties") &&
                 schema["additionalProperties"] == false) {
        problems.push_back(where + ": '" + key + "' is not in the schema");
      }
    }
  }
  if (value.is_array()) {
    if (schema.contains("minItems") && value.size() < schema["minItems"].get<std::size_t>())
      problems.push_back(where + ": fewer items than " + schema["minItems"].dump());
    if (schema.contains("items"))
      for (std::size_t i = 0; i < value.size(); ++i)
        validate_at(value[i], schema["items"], where + "[" + std::to_string(i) + "]", problems,
                    depth + 1);
  }
}

std::vector<std::string> OpenApiChecker::check(const std::string& path_template,
                                               const std::string& method, int status,
                                               const std::string& content_type,
                                               const std::string& body) const {
  const std::string what = method + " " + path_template + " " + std::to_string(status);
  if (!doc_["paths"].contains(path_template) || !doc_["paths"][path_template].contains(method))
    return {what + ": not in the document"};
  const auto& responses = doc_["paths"][path_template][method]["responses"];
  const std::string code = std::to_string(status);
  if (!responses.contains(code)) return {what + ": status not documented"};
  const auto& response = resolve(responses[code]);
  if (!response.contains("content")) return {};
  const std::string media = content_type.substr(0, content_type.find(';'));
  if (!response["content"].contains(media))
    return {what + ": content type " + media + " not documented"};
  if (media != "application/json") return {};
  const auto value = nlohmann::json::parse(body, nullptr, false);
  if (value.is_discarded()) return {what + ": the body is not JSON"};
  auto problems = validate(value, response["content"][media]["schema"]);
  for (auto& p : problems) p = what + ": " + p;
  return problems;
}

}  // namespace sektorbro::testing
