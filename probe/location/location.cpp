// Location of a measurement. See location.h.
#include "probe/location/location.h"

#include "probe/location/geoip.h"

#include <filesystem>

namespace vantage::location {

std::string check_location_options(const LocationOptions& o) {
  if (!o.probe_asn.empty() && normalize_asn(o.probe_asn).empty())
    return "--probe-asn: \"" + o.probe_asn + "\" is not an ASN (expected AS followed by a number from 1 to 4294967295)";
  if (!o.probe_cc.empty() && normalize_cc(o.probe_cc).empty())
    return "--probe-cc: \"" + o.probe_cc + "\" is not a country code (expected two letters, ISO 3166-1, e.g. DE)";
  if (o.probe_network_name.size() > 200) return "--probe-network-name: longer than 200 characters";
  for (const auto& [flag, path] : {std::pair{"--geoip-asn-db", o.asn_db}, std::pair{"--geoip-country-db", o.country_db}}) {
    if (path.empty()) continue;
    std::string error;
    if (!GeoDb::open(path, error)) return std::string(flag) + ": " + error;
  }
  return "";
}

namespace {

void add_note(std::string& note, const std::string& what) { note += (note.empty() ? "" : "; ") + what; }

}  // namespace

Location locate(const LocationOptions& o, const std::string& public_ip, const std::string& public_reason,
                const std::string& resolver_ip, const std::string& resolver_reason) {
  Location loc;
  std::string error;
  std::unique_ptr<GeoDb> asn_db, country_db;
  if (!o.asn_db.empty()) asn_db = GeoDb::open(o.asn_db, error);
  // Notes are published: name databases by file name, never by path.
  auto file_name = [](const std::string& path) { return std::filesystem::path(path).filename().string(); };
  if (!asn_db && !o.asn_db.empty()) add_note(loc.note, "ASN database " + file_name(o.asn_db) + " cannot be opened");
  const std::string& country_path = o.country_db.empty() ? o.asn_db : o.country_db;
  if (!country_path.empty()) {
    error.clear();
    country_db = GeoDb::open(country_path, error);
    if (!country_db) add_note(loc.note, "country database " + file_name(country_path) + " cannot be opened");
  }

  bool manual = false, looked_up = false;
  const bool need_asn = o.probe_asn.empty(), need_cc = o.probe_cc.empty();
  if (!need_asn) loc.probe_asn = normalize_asn(o.probe_asn), manual = true;
  if (!need_cc) loc.probe_cc = normalize_cc(o.probe_cc), manual = true;
  if (!o.probe_network_name.empty()) loc.probe_network_name = o.probe_network_name, manual = true;

  if (need_asn || need_cc) {
    if (public_ip.empty()) {
      add_note(loc.note, "public address unknown (" + (public_reason.empty() ? std::string("not asked") : public_reason) + ")");
    } else {
      if (need_asn) {
        if (!asn_db) {
          if (o.asn_db.empty()) add_note(loc.note, "no ASN database (--geoip-asn-db)");
        } else {
          auto a = asn_db->asn(public_ip);
          if (a.known()) {
            loc.probe_asn = a.asn;
            if (o.probe_network_name.empty()) loc.probe_network_name = a.network_name;
            looked_up = true;
          } else {
            add_note(loc.note, "probe ASN: " + a.note);
          }
        }
      }
      if (need_cc) {
        if (!country_db) {
          if (country_path.empty()) add_note(loc.note, "no country database (--geoip-country-db)");
        } else {
          auto c = country_db->country(public_ip);
          if (c.known()) {
            loc.probe_cc = c.cc;
            looked_up = true;
          } else {
            add_note(loc.note, "probe country: " + c.note);
          }
        }
      }
    }
  }
  if (resolver_ip.empty()) {
    add_note(loc.note, "resolver address unknown (" + (resolver_reason.empty() ? std::string("not asked") : resolver_reason) + ")");
  } else if (asn_db) {
    auto a = asn_db->asn(resolver_ip);
    if (a.known()) loc.resolver_asn = a.asn, loc.resolver_network_name = a.network_name;
    else add_note(loc.note, "resolver ASN: " + a.note);
  }
  loc.source = manual && looked_up ? "geoip+manual" : manual ? "manual" : looked_up ? "geoip" : "none";
  return loc;
}

}  // namespace vantage::location
