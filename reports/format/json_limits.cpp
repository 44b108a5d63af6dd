// Depth-limited parsing and iterative serialization. See json_limits.h.
#include "reports/format/json_limits.h"

#include <vector>

namespace vantage::format {

using nlohmann::json;

json parse_json_limited(std::string_view text, std::size_t max_depth, std::string& error) {
  bool too_deep = false;
  // The callback sees each container start with its depth; returning false
  // there makes the (iterative) parser skip the value instead of building it.
  json::parser_callback_t cb = [&](int depth, json::parse_event_t event, json&) {
    if ((event == json::parse_event_t::object_start || event == json::parse_event_t::array_start) &&
        static_cast<std::size_t>(depth) >= max_depth) {
      too_deep = true;
      return false;
    }
    return !too_deep;
  };
  json j = json::parse(text.begin(), text.end(), cb, false);
  if (too_deep) {
    error = "JSON nested deeper than " + std::to_string(max_depth) + " levels";
    return json(json::value_t::discarded);
  }
  if (j.is_discarded()) error = "body is not JSON";
  return j;
}

std::string dump_iterative(const json& root, std::string_view skip_key) {
  std::string out;
  auto scalar = [&out](const json& v) { out += v.dump(-1, ' ', false, json::error_handler_t::replace); };
  struct Frame {
    const json* container;
    json::const_iterator it;
    bool first;
  };
  std::vector<Frame> stack;
  auto open = [&](const json& v) {
    if (v.is_object() || v.is_array()) {
      out += v.is_object() ? '{' : '[';
      stack.push_back({&v, v.cbegin(), true});
    } else {
      scalar(v);
    }
  };
  open(root);
  while (!stack.empty()) {
    Frame& f = stack.back();
    if (f.container->is_object() && stack.size() == 1 && !skip_key.empty()) {
      while (f.it != f.container->cend() && f.it.key() == skip_key) ++f.it;
    }
    if (f.it == f.container->cend()) {
      out += f.container->is_object() ? '}' : ']';
      stack.pop_back();
      continue;
    }
    if (!f.first) out += ',';
    f.first = false;
    if (f.container->is_object()) {
      scalar(json(f.it.key()));
      out += ':';
    }
    const json& child = *f.it;
    ++f.it;
    open(child);  // may invalidate `f`; not used after this
  }
  return out;
}

std::string quote_prefix(std::string_view value, std::size_t max) {
  if (value.size() <= max) return "\"" + std::string(value) + "\"";
  // Do not cut a UTF-8 sequence in half.
  std::size_t n = max;
  while (n > 0 && (static_cast<unsigned char>(value[n]) & 0xC0) == 0x80) --n;
  return "\"" + std::string(value.substr(0, n)) + "...\" (" + std::to_string(value.size()) + " bytes)";
}

}  // namespace vantage::format
