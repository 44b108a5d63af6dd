// A validator for the subset of JSON Schema (draft 2020-12) that Vantage's
// own schemas use: type, properties, required, additionalProperties,
// items, enum, const, pattern, minimum, maximum, minLength, maxLength,
// minItems, maxItems, uniqueItems, anyOf, oneOf, $ref to "#/$defs/NAME" and
// format "date". Unknown keywords are ignored, as the spec allows. Each error
// names the JSON pointer of the offending value and what was expected.
// Never throws on any input document.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace vantage::format {

struct SchemaError {
  std::string path;     // JSON pointer into the document, "" = root
  std::string message;  // what was expected
};

// Validates `doc` against `schema`; returns every error found (empty = valid).
std::vector<SchemaError> validate_schema(const nlohmann::json& schema, const nlohmann::json& doc);

}  // namespace vantage::format
