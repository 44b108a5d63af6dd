// Tests for the JSON Schema subset validator: each supported keyword accepts
// what it should and rejects what it should, errors carry JSON pointers, and
// hostile schemas or documents never throw or crash.
#include <gtest/gtest.h>

#include "reports/format/json_schema.h"

namespace vantage::format {
namespace {

using nlohmann::json;

std::vector<SchemaError> validate(const char* schema, const json& doc) {
  return validate_schema(json::parse(schema), doc);
}

bool valid(const char* schema, const json& doc) { return validate(schema, doc).empty(); }

// The errors as "path: message" lines, for failure messages.
std::string describe(const std::vector<SchemaError>& errs) {
  std::string s;
  for (const auto& e : errs) s += "[" + e.path + "] " + e.message + "\n";
  return s;
}

TEST(JsonSchema, Type) {
  EXPECT_TRUE(valid(R"({"type":"string"})", "x"));
  EXPECT_FALSE(valid(R"({"type":"string"})", 1));
  EXPECT_TRUE(valid(R"({"type":"integer"})", 3));
  EXPECT_TRUE(valid(R"({"type":"integer"})", 3.0));  // 3.0 is an integer in JSON Schema
  EXPECT_FALSE(valid(R"({"type":"integer"})", 3.5));
  // Zero fractional part is an integer (JSON Schema), even beyond long long
  // range; deciding this must not cast out of range (undefined behaviour).
  EXPECT_TRUE(valid(R"({"type":"integer"})", 1e300));
  EXPECT_FALSE(valid(R"({"type":"integer"})", 1e-300));
  EXPECT_TRUE(valid(R"({"type":"number"})", 3));
  EXPECT_TRUE(valid(R"({"type":"number"})", 3.5));
  EXPECT_FALSE(valid(R"({"type":"number"})", "3"));
  EXPECT_TRUE(valid(R"({"type":"boolean"})", false));
  EXPECT_FALSE(valid(R"({"type":"boolean"})", 0));
  EXPECT_TRUE(valid(R"({"type":"null"})", nullptr));
  EXPECT_TRUE(valid(R"({"type":"array"})", json::array()));
  EXPECT_FALSE(valid(R"({"type":"array"})", json::object()));
  EXPECT_TRUE(valid(R"({"type":"object"})", json::object()));
  EXPECT_TRUE(valid(R"({"type":["string","null"]})", nullptr));
  EXPECT_TRUE(valid(R"({"type":["string","null"]})", "s"));
  auto errs = validate(R"({"type":["string","null"]})", 5);
  ASSERT_EQ(errs.size(), 1u);
  EXPECT_EQ(errs[0].path, "");
  EXPECT_NE(errs[0].message.find("string or null"), std::string::npos) << errs[0].message;
  EXPECT_NE(errs[0].message.find("integer"), std::string::npos) << errs[0].message;
}

TEST(JsonSchema, EnumAndConst) {
  EXPECT_TRUE(valid(R"({"enum":["any","all"]})", "any"));
  EXPECT_FALSE(valid(R"({"enum":["any","all"]})", "some"));
  EXPECT_TRUE(valid(R"({"enum":[1, null]})", nullptr));
  EXPECT_TRUE(valid(R"({"const":"0.2.0"})", "0.2.0"));
  EXPECT_FALSE(valid(R"({"const":"0.2.0"})", "0.2.1"));
  EXPECT_TRUE(valid(R"({"const":{"a":[1,2]}})", json{{"a", {1, 2}}}));
}

TEST(JsonSchema, Strings) {
  EXPECT_TRUE(valid(R"({"minLength":2,"maxLength":3})", "ab"));
  EXPECT_TRUE(valid(R"({"minLength":2,"maxLength":3})", "abc"));
  EXPECT_FALSE(valid(R"({"minLength":2})", "a"));
  EXPECT_FALSE(valid(R"({"maxLength":3})", "abcd"));
  // Lengths count characters (code points), not bytes.
  EXPECT_TRUE(valid(R"({"maxLength":1})", "\xc3\xa9"));
  EXPECT_FALSE(valid(R"({"minLength":2})", "\xe2\x82\xac"));
  // Length keywords do not apply to non-strings.
  EXPECT_TRUE(valid(R"({"minLength":2})", 1));
}

TEST(JsonSchema, Pattern) {
  EXPECT_TRUE(valid(R"({"pattern":"^AS[0-9]+$"})", "AS32934"));
  EXPECT_FALSE(valid(R"({"pattern":"^AS[0-9]+$"})", "as32934"));
  // Unanchored patterns match anywhere, as the spec says.
  EXPECT_TRUE(valid(R"({"pattern":"[0-9]"})", "abc1def"));
  auto errs = validate(R"({"pattern":"^x$"})", "y");
  ASSERT_EQ(errs.size(), 1u);
  EXPECT_NE(errs[0].message.find("\"y\""), std::string::npos);
}

TEST(JsonSchema, InvalidRegexInSchemaDoesNotThrow) {
  std::vector<SchemaError> errs;
  EXPECT_NO_THROW(errs = validate(R"({"pattern":"([a-z"})", "abc"));
  ASSERT_EQ(errs.size(), 1u);
  EXPECT_NE(errs[0].message.find("invalid pattern"), std::string::npos) << errs[0].message;
}

TEST(JsonSchema, FormatDate) {
  EXPECT_TRUE(valid(R"({"format":"date"})", "2026-01-15"));
  EXPECT_FALSE(valid(R"({"format":"date"})", "2026-13-01"));
  EXPECT_FALSE(valid(R"({"format":"date"})", "2026-01-32"));
  EXPECT_FALSE(valid(R"({"format":"date"})", "15/01/2026"));
  EXPECT_FALSE(valid(R"({"format":"date"})", "2026-01-15T00:00:00Z"));
  // Unknown formats are annotations only.
  EXPECT_TRUE(valid(R"({"format":"email"})", "not an email"));
}

TEST(JsonSchema, Numbers) {
  EXPECT_TRUE(valid(R"({"minimum":1,"maximum":65535})", 1));
  EXPECT_TRUE(valid(R"({"minimum":1,"maximum":65535})", 65535));
  EXPECT_FALSE(valid(R"({"minimum":1})", 0));
  EXPECT_FALSE(valid(R"({"maximum":65535})", 65536));
  EXPECT_FALSE(valid(R"({"minimum":0})", -0.5));
  EXPECT_TRUE(valid(R"({"minimum":1})", "0"));  // not a number: not checked
}

TEST(JsonSchema, Arrays) {
  EXPECT_TRUE(valid(R"({"minItems":1,"maxItems":2})", json::array({1})));
  EXPECT_FALSE(valid(R"({"minItems":1})", json::array()));
  EXPECT_FALSE(valid(R"({"maxItems":2})", json::array({1, 2, 3})));
  EXPECT_TRUE(valid(R"({"uniqueItems":true})", json::array({1, 2, "1"})));
  EXPECT_FALSE(valid(R"({"uniqueItems":true})", json::array({443, 5222, 443})));
  EXPECT_FALSE(valid(R"({"uniqueItems":true})", json::array({json{{"a", 1}}, json{{"a", 1}}})));
  EXPECT_TRUE(valid(R"({"uniqueItems":false})", json::array({1, 1})));
  auto errs = validate(R"({"items":{"type":"integer"}})", json::array({1, "x", 3, true}));
  ASSERT_EQ(errs.size(), 2u) << describe(errs);
  EXPECT_EQ(errs[0].path, "/1");
  EXPECT_EQ(errs[1].path, "/3");
}

TEST(JsonSchema, ObjectsRequiredPropertiesAdditional) {
  const char* schema = R"({
    "type":"object","required":["host"],"additionalProperties":false,
    "properties":{"host":{"type":"string"},"port":{"type":"integer"}}})";
  EXPECT_TRUE(valid(schema, json{{"host", "a"}, {"port", 1}}));
  auto errs = validate(schema, json{{"port", 1}});
  ASSERT_EQ(errs.size(), 1u);
  EXPECT_EQ(errs[0].path, "");
  EXPECT_NE(errs[0].message.find("\"host\""), std::string::npos);

  errs = validate(schema, json{{"host", "a"}, {"hots", "b"}});
  ASSERT_EQ(errs.size(), 1u);
  EXPECT_EQ(errs[0].path, "/hots");
  EXPECT_NE(errs[0].message.find("unknown field"), std::string::npos);

  errs = validate(schema, json{{"host", 5}});
  ASSERT_EQ(errs.size(), 1u);
  EXPECT_EQ(errs[0].path, "/host");

  // additionalProperties as a schema.
  const char* map_schema = R"({"additionalProperties":{"type":"object","required":["rule"]}})";
  EXPECT_TRUE(valid(map_schema, json{{"messaging", {{"rule", "any"}}}}));
  errs = validate(map_schema, json{{"messaging", {{"rul", "any"}}}});
  ASSERT_EQ(errs.size(), 1u);
  EXPECT_EQ(errs[0].path, "/messaging");

  // No additionalProperties keyword: anything extra is allowed.
  EXPECT_TRUE(valid(R"({"properties":{"a":{"type":"string"}}})", json{{"b", 1}}));
}

TEST(JsonSchema, PointerEscaping) {
  auto errs = validate(R"({"additionalProperties":false})", json{{"a/b~c", 1}});
  ASSERT_EQ(errs.size(), 1u);
  EXPECT_EQ(errs[0].path, "/a~1b~0c");
}

TEST(JsonSchema, AnyOfOneOf) {
  const char* any = R"({"anyOf":[{"type":"string"},{"type":"integer","minimum":0}]})";
  EXPECT_TRUE(valid(any, "x"));
  EXPECT_TRUE(valid(any, 3));
  EXPECT_FALSE(valid(any, -3));
  EXPECT_FALSE(valid(any, nullptr));

  const char* one = R"({"oneOf":[{"type":"integer"},{"type":"number","minimum":10}]})";
  EXPECT_TRUE(valid(one, 5));     // integer only
  EXPECT_TRUE(valid(one, 10.5));  // number >= 10 only
  EXPECT_FALSE(valid(one, 12));   // both
  EXPECT_FALSE(valid(one, 1.5));  // neither
  auto errs = validate(one, 12);
  ASSERT_EQ(errs.size(), 1u);
  EXPECT_NE(errs[0].message.find("matches 2"), std::string::npos) << errs[0].message;
}

TEST(JsonSchema, BooleanSchemas) {
  EXPECT_TRUE(valid("true", json{{"anything", 1}}));
  EXPECT_FALSE(valid("false", 1));
  auto errs = validate(R"({"properties":{"x":false}})", json{{"x", 1}});
  ASSERT_EQ(errs.size(), 1u);
  EXPECT_EQ(errs[0].path, "/x");
}

TEST(JsonSchema, RefToDefsAndPointerPaths) {
  const char* schema = R"({
    "type":"object",
    "properties":{"endpoints":{"type":"array","items":{"$ref":"#/$defs/endpoint"}}},
    "$defs":{
      "port":{"type":"integer","minimum":1,"maximum":65535},
      "endpoint":{"type":"object","required":["host"],
                  "properties":{"host":{"type":"string"},
                                "ports":{"type":"array","items":{"$ref":"#/$defs/port"}}}}}})";
  json doc{{"endpoints", json::array()}};
  for (int i = 0; i < 3; ++i) doc["endpoints"].push_back({{"host", "h"}, {"ports", {443}}});
  doc["endpoints"].push_back({{"host", "h"}, {"ports", {0, 443, 70000}}});
  doc["endpoints"].push_back({{"ports", {"x"}}});
  auto errs = validate(schema, doc);
  ASSERT_EQ(errs.size(), 4u) << describe(errs);
  EXPECT_EQ(errs[0].path, "/endpoints/3/ports/0");
  EXPECT_NE(errs[0].message.find(">= 1"), std::string::npos);
  EXPECT_EQ(errs[1].path, "/endpoints/3/ports/2");
  EXPECT_EQ(errs[2].path, "/endpoints/4");
  EXPECT_NE(errs[2].message.find("\"host\""), std::string::npos);
  EXPECT_EQ(errs[3].path, "/endpoints/4/ports/0");
}

TEST(JsonSchema, UnresolvableRef) {
  auto errs = validate(R"({"properties":{"a":{"$ref":"#/$defs/missing"}}})", json{{"a", 1}});
  ASSERT_EQ(errs.size(), 1u);
  EXPECT_EQ(errs[0].path, "/a");
  EXPECT_NE(errs[0].message.find("unresolvable"), std::string::npos);
  EXPECT_NE(errs[0].message.find("#/$defs/missing"), std::string::npos);
  // Only local $defs references are supported.
  EXPECT_FALSE(valid(R"({"$ref":"https://example.com/schema.json"})", 1));
  EXPECT_FALSE(valid(R"({"$ref":"#/definitions/x","definitions":{"x":true}})", 1));
}

TEST(JsonSchema, UnknownKeywordsAreIgnored) {
  EXPECT_TRUE(valid(R"({"title":"x","description":"y","$comment":"z","x-custom":1})", 42));
}

TEST(JsonSchema, SelfRecursiveRefTerminates) {
  // A $def that refers to itself without consuming the document.
  const char* loop = R"({"$ref":"#/$defs/a","$defs":{"a":{"$ref":"#/$defs/a"}}})";
  std::vector<SchemaError> errs;
  EXPECT_NO_THROW(errs = validate(loop, 1));
  EXPECT_FALSE(errs.empty());
}

TEST(JsonSchema, DeepNestingDoesNotCrash) {
  // A recursive schema (a tree of arrays) and a document nested far deeper
  // than any real catalog.
  const char* tree = R"({"$ref":"#/$defs/node","$defs":{"node":{"type":["array","integer"],"items":{"$ref":"#/$defs/node"}}}})";
  json deep = 1;
  for (int i = 0; i < 5000; ++i) deep = json::array({std::move(deep)});
  std::vector<SchemaError> errs;
  EXPECT_NO_THROW(errs = validate(tree, deep));
  EXPECT_FALSE(errs.empty());  // nesting limit reported, not a crash

  json shallow = json::array({json::array({1, 2}), 3});
  EXPECT_TRUE(valid(tree, shallow));

  // A deep document against a flat schema is fine.
  EXPECT_TRUE(valid(R"({"type":"array"})", deep));
}

TEST(JsonSchema, MalformedSchemaKeywordsDoNotThrow) {
  std::vector<SchemaError> errs;
  EXPECT_NO_THROW(errs = validate(R"({"type":[1,"string"]})", "x"));
  EXPECT_TRUE(errs.empty());
  EXPECT_NO_THROW(validate(R"({"type":[1]})", "x"));
  EXPECT_NO_THROW(validate(R"({"minLength":"2","maxLength":-1})", "x"));
  EXPECT_NO_THROW(validate(R"({"minItems":"1","maxItems":null})", json::array({1})));
  EXPECT_NO_THROW(validate(R"({"required":"host"})", json::object()));
  EXPECT_NO_THROW(validate(R"({"properties":[1,2]})", json{{"a", 1}}));
  EXPECT_NO_THROW(validate(R"({"$ref":5})", 1));
  EXPECT_NO_THROW(validate(R"({"$ref":"#/$defs/a","$defs":[]})", 1));
  EXPECT_NO_THROW(validate_schema(json("not a schema"), 1));
  EXPECT_NO_THROW(validate_schema(nullptr, 1));
}

}  // namespace
}  // namespace vantage::format
