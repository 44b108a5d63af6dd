// Summary table. See summary_table.h.
#include "probe/cli/summary_table.h"

#include <algorithm>
#include <iterator>
#include <sstream>

#include "reports/format/vocabulary.h"

namespace vantage::cli {

using nlohmann::json;

namespace {

std::string join(const json& arr) {
  std::string out;
  if (!arr.is_array()) return out;
  for (const auto& v : arr) {
    if (!v.is_string()) continue;
    if (!out.empty()) out += ",";
    out += v.get<std::string>();
  }
  return out;
}

std::string first_evidence(const json& verdict, const std::string& feature) {
  for (const auto& e : verdict.value("endpoints", json::array()))
    if (e.value("feature", "") == feature && e.value("status", "") != "ok" && e.value("judged", true)) {
      const auto& ev = e.value("evidence", json::array());
      if (!ev.empty() && ev[0].is_string()) return e.value("endpoint", "") + ": " + ev[0].get<std::string>();
    }
  return "";
}

std::string render(const std::vector<std::vector<std::string>>& rows) {
  std::vector<std::size_t> width;
  for (const auto& r : rows)
    for (std::size_t i = 0; i < r.size(); ++i) {
      if (width.size() <= i) width.push_back(0);
      width[i] = std::max(width[i], r[i].size());
    }
  std::ostringstream out;
  for (const auto& r : rows) {
    for (std::size_t i = 0; i < r.size(); ++i) {
      out << r[i];
      if (i + 1 < r.size()) out << std::string(width[i] - r[i].size() + 2, ' ');
    }
    out << "\n";
  }
  return out.str();
}

}  // namespace

std::string summary_table(const std::vector<json>& measurements) {
  std::vector<std::vector<std::string>> rows{{"SERVICE", "FEATURE", "VERDICT", "METHOD", "EVIDENCE"}};
  std::string notes;
  for (const auto& m : measurements) {
    const json& keys = m.value("test_keys", json::object());
    const json& v = keys.value("x_verdict", json::object());
    std::string service = m.value("test_name", "?");
    rows.push_back({service, "(service)", v.value("status", "?"), join(v.value("methods", json::array())), ""});
    const json features = v.value("features", json::object());
    for (const auto& [name, f] : features.items()) {
      std::string ev = f.value("status", "") == vocab::kAccessible ? "" : first_evidence(v, name);
      // Judged per address family: say which one, when they differ.
      const json fam = f.value("families", json::object());
      if (fam.is_object() && fam.size() > 1 && fam.begin().value() != std::next(fam.begin()).value()) {
        std::string per;
        for (const auto& [family, status] : fam.items())
          per += (per.empty() ? "" : ", ") + family + " " + (status.is_string() ? status.get<std::string>() : "?");
        ev = per + (ev.empty() ? "" : "; " + ev);
      }
      if (ev.size() > 100) ev = ev.substr(0, 97) + "...";
      rows.push_back({"", name, f.value("status", "?"), join(f.value("methods", json::array())), ev});
    }
    if (v.value("confidence", "") != "high" && notes.find(v.value("confidence_reason", "")) == std::string::npos)
      notes += "note: " + v.value("confidence_reason", "") + "\n";
  }
  return render(rows) + notes;
}

std::string ipv6_summary(const std::vector<json>& measurements) {
  for (const auto& m : measurements) {
    const json x = m.value("test_keys", json::object()).value("x_ipv6", json::object());
    if (!x.is_object() || x.value("usable", json()) == json(true)) continue;
    const json reason = x.value("reason", json());
    const std::string r = reason.is_string() ? reason.get<std::string>() : "";
    if (r == "no_ipv6_route") return "IPv6 not measured: this host has no IPv6 route";
    if (r == "no_global_ipv6_address") return "IPv6 not measured: this host has no global IPv6 address";
    if (r == "ipv6_unsupported") return "IPv6 not measured: this host has no IPv6";
    if (r == "disabled") return "IPv6 not measured: turned off";
    if (r == "no_aaaa_answer") continue;  // next service: maybe one of its names has an IPv6 address
    if (!r.empty()) return "IPv6 not measured: " + r;
  }
  return "";
}

std::string describe_measurement(const json& m) {
  std::ostringstream out;
  const json& keys = m.value("test_keys", json::object());
  const json& v = keys.value("x_verdict", json::object());
  out << "test:        " << m.value("test_name", "?") << " " << m.value("test_version", "") << "\n"
      << "started:     " << m.value("measurement_start_time", "?") << " UTC\n"
      << "runtime:     " << m.value("test_runtime", 0.0) << " s\n"
      << "network:     " << m.value("probe_asn", "?") << " (" << m.value("probe_cc", "?") << ")\n"
      << "verdict:     " << v.value("status", "?");
  if (!v.value("methods", json::array()).empty()) out << " (" << join(v["methods"]) << ")";
  out << "\nconfidence:  " << v.value("confidence", "?") << " — " << v.value("confidence_reason", "") << "\n\n";
  std::vector<std::vector<std::string>> rows{{"ENDPOINT", "IP", "FEATURE", "STATUS", "METHOD", "FAILURE", "EVIDENCE"}};
  for (const auto& e : v.value("endpoints", json::array())) {
    std::string ev;
    for (const auto& x : e.value("evidence", json::array()))
      if (x.is_string()) ev += (ev.empty() ? "" : "; ") + x.get<std::string>();
    auto text = [&](const char* key) {
      auto it = e.find(key);
      return it != e.end() && it->is_string() ? it->get<std::string>() : std::string("-");
    };
    rows.push_back({text("endpoint"), text("ip"), text("feature"), text("status"), text("method"), text("failure"), ev});
  }
  out << render(rows);
  return out.str();
}

}  // namespace vantage::cli
