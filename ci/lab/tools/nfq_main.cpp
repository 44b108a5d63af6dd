// nfq_main.cpp — command line of lab_nfq, the censorship lab's packet-level
// censor: parses the subcommand and its options, then runs one mode.
//
// Bad arguments get one line naming the option and what was expected, and
// exit status 2; a queue that cannot be bound exits 1. Never touches packets
// itself.
#include <charconv>
#include <cstdio>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "modes.h"
#include "nfq_queue.h"

namespace {

constexpr const char* kUsage = R"(usage:
  lab_nfq inject-dns --queue N --names a.example,b.example --forged-ip IPv4 [--ttl T] [--delay-real MS]
      Queries (UDP to port 53) for a listed name or a subdomain get a forged
      answer (one A record = forged-ip, DNS TTL 60) sent at once from the
      queried address with IP TTL T (default 64); the real query is held MS ms
      (default 100) before it goes on, so the real answer comes second.
  lab_nfq drop-sni --queue N --names a.example,b.example [--remember S]
      TCP (queue port 443, or 853, ...): drops a segment holding a ClientHello
      whose SNI is a listed name or a subdomain, and every later packet of that
      4-tuple (either direction) for S s (default 120). A ClientHello whose SNI
      is not in the first segment passes.
  lab_nfq delay --queue N --ms MS [--queue-maxlen L] [--log-each]
      Holds every packet MS ms, then accepts it, in order. At most L packets
      (default 10000) wait at once: beyond that the kernel lets packets pass
      undelayed (fail-open). Logs a summary per second; --log-each logs every
      packet.
All modes run until SIGTERM/SIGINT and log one line per action to stderr.
Feed them with iptables, e.g.
  iptables -A FORWARD -p udp --dport 53 -j NFQUEUE --queue-num 1 --queue-bypass
)";

int BadArguments(const std::string& message) {
  std::fprintf(stderr, "lab_nfq: %s (lab_nfq --help shows the usage)\n", message.c_str());
  return 2;
}

template <typename T>
std::optional<T> ParseNumber(std::string_view text, T min, T max) {
  T value{};
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value < min || value > max) return std::nullopt;
  return value;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return BadArguments("missing subcommand");
  const std::string mode = argv[1];
  if (mode == "-h" || mode == "--help") {
    std::fputs(kUsage, stdout);
    return 0;
  }
  // Options per mode: name -> whether it takes a value.
  const std::map<std::string, std::map<std::string, bool>> known = {
      {"inject-dns", {{"--queue", true}, {"--names", true}, {"--forged-ip", true}, {"--ttl", true}, {"--delay-real", true}}},
      {"drop-sni", {{"--queue", true}, {"--names", true}, {"--remember", true}}},
      {"delay", {{"--queue", true}, {"--ms", true}, {"--queue-maxlen", true}, {"--log-each", false}}},
  };
  auto mode_options = known.find(mode);
  if (mode_options == known.end()) return BadArguments("unknown subcommand \"" + mode + "\"");

  std::map<std::string, std::string> given;
  for (int i = 2; i < argc; ++i) {
    const std::string name = argv[i];
    auto option = mode_options->second.find(name);
    if (option == mode_options->second.end()) {
      return BadArguments(mode + ": unknown option \"" + name + "\"");
    }
    if (given.count(name) != 0) return BadArguments(mode + ": " + name + " given twice");
    if (!option->second) {
      given[name] = "";
    } else if (i + 1 >= argc) {
      return BadArguments(mode + ": " + name + " needs a value");
    } else {
      given[name] = argv[++i];
    }
  }
  auto require = [&](const std::string& name) -> std::optional<std::string> {
    auto it = given.find(name);
    if (it == given.end()) return std::nullopt;
    return it->second;
  };
  auto missing = [&](const std::string& name) { return BadArguments(mode + ": " + name + " is required"); };

  auto queue_text = require("--queue");
  if (!queue_text) return missing("--queue");
  auto queue = ParseNumber<uint16_t>(*queue_text, 0, 65535);
  if (!queue) return BadArguments(mode + ": --queue: expected a queue number 0-65535, got \"" + *queue_text + "\"");

  std::optional<lab::NameList> names;
  if (mode != "delay") {
    auto names_text = require("--names");
    if (!names_text) return missing("--names");
    std::string error;
    names = lab::NameList::Parse(*names_text, &error);
    if (!names) return BadArguments(mode + ": " + error);
  }

  lab::InstallStopSignals();
  if (mode == "inject-dns") {
    lab::InjectDnsOptions options{*queue, *names, {}, 64, std::chrono::milliseconds(100)};
    auto ip_text = require("--forged-ip");
    if (!ip_text) return missing("--forged-ip");
    auto ip = lab::ParseIpv4Address(*ip_text);
    if (!ip) return BadArguments("inject-dns: --forged-ip: expected an IPv4 address, got \"" + *ip_text + "\"");
    options.forged_ip = *ip;
    if (auto ttl_text = require("--ttl")) {
      auto ttl = ParseNumber<int>(*ttl_text, 1, 255);
      if (!ttl) return BadArguments("inject-dns: --ttl: expected an IP TTL 1-255, got \"" + *ttl_text + "\"");
      options.ip_ttl = static_cast<uint8_t>(*ttl);
    }
    if (auto delay_text = require("--delay-real")) {
      auto ms = ParseNumber<int>(*delay_text, 0, 600000);
      if (!ms) return BadArguments("inject-dns: --delay-real: expected milliseconds 0-600000, got \"" + *delay_text + "\"");
      options.delay_real = std::chrono::milliseconds(*ms);
    }
    return lab::RunInjectDns(options);
  }
  if (mode == "drop-sni") {
    lab::DropSniOptions options{*queue, *names, std::chrono::seconds(120)};
    if (auto remember_text = require("--remember")) {
      auto seconds = ParseNumber<int>(*remember_text, 0, 86400);
      if (!seconds) return BadArguments("drop-sni: --remember: expected seconds 0-86400, got \"" + *remember_text + "\"");
      options.remember = std::chrono::seconds(*seconds);
    }
    return lab::RunDropSni(options);
  }
  lab::DelayOptions options;
  options.queue = *queue;
  auto ms_text = require("--ms");
  if (!ms_text) return missing("--ms");
  auto ms = ParseNumber<int>(*ms_text, 0, 600000);
  if (!ms) return BadArguments("delay: --ms: expected milliseconds 0-600000, got \"" + *ms_text + "\"");
  options.delay = std::chrono::milliseconds(*ms);
  if (auto maxlen_text = require("--queue-maxlen")) {
    auto maxlen = ParseNumber<uint32_t>(*maxlen_text, 1, 1000000);
    if (!maxlen) return BadArguments("delay: --queue-maxlen: expected 1-1000000 packets, got \"" + *maxlen_text + "\"");
    options.queue_max_length = *maxlen;
  }
  options.log_each_packet = given.count("--log-each") != 0;
  return lab::RunDelay(options);
}
