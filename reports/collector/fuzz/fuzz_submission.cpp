// libFuzzer target: the collector's submission validation, as a client
// drives it. Byte 0 picks the step the rest of the input is the body of:
// open a report, submit a measurement to an open report, or submit and then
// close. Checks the collector's promises (collector.h) besides what
// ASan/UBSan catch: it never throws, every status is one it documents, and
// every refusal carries {"error": "..."} of bounded size.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <mutex>
#include <string>

#include "reports/collector/collector.h"

using namespace vantage::collector;

namespace {

// The store contract in memory: fast, so the fuzzer spends its time in
// validation, not in SQLite.
class MemoryStore final : public Store {
 public:
  std::string name() const override { return "memory"; }
  std::string create_report(const ReportRecord& r) override {
    std::lock_guard lock(mu_);
    reports_[r.report_id] = r;
    return "";
  }
  std::optional<ReportRecord> find_report(const std::string& id, std::string&) override {
    std::lock_guard lock(mu_);
    auto it = reports_.find(id);
    if (it == reports_.end()) return std::nullopt;
    return it->second;
  }
  std::string close_report(const std::string& id, std::int64_t when) override {
    std::lock_guard lock(mu_);
    if (auto it = reports_.find(id); it != reports_.end()) it->second.closed = when;
    return "";
  }
  InsertResult insert_measurement(const StoredMeasurement& m) override {
    std::lock_guard lock(mu_);
    auto [it, fresh] = by_key_.emplace(m.body_sha512, m.measurement_uid);
    return {"", it->second, fresh};
  }
  std::vector<StoredMeasurement> query(const MeasurementQuery&, std::string&) override { return {}; }
  std::int64_t count(const MeasurementQuery&, std::string&) override { return 0; }
  bool healthy(std::string&) override { return true; }
  // Forgets every input's reports and measurements once it is done: a store
  // that grew from one input to the next would make libFuzzer suspect a leak
  // after each one and scan the whole heap (LeakSanitizer was 70 % of the
  // time), and would hide a real leak of the collector's among its rows.
  void clear() {
    std::lock_guard lock(mu_);
    reports_.clear();
    by_key_.clear();
  }

 private:
  std::mutex mu_;
  std::map<std::string, ReportRecord> reports_;
  std::map<std::string, std::string> by_key_;
};

const char* kOpen =
    R"({"data_format_version":"0.2.0","format":"json","probe_asn":"AS30722","probe_cc":"IT",)"
    R"("software_name":"vantage","software_version":"0.1.0","test_name":"signal",)"
    R"("test_start_time":"2025-03-01 10:00:00","test_version":"0.1.0"})";

void check(const Reply& r) {
  switch (r.http_status) {
    case 200: return;
    case 400:
    case 404:
    case 409: break;
    default: std::abort();  // 500 only comes from a store error; this one has none
  }
  if (!r.body.is_object() || !r.body.contains("error") || !r.body["error"].is_string()) std::abort();
  if (r.body["error"].get_ref<const std::string&>().size() > 2000) std::abort();  // a short prefix only
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static MemoryStore store;
  static Collector collector(store, {});
  if (size < 1) return 0;
  struct Forget {
    ~Forget() { store.clear(); }
  } forget;
  const std::string_view body(reinterpret_cast<const char*>(data) + 1, size - 1);
  const int step = data[0] % 3;
  if (step == 0) {
    check(collector.open_report(body));
    return 0;
  }
  const Reply opened = collector.open_report(kOpen);
  if (opened.http_status != 200) std::abort();
  const std::string id = opened.body["report_id"];
  check(collector.submit_measurement(id, body));
  if (step == 2) {
    check(collector.close_report(id));
    const Reply late = collector.submit_measurement(id, body);
    check(late);
    if (late.http_status == 200) std::abort();  // a closed report takes nothing
  }
  return 0;
}
