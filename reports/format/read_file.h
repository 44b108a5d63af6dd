// The one way Vantage reads a whole file (catalogs, configuration, TLS keys,
// dashboard assets): binary, bounded, with the reason when it cannot.
// Never throws.
#pragma once

#include <cstdint>
#include <limits>
#include <string>

namespace vantage::format {

// Reads all of `path` into `out`. Returns "" or the reason, without the path:
// "cannot read: <the system's reason>", "larger than N bytes" (more than
// `limit`; `out` is then left empty) or "read error".
std::string read_file(const std::string& path, std::string& out,
                      std::uintmax_t limit = std::numeric_limits<std::uintmax_t>::max());

}  // namespace vantage::format
