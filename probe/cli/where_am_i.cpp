// Where am I. See where_am_i.h.
#include "probe/cli/where_am_i.h"

#include "probe/location/public_address.h"
#include "probe/net/dns_lookup.h"

namespace vantage::cli {

namespace {

// The resolver's address as the echo name's authoritative server saw it.
location::AddressAnswer resolver_by_echo(const std::string& name, std::chrono::milliseconds timeout) {
  location::AddressAnswer a;
  net::StepClock clock;
  auto obs = net::lookup_getaddrinfo(name, timeout, net::StepContext{&clock, 0});
  if (obs.failure) {
    a.failure = "the resolver echo name did not resolve: " + *obs.failure;
    return a;
  }
  for (const auto& ans : obs.answers) {
    const std::string ip = location::normalize_ip(ans.ipv4.empty() ? ans.ipv6 : ans.ipv4);
    if (ip.empty()) continue;
    if (!location::is_global_address(ip)) {
      a.failure = "the resolver echo name answered a local or private address";
      return a;
    }
    a.ip = ip;
    return a;
  }
  a.failure = "the resolver echo name gave no address";
  return a;
}

}  // namespace

WhereAmI where_am_i(const location::LocationOptions& options, const std::string& collector_url,
                    const std::string& proxy, std::chrono::milliseconds timeout) {
  WhereAmI w;
  location::AddressAnswer pub;
  if (collector_url.empty()) {
    pub.failure = "no collector configured to ask (--collector)";
  } else {
    location::WhoamiOptions wo;
    wo.collector_url = collector_url;
    wo.proxy = proxy;
    wo.timeout = timeout;
    pub = location::ask_public_address(wo);
  }
  auto resolver = options.resolver_echo_name.empty() ? location::system_resolver_address()
                                                     : resolver_by_echo(options.resolver_echo_name, timeout);
  w.public_ip = pub.ip;
  w.resolver_ip = resolver.ip;
  w.location = location::locate(options, pub.ip, pub.failure, resolver.ip, resolver.failure);
  return w;
}

void apply_location(format::Envelope& e, const WhereAmI& w) {
  const auto& l = w.location;
  e.probe_asn = l.probe_asn;
  e.probe_cc = l.probe_cc;
  e.probe_network_name = l.probe_network_name;
  e.resolver_ip = w.resolver_ip;
  e.resolver_asn = l.resolver_asn;
  e.resolver_network_name = l.resolver_network_name;
  e.annotations["x_location_source"] = l.source;
  if (!l.note.empty()) e.annotations["x_location_note"] = l.note;
}

std::string location_summary(const WhereAmI& w) {
  const auto& l = w.location;
  if (l.probe_asn == "AS0" && l.probe_cc == "ZZ")
    return "network: unknown (measurements say AS0/ZZ): " + l.note;
  std::string s = "network: " + l.probe_asn;
  if (!l.probe_network_name.empty()) s += " (" + l.probe_network_name + ")";
  s += ", " + l.probe_cc + " (" + l.source + ")";
  if (!l.note.empty()) s += "; " + l.note;
  return s;
}

}  // namespace vantage::cli
