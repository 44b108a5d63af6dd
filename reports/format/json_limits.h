// JSON from untrusted peers, without recursion: a parse that refuses
// documents nested deeper than a limit (checked while parsing, so a deep
// document is never built), and a serializer that walks containers with an
// explicit stack. nlohmann::json's own dump(), copy and comparison recurse
// once per nesting level; 80,000 nested arrays (160 KB) overflow the stack.
// Never throws.
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace vantage::format {

// Deep enough for every measurement Vantage writes (test_keys nest < 10).
inline constexpr std::size_t kMaxJsonDepth = 64;

// Parses `text`. On failure returns a discarded value and sets `error`
// ("not JSON", or "nested deeper than N levels").
nlohmann::json parse_json_limited(std::string_view text, std::size_t max_depth, std::string& error);

// Byte-for-byte what j.dump(-1, ' ', false, error_handler_t::replace) gives
// (compact, keys sorted), but iterative: safe on any depth. A top-level
// object's `skip_key`, if not empty, is left out.
std::string dump_iterative(const nlohmann::json& j, std::string_view skip_key = {});

// At most `max` bytes of `value`, quoted, with "..." and the full length when
// cut: what error replies and log lines say about a bad value.
std::string quote_prefix(std::string_view value, std::size_t max = 40);

}  // namespace vantage::format
