// Parses a server's --listen value: "ADDR:PORT" or "[v6]:PORT".
#pragma once

#include <string>

namespace vantage::server {

// False when `text` is not that shape or the port is not 0..65535.
bool split_listen_address(const std::string& text, std::string& host, int& port);

}  // namespace vantage::server
