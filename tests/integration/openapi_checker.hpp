// OpenApiChecker: reads docs/openapi.yaml (turned into JSON by python3-yaml) and checks a JSON
// answer against the schema the document gives for a path, method and status. Understands the
// part of OpenAPI 3.0's schema language the document uses: $ref (local), type, nullable, enum,
// required, properties, additionalProperties: false, items, minItems, minimum, maximum,
// pattern, allOf. Anything else in a schema is reported, so the checker cannot silently pass
// what it does not read.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace sektorbro::testing {

class OpenApiChecker {
 public:
  // Loads the document; nullopt with `error` set when it cannot be read or is not OpenAPI 3.
  static std::optional<OpenApiChecker> load(const std::string& yaml_path, std::string& error);

  const nlohmann::json& document() const { return doc_; }
  // The path templates ("/v1/messages/{sender_gln}/{letter_id}") and their methods.
  std::vector<std::pair<std::string, std::string>> operations() const;

  // Checks an answer: the status must be documented for the operation; a JSON body must match
  // its schema. Returns the problems found (empty: it matches).
  std::vector<std::string> check(const std::string& path_template, const std::string& method,
                                 int status, const std::string& content_type,
                                 const std::string& body) const;

  // Checks `value` against `schema` (for the checker's own tests).
  std::vector<std::string> validate(const nlohmann::json& value,
                                    const nlohmann::json& schema) const;

 private:
  void validate_at(const nlohmann::json& value, const nlohmann::json& schema,
                   const std::string& where, std::vector<std::string>& problems, int depth) const;
  const nlohmann::json& resolve(const nlohmann::json& schema) const;
  nlohmann::json doc_;
};

}  // namespace sektorbro::testing
