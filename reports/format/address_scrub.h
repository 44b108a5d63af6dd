// Scrubbing a volunteer's addresses out of measurements, in every spelling
// an address can take in what a probe records:
//   IPv4  dotted (leading zeros too: 192.000.002.001), dashed as in ISP
//         hostnames (192-0-2-1), reverse DNS (1.2.0.192.in-addr.arpa), inside
//         IPv6 (::ffff:192.0.2.1, ::ffff:c000:201, 64:ff9b::c000:201, 6to4
//         2002:c000:201::), in binary (4 bytes in a DNS answer or a capture);
//   IPv6  every text form (compressed, expanded, upper case, with a ::ffff:
//         tail), reverse DNS (nibbles .ip6.arpa), dashed (2001-db8--1), binary
//         (16 bytes); and for IPv6 the whole /64 around the address, since
//         the rest of the address changes (privacy extensions) but the /64
//         names the volunteer's link.
// Text is found by parsing address-shaped tokens (so no spelling of the
// address needs listing), plus the listed reverse/dashed forms. Reverse names
// in DNS wire format (length-prefixed labels) are found in decoded bytes.
//
// Strings: each match becomes "[scrubbed]". Base64 bytes ({"format":"base64",
// "data"} bodies and the DNS messages under "raw_response") are decoded,
// scrubbed and re-encoded; DNS messages keep their length (matches are
// overwritten with 'x' or zero bytes) so they still parse.
//
// Must never: throw on any input; treat a longer token as the address
// (198.18.1.20 and 10.198.18.1.2 are not 198.18.1.2).
#pragma once

#include <array>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

namespace vantage::format {

class AddressScrubber {
 public:
  // Addresses that do not parse as IPv4/IPv6 are matched literally, as whole
  // tokens. Empty strings are ignored.
  explicit AddressScrubber(const std::vector<std::string>& addresses);

  // Replaces matches in text with "[scrubbed]"; returns how many.
  std::size_t scrub_text(std::string& text) const;
  // Overwrites matches in bytes, keeping the length; returns how many.
  std::size_t scrub_bytes_same_length(std::string& bytes) const;
  // Every string of `j` (keys too) and its base64 bytes, as above.
  std::size_t scrub_json(nlohmann::json& j) const;
  // Whether scrub_json would find anything.
  bool found_in(const nlohmann::json& j) const;

  bool empty() const { return v4_.empty() && v6_.empty() && literal_.empty(); }

 private:
  std::size_t scrub(std::string& s, bool bytes, bool same_length) const;
  bool v4_secret(const std::array<std::uint8_t, 4>& a) const;
  bool v6_secret(const std::array<std::uint8_t, 16>& a) const;

  std::vector<std::array<std::uint8_t, 4>> v4_;
  std::vector<std::array<std::uint8_t, 16>> v6_;
  std::vector<std::string> literal_;
  std::vector<std::pair<std::string, bool>> text_forms_;  // lower-case reverse/dashed spellings, is IPv6
  std::vector<std::string> v6_prefix_rev_;  // ".<16 prefix nibbles reversed>.ip6.arpa"
  std::vector<std::string> wire_forms_;     // DNS wire reverse names (v4)
  std::vector<std::string> v6_prefix_wire_;  // wire suffix of a /64's reverse names
};

}  // namespace vantage::format
