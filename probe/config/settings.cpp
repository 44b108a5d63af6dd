// Configuration files. See settings.h.
#include "probe/config/settings.h"

#include "reports/format/atomic_file.h"
#include "reports/format/read_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <toml++/toml.h>

namespace vantage::config {

namespace fs = std::filesystem;

namespace {

// A validated value, before it is stored in Settings.
struct Value {
  std::string text;                   // string-like types
  std::vector<std::string> list;      // services
  double number = 0;                  // seconds, count
  bool flag = false;                  // boolean
};

std::string quote(const std::string& s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') out += '\\', out += static_cast<char>(c);
    else if (c == '\n') out += "\\n";
    else if (c == '\t') out += "\\t";
    else if (c < 0x20 || c == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else out += static_cast<char>(c);
  }
  return out + "\"";
}

std::string format_number(double v) {
  std::ostringstream s;
  s << v;
  return s.str();
}

bool starts_with_any(const std::string& s, std::initializer_list<const char*> prefixes) {
  for (const char* p : prefixes)
    if (s.rfind(p, 0) == 0 && s.size() > std::strlen(p)) return true;
  return false;
}

bool has_space_or_control(const std::string& s) {
  for (unsigned char c : s)
    if (c <= 0x20 || c == 0x7f) return true;
  return false;
}

// Checks `node` against `key`; "" and `out` set, or why it is wrong.
std::string check(const KeyInfo& key, const toml::node& node, Value& out) {
  auto want_string = [&](std::string& s) -> bool {
    auto v = node.value<std::string>();
    if (!node.is_string() || !v) return false;
    s = *v;
    return true;
  };
  switch (key.type) {
    case Type::string:
      if (!want_string(out.text)) return "expected a string";
      if (out.text.size() > 200) return "expected at most 200 characters";
      return "";
    case Type::path:
      if (!want_string(out.text) || out.text.empty()) return "expected a file or directory path (a non-empty string)";
      return "";
    case Type::url:
      if (!want_string(out.text) || !starts_with_any(out.text, {"http://", "https://"}) || has_space_or_control(out.text))
        return "expected an http:// or https:// URL (a string)";
      return "";
    case Type::proxy:
      if (!want_string(out.text) || !starts_with_any(out.text, {"http://", "https://", "socks5://", "socks5h://"}) ||
          has_space_or_control(out.text))
        return "expected a proxy URL: http://, https://, socks5:// or socks5h://HOST:PORT (a string)";
      return "";
    case Type::boolean:
      if (!node.is_boolean()) return "expected true or false";
      out.flag = *node.value<bool>();
      return "";
    case Type::seconds:
    case Type::count: {
      bool integral = node.is_integer();
      if (!integral && !(key.type == Type::seconds && node.is_floating_point())) return "expected " + key.expected;
      out.number = *node.value<double>();
      if (!(out.number >= key.min && out.number <= key.max)) return "expected " + key.expected;
      return "";
    }
    case Type::services: {
      const auto* arr = node.as_array();
      if (!arr || arr->empty()) return "expected " + key.expected;
      for (const auto& el : *arr) {
        auto s = el.value<std::string>();
        if (!el.is_string() || !s || s->empty() ||
            s->find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_-") != std::string::npos)
          return "expected " + key.expected;
        out.list.push_back(*s);
      }
      return "";
    }
    case Type::asn: {
      if (!want_string(out.text)) return "expected " + key.expected;
      const std::string& s = out.text;
      if (s.size() < 3 || s.size() > 12 || s.rfind("AS", 0) != 0 ||
          s.find_first_not_of("0123456789", 2) != std::string::npos || (s[2] == '0' && s.size() > 3) ||
          std::stoull(s.substr(2)) > 4294967295ull)
        return "expected " + key.expected;
      return "";
    }
    case Type::country:
      if (!want_string(out.text) || out.text.size() != 2 || out.text[0] < 'A' || out.text[0] > 'Z' ||
          out.text[1] < 'A' || out.text[1] > 'Z')
        return "expected " + key.expected;
      return "";
  }
  return "unhandled type";
}

std::string toml_text(const KeyInfo& key, const Value& v) {
  switch (key.type) {
    case Type::boolean: return v.flag ? "true" : "false";
    case Type::seconds:
    case Type::count: return format_number(v.number);
    case Type::services: {
      std::string out = "[";
      for (size_t i = 0; i < v.list.size(); ++i) out += (i ? ", " : "") + quote(v.list[i]);
      return out + "]";
    }
    default: return quote(v.text);
  }
}

void assign(Settings& s, const std::string& name, const Value& v) {
  if (name == "collector.url") s.collector.url = v.text;
  else if (name == "collector.proxy") s.collector.proxy = v.text;
  else if (name == "collector.upload") s.collector.upload = v.flag;
  else if (name == "control.url") s.control.url = v.text;
  else if (name == "run.services") s.run.services = v.list;
  else if (name == "run.timeout") s.run.timeout = v.number;
  else if (name == "run.connect_timeout") s.run.connect_timeout = v.number;
  else if (name == "run.parallelism") s.run.parallelism = static_cast<int>(v.number);
  else if (name == "run.catalog_dir") s.run.catalog_dir = v.text;
  else if (name == "run.ca_bundle") s.run.ca_bundle = v.text;
  else if (name == "run.data_dir") s.run.data_dir = v.text;
  else if (name == "location.asn_db") s.location.asn_db = v.text;
  else if (name == "location.country_db") s.location.country_db = v.text;
  else if (name == "location.probe_asn") s.location.probe_asn = v.text;
  else if (name == "location.probe_cc") s.location.probe_cc = v.text;
  else if (name == "location.probe_network_name") s.location.probe_network_name = v.text;
}

std::vector<std::string> sections() {
  std::vector<std::string> out;
  for (const auto& k : known_keys()) {
    std::string sec = k.name.substr(0, k.name.find('.'));
    if (out.empty() || out.back() != sec) out.push_back(sec);
  }
  return out;
}

std::string join_sections() {
  std::string out;
  for (const auto& s : sections()) out += (out.empty() ? "[" : ", [") + s + "]";
  return out;
}

std::string keys_of(const std::string& section) {
  std::string out;
  for (const auto& k : known_keys())
    if (k.name.rfind(section + ".", 0) == 0) out += (out.empty() ? "" : ", ") + k.name.substr(section.size() + 1);
  return out;
}

std::optional<toml::table> parse_toml(const std::string& text, const std::string& file, std::vector<Error>& errors) {
  try {
    return toml::parse(std::string_view(text), std::string_view(file));
  } catch (const toml::parse_error& e) {
    errors.push_back({file, static_cast<int>(e.source().begin.line), "", "not valid TOML: " + std::string(e.description())});
    return std::nullopt;
  }
}

std::string read_file(const std::string& path, std::string& error) {
  std::string text;
  error = format::read_file(path, text, 1 << 20);
  if (error.rfind("larger than", 0) == 0) error = "larger than 1 MB: not a configuration file";
  return text;
}

}  // namespace

const std::vector<KeyInfo>& known_keys() {
  static const std::vector<KeyInfo> keys = {
      {"collector.url", Type::url, "the collector's http:// or https:// URL"},
      {"collector.proxy", Type::proxy, "a proxy for uploads: http://, https://, socks5:// or socks5h://HOST:PORT"},
      {"collector.upload", Type::boolean, "true or false: upload after each run (default: true when collector.url is set)"},
      {"control.url", Type::url, "the control vantage point's http:// or https:// URL"},
      {"run.services", Type::services, "a non-empty array of service names such as [\"whatsapp\", \"signal\"] or [\"all\"]"},
      {"run.timeout", Type::seconds, "a number of seconds from 1 to 3600 (the whole run)", 1, 3600},
      {"run.connect_timeout", Type::seconds, "a number of seconds from 0.1 to 120 (one TCP connect)", 0.1, 120},
      {"run.parallelism", Type::count, "a whole number from 1 to 512", 1, 512},
      {"run.catalog_dir", Type::path, "the directory of service catalogs"},
      {"run.ca_bundle", Type::path, "a PEM file of extra CA certificates trusted for the measured services"},
      {"run.data_dir", Type::path, "the results directory"},
      {"location.asn_db", Type::path, "the path of a MaxMind-format ASN database (.mmdb)"},
      {"location.country_db", Type::path, "the path of a MaxMind-format country database (.mmdb)"},
      {"location.probe_asn", Type::asn, "an ASN such as \"AS12345\""},
      {"location.probe_cc", Type::country, "a country code of two uppercase letters such as \"DE\""},
      {"location.probe_network_name", Type::string, "the network's name (a string)"},
  };
  return keys;
}

const KeyInfo* find_key(const std::string& name) {
  for (const auto& k : known_keys())
    if (k.name == name) return &k;
  return nullptr;
}

std::string Error::to_string() const {
  std::string out = file;
  if (line > 0) out += ":" + std::to_string(line);
  out += ": ";
  if (!key.empty()) out += key + ": ";
  return out + message;
}

std::string system_config_path() { return "/etc/vantage/vantage.conf"; }

std::string user_config_dir() {
  if (const char* x = std::getenv("XDG_CONFIG_HOME"); x && *x == '/') return std::string(x) + "/vantage";
  if (const char* h = std::getenv("HOME"); h && *h) return std::string(h) + "/.config/vantage";
  return ".config/vantage";
}

std::string user_config_path() { return user_config_dir() + "/vantage.conf"; }

std::vector<Error> load_text(const std::string& text, const std::string& file, Settings& out) {
  std::vector<Error> errors;
  auto doc = parse_toml(text, file, errors);
  if (!doc) return errors;
  Settings next = out;
  for (auto&& [sec, node] : *doc) {
    int sec_line = static_cast<int>(sec.source().begin.line);
    const auto* tbl = node.as_table();
    if (keys_of(std::string(sec.str())).empty()) {
      errors.push_back({file, sec_line, std::string(sec.str()),
                        (tbl ? "unknown section" : "unknown key") + std::string(" (known sections: ") + join_sections() + ")"});
      continue;
    }
    if (!tbl) {
      errors.push_back({file, sec_line, std::string(sec.str()), "expected a table ([" + std::string(sec.str()) + "])"});
      continue;
    }
    for (auto&& [k, v] : *tbl) {
      std::string name = std::string(sec.str()) + "." + std::string(k.str());
      int line = static_cast<int>(k.source().begin.line);
      const KeyInfo* info = find_key(name);
      if (!info) {
        errors.push_back({file, line, name, "unknown key (known in [" + std::string(sec.str()) +
                                                "]: " + keys_of(std::string(sec.str())) + ")"});
        continue;
      }
      Value value;
      if (auto why = check(*info, v, value); !why.empty()) {
        errors.push_back({file, line, name, why});
        continue;
      }
      assign(next, name, value);
      std::string text = toml_text(*info, value);
      bool stringy = info->type != Type::boolean && info->type != Type::seconds && info->type != Type::count &&
                     info->type != Type::services;
      next.origins[name] = {file, line, text, stringy ? value.text : text};
    }
  }
  if (errors.empty()) out = std::move(next);
  return errors;
}

std::vector<Error> load(const std::vector<std::string>& paths, const std::vector<std::string>& required,
                        Settings& out) {
  for (const auto& path : paths) {
    std::error_code ec;
    bool needed = std::find(required.begin(), required.end(), path) != required.end();
    if (!fs::exists(path, ec)) {
      if (needed) return {{path, 0, "", "no such file"}};
      continue;
    }
    std::string error;
    std::string text = read_file(path, error);
    if (!error.empty()) return {{path, 0, "", error}};
    if (auto errors = load_text(text, path, out); !errors.empty()) return errors;
  }
  return {};
}

std::string parse_cli_value(const std::string& key, const std::string& value, std::string& toml_value) {
  const KeyInfo* info = find_key(key);
  if (!info) {
    std::string known;
    for (const auto& k : known_keys()) known += " " + k.name;
    return "unknown key \"" + key + "\" (known:" + known + ")";
  }
  std::string literal;
  switch (info->type) {
    case Type::boolean:
      if (value == "true" || value == "yes" || value == "on" || value == "1") literal = "true";
      else if (value == "false" || value == "no" || value == "off" || value == "0") literal = "false";
      else return key + ": expected true or false, got \"" + value + "\"";
      break;
    case Type::seconds:
    case Type::count:
      // Only a plain number; TOML would also take inf, nan, 0x10...
      if (value.empty() || value.find_first_not_of("0123456789.") != std::string::npos)
        return key + ": expected " + info->expected + ", got \"" + value + "\"";
      literal = value;
      break;
    case Type::services: {
      literal = "[";
      std::stringstream parts(value);
      std::string part;
      bool first = true;
      while (std::getline(parts, part, ',')) literal += (first ? "" : ", ") + quote(part), first = false;
      literal += "]";
      break;
    }
    default: literal = quote(value);
  }
  std::vector<Error> errors;
  auto doc = parse_toml("v = " + literal + "\n", "value", errors);
  if (!doc || !doc->get("v")) return key + ": expected " + info->expected + ", got \"" + value + "\"";
  Value v;
  if (auto why = check(*info, *doc->get("v"), v); !why.empty()) return key + ": " + why + ", got \"" + value + "\"";
  toml_value = toml_text(*info, v);
  return "";
}

std::string set_in_file(const std::string& path, const std::string& key, const std::string& value) {
  std::string literal;
  if (auto why = parse_cli_value(key, value, literal); !why.empty()) return why;
  std::string text;
  std::error_code ec;
  if (fs::exists(path, ec)) {
    std::string error;
    text = read_file(path, error);
    if (!error.empty()) return path + ": " + error;
  }
  // The file must be valid as it is: we do not write on top of a mistake.
  Settings scratch;
  if (auto errors = load_text(text, path, scratch); !errors.empty())
    return errors.front().to_string() + " (fix the file first; nothing was changed)";
  std::vector<Error> errors;
  auto doc = parse_toml(text, path, errors);

  std::vector<std::string> lines;
  {
    std::stringstream s(text);
    std::string l;
    while (std::getline(s, l)) lines.push_back(l);
  }
  std::string section = key.substr(0, key.find('.')), name = key.substr(key.find('.') + 1);
  const toml::table* tbl = doc->get(section) ? doc->get(section)->as_table() : nullptr;
  if (tbl && tbl->is_inline()) return path + ": [" + section + "] is an inline table; edit it by hand";
  if (tbl && tbl->get(name)) {
    // Replace just the value, keeping the key's spelling and any comment after it.
    const auto& src = tbl->get(name)->source();
    size_t b = src.begin.line - 1, e = src.end.line - 1;
    std::string head = lines[b].substr(0, src.begin.column - 1);
    std::string tail = src.end.column - 1 <= lines[e].size() ? lines[e].substr(src.end.column - 1) : "";
    lines.erase(lines.begin() + static_cast<long>(b), lines.begin() + static_cast<long>(e) + 1);
    lines.insert(lines.begin() + static_cast<long>(b), head + literal + tail);
  } else if (tbl) {
    // After the section's last value (or its header when it has none).
    size_t after = tbl->source().begin.line;
    for (auto&& [k, v] : *tbl) after = std::max<size_t>(after, v.source().end.line);
    lines.insert(lines.begin() + static_cast<long>(after), name + " = " + literal);
  } else {
    if (!lines.empty() && !lines.back().empty()) lines.push_back("");
    lines.push_back("[" + section + "]");
    lines.push_back(name + " = " + literal);
  }
  std::string out;
  for (const auto& l : lines) out += l + "\n";
  Settings check_result;
  if (auto errs = load_text(out, path, check_result); !errs.empty())
    return "internal error: the edited file would not load: " + errs.front().to_string();

  fs::path target(path);
  if (target.has_parent_path()) fs::create_directories(target.parent_path(), ec);
  if (ec) return "cannot create directory " + target.parent_path().string() + ": " + ec.message();
  // The file may hold a proxy's credentials: readable by its owner only.
  return format::write_file_atomically(path, out, 0600);
}

}  // namespace vantage::config
