// Whole-file reads. See read_file.h.
#include "reports/format/read_file.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>

namespace vantage::format {

std::string read_file(const std::string& path, std::string& out, std::uintmax_t limit) {
  out.clear();
  std::ifstream in(path, std::ios::binary);
  if (!in) return "cannot read: " + std::string(std::strerror(errno));
  // Read at most limit + 1 bytes: a file that grows while it is read, or a
  // pipe, is bounded too.
  std::string data;
  char buf[65536];
  while (in) {
    in.read(buf, sizeof buf);
    data.append(buf, static_cast<std::size_t>(in.gcount()));
    if (data.size() > limit) return "larger than " + std::to_string(limit) + " bytes";
  }
  if (in.bad()) return "read error";
  out = std::move(data);
  return "";
}

}  // namespace vantage::format
