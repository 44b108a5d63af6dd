// `vantage run`: measure services, judge them, store and print the results.
#pragma once

#include <string>
#include <vector>

#include "probe/config/settings.h"
#include "probe/location/location.h"

namespace vantage::cli {

// What a run did, for those who record it (the unattended run).
struct RunReport {
  std::string run_id;
  int measurements = 0;
  int upload_code = -1;  // upload_command's exit code; -1 = no upload
};

struct RunOptions {
  std::vector<std::string> services;  // "all" or names
  std::string catalog_dir;
  std::string ca_bundle;
  std::string output;        // extra copy of the JSONL, "" = none
  std::string results_dir;
  std::string control_url;
  double timeout = 120;      // whole run, seconds
  double connect_timeout = 5;
  int parallelism = 128;
  bool json = false;         // print measurements as JSON Lines on stdout
  bool progress = true;      // show what is being tested (on a terminal)
  bool capture = true;       // packet capture (needs CAP_NET_RAW; off with a reason otherwise)
  std::string capture_interface = "any";
  std::string pcap_file;     // keep the raw capture here (0600), "" = none
  std::string collector_url; // upload after the run (with `upload`)
  bool upload = false;
  std::string upload_proxy;
  // Where am I: GeoIP databases and the manual override (README "Where am I"),
  // from flags or the configuration's [location]. The public address is
  // asked from collector_url (through upload_proxy).
  location::LocationOptions location;
  double whoami_timeout = 5;  // seconds
  RunReport* report = nullptr;  // filled when set
};

// Which of the run's settings were given as flags; the others are taken
// from the configuration file when it sets them.
struct RunFlagsGiven {
  bool services = false, catalog_dir = false, ca_bundle = false, control_url = false, timeout = false, connect_timeout = false,
       parallelism = false, collector_url = false, upload = false, upload_proxy = false, results_dir = false;
  bool asn_db = false, country_db = false, probe_asn = false, probe_cc = false, probe_network_name = false;
};

// Fills `run` from `settings` where the flag was not given. The upload
// happens when --upload is given, or, without --upload/--no-upload, when
// the file sets collector.url (and collector.upload is not false).
void apply_settings(const config::Settings& settings, const RunFlagsGiven& given, RunOptions& run);

// Returns the process exit code: 0 measured, 1 tool failure, 2 input error.
int run_command(const RunOptions& options);

}  // namespace vantage::cli
