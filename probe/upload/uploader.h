// Drains the spool into a collector: groups pending measurements into one
// report per test run (same test, network and start time), submits each,
// and records in the spool what happened to every one. A measurement is only
// marked uploaded when the collector answered with its measurement UID;
// everything else is marked failed with its reason and the time of its next
// automatic attempt (exponential backoff from 15 minutes, with an
// exponentially distributed jitter, as OONI's clients do).
//
// Must never: delete or modify a spooled measurement; mark one uploaded
// without a UID from the collector; throw.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "probe/spool/spool.h"
#include "probe/upload/collector_client.h"

namespace vantage::upload {

struct UploadPolicy {
  // Skip failed entries whose next_attempt is still in the future (automatic
  // uploads after `vantage run`); a manual `vantage upload` tries them all.
  bool respect_backoff = false;
  // After a connection error (collector unreachable even after immediate
  // retries), mark the rest failed without trying each: they would fail too.
  bool stop_when_unreachable = true;
  // Addresses scrubbed (reports/format/address_scrub.h) from each
  // measurement before it is sent: the volunteer's public address as the
  // collector sees it now, which a run that could not learn it did not
  // scrub. The spooled copy is not changed.
  std::vector<std::string> scrub_addresses;
};

struct EntryResult {
  std::string id;  // spool id
  std::string test_name;
  std::string outcome;  // "uploaded", "failed", "skipped"
  std::string measurement_uid;
  std::string failure;   // OONI failure string
  std::string error;     // detail
  int attempts = 0;      // failed attempts so far, including this one
  std::int64_t next_attempt = 0;
};

struct UploadSummary {
  std::string error;  // the spool itself could not be read
  int uploaded = 0, failed = 0, skipped = 0;
  std::vector<EntryResult> entries;
};

// When a measurement that failed `attempts` times (>= 1) should be retried.
std::int64_t next_attempt_time(int attempts, std::int64_t now_seconds);

UploadSummary upload_pending(spool::Spool& spool, const ClientOptions& options, const UploadPolicy& policy = {},
                             const std::function<void(const EntryResult&)>& on_entry = nullptr);

}  // namespace vantage::upload
