// GeoIP lookups with libmaxminddb. See geoip.h.
#include "probe/location/geoip.h"

#include <maxminddb.h>

#include <cctype>
#include <cstring>
#include <filesystem>

namespace vantage::location {

struct GeoDb::Impl {
  MMDB_s mmdb{};
};

std::unique_ptr<GeoDb> GeoDb::open(const std::string& path, std::string& error) {
  std::unique_ptr<GeoDb> db(new GeoDb);
  db->impl_ = std::make_unique<Impl>();
  db->path_ = path;
  db->name_ = std::filesystem::path(path).filename().string();
  int rc = MMDB_open(path.c_str(), MMDB_MODE_MMAP, &db->impl_->mmdb);
  if (rc != MMDB_SUCCESS) {
    error = path + ": not a readable MaxMind database: " + MMDB_strerror(rc);
    if (rc == MMDB_IO_ERROR || rc == MMDB_FILE_OPEN_ERROR) error += std::string(" (") + std::strerror(errno) + ")";
    db->impl_.reset();
    return nullptr;
  }
  return db;
}

GeoDb::~GeoDb() {
  if (impl_) MMDB_close(&impl_->mmdb);
}

namespace {

// The entry for `ip`, or a note saying why there is none.
bool find(MMDB_s* mmdb, const std::string& ip, const std::string& path, MMDB_entry_s& entry, std::string& note) {
  int gai = 0, rc = 0;
  MMDB_lookup_result_s r = MMDB_lookup_string(mmdb, ip.c_str(), &gai, &rc);
  if (gai != 0) {
    note = "not an IP address";
    return false;
  }
  if (rc != MMDB_SUCCESS) {
    note = path + ": lookup failed: " + MMDB_strerror(rc);
    return false;
  }
  if (!r.found_entry) {
    note = "the address is not in " + path;
    return false;
  }
  entry = r.entry;
  return true;
}

}  // namespace

AsnAnswer GeoDb::asn(const std::string& ip) const {
  AsnAnswer a;
  MMDB_entry_s entry{};
  if (!find(&impl_->mmdb, ip, name_, entry, a.note)) return a;
  MMDB_entry_data_s d{};
  if (MMDB_get_value(&entry, &d, "autonomous_system_number", nullptr) != MMDB_SUCCESS || !d.has_data) {
    a.note = name_ + " has no autonomous_system_number for the address (not an ASN database?)";
    return a;
  }
  std::uint64_t n = 0;
  switch (d.type) {
    case MMDB_DATA_TYPE_UINT16: n = d.uint16; break;
    case MMDB_DATA_TYPE_UINT32: n = d.uint32; break;
    case MMDB_DATA_TYPE_UINT64: n = d.uint64; break;
    case MMDB_DATA_TYPE_INT32: n = d.int32 > 0 ? static_cast<std::uint64_t>(d.int32) : 0; break;
    default: a.note = name_ + ": autonomous_system_number is not a number"; return a;
  }
  if (n == 0 || n > 0xffffffffULL) {
    a.note = name_ + ": the address's ASN is 0 or out of range";
    return a;
  }
  a.asn = "AS" + std::to_string(n);
  MMDB_entry_data_s o{};
  if (MMDB_get_value(&entry, &o, "autonomous_system_organization", nullptr) == MMDB_SUCCESS && o.has_data &&
      o.type == MMDB_DATA_TYPE_UTF8_STRING)
    a.network_name.assign(o.utf8_string, o.data_size);
  return a;
}

CountryAnswer GeoDb::country(const std::string& ip) const {
  CountryAnswer c;
  MMDB_entry_s entry{};
  if (!find(&impl_->mmdb, ip, name_, entry, c.note)) return c;
  MMDB_entry_data_s d{};
  if (MMDB_get_value(&entry, &d, "country", "iso_code", nullptr) != MMDB_SUCCESS || !d.has_data ||
      d.type != MMDB_DATA_TYPE_UTF8_STRING) {
    c.note = name_ + " has no country.iso_code for the address (not a country database?)";
    return c;
  }
  std::string cc = normalize_cc(std::string(d.utf8_string, d.data_size));
  if (cc.empty()) {
    c.note = name_ + ": country.iso_code is not two letters";
    return c;
  }
  c.cc = cc;
  return c;
}

std::string normalize_asn(const std::string& text) {
  std::string t = text;
  if (t.size() > 2 && (t[0] == 'A' || t[0] == 'a') && (t[1] == 'S' || t[1] == 's')) t = t.substr(2);
  if (t.empty() || t.size() > 10 || t.find_first_not_of("0123456789") != std::string::npos) return "";
  std::uint64_t n = std::stoull(t);
  if (n == 0 || n > 0xffffffffULL) return "";
  return "AS" + std::to_string(n);
}

std::string normalize_cc(const std::string& text) {
  if (text.size() != 2 || !std::isalpha(static_cast<unsigned char>(text[0])) ||
      !std::isalpha(static_cast<unsigned char>(text[1])))
    return "";
  return {static_cast<char>(std::toupper(static_cast<unsigned char>(text[0]))),
          static_cast<char>(std::toupper(static_cast<unsigned char>(text[1])))};
}

}  // namespace vantage::location
