// The probe's configuration: one TOML file, read from the system-wide
// /etc/vantage/vantage.conf and then the per-user
// $XDG_CONFIG_HOME/vantage/vantage.conf (~/.config/vantage/vantage.conf), the
// user's values overriding the system's; command-line flags override both
// (the CLI applies them). `--config FILE` reads FILE instead of both.
//
// Every key is declared in one table (known_keys()): its section, type and
// what a valid value is. Unknown keys, wrong types and bad values are errors
// naming the file, the line, the key and what was expected; a file with an
// error is not used at all (nothing is half-applied).
//
// Parsing is done by toml++ (Debian's libtomlplusplus); this unit only
// validates and types the values.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace vantage::config {

// [location]: where the probe is. Consumed by the location lookup; the
// manual overrides win over any database lookup.
struct Location {
  std::optional<std::string> asn_db;              // MaxMind-format .mmdb with ASNs
  std::optional<std::string> country_db;          // MaxMind-format .mmdb with countries
  std::optional<std::string> probe_asn;           // "AS12345"
  std::optional<std::string> probe_cc;            // "DE": two uppercase letters
  std::optional<std::string> probe_network_name;  // free text
};

// Every value is optional: unset means "the built-in default, unless a flag
// says otherwise".
struct Settings {
  struct Collector {
    std::optional<std::string> url;    // http(s)://
    std::optional<std::string> proxy;  // http://, https://, socks5://, socks5h://
    std::optional<bool> upload;
  } collector;
  struct Control {
    std::optional<std::string> url;
  } control;
  struct Run {
    std::optional<std::vector<std::string>> services;
    std::optional<double> timeout;          // whole run, seconds
    std::optional<double> connect_timeout;  // seconds
    std::optional<int> parallelism;
    std::optional<std::string> catalog_dir;
    std::optional<std::string> ca_bundle;   // extra trusted CAs for the measured services
    std::optional<std::string> data_dir;    // the results directory
  } run;
  Location location;

  // "section.key" -> where its value came from, and the value as TOML text.
  struct Origin {
    std::string file;
    int line = 0;
    std::string value;  // as TOML text
    std::string plain;  // strings without quotes (for `config get`), else as `value`
  };
  std::map<std::string, Origin> origins;
};

enum class Type { string, url, proxy, boolean, seconds, count, services, path, asn, country };

struct KeyInfo {
  std::string name;  // "section.key"
  Type type;
  std::string expected;  // what a valid value is, for messages and `config show`
  double min = 0, max = 0;  // for seconds and count
};
const std::vector<KeyInfo>& known_keys();
const KeyInfo* find_key(const std::string& name);

struct Error {
  std::string file;
  int line = 0;  // 0 = the file as a whole
  std::string key;
  std::string message;
  std::string to_string() const;  // "FILE:LINE: KEY: MESSAGE"
};

std::string system_config_path();  // /etc/vantage/vantage.conf
std::string user_config_dir();     // $XDG_CONFIG_HOME/vantage, else ~/.config/vantage
std::string user_config_path();    // user_config_dir() + "/vantage.conf"

// Reads `paths` in order (later files override earlier ones). A missing file
// is skipped unless it is listed in `required`. Returns the errors; on
// error `out` holds only what the files before the bad one gave.
std::vector<Error> load(const std::vector<std::string>& paths, const std::vector<std::string>& required,
                        Settings& out);

// Reads one TOML document from `text` (named `file` in errors) into `out`.
std::vector<Error> load_text(const std::string& text, const std::string& file, Settings& out);

// Checks that `value` (as typed on a command line: `30`, `true`,
// `whatsapp,signal`, `http://...`) is valid for `key`; returns "" and sets
// `toml_value` to its TOML spelling, or returns what was expected.
std::string parse_cli_value(const std::string& key, const std::string& value, std::string& toml_value);

// Sets `key` to `value` (checked with parse_cli_value) in the TOML file at
// `path`, keeping every other line (comments too) as it was, and writes it
// atomically (temp file, fsync, rename; mode 0600: it may hold a proxy's
// credentials; directories created).
// Refuses when the file does not parse. Returns "" or the error.
std::string set_in_file(const std::string& path, const std::string& key, const std::string& value);

}  // namespace vantage::config
