// Where a volunteer is: the ASN, network name and country of an address,
// looked up in local MaxMind-format (.mmdb) databases with libmaxminddb.
// Two layouts are read, the ones GeoLite2 and DB-IP Lite ship:
//   ASN db:     autonomous_system_number (uint), autonomous_system_organization
//   country db: country.iso_code ("DE")
// One file may hold both (a test database, a commercial "City+ASN" build).
//
// Never guesses: an address that is not in a database, a database that is
// missing or of another layout give the unknown values (AS0, ZZ, "") with a
// note saying why; nothing here touches the network.
#pragma once

#include <memory>
#include <string>

namespace vantage::location {

struct AsnAnswer {
  std::string asn = "AS0";     // "AS64500"
  std::string network_name;    // the organization, "" when unknown
  std::string note;            // why it is unknown; "" when found
  bool known() const { return asn != "AS0"; }
};

struct CountryAnswer {
  std::string cc = "ZZ";       // ISO 3166-1 alpha-2, upper case
  std::string note;
  bool known() const { return cc != "ZZ"; }
};

// One open .mmdb file. Movable, not copyable; closed on destruction.
class GeoDb {
 public:
  // nullptr with `error` naming the file and what is wrong.
  static std::unique_ptr<GeoDb> open(const std::string& path, std::string& error);
  ~GeoDb();
  GeoDb(const GeoDb&) = delete;
  GeoDb& operator=(const GeoDb&) = delete;

  AsnAnswer asn(const std::string& ip) const;
  CountryAnswer country(const std::string& ip) const;
  const std::string& path() const { return path_; }
  // Notes name the database by its file name only: they go into published
  // measurements, and a path can carry the volunteer's user name.
  const std::string& name() const { return name_; }

 private:
  GeoDb() = default;
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::string path_;
  std::string name_;
};

// "AS64500", "as64500", "64500" -> "AS64500"; "" when not an ASN (0 included).
std::string normalize_asn(const std::string& text);
// "de" -> "DE"; "" when not two letters.
std::string normalize_cc(const std::string& text);

}  // namespace vantage::location
