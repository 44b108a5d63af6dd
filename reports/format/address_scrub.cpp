// Address scrubbing in every spelling. See address_scrub.h.
#include "reports/format/address_scrub.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>

#include "reports/format/observations_json.h"

namespace vantage::format {

using nlohmann::json;

namespace {

using V4 = std::array<std::uint8_t, 4>;
using V6 = std::array<std::uint8_t, 16>;

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_hex(char c) { return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
bool is_alnum(char c) { return is_hex(c) || (c >= 'g' && c <= 'z') || (c >= 'G' && c <= 'Z'); }
char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }
const char* kHex = "0123456789abcdef";

// Four decimal parts of 1-3 digits each, 0-255 (leading zeros allowed: some
// tools pad, and inet_pton would refuse them).
bool parse_v4(std::string_view t, V4& out) {
  int part = 0;
  std::size_t i = 0;
  while (part < 4) {
    std::size_t start = i;
    unsigned v = 0;
    while (i < t.size() && is_digit(t[i]) && i - start < 3) v = v * 10 + static_cast<unsigned>(t[i++] - '0');
    if (i == start || v > 255 || (i < t.size() && is_digit(t[i]))) return false;
    out[static_cast<std::size_t>(part++)] = static_cast<std::uint8_t>(v);
    if (part < 4) {
      if (i >= t.size() || t[i] != '.') return false;
      ++i;
    }
  }
  return i == t.size();
}

bool parse_v6(std::string_view t, V6& out) {
  if (t.size() < 2 || t.size() > 45) return false;
  std::string s(t);
  return inet_pton(AF_INET6, s.c_str(), out.data()) == 1;
}

// The IPv4 address an IPv6 address carries: mapped, compatible, NAT64, 6to4.
bool embedded_v4(const V6& a, V4& out) {
  static const std::uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  static const std::uint8_t nat64[12] = {0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0};
  static const std::uint8_t zero[12] = {};
  if (std::memcmp(a.data(), mapped, 12) == 0 || std::memcmp(a.data(), nat64, 12) == 0 ||
      (std::memcmp(a.data(), zero, 12) == 0 && (a[12] | a[13]) != 0)) {
    std::copy(a.begin() + 12, a.end(), out.begin());
    return true;
  }
  if (a[0] == 0x20 && a[1] == 0x02) {  // 2002:AABB:CCDD::/48
    std::copy(a.begin() + 2, a.begin() + 6, out.begin());
    return true;
  }
  return false;
}

std::string nibbles_reversed(const std::uint8_t* bytes, std::size_t n, const std::string& sep) {
  std::string out;
  for (std::size_t i = n; i-- > 0;) {
    out += std::string(1, kHex[bytes[i] & 0xf]) + sep;
    out += std::string(1, kHex[bytes[i] >> 4]) + sep;
  }
  return out;
}

struct Match {
  std::size_t pos, len;
  enum Kind { kText, kBinary, kWire } kind;
};

// Every occurrence of `needle` in `hay` (both lower case).
template <typename F>
void each_find(const std::string& hay, const std::string& needle, F f) {
  if (needle.empty()) return;
  for (std::size_t p = hay.find(needle); p != std::string::npos; p = hay.find(needle, p + 1)) f(p);
}

}  // namespace

AddressScrubber::AddressScrubber(const std::vector<std::string>& addresses) {
  for (std::string a : addresses) {
    if (auto pct = a.find('%'); pct != std::string::npos) a.resize(pct);
    if (a.size() > 2 && a.front() == '[' && a.back() == ']') a = a.substr(1, a.size() - 2);
    if (a.empty()) continue;
    V4 v4{};
    V6 v6{};
    if (parse_v4(a, v4)) {
      v4_.push_back(v4);
    } else if (parse_v6(a, v6)) {
      V4 inner{};
      static const std::uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
      if (std::memcmp(v6.data(), mapped, 12) == 0 && embedded_v4(v6, inner)) {
        v4_.push_back(inner);  // the IPv4 address a dual-stack socket reported
        continue;
      }
      v6_.push_back(v6);
    } else {
      literal_.push_back(a);
    }
  }
  for (const auto& a : v4_) {
    std::string d[4];
    for (int i = 0; i < 4; ++i) d[i] = std::to_string(a[static_cast<std::size_t>(i)]);
    text_forms_.push_back({d[3] + "." + d[2] + "." + d[1] + "." + d[0] + ".in-addr.arpa", false});
    text_forms_.push_back({d[0] + "-" + d[1] + "-" + d[2] + "-" + d[3], false});
    std::string wire;
    for (int i = 3; i >= 0; --i) wire += static_cast<char>(d[i].size()) + d[i];
    wire_forms_.push_back(wire + "\x07in-addr\x04" "arpa");
  }
  for (const auto& a : v6_) {
    char buf[INET6_ADDRSTRLEN];
    inet_ntop(AF_INET6, a.data(), buf, sizeof buf);
    std::string dashed = buf;
    std::replace(dashed.begin(), dashed.end(), ':', '-');
    text_forms_.push_back({dashed, true});
    v6_prefix_rev_.push_back(nibbles_reversed(a.data(), 8, ".") + "ip6.arpa");
    std::string wire;
    for (std::size_t i = 8; i-- > 0;) {
      wire += std::string("\x01") + kHex[a[i] & 0xf];
      wire += std::string("\x01") + kHex[a[i] >> 4];
    }
    v6_prefix_wire_.push_back(wire + "\x03ip6\x04" "arpa");
  }
}

bool AddressScrubber::v4_secret(const V4& a) const { return std::find(v4_.begin(), v4_.end(), a) != v4_.end(); }

bool AddressScrubber::v6_secret(const V6& a) const {
  for (const auto& s : v6_)
    if (std::equal(s.begin(), s.begin() + 8, a.begin())) return true;  // same /64
  V4 inner{};
  return embedded_v4(a, inner) && v4_secret(inner);
}

std::size_t AddressScrubber::scrub(std::string& s, bool bytes, bool same_length) const {
  if (empty() || s.empty()) return 0;
  std::vector<Match> found;
  // Address-shaped tokens: runs of [0-9a-fA-F:.] with two colons (IPv6) and
  // runs of [0-9.] (IPv4), parsed rather than compared, so every text form
  // of the address (and of its /64) is found.
  for (std::size_t i = 0; i < s.size();) {
    if (!(is_hex(s[i]) || s[i] == ':' || s[i] == '.')) {
      ++i;
      continue;
    }
    std::size_t j = i;
    int colons = 0;
    while (j < s.size() && (is_hex(s[j]) || s[j] == ':' || s[j] == '.')) colons += s[j++] == ':';
    if (colons >= 2) {
      std::size_t b = i, e = j;
      while (b < e && s[b] == '.') ++b;
      while (e > b && s[e - 1] == '.') --e;
      V6 a{};
      bool ok = parse_v6(std::string_view(s).substr(b, e - b), a);
      if (!ok && e - b > 2 && s[b] == ':' && s[b + 1] != ':') {
        ++b;  // "host:2001:db8::1": the colon is the text's
        ok = parse_v6(std::string_view(s).substr(b, e - b), a);
      }
      if (!ok && e - b > 2 && s[e - 1] == ':' && s[e - 2] != ':') {
        --e;
        ok = parse_v6(std::string_view(s).substr(b, e - b), a);
      }
      if (ok && v6_secret(a)) found.push_back({b, e - b, Match::kText});
    }
    i = j;
  }
  for (std::size_t i = 0; i < s.size();) {
    if (!is_digit(s[i])) {
      ++i;
      continue;
    }
    std::size_t j = i;
    while (j < s.size() && (is_digit(s[j]) || s[j] == '.')) ++j;
    std::size_t e = j;
    while (e > i && s[e - 1] == '.') --e;
    bool after_dot = i > 0 && s[i - 1] == '.' && i > 1 && is_digit(s[i - 2]);
    V4 a{};
    if (!after_dot && parse_v4(std::string_view(s).substr(i, e - i), a) && v4_secret(a))
      found.push_back({i, e - i, Match::kText});
    i = j;
  }
  std::string low(s.size(), ' ');
  std::transform(s.begin(), s.end(), low.begin(), lower);
  for (const auto& entry : text_forms_) {
    // Named copies, not a structured binding: lambdas may not capture those
    // before C++20 compilers caught up (clang 14, the fuzz build).
    const auto& form = entry.first;
    const bool v6 = entry.second;
    each_find(low, form, [&](std::size_t p) {
      char before = p > 0 ? low[p - 1] : ' ';
      std::size_t end = p + form.size();
      char after = end < low.size() ? low[end] : ' ';
      bool ok = v6 ? !(is_hex(before) || before == '-') && !(is_hex(after) || after == '-')
                   : !is_digit(before) && !is_digit(after) && !(form.back() == 'a' && is_alnum(after));
      if (ok) found.push_back({p, form.size(), Match::kText});
    });
  }
  for (const auto& suffix : v6_prefix_rev_) {
    each_find(low, suffix, [&](std::size_t p) {
      std::size_t b = p;
      while (b >= 2 && p - b < 32 && low[b - 1] == '.' && is_hex(low[b - 2])) b -= 2;
      found.push_back({b, p + suffix.size() - b, Match::kText});
    });
  }
  for (const auto& lit : literal_) {
    each_find(s, lit, [&](std::size_t p) {
      std::size_t end = p + lit.size();
      bool ok = (p == 0 || !is_alnum(s[p - 1])) && (end >= s.size() || !is_alnum(s[end]));
      if (ok) found.push_back({p, lit.size(), Match::kText});
    });
  }
  if (bytes) {
    for (const auto& a : v4_)
      each_find(s, std::string(a.begin(), a.end()), [&](std::size_t p) { found.push_back({p, 4, Match::kBinary}); });
    for (const auto& a : v6_)
      each_find(s, std::string(a.begin(), a.begin() + 8), [&](std::size_t p) {
        if (p + 16 <= s.size()) found.push_back({p, 16, Match::kBinary});
      });
    for (const auto& w : wire_forms_)
      each_find(low, w, [&](std::size_t p) { found.push_back({p, w.size(), Match::kWire}); });
    for (const auto& w : v6_prefix_wire_)
      each_find(low, w, [&](std::size_t p) {
        std::size_t b = p;
        while (b >= 2 && p - b < 32 && low[b - 2] == '\x01' && is_hex(low[b - 1])) b -= 2;
        found.push_back({b, p + w.size() - b, Match::kWire});
      });
  }
  if (found.empty()) return 0;
  std::sort(found.begin(), found.end(), [](const Match& a, const Match& b) { return a.pos < b.pos; });
  std::vector<Match> merged;
  for (const auto& m : found) {
    if (!merged.empty() && m.pos < merged.back().pos + merged.back().len) {
      auto& last = merged.back();
      last.len = std::max(last.pos + last.len, m.pos + m.len) - last.pos;
      if (last.kind != m.kind) last.kind = Match::kText;
    } else {
      merged.push_back(m);
    }
  }
  if (same_length) {
    for (const auto& m : merged) {
      const std::size_t end = m.pos + m.len;
      if (m.kind == Match::kWire) {
        // Keep the label lengths: the DNS message still parses.
        for (std::size_t k = m.pos; k < end;) {
          std::size_t label = static_cast<std::uint8_t>(s[k++]);
          for (std::size_t t = k; t < std::min(k + label, end); ++t) s[t] = 'x';
          k += label;
        }
      } else {
        std::fill(s.begin() + static_cast<std::ptrdiff_t>(m.pos), s.begin() + static_cast<std::ptrdiff_t>(end),
                  m.kind == Match::kBinary ? '\0' : 'x');
      }
    }
  } else {
    for (auto it = merged.rbegin(); it != merged.rend(); ++it) s.replace(it->pos, it->len, "[scrubbed]");
  }
  return merged.size();
}

std::size_t AddressScrubber::scrub_text(std::string& text) const { return scrub(text, false, false); }

std::size_t AddressScrubber::scrub_bytes_same_length(std::string& bytes) const { return scrub(bytes, true, true); }

std::size_t AddressScrubber::scrub_json(json& j) const {
  std::size_t count = 0;
  if (j.is_string()) {
    auto s = j.get<std::string>();
    std::size_t n = scrub_text(s);
    if (n) j = s;
    count += n;
  } else if (j.is_array()) {
    for (auto& v : j) count += scrub_json(v);
  } else if (j.is_object() && j.size() == 2 && j.value("format", json()) == "base64" && j["data"].is_string()) {
    // Bytes that were not UTF-8 (a block page in another charset, a binary
    // body): the address may be inside them, as text or as bytes.
    std::string bytes;
    if (base64_decode(j["data"].get<std::string>(), bytes)) {
      std::size_t n = scrub(bytes, true, false);
      if (n) j["data"] = base64_encode(bytes);
      count += n;
    }
  } else if (j.is_object()) {
    json out = json::object();
    for (auto it = j.begin(); it != j.end(); ++it) {
      std::string key = it.key();
      count += scrub_text(key);
      json v = it.value();
      std::string bytes;
      if (key == "raw_response" && v.is_string() && base64_decode(v.get<std::string>(), bytes)) {
        // A DNS message, base64 without the {"format"} wrapper (OONI's dnst).
        if (std::size_t n = scrub_bytes_same_length(bytes)) {
          v = base64_encode(bytes);
          count += n;
        }
      } else {
        count += scrub_json(v);
      }
      out[key] = std::move(v);
    }
    j = std::move(out);
  }
  return count;
}

bool AddressScrubber::found_in(const json& j) const {
  json copy = j;
  return scrub_json(copy) > 0;
}

}  // namespace vantage::format
