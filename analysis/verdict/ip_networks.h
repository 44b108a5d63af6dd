// IP address classification used to judge DNS answers: bogons (addresses a
// public name must never resolve to) and membership in a service's known
// prefixes. Pure functions over address strings; never touches the network.
#pragma once

#include <string>
#include <vector>

namespace vantage::analysis {

// True for 0.0.0.0/8, 10/8, 100.64/10, 127/8, 169.254/16, 172.16/12,
// 192.168/16, 224/4, 240/4 and the IPv6 equivalents (::, ::1, fc00::/7,
// fe80::/10, ff00::/8, ::ffff:bogon). Unparseable strings are bogons too.
bool is_bogon(const std::string& ip);

// True when ip lies in the CIDR prefix ("198.18.2.0/24", "2a03:2880::/32").
bool in_prefix(const std::string& ip, const std::string& prefix);
bool in_any_prefix(const std::string& ip, const std::vector<std::string>& prefixes);

}  // namespace vantage::analysis
