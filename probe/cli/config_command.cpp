// `vantage config`. See config_command.h.
#include "probe/cli/config_command.h"

#include <iomanip>
#include <iostream>

namespace vantage::cli {

std::vector<std::string> config_files(const std::string& config_flag) {
  if (!config_flag.empty()) return {config_flag};
  return {config::system_config_path(), config::user_config_path()};
}

bool load_settings(const std::string& config_flag, config::Settings& out, std::ostream& err) {
  std::vector<std::string> required;
  if (!config_flag.empty()) required.push_back(config_flag);
  auto errors = config::load(config_files(config_flag), required, out);
  for (const auto& e : errors) err << "vantage: " << e.to_string() << "\n";
  return errors.empty();
}

int config_show(const std::string& config_flag, std::ostream& out, std::ostream& err) {
  config::Settings s;
  if (!load_settings(config_flag, s, err)) return 2;
  out << "# read, later overriding earlier:";
  for (const auto& f : config_files(config_flag)) out << " " << f;
  out << "\n# flags given on the command line override all of these\n";
  std::string section;
  for (const auto& k : config::known_keys()) {
    std::string sec = k.name.substr(0, k.name.find('.'));
    if (sec != section) out << "\n[" << sec << "]\n", section = sec;
    std::string name = k.name.substr(sec.size() + 1);
    auto it = s.origins.find(k.name);
    if (it == s.origins.end()) out << "# " << name << ": not set (" << k.expected << ")\n";
    else out << name << " = " << it->second.value << "  # from " << it->second.file << ":" << it->second.line << "\n";
  }
  return 0;
}

int config_get(const std::string& config_flag, const std::string& key, std::ostream& out, std::ostream& err) {
  std::string ignored;
  if (!config::find_key(key)) {
    err << "vantage: " << config::parse_cli_value(key, "", ignored) << "\n";
    return 2;
  }
  config::Settings s;
  if (!load_settings(config_flag, s, err)) return 2;
  auto it = s.origins.find(key);
  if (it == s.origins.end()) {
    err << "vantage: " << key << " is not set\n";
    return 1;
  }
  out << it->second.plain << "\n";
  return 0;
}

int config_set(const std::string& config_flag, const std::string& key, const std::string& value, std::ostream& out,
               std::ostream& err) {
  std::string path = config_flag.empty() ? config::user_config_path() : config_flag;
  std::string literal;
  if (auto why = config::parse_cli_value(key, value, literal); !why.empty()) {
    err << "vantage: " << why << "\n";
    return 2;
  }
  if (auto why = config::set_in_file(path, key, value); !why.empty()) {
    err << "vantage: " << why << "\n";
    // A bad file or value is the caller's to fix; anything else is ours.
    return why.rfind("cannot ", 0) == 0 || why.rfind("internal", 0) == 0 ? 1 : 2;
  }
  out << key << " = " << literal << "  (written to " << path << ")\n";
  return 0;
}

}  // namespace vantage::cli
