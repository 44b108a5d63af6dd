// The probe's durable spool: every measurement is written here, atomically,
// before anything tries to upload it, and stays here until a collector has
// acknowledged it (and after: uploaded entries are kept as the local record).
//
// Layout under the spool directory (normally <results dir>/spool):
//   measurements/<id>.json   one measurement each, written to a temp file,
//                            fsynced, renamed, and the directory fsynced
//   index.jsonl              append-only log of state changes, one JSON
//                            object per line: {"id","state":"pending"|
//                            "uploaded"|"failed", "uid", "error", "attempts",
//                            "next_attempt", "ts"}; each line is written with
//                            one write() under flock and fsynced.
// A measurement file without index lines is pending, so a crash between the
// rename and the index append loses nothing; a torn last index line (kill -9
// mid-append) is ignored, and the change it recorded is simply redone; a
// line of the wrong shape is skipped and reported, never fatal. Files are
// created mode 0600.
//
// Must never: delete or rewrite a measurement file; throw across its API
// (errors are returned as strings); talk to the network.
#pragma once

#include <chrono>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace vantage::spool {

enum class State { pending, uploaded, failed };
const char* state_name(State state);

struct Entry {
  std::string id;               // "<UTC %Y%m%dT%H%M%SZ>-<seq>-<hex>", sorts by time
  std::string path;             // the measurement file
  State state = State::pending;
  std::string measurement_uid;  // given by the collector (uploaded)
  std::string error;            // last failure (failed)
  int attempts = 0;             // failed upload attempts so far
  // Earliest time (seconds since the epoch) an automatic upload should try
  // again; 0 = now. Manual `vantage upload` may ignore it.
  std::int64_t next_attempt = 0;
};

class Spool {
 public:
  // Opens (creating if needed) the spool at `dir`. Returns nullopt and sets
  // `error` when the directory cannot be created or read.
  static std::optional<Spool> open(const std::string& dir, std::string& error);

  const std::string& dir() const { return dir_; }

  // Stores `measurement` durably; returns "" and sets `id`, or an error.
  std::string add(const nlohmann::json& measurement, std::string& id);

  // Every entry, oldest first, with its latest state. Index lines of the
  // wrong shape (bad JSON, a field of the wrong type, an unknown state) are
  // skipped, and each is described in `skipped` when given; a torn last line
  // (kill -9 mid-append) is skipped silently.
  std::vector<Entry> list(std::string& error, std::vector<std::string>* skipped = nullptr) const;
  // Entries not yet acknowledged (pending and failed), oldest first.
  std::vector<Entry> pending(std::string& error) const;

  // Reads one stored measurement back.
  std::optional<nlohmann::json> load(const std::string& id, std::string& error) const;

  // Records the collector's acknowledgement.
  std::string mark_uploaded(const std::string& id, const std::string& measurement_uid);
  // Records a failed attempt; increments the attempt count and sets the next
  // automatic attempt to `next_attempt` (seconds since the epoch, 0 = now).
  std::string mark_failed(const std::string& id, const std::string& error, std::int64_t next_attempt = 0);

 private:
  explicit Spool(std::string dir) : dir_(std::move(dir)) {}
  std::string append_index(const nlohmann::json& line);
  std::string measurement_path(const std::string& id) const;

  std::string dir_;
};

// <results_dir>/spool
std::string spool_dir_for(const std::string& results_dir);

// Writes `data` to `path` atomically: temp file in the same directory,
// fsync, rename, fsync of the directory. Returns "" or an error naming the path.
std::string write_file_atomically(const std::string& path, const std::string& data);

}  // namespace vantage::spool
