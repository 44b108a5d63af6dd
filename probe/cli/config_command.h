// The CLI's side of the configuration file: which files are read (the
// system's and the user's, or only --config FILE), and `vantage config
// show|get|set`. The merge of file values under command-line flags is done
// where the flags are (main.cpp): a flag given on the command line wins.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

#include "probe/config/settings.h"

namespace vantage::cli {

// The files read, in order: {--config FILE} when given, else the system
// file then the user file.
std::vector<std::string> config_files(const std::string& config_flag);

// Loads the settings; prints each error ("vantage: FILE:LINE: KEY: ...") to
// `err` and returns false on any.
bool load_settings(const std::string& config_flag, config::Settings& out, std::ostream& err);

// `config show`: every known key, its value and the file:line it came from
// (or "not set"). Exit code: 0, or 2 when a file has errors.
int config_show(const std::string& config_flag, std::ostream& out, std::ostream& err);
// `config get KEY`: the value alone. 0 set, 1 not set, 2 unknown key / bad file.
int config_get(const std::string& config_flag, const std::string& key, std::ostream& out, std::ostream& err);
// `config set KEY VALUE`: writes --config FILE, else the per-user file.
// 0 written, 2 bad key, value or file (nothing changed), 1 cannot write.
int config_set(const std::string& config_flag, const std::string& key, const std::string& value, std::ostream& out,
               std::ostream& err);

}  // namespace vantage::cli
