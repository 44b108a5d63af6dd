// The one way Vantage replaces a file on disk: a temp file in the same
// directory (created with `mode`), every byte written, fsync, close, rename
// over the target, fsync of the directory. A crash leaves the old file or
// the new one, never a torn one. Never throws; never leaves the temp file
// behind on failure.
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>

namespace vantage::format {

// Writes every byte of `data` to `fd`, retrying on EINTR and short writes.
// false (errno set) on failure.
bool write_all(int fd, std::string_view data);

// Returns "" or an error naming the file and the system's reason.
std::string write_file_atomically(const std::string& path, std::string_view data, mode_t mode = 0600);

}  // namespace vantage::format
