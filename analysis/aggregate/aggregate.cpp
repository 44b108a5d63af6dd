// Aggregation and change points. See aggregate.h for the contract.
#include "analysis/aggregate/aggregate.h"

#include <algorithm>
#include <cmath>
#include <sstream>
#include <tuple>

#include "reports/format/vocabulary.h"

namespace vantage::analysis {
namespace {

using nlohmann::json;

json null_if_empty(const std::string& s) { return s.empty() ? json(nullptr) : json(s); }

bool is_day(const std::string& d) {
  if (d.size() != 10 || d[4] != '-' || d[7] != '-') return false;
  for (std::size_t i : {0, 1, 2, 3, 5, 6, 8, 9})
    if (d[i] < '0' || d[i] > '9') return false;
  return true;
}

std::string join(const std::vector<std::string>& v, const char* sep) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : sep) + s;
  return out;
}

std::vector<std::string> split_methods(const std::string& m) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start < m.size()) {
    auto end = m.find('+', start);
    if (end == std::string::npos) end = m.size();
    if (end > start) out.push_back(m.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

bool counts_as_blocked(const std::string& v) { return v == vocab::kBlocked || v == vocab::kPartiallyBlocked; }
bool is_judged(const std::string& v) { return v == vocab::kAccessible || v == vocab::kDown || counts_as_blocked(v); }

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

std::string csv_value(const json& v) {
  if (v.is_null()) return "";
  if (v.is_string()) return csv_field(v.get<std::string>());
  if (v.is_object()) return csv_field(v.dump());
  return v.dump();
}

std::string csv_of(const json& rows, const std::vector<std::string>& columns) {
  std::string out = join(columns, ",") + "\r\n";
  for (const auto& r : rows) {
    std::string line;
    for (std::size_t i = 0; i < columns.size(); ++i) {
      if (i) line += ',';
      line += csv_value(r.contains(columns[i]) ? r[columns[i]] : json(nullptr));
    }
    out += line + "\r\n";
  }
  return out;
}

double rounded(double x) { return std::round(x * 1000.0) / 1000.0; }

}  // namespace

bool Filters::matches(const std::string& day, const std::string& cc, const std::string& asn,
                      const std::string& svc) const {
  if (!since.empty() && day < since) return false;
  if (!until.empty() && day > until) return false;
  if (!probe_cc.empty() && cc != probe_cc) return false;
  if (!probe_asn.empty() && asn != probe_asn) return false;
  if (!service.empty() && svc != service) return false;
  return true;
}

json Filters::to_json() const {
  return {{"since", null_if_empty(since)}, {"until", null_if_empty(until)}, {"probe_cc", null_if_empty(probe_cc)},
          {"probe_asn", null_if_empty(probe_asn)}, {"service", null_if_empty(service)}};
}

std::string Filters::validate() const {
  if (!since.empty() && !is_day(since)) return "since: expected YYYY-MM-DD, got \"" + since + "\"";
  if (!until.empty() && !is_day(until)) return "until: expected YYYY-MM-DD, got \"" + until + "\"";
  if (!since.empty() && !until.empty() && since > until) return "since " + since + " is after until " + until;
  if (!probe_cc.empty() && (probe_cc.size() != 2 || !std::isupper(static_cast<unsigned char>(probe_cc[0])) ||
                            !std::isupper(static_cast<unsigned char>(probe_cc[1]))))
    return "cc: expected two capital letters (ISO 3166 alpha-2), got \"" + probe_cc + "\"";
  if (!probe_asn.empty() && (probe_asn.size() < 3 || probe_asn.size() > 12 || probe_asn.rfind("AS", 0) != 0 ||
                             probe_asn.find_first_not_of("0123456789", 2) != std::string::npos))
    return "asn: expected AS<digits>, got \"" + probe_asn + "\"";
  for (char c : service)
    if (!std::islower(static_cast<unsigned char>(c)) && c != '_' && !std::isdigit(static_cast<unsigned char>(c)))
      return "service: expected a test name (lowercase letters, digits, _), got \"" + service + "\"";
  return "";
}

namespace {
void append_probe_identity(std::string& out, const MeasurementKeys& k) {
  out.append(k.probe_asn).append(1, '|').append(k.software_name).append(1, '|');
  out.append(k.software_version).append(1, '|').append(k.day);
}
}  // namespace

std::string probe_identity(const MeasurementKeys& k) {
  std::string out;
  append_probe_identity(out, k);
  return out;
}

std::string service_display_name(const std::string& s) {
  static const std::map<std::string, std::string> names = {{"whatsapp", "WhatsApp"},
                                                           {"signal", "Signal"},
                                                           {"telegram", "Telegram"},
                                                           {"facebook_messenger", "Facebook Messenger"},
                                                           {"wechat", "WeChat"}};
  auto it = names.find(s);
  return it == names.end() ? s : it->second;
}

std::vector<ChangePoint> detect_changes(const std::vector<DailyRate>& days, const CusumPolicy& p) {
  std::vector<ChangePoint> out;
  std::size_t begin = 0;
  auto rate = [&](std::size_t from, std::size_t to) {
    std::int64_t b = 0, j = 0;
    for (std::size_t i = from; i < to; ++i) b += days[i].blocked, j += days[i].judged;
    return j ? static_cast<double>(b) / static_cast<double>(j) : 0.0;
  };
  std::vector<std::size_t> cuts;
  while (begin < days.size()) {
    double up = 0, down = 0;
    std::size_t up_start = begin + 1, down_start = begin + 1, found = 0;
    std::int64_t b = days[begin].blocked, j = days[begin].judged;  // the regime's running mean
    for (std::size_t i = begin + 1; i < days.size() && !found; ++i) {
      const double mean = static_cast<double>(b) / static_cast<double>(std::max<std::int64_t>(j, 1));
      const double r = static_cast<double>(days[i].blocked) / static_cast<double>(std::max<std::int64_t>(days[i].judged, 1));
      if (up == 0) up_start = i;
      if (down == 0) down_start = i;
      up = std::max(0.0, up + r - mean - p.slack);
      down = std::max(0.0, down + mean - r - p.slack);
      if (up > p.threshold) found = up_start;
      else if (down > p.threshold) found = down_start;
      b += days[i].blocked, j += days[i].judged;
    }
    if (!found) break;
    cuts.push_back(found);
    begin = found;
  }
  std::size_t prev = 0;
  for (std::size_t c = 0; c < cuts.size(); ++c) {
    const std::size_t next = c + 1 < cuts.size() ? cuts[c + 1] : days.size();
    std::int64_t n_before = 0, n_after = 0;
    for (std::size_t i = prev; i < cuts[c]; ++i) n_before += days[i].judged;
    for (std::size_t i = cuts[c]; i < next; ++i) n_after += days[i].judged;
    ChangePoint cp{cuts[c], rate(prev, cuts[c]), rate(cuts[c], next), prev, next};
    if (std::fabs(cp.rate_after - cp.rate_before) >= p.min_shift && n_before >= p.min_measurements &&
        n_after >= p.min_measurements)
      out.push_back(cp);
    prev = cuts[c];
  }
  return out;
}

namespace {
void append_key(std::string& key, const std::string& part) {
  key += part;
  key += '\x1f';
}
}  // namespace

int Aggregator::probe_id(const std::string& probe) {
  if (auto it = probe_ids_.find(probe); it != probe_ids_.end()) return it->second;
  return probe_ids_.emplace(probe, static_cast<int>(probe_ids_.size())).first->second;
}

std::vector<Aggregator::Row>& Aggregator::group(const std::string& day, const std::string& cc, const std::string& asn,
                                                const std::string& service) {
  std::string& key = key_buffer_;
  key.clear();
  for (const std::string* part : {&day, &cc, &asn, &service}) append_key(key, *part);
  if (auto it = groups_.find(key); it != groups_.end()) return it->second;
  return groups_[key];
}

Aggregator::Row* Aggregator::find(std::vector<Row>& group, std::string_view feature, std::string_view verdict,
                                  std::string_view method, const std::string& network_name) {
  for (Row& r : group)
    if (r.cell.verdict == verdict && r.cell.feature == feature && r.cell.method == method) {
      if (r.cell.probe_network_name.empty()) r.cell.probe_network_name = network_name;
      return &r;
    }
  return nullptr;
}

Aggregator::Row& Aggregator::row(std::vector<Row>& group, const Cell& c) {
  if (Row* r = find(group, c.feature, c.verdict, c.method, c.probe_network_name)) return *r;
  Row& r = group.emplace_back();
  r.cell = c;
  r.cell.probe.clear();
  return r;
}

void Aggregator::count(Row& r, int probe, std::int64_t n) {
  r.measurements += n;
  auto pos = std::lower_bound(r.probes.begin(), r.probes.end(), probe);
  if (pos == r.probes.end() || *pos != probe) r.probes.insert(pos, probe);
}

ScoreView::Feature& ScoreView::add_feature() {
  if (feature_count == features.size()) features.emplace_back();
  Feature& f = features[feature_count++];
  f.name = f.status = {};
  f.methods.clear();
  return f;
}

void ScoreView::assign(const Score& s) {
  clear();
  verdict = s.verdict;
  methods.assign(s.methods.begin(), s.methods.end());
  for (const auto& [name, f] : s.features) {
    Feature& v = add_feature();
    v.name = name, v.status = f.status;
    v.methods.assign(f.methods.begin(), f.methods.end());
  }
}

void Aggregator::add(const MeasurementKeys& k, const Score& s) {
  view_buffer_.assign(s);
  add(k, view_buffer_);
}

// The hot path (once per measurement): one hash lookup finds the cells of
// its day, network and service; its service and feature cells are a short
// scan there, and a Cell is made only for a row not seen before.
void Aggregator::add(const MeasurementKeys& k, const ScoreView& s) {
  key_buffer_.clear();
  append_probe_identity(key_buffer_, k);
  const int probe = probe_id(key_buffer_);
  std::vector<Row>& rows = group(k.day, k.probe_cc, k.probe_asn, k.service);
  std::string& method = method_buffer_;
  auto add_one = [&](std::string_view feature, std::string_view verdict, const std::vector<std::string_view>& methods,
                     bool with_methods) {
    method.clear();
    if (with_methods)
      for (std::size_t i = 0; i < methods.size(); ++i) method += (i ? "+" : ""), method += methods[i];
    if (Row* r = find(rows, feature, verdict, method, k.probe_network_name)) return count(*r, probe, 1);
    // A row not seen before: the only time a Cell is made.
    Row& r = rows.emplace_back();
    r.cell = Cell{k.day, k.probe_cc, k.probe_asn, k.probe_network_name, k.service, "", std::string(feature),
                  std::string(verdict), method};
    count(r, probe, 1);
  };
  add_one({}, s.verdict, s.methods, s.verdict == vocab::kBlocked || s.verdict == vocab::kPartiallyBlocked);
  for (std::size_t i = 0; i < s.feature_count; ++i) {
    const ScoreView::Feature& f = s.features[i];
    add_one(f.name, f.status, f.methods, f.status == vocab::kBlocked);
  }
}

void Aggregator::add_cell(const Cell& c, std::int64_t n) {
  std::vector<Row>& rows = group(c.day, c.probe_cc, c.probe_asn, c.service);
  count(row(rows, c), probe_id(c.probe), n);
}

void Aggregator::merge(const Aggregator& other) {
  std::vector<int> ids(other.probe_ids_.size());
  for (const auto& [probe, id] : other.probe_ids_) ids[static_cast<std::size_t>(id)] = probe_id(probe);
  for (const auto& [key, theirs] : other.groups_) {
    std::vector<Row>& rows = groups_[key];
    for (const Row& r : theirs) {
      Row& mine = row(rows, r.cell);
      mine.measurements += r.measurements;
      for (int p : r.probes) count(mine, ids[static_cast<std::size_t>(p)], 0);
    }
  }
}

std::int64_t Aggregator::measurements() const {
  std::int64_t n = 0;
  for (const auto& [_, rows] : groups_)
    for (const Row& r : rows)
      if (r.cell.feature.empty()) n += r.measurements;
  return n;
}

json Aggregator::to_json(const Filters& filters, const std::string& generated_at, const CusumPolicy& policy) const {
  std::vector<const Row*> sorted;
  for (const auto& [_, rows] : groups_)
    for (const Row& r : rows) sorted.push_back(&r);
  auto tie = [](const Row* r) {
    const Cell& c = r->cell;
    return std::tie(c.day, c.probe_cc, c.probe_asn, c.service, c.feature, c.verdict, c.method);
  };
  std::sort(sorted.begin(), sorted.end(), [&](const Row* a, const Row* b) { return tie(a) < tie(b); });

  struct Network {
    std::string cc, asn, name, name_day, service, feature;
    std::int64_t measurements = 0;
    std::vector<int> probes;  // with repeats until unique_size()
    std::map<std::string, std::int64_t> counts{{"accessible", 0}, {"blocked", 0}, {"partially_blocked", 0},
                                               {"down", 0}, {"inconclusive", 0}, {"unscorable", 0}};
    std::map<std::string, std::int64_t> methods;
    std::string first_seen, last_seen, first_blocked, last_blocked;
    std::map<std::string, DailyRate> days;
    std::map<std::string, std::pair<std::int64_t, std::vector<int>>> day_support;  // all measurements, probes
  };
  // The number of distinct ids in `ids` (sorted and deduplicated in place).
  auto unique_size = [](std::vector<int>& ids) {
    std::sort(ids.begin(), ids.end());
    ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
    return ids.size();
  };
  std::map<std::tuple<std::string, std::string, std::string, std::string>, Network> networks;

  json daily = json::array();
  std::int64_t total = 0, unscorable = 0;
  std::vector<int> all_probes;
  std::string first_day, last_day;
  for (const Row* r : sorted) {
    const Cell& c = r->cell;
    daily.push_back({{"day", c.day}, {"probe_cc", c.probe_cc}, {"probe_asn", c.probe_asn},
                     {"probe_network_name", c.probe_network_name}, {"service", c.service}, {"feature", c.feature},
                     {"verdict", c.verdict}, {"method", c.method}, {"measurements", r->measurements},
                     {"probes", r->probes.size()}});
    if (c.feature.empty()) {
      total += r->measurements;
      if (c.verdict == "unscorable") unscorable += r->measurements;
      all_probes.insert(all_probes.end(), r->probes.begin(), r->probes.end());
      if (first_day.empty() || c.day < first_day) first_day = c.day;
      if (last_day.empty() || c.day > last_day) last_day = c.day;
    }
    Network& n = networks[{c.probe_cc, c.probe_asn, c.service, c.feature}];
    if (n.measurements == 0) n.cc = c.probe_cc, n.asn = c.probe_asn, n.service = c.service, n.feature = c.feature;
    if (!c.probe_network_name.empty() && c.day >= n.name_day) n.name = c.probe_network_name, n.name_day = c.day;
    n.measurements += r->measurements;
    n.probes.insert(n.probes.end(), r->probes.begin(), r->probes.end());
    n.counts[c.verdict] += r->measurements;
    for (const auto& m : split_methods(c.method)) n.methods[m] += r->measurements;
    if (n.first_seen.empty() || c.day < n.first_seen) n.first_seen = c.day;
    if (n.last_seen.empty() || c.day > n.last_seen) n.last_seen = c.day;
    if (counts_as_blocked(c.verdict)) {
      if (n.first_blocked.empty() || c.day < n.first_blocked) n.first_blocked = c.day;
      if (n.last_blocked.empty() || c.day > n.last_blocked) n.last_blocked = c.day;
    }
    DailyRate& d = n.days[c.day];
    d.day = c.day;
    if (is_judged(c.verdict)) d.judged += r->measurements;
    if (counts_as_blocked(c.verdict)) d.blocked += r->measurements;
    auto& support = n.day_support[c.day];
    support.first += r->measurements;
    support.second.insert(support.second.end(), r->probes.begin(), r->probes.end());
  }

  json network_rows = json::array();
  json changes = json::array();
  for (auto& [_, n] : networks) {
    const std::int64_t blocked = n.counts.at("blocked") + n.counts.at("partially_blocked");
    const std::int64_t denominator = blocked + n.counts.at("accessible") + n.counts.at("down");
    network_rows.push_back(
        {{"probe_cc", n.cc}, {"probe_asn", n.asn}, {"probe_network_name", n.name}, {"service", n.service},
         {"feature", n.feature}, {"measurements", n.measurements}, {"probes", unique_size(n.probes)},
         {"counts", n.counts}, {"blocking_rate", denominator ? json(rounded(static_cast<double>(blocked) / static_cast<double>(denominator))) : json(nullptr)},
         {"methods", n.methods.empty() ? json::object() : json(n.methods)},
         {"first_seen", n.first_seen}, {"last_seen", n.last_seen},
         {"first_blocked", null_if_empty(n.first_blocked)}, {"last_blocked", null_if_empty(n.last_blocked)}});
    std::vector<DailyRate> series;
    for (const auto& [day, d] : n.days)
      if (d.judged > 0) series.push_back(d);
    for (const auto& cp : detect_changes(series, policy)) {
      std::int64_t support = 0;
      std::vector<int> probes;
      for (std::size_t i = cp.begin; i < cp.end; ++i) {
        const auto& s = n.day_support.at(series[i].day);
        support += s.first;
        probes.insert(probes.end(), s.second.begin(), s.second.end());
      }
      const bool up = cp.rate_after > cp.rate_before;
      const std::string what = service_display_name(n.service) + (n.feature.empty() ? "" : " " + n.feature);
      const std::string day = series[cp.index].day;
      changes.push_back({{"probe_cc", n.cc}, {"probe_asn", n.asn}, {"service", n.service}, {"feature", n.feature},
                         {"day", day}, {"direction", up ? "blocked" : "unblocked"},
                         {"rate_before", rounded(cp.rate_before)}, {"rate_after", rounded(cp.rate_after)},
                         {"measurements", support}, {"probes", unique_size(probes)},
                         {"text", what + (up ? " blocked in " : " no longer blocked in ") + n.asn + " (" + n.cc +
                                      ") since " + day}});
    }
  }
  return json{{"generated_at", generated_at},
              {"filters", filters.to_json()},
              {"totals",
               {{"measurements", total}, {"scored", total - unscorable}, {"unscorable", unscorable},
                {"probes", unique_size(all_probes)}, {"first_day", null_if_empty(first_day)},
                {"last_day", null_if_empty(last_day)}}},
              {"daily", daily},
              {"networks", network_rows},
              {"change_points", changes}};
}

std::string Aggregator::daily_csv(const json& a) {
  return csv_of(a["daily"], {"day", "probe_cc", "probe_asn", "probe_network_name", "service", "feature", "verdict",
                             "method", "measurements", "probes"});
}

std::string Aggregator::networks_csv(const json& a) {
  json rows = json::array();
  for (auto r : a["networks"]) {
    for (const auto& [k, v] : r["counts"].items()) r[k] = v;
    rows.push_back(r);
  }
  return csv_of(rows, {"probe_cc", "probe_asn", "probe_network_name", "service", "feature", "measurements", "probes",
                       "accessible", "blocked", "partially_blocked", "down", "inconclusive", "unscorable",
                       "blocking_rate", "methods", "first_seen", "last_seen", "first_blocked", "last_blocked"});
}

std::string Aggregator::change_points_csv(const json& a) {
  return csv_of(a["change_points"], {"probe_cc", "probe_asn", "service", "feature", "day", "direction", "rate_before",
                                     "rate_after", "measurements", "probes", "text"});
}

}  // namespace vantage::analysis
