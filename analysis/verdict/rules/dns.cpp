// The DNS layer's rules. See rules.h.
#include <algorithm>
#include <set>

#include "analysis/verdict/ip_networks.h"
#include "analysis/verdict/rules/rules.h"

namespace vantage::analysis::rules {
namespace {

using nlohmann::json;

bool is_dns_blocking_failure(const std::string& f) {
  static const std::set<std::string> dns = {
      "dns_nxdomain_error", "dns_refused_error",     "dns_servfail_error",         vocab::kDnsNoAnswer,
      vocab::kDnsBogon,     "dns_temporary_failure", "dns_non_recoverable_failure", "dns_server_misbehaving",
      vocab::kTimeout};
  return dns.count(f) > 0;
}

struct UdpResponse {
  std::vector<std::string> ips;  // sorted
  int64_t ip_ttl = -1;
};

// The responses recorded for one hold-on UDP query, in arrival order.
std::vector<UdpResponse> udp_responses(const json& keys, int64_t tx) {
  std::vector<UdpResponse> out;
  for (const json* q : by_transaction(keys, "queries", tx)) {
    if (str(*q, "engine") != "udp" || !str(*q, "failure").empty()) continue;
    UdpResponse r;
    if (auto a = q->find("answers"); a != q->end() && a->is_array())
      for (const auto& ans : *a) {
        if (!ans.is_object()) continue;
        if (ans.contains("ipv4")) r.ips.push_back(str(ans, "ipv4"));
        if (ans.contains("ipv6")) r.ips.push_back(str(ans, "ipv6"));
      }
    std::sort(r.ips.begin(), r.ips.end());
    if (auto t = q->find("x_ip_ttl"); t != q->end() && t->is_number_integer()) r.ip_ttl = t->get<int64_t>();
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace

void judge_dns(Judgement& j) {
  const json& keys = *j.m.keys;
  // The system lookup (shared per host).
  std::string dns_failure;
  std::vector<std::string> answers;
  for (const json* q : by_transaction(keys, "queries", j.ep.dns_transaction_id)) {
    if (str(*q, "engine") != "getaddrinfo") continue;
    dns_failure = str(*q, "failure");
    if (auto a = q->find("answers"); a != q->end() && a->is_array())
      for (const auto& ans : *a) {
        if (ans.contains("ipv4")) answers.push_back(str(ans, "ipv4"));
        if (ans.contains("ipv6")) answers.push_back(str(ans, "ipv6"));
      }
  }
  if (!dns_failure.empty()) {
    if (j.control_dns_failed()) {
      j.down(dns_failure, "DNS lookup failed (" + dns_failure + ") and the control's lookup failed too");
    } else if (is_dns_blocking_failure(dns_failure)) {
      std::string why = "DNS lookup failed: " + dns_failure;
      if (j.control) why += "; the control resolved it";
      j.blame(vocab::kMethodDns, dns_failure, why);
    } else {
      // Not an answer from the network (e.g. too_many_open_files): the
      // probe's own trouble, not the resolver's.
      j.undecided(dns_failure, "DNS lookup failed locally: " + dns_failure);
    }
    return;
  }

  // Several differing responses to the one UDP query: an answer was injected
  // on the path. An address is suspect unless the last response (the
  // resolver's, which arrives after the forgery) also gave it.
  const auto udp = udp_responses(keys, j.ep.dns_udp_transaction_id);
  bool raced = false;
  if (udp.size() >= 2) {
    std::set<std::vector<std::string>> distinct;
    std::string summary;
    for (const auto& r : udp) {
      distinct.insert(r.ips);
      std::string ips;
      for (const auto& a : r.ips) ips += (ips.empty() ? "" : ",") + a;
      summary += (summary.empty() ? "" : "; ") + (ips.empty() ? std::string("no answer") : ips) +
                 (r.ip_ttl >= 0 ? " (IP TTL " + std::to_string(r.ip_ttl) + ")" : "");
    }
    if (distinct.size() >= 2) {
      raced = true;
      j.note(std::to_string(udp.size()) + " different DNS responses to one query: " + summary);
    }
  }
  auto injected_address = [&](const std::string& a) {
    if (!raced || a.empty()) return false;
    const auto& last = udp.back().ips;
    return std::find(last.begin(), last.end(), a) == last.end();
  };
  const auto& prefixes = j.m.networks.prefixes;
  // Judged against the known networks of the answer's own family: a
  // catalog that lists only IPv4 prefixes says nothing about IPv6 answers.
  auto outside_networks = [&](const std::string& a) {
    if (a.empty()) return false;
    const bool v6 = a.find(':') != std::string::npos;
    std::vector<std::string> same;
    for (const auto& p : prefixes)
      if ((p.find(':') != std::string::npos) == v6) same.push_back(p);
    return !same.empty() && !in_any_prefix(a, same);
  };
  const auto control_addrs = j.control_dns_addrs();
  auto control_gave = [&](const std::string& a) {
    return std::find(control_addrs.begin(), control_addrs.end(), a) != control_addrs.end();
  };

  if (j.ep.chain == vocab::kChainDns) {
    // Nothing is connected to: the answer is all there is to judge, on the
    // same evidence as the other endpoints' (measured family: IPv4).
    std::vector<std::string> v4;
    for (const auto& a : answers)
      if (a.find(':') == std::string::npos && !a.empty()) v4.push_back(a);
    std::string bogon, injected, outside;
    int outside_count = 0;
    for (const auto& a : v4) {
      if (is_bogon(a) && bogon.empty()) bogon = a;
      if (injected_address(a) && injected.empty()) injected = a;
      if (outside_networks(a) && !control_gave(a)) {
        ++outside_count;
        if (outside.empty()) outside = a;
      }
    }
    if (!bogon.empty()) j.blame(vocab::kMethodDns, vocab::kDnsBogon, "DNS answer " + bogon + " is a bogon");
    else if (!injected.empty())
      j.blame(vocab::kMethodDns, "", "DNS answer " + injected + " raced the resolver's own response, which did not give it");
    // Every answer outside the known networks (one known answer among CDN
    // spread is enough to call it genuine), and not what the control got.
    else if (!v4.empty() && outside_count == static_cast<int>(v4.size()))
      j.blame(vocab::kMethodDns, "", "DNS answer " + outside + " is outside the service's known networks");
    else j.ok();
    return;
  }

  const std::string ip = j.ep.ip.value_or("");
  const bool outside = outside_networks(ip);
  if (outside) j.note("DNS answer " + ip + " is outside the service's known networks");
  const bool injected = injected_address(ip);
  // Evidence only: CDNs answer differently by region, so a control far away
  // disagreeing is not by itself DNS manipulation.
  if (!ip.empty() && j.control && !j.control_dns_failed() && !control_addrs.empty() && !control_gave(ip))
    j.note("the control's DNS did not return " + ip);
  j.suspect_answer = outside || injected;
}

void judge_failure_at_suspect_address(Judgement& j, const ChainOutcome& chain) {
  if (!j.suspect_answer || chain.failed_step.empty()) return;
  j.blame(vocab::kMethodDns, chain.failure,
          j.ep.chain + " step failed (" + chain.failure + ") at an address the DNS should not have given" +
              chain.retry_note());
}

}  // namespace vantage::analysis::rules
