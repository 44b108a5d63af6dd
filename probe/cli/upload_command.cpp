// `vantage upload`. See upload_command.h.
#include "probe/cli/upload_command.h"

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <iostream>

#include "probe/location/public_address.h"
#include "probe/spool/spool.h"
#include "probe/upload/uploader.h"

namespace vantage::cli {

using nlohmann::json;

namespace {

std::string local_time(std::int64_t t) {
  std::time_t tt = static_cast<std::time_t>(t);
  std::tm tm{};
  localtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M", &tm);
  return buf;
}

}  // namespace

std::string spool_measurements(const std::string& results_dir, const std::vector<json>& measurements) {
  std::string error;
  auto spool = spool::Spool::open(spool::spool_dir_for(results_dir), error);
  if (!spool) return error;
  std::string first;
  for (const auto& m : measurements) {
    std::string id;
    if (auto err = spool->add(m, id); !err.empty() && first.empty()) first = err;
  }
  return first;
}

int upload_command(const UploadOptions& o, std::ostream& out, std::ostream& err) {
  std::string error;
  auto spool = spool::Spool::open(spool::spool_dir_for(o.results_dir), error);
  if (!spool) {
    err << "vantage: " << error << "\n";
    return 1;
  }
  if (o.list_only) {
    std::vector<std::string> skipped;
    auto all = spool->list(error, &skipped);
    if (!error.empty()) {
      err << "vantage: " << error << "\n";
      return 1;
    }
    for (const auto& s : skipped) err << "vantage: warning: " << s << "\n";
    int pending = 0;
    for (const auto& e : all) {
      pending += e.state != spool::State::uploaded;
      if (o.json) {
        out << json{{"id", e.id}, {"state", spool::state_name(e.state)}, {"measurement_uid", e.measurement_uid},
                    {"error", e.error}, {"attempts", e.attempts}, {"next_attempt", e.next_attempt}}
                   .dump()
            << "\n";
      } else {
        out << e.id << "  " << spool::state_name(e.state);
        if (!e.measurement_uid.empty()) out << "  " << e.measurement_uid;
        if (e.state == spool::State::failed)
          out << "  " << e.error << " (" << e.attempts << (e.attempts == 1 ? " attempt" : " attempts") << ")";
        out << "\n";
      }
    }
    if (!o.json) out << all.size() << " measurements in " << spool->dir() << ", " << pending << " not uploaded\n";
    return 0;
  }

  upload::ClientOptions client;
  client.collector_url = o.collector_url;
  client.ca_bundle = o.ca_bundle;
  client.proxy = o.proxy;
  client.timeout = std::chrono::milliseconds(static_cast<std::int64_t>(o.timeout * 1000));
  client.connect_timeout = std::chrono::milliseconds(static_cast<std::int64_t>(o.connect_timeout * 1000));
  if (auto bad = upload::check_options(client); !bad.empty()) {
    err << "vantage: " << bad << "\n";
    return 2;
  }
  upload::UploadPolicy policy;
  policy.respect_backoff = o.respect_backoff;
  policy.scrub_addresses = o.scrub_addresses;
  if (o.learn_public_address) {
    location::WhoamiOptions w;
    w.collector_url = o.collector_url;
    w.proxy = o.proxy;
    w.ca_bundle = o.ca_bundle;
    w.timeout = std::chrono::milliseconds(static_cast<std::int64_t>(std::min(5.0, o.timeout) * 1000));
    auto me = location::ask_public_address(w);
    // Loopback is the collector's own machine, not a volunteer's address.
    if (!me.ip.empty() && me.ip != "::1" && me.ip.rfind("127.", 0) != 0) {
      policy.scrub_addresses = location::machine_addresses();
      policy.scrub_addresses.push_back(me.ip);
    }
  }
  auto summary = upload::upload_pending(*spool, client, policy, [&](const upload::EntryResult& r) {
    if (o.json) {
      out << json{{"id", r.id}, {"test_name", r.test_name}, {"outcome", r.outcome},
                  {"measurement_uid", r.measurement_uid}, {"failure", r.failure}, {"error", r.error},
                  {"attempts", r.attempts}, {"next_attempt", r.next_attempt}}
                 .dump()
          << "\n";
      return;
    }
    out << r.id << "  " << (r.test_name.empty() ? "?" : r.test_name) << "  ";
    if (r.outcome == "uploaded") out << "uploaded  " << r.measurement_uid;
    else if (r.outcome == "skipped") out << "waiting   next try after " << local_time(r.next_attempt);
    else out << "failed    " << r.failure << (r.error.empty() ? "" : " (" + r.error + ")") << "; kept, retry after "
             << local_time(r.next_attempt);
    out << "\n";
    out.flush();
  });
  if (!summary.error.empty()) {
    err << "vantage: " << summary.error << "\n";
    return 1;
  }
  if (!o.json) {
    if (summary.entries.empty()) out << "nothing to upload: every measurement in " << spool->dir() << " is uploaded\n";
    else
      out << summary.uploaded << " uploaded, " << summary.failed << " failed, " << summary.skipped
          << " waiting; measurements not uploaded stay in " << spool->dir() << " (`vantage upload` again to retry)\n";
  }
  return summary.failed + summary.skipped > 0 ? 1 : 0;
}

int upload_command(const UploadOptions& o) { return upload_command(o, std::cout, std::cerr); }

}  // namespace vantage::cli
