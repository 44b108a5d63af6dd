// Reading one field of a stored JSON object without throwing: a missing or
// wrong-typed field reads as "absent" (or the fallback). What every parser
// of stored measurements (plan.h, control_protocol.h, the verdict) uses, so
// they agree on what a malformed field means. And its writing counterpart:
// an optional string written as the string or null.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

namespace vantage::format {

// `s` as a JSON string, or null when absent.
inline nlohmann::json or_null(const std::optional<std::string>& s) {
  return s ? nlohmann::json(*s) : nlohmann::json(nullptr);
}

// The string at `key`, or "" .
inline std::string read_string(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);  // find() on a non-object finds nothing
  return (it != j.end() && it->is_string()) ? it->get<std::string>() : std::string();
}

inline std::optional<std::string> read_optional_string(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  if (it != j.end() && it->is_string()) return it->get<std::string>();
  return std::nullopt;
}

// Integers only: a float (1e300 from a misbehaving peer) would be undefined
// behaviour to convert.
inline std::optional<int64_t> read_optional_integer(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  if (it != j.end() && it->is_number_integer()) return it->get<int64_t>();
  return std::nullopt;
}

inline bool read_bool(const nlohmann::json& j, const char* key, bool fallback) {
  auto it = j.find(key);
  return (it != j.end() && it->is_boolean()) ? it->get<bool>() : fallback;
}

}  // namespace vantage::format
