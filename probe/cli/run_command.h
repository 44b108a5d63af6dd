// `vantage run`: measure services, judge them, store and print the results.
#pragma once

#include <string>
#include <vector>

#include "probe/location/location.h"

namespace vantage::cli {

struct RunOptions {
  std::vector<std::string> services;  // "all" or names
  std::string catalog_dir;
  std::string ca_bundle;
  std::string output;        // extra copy of the JSONL, "" = none
  std::string results_dir;
  std::string control_url;
  double timeout = 120;      // whole run, seconds
  double connect_timeout = 5;
  int parallelism = 64;
  bool json = false;         // print measurements as JSON Lines on stdout
  bool progress = true;      // show what is being tested (on a terminal)
  bool capture = true;       // packet capture (needs CAP_NET_RAW; off with a reason otherwise)
  std::string capture_interface = "any";
  std::string pcap_file;     // keep the raw capture here (0600), "" = none
  std::string collector_url; // upload after the run (with `upload`)
  bool upload = false;
  std::string upload_proxy;
  // Where am I: GeoIP databases and the manual override (README "Where am I").
  // The public address is asked from collector_url (through upload_proxy).
  location::LocationOptions location;
  double whoami_timeout = 5;  // seconds
};

// Returns the process exit code: 0 measured, 1 tool failure, 2 input error.
int run_command(const RunOptions& options);

}  // namespace vantage::cli
