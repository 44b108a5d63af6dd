// JSON Schema subset validator. See json_schema.h.
#include "reports/format/json_schema.h"

#include <re2/re2.h>

#include <cmath>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>

#include "reports/format/json_limits.h"

namespace vantage::format {
namespace {

using nlohmann::json;

std::string type_of(const json& v) {
  switch (v.type()) {
    case json::value_t::null: return "null";
    case json::value_t::boolean: return "boolean";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned: return "integer";
    case json::value_t::number_float: return "number";
    case json::value_t::string: return "string";
    case json::value_t::array: return "array";
    case json::value_t::object: return "object";
    default: return "unknown";
  }
}

bool has_type(const json& v, const std::string& t) {
  std::string actual = type_of(v);
  if (t == actual) return true;
  if (t == "number" && actual == "integer") return true;
  if (t == "integer" && actual == "number") {
    // std::trunc, not a cast: casting a double beyond long long's range is UB.
    double d = v.get<double>();
    return std::isfinite(d) && d == std::trunc(d);
  }
  return false;
}

std::string escape_pointer(const std::string& key) {
  std::string out;
  for (char c : key) {
    if (c == '~') out += "~0";
    else if (c == '/') out += "~1";
    else out += c;
  }
  return out;
}

// A length/count keyword's value, or nothing when the schema gives something
// other than a non-negative integer (the keyword is then ignored, not thrown on).
std::optional<std::size_t> count_keyword(const json& schema, const char* keyword) {
  auto it = schema.find(keyword);
  if (it == schema.end() || !it->is_number_integer() || it->get<long long>() < 0) return std::nullopt;
  return it->get<std::size_t>();
}

// JSON Schema measures string length in characters (code points), not bytes.
std::size_t code_points(const std::string& s) {
  std::size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

// YYYY-MM-DD, month 01-12, day 01-31: plain code, no pattern engine.
bool valid_date(const std::string& s) {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return false;
  for (std::size_t i : {0, 1, 2, 3, 5, 6, 8, 9})
    if (s[i] < '0' || s[i] > '9') return false;
  const int month = (s[5] - '0') * 10 + (s[6] - '0');
  const int day = (s[8] - '0') * 10 + (s[9] - '0');
  return month >= 1 && month <= 12 && day >= 1 && day <= 31;
}

// Patterns run on RE2 (linear time, no recursion, no backtracking: a pattern
// check costs the same on a 50 KB string as a loop over it). std::regex
// recursed once per character and crashed on long strings. Compiled patterns
// are kept (schemas are few and static); nullptr = the pattern is invalid.
const RE2* compiled_pattern(const std::string& pattern) {
  static std::mutex mutex;
  static std::map<std::string, std::unique_ptr<RE2>> cache;
  std::lock_guard lock(mutex);
  auto it = cache.find(pattern);
  if (it == cache.end()) {
    RE2::Options options;
    options.set_log_errors(false);
    auto re = std::make_unique<RE2>(pattern, options);
    it = cache.emplace(pattern, re->ok() ? std::move(re) : nullptr).first;
  }
  return it->second.get();
}

// What an error says about a value: a short prefix, never the whole (a
// 900 KB string must not become a 900 KB reply), never a recursive dump of a
// container (it may be nested thousands deep).
std::string describe_value(const json& v) {
  if (v.is_string()) return quote_prefix(v.get_ref<const std::string&>());
  if (v.is_object() || v.is_array()) return "an " + std::string(v.is_object() ? "object" : "array");
  return v.dump();
}

class Validator {
 public:
  explicit Validator(const json& root) : root_(root) {}

  void check(const json& schema, const json& v, const std::string& path, std::vector<SchemaError>& errs) {
    if (schema.is_boolean()) {
      if (!schema.get<bool>()) errs.push_back({path, "no value is allowed here"});
      return;
    }
    if (!schema.is_object()) return;
    if (auto it = schema.find("$ref"); it != schema.end() && it->is_string()) {
      const std::string ref = *it;
      const std::string prefix = "#/$defs/";
      if (ref.rfind(prefix, 0) == 0 && root_.contains("$defs") && root_["$defs"].contains(ref.substr(prefix.size()))) {
        if (++depth_ > 64) {
          errs.push_back({path, "schema $ref nesting too deep"});
          --depth_;
          return;
        }
        check(root_["$defs"][ref.substr(prefix.size())], v, path, errs);
        --depth_;
      } else {
        errs.push_back({path, "schema has an unresolvable $ref " + ref});
      }
    }
    if (auto it = schema.find("type"); it != schema.end()) {
      bool ok = false;
      std::string expected;
      if (it->is_string()) {
        ok = has_type(v, *it);
        expected = *it;
      } else if (it->is_array()) {
        for (const auto& t : *it) {
          if (!t.is_string()) continue;  // malformed schema entry: ignored, never thrown on
          if (has_type(v, t)) ok = true;
          expected += (expected.empty() ? "" : " or ") + t.get<std::string>();
        }
      }
      if (!ok) {
        errs.push_back({path, "expected " + expected + ", got " + type_of(v)});
        return;  // the remaining keywords would only repeat the problem
      }
    }
    if (auto it = schema.find("enum"); it != schema.end() && it->is_array()) {
      bool found = false;
      for (const auto& e : *it) found = found || e == v;
      if (!found) errs.push_back({path, "expected one of " + it->dump() + ", got " + describe_value(v)});
    }
    if (auto it = schema.find("const"); it != schema.end() && *it != v)
      errs.push_back({path, "expected " + it->dump() + ", got " + describe_value(v)});
    if (v.is_string()) check_string(schema, v.get<std::string>(), path, errs);
    if (v.is_number()) check_number(schema, v.get<double>(), path, errs);
    if (v.is_array()) check_array(schema, v, path, errs);
    if (v.is_object()) check_object(schema, v, path, errs);
    if (auto it = schema.find("anyOf"); it != schema.end() && it->is_array()) {
      bool any = false;
      for (const auto& s : *it) {
        std::vector<SchemaError> sub;
        check(s, v, path, sub);
        any = any || sub.empty();
      }
      if (!any) errs.push_back({path, "matches none of the allowed forms"});
    }
    if (auto it = schema.find("oneOf"); it != schema.end() && it->is_array()) {
      int matches = 0;
      for (const auto& s : *it) {
        std::vector<SchemaError> sub;
        check(s, v, path, sub);
        matches += sub.empty();
      }
      if (matches != 1) errs.push_back({path, "must match exactly one of the allowed forms, matches " + std::to_string(matches)});
    }
  }

 private:
  void check_string(const json& schema, const std::string& s, const std::string& path, std::vector<SchemaError>& errs) {
    const std::size_t length = code_points(s);
    if (auto n = count_keyword(schema, "minLength"); n && length < *n)
      errs.push_back({path, "string shorter than " + std::to_string(*n) + " characters"});
    if (auto n = count_keyword(schema, "maxLength"); n && length > *n) {
      errs.push_back({path, "string longer than " + std::to_string(*n) + " characters"});
      return;  // too long: no pattern is even tried on it
    }
    if (auto it = schema.find("pattern"); it != schema.end() && it->is_string()) {
      const RE2* re = compiled_pattern(it->get<std::string>());
      if (!re) errs.push_back({path, "schema has an invalid pattern"});
      else if (!RE2::PartialMatch(s, *re))
        errs.push_back({path, quote_prefix(s) + " does not match pattern " + it->get<std::string>()});
    }
    if (auto it = schema.find("format"); it != schema.end() && *it == "date" && !valid_date(s))
      errs.push_back({path, quote_prefix(s) + " is not a date (YYYY-MM-DD)"});
  }

  void check_number(const json& schema, double d, const std::string& path, std::vector<SchemaError>& errs) {
    if (auto it = schema.find("minimum"); it != schema.end() && it->is_number() && d < it->get<double>())
      errs.push_back({path, "must be >= " + it->dump()});
    if (auto it = schema.find("maximum"); it != schema.end() && it->is_number() && d > it->get<double>())
      errs.push_back({path, "must be <= " + it->dump()});
  }

  void check_array(const json& schema, const json& v, const std::string& path, std::vector<SchemaError>& errs) {
    if (auto n = count_keyword(schema, "minItems"); n && v.size() < *n)
      errs.push_back({path, "needs at least " + std::to_string(*n) + " items"});
    if (auto n = count_keyword(schema, "maxItems"); n && v.size() > *n)
      errs.push_back({path, "allows at most " + std::to_string(*n) + " items"});
    if (auto it = schema.find("uniqueItems"); it != schema.end() && it->is_boolean() && it->get<bool>()) {
      std::set<std::string> seen;
      for (const auto& item : v)
        if (!seen.insert(dump_iterative(item)).second) errs.push_back({path, "duplicate item " + describe_value(item)});
    }
    if (auto it = schema.find("items"); it != schema.end())
      for (std::size_t i = 0; i < v.size(); ++i) check(*it, v[i], path + "/" + std::to_string(i), errs);
  }

  void check_object(const json& schema, const json& v, const std::string& path, std::vector<SchemaError>& errs) {
    const json* props = schema.contains("properties") ? &schema["properties"] : nullptr;
    if (auto it = schema.find("required"); it != schema.end() && it->is_array())
      for (const auto& r : *it)
        if (r.is_string() && !v.contains(r.get<std::string>()))
          errs.push_back({path, "missing required field \"" + r.get<std::string>() + "\""});
    for (auto it = v.begin(); it != v.end(); ++it) {
      std::string child = path + "/" + escape_pointer(it.key());
      if (props && props->contains(it.key())) {
        check((*props)[it.key()], it.value(), child, errs);
      } else if (auto ap = schema.find("additionalProperties"); ap != schema.end()) {
        if (ap->is_boolean() && !ap->get<bool>())
          errs.push_back({child, "unknown field \"" + it.key() + "\""});
        else
          check(*ap, it.value(), child, errs);
      }
    }
  }

  const json& root_;
  int depth_ = 0;
};

}  // namespace

std::vector<SchemaError> validate_schema(const json& schema, const json& doc) {
  std::vector<SchemaError> errs;
  Validator(schema).check(schema, doc, "", errs);
  return errs;
}

}  // namespace vantage::format
