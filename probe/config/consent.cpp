// Informed consent. See consent.h.
#include "probe/config/consent.h"

#include "reports/format/atomic_file.h"
#include "reports/format/utc_time.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

namespace vantage::config {

namespace fs = std::filesystem;

const std::string& consent_text() {
  // Raise kConsentVersion whenever the meaning of this text changes.
  static const std::string text =
      "Before you run Vantage, please read this.\n"
      "\n"
      "Vantage tests whether messaging services (WhatsApp, Signal, WeChat)\n"
      "can be reached from your network, and how they are blocked.\n"
      "\n"
      "1. It is not hidden. Anyone who can watch your network traffic (your\n"
      "   Internet provider, your employer or school, your government) can\n"
      "   see that this machine connects to these services, and may\n"
      "   recognise the pattern of a censorship test.\n"
      "\n"
      "2. Results are published. When you upload (a collector is set), each\n"
      "   measurement is published openly with the name and number (ASN) of\n"
      "   your network, your country and the time. Your own IP address is\n"
      "   removed first, but your network and country are not.\n"
      "\n"
      "3. It can be risky. In some countries testing for censorship, or\n"
      "   reaching the services tested, is against the law or can draw\n"
      "   unwanted attention. Only you can judge the risk where you are.\n"
      "   If in doubt, do not run it.\n"
      "\n"
      "4. You can stop at any time. `vantage schedule remove` stops the\n"
      "   scheduled runs; deleting the results directory (see\n"
      "   `vantage config show`, run.data_dir) removes what was measured and\n"
      "   not yet uploaded; deleting the configuration directory removes\n"
      "   this agreement. Measurements already published stay published.\n";
  return text;
}

std::string consent_path(const std::string& config_dir) { return config_dir + "/consent.json"; }

ConsentState read_consent(const std::string& config_dir) {
  ConsentState st;
  std::string path = consent_path(config_dir);
  std::ifstream in(path);
  if (!in) return st;
  auto doc = nlohmann::json::parse(in, nullptr, false);
  if (doc.is_discarded() || !doc.is_object() || !doc.contains("version") || !doc["version"].is_number_integer()) {
    st.error = path + " is not a consent record (run `vantage onboard` again)";
    return st;
  }
  st.version = doc["version"].get<int>();
  st.agreed_at = doc.value("agreed_at", "");
  st.given = st.version == kConsentVersion;
  return st;
}

std::string record_consent(const std::string& config_dir, const std::string& how) {
  std::error_code ec;
  fs::create_directories(config_dir, ec);
  if (ec) return "cannot create " + config_dir + ": " + ec.message();
  const std::string when = format::utc_time(std::chrono::system_clock::now(), "%Y-%m-%dT%H:%M:%SZ");
  std::string body = nlohmann::json{{"version", kConsentVersion}, {"agreed_at", when}, {"how", how}}.dump(2) + "\n";
  return format::write_file_atomically(consent_path(config_dir), body, 0600);
}

std::string consent_missing_message(const ConsentState& st) {
  if (!st.error.empty()) return st.error;
  if (st.version != 0)
    return "the notice about what running Vantage can mean for you has changed since you agreed (version " +
           std::to_string(st.version) + ", now " + std::to_string(kConsentVersion) +
           "): read it and agree again with `vantage onboard`";
  return "first read what running Vantage can mean for you, and agree: run `vantage onboard`";
}

bool ask_consent(std::istream& in, std::ostream& out) {
  out << consent_text() << "\n";
  const char* question =
      "Question: who can see that you are running Vantage?\n"
      "  a) nobody: it is private\n"
      "  b) only the people who run the Vantage collector\n"
      "  c) anyone who can watch my network traffic, such as my provider or government\n";
  std::string answer;
  bool understood = false;
  for (int attempt = 0; attempt < 3 && !understood; ++attempt) {
    out << question << "Your answer (a, b or c): " << std::flush;
    if (!std::getline(in, answer)) {
      out << "\nno answer: nothing recorded\n";
      return false;
    }
    if (answer == "c" || answer == "C") understood = true;
    else out << "Not quite: Vantage's connections are ordinary traffic; anyone on the path can see them (point 1).\n\n";
  }
  if (!understood) {
    out << "Please read the notice again before running Vantage: nothing recorded.\n";
    return false;
  }
  out << "Right.\n\nDo you understand the above and want to run Vantage? Type \"yes\" to agree: " << std::flush;
  if (!std::getline(in, answer) || answer != "yes") {
    out << "\nnot agreed: nothing recorded (run `vantage onboard` again when you are ready)\n";
    return false;
  }
  return true;
}

}  // namespace vantage::config
