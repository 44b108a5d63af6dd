// Durable measurement spool. See spool.h.
#include "probe/spool/spool.h"

#include "reports/format/atomic_file.h"
#include "reports/format/utc_time.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <sstream>

namespace vantage::spool {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr const char* kIndex = "index.jsonl";
constexpr const char* kMeasurements = "measurements";

std::string errno_text() { return std::strerror(errno); }

// Ids name files: only these characters, so an id can never be a path.
bool valid_id(const std::string& id) {
  if (id.empty() || id.size() > 64) return false;
  return std::all_of(id.begin(), id.end(), [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '-'; });
}

std::string new_id() {
  static std::atomic<unsigned> seq{0};
  const std::string stamp = format::utc_time(std::chrono::system_clock::now(), "%Y%m%dT%H%M%SZ");
  std::random_device rd;
  char tail[48];
  std::snprintf(tail, sizeof tail, "-%06u-%08x", seq.fetch_add(1) % 1000000, rd());
  return std::string(stamp) + tail;
}

}  // namespace

const char* state_name(State state) {
  switch (state) {
    case State::pending: return "pending";
    case State::uploaded: return "uploaded";
    case State::failed: return "failed";
  }
  return "pending";
}

std::string spool_dir_for(const std::string& results_dir) { return results_dir + "/spool"; }

std::string write_file_atomically(const std::string& path, const std::string& data) {
  return format::write_file_atomically(path, data, 0600);  // measurements are private
}

std::optional<Spool> Spool::open(const std::string& dir, std::string& error) {
  std::error_code ec;
  fs::create_directories(fs::path(dir) / kMeasurements, ec);
  if (ec) {
    error = "cannot create spool directory " + dir + ": " + ec.message();
    return std::nullopt;
  }
  if (::access((dir + "/" + kMeasurements).c_str(), R_OK | W_OK | X_OK) != 0) {
    error = "cannot use spool directory " + dir + ": " + errno_text();
    return std::nullopt;
  }
  return Spool(dir);
}

std::string Spool::measurement_path(const std::string& id) const {
  return dir_ + "/" + kMeasurements + "/" + id + ".json";
}

std::string Spool::add(const json& measurement, std::string& id) {
  id = new_id();
  const std::string text = measurement.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
  if (auto err = write_file_atomically(measurement_path(id), text); !err.empty()) return err;
  // The file alone already means "pending"; the index line only dates it.
  return append_index({{"id", id}, {"state", "pending"}});
}

std::string Spool::append_index(const json& event) {
  json line = event;
  line["ts"] = static_cast<std::int64_t>(std::time(nullptr));
  const std::string path = dir_ + "/" + kIndex;
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0) return "cannot open " + path + ": " + errno_text();
  // flock: `vantage run` and `vantage upload` may append at the same time.
  while (::flock(fd, LOCK_EX) != 0 && errno == EINTR) {
  }
  std::string data = line.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
  // A kill -9 mid-append may have left a line without its newline: start a
  // fresh line so this event is not glued to the torn one.
  off_t size = ::lseek(fd, 0, SEEK_END);
  if (size > 0) {
    char last = '\n';
    if (::pread(fd, &last, 1, size - 1) == 1 && last != '\n') data.insert(data.begin(), '\n');
  }
  std::string err;
  if (!format::write_all(fd, data)) err = "cannot append to " + path + ": " + errno_text();
  else if (::fdatasync(fd) != 0) err = "cannot flush " + path + ": " + errno_text();
  ::flock(fd, LOCK_UN);
  ::close(fd);
  return err;
}

namespace {

// One index line, type-checked: nullopt (and `why`) when it is not the shape
// append_index writes. A line written by a future version, edited by hand or
// corrupted must not take every later `vantage upload` down with it.
struct IndexLine {
  std::string id, state, uid, error;
  std::int64_t next_attempt = 0;
};

std::optional<IndexLine> parse_index_line(const std::string& text, std::string& why) {
  auto line = json::parse(text, nullptr, false);
  if (line.is_discarded()) {
    why = "not JSON";
    return std::nullopt;
  }
  if (!line.is_object()) {
    why = "not a JSON object";
    return std::nullopt;
  }
  IndexLine out;
  auto text_field = [&](const char* key, std::string& into, bool required) {
    auto it = line.find(key);
    if (it == line.end()) return !required;
    if (!it->is_string()) return false;
    into = it->get<std::string>();
    return true;
  };
  if (!text_field("id", out.id, true) || !valid_id(out.id)) {
    why = "\"id\" is not a spool id";
    return std::nullopt;
  }
  if (!text_field("state", out.state, true) ||
      (out.state != "pending" && out.state != "uploaded" && out.state != "failed")) {
    why = "\"state\" is not pending, uploaded or failed";
    return std::nullopt;
  }
  if (!text_field("uid", out.uid, false) || !text_field("error", out.error, false)) {
    why = "\"uid\" or \"error\" is not a string";
    return std::nullopt;
  }
  if (auto it = line.find("next_attempt"); it != line.end()) {
    if (!it->is_number_integer()) {
      why = "\"next_attempt\" is not an integer";
      return std::nullopt;
    }
    out.next_attempt = it->get<std::int64_t>();
  }
  return out;
}

}  // namespace

std::vector<Entry> Spool::list(std::string& error, std::vector<std::string>* skipped) const {
  std::map<std::string, Entry> entries;
  std::error_code ec;
  for (const auto& f : fs::directory_iterator(dir_ + "/" + kMeasurements, ec)) {
    const auto name = f.path().filename().string();
    if (name.empty() || name[0] == '.' || f.path().extension() != ".json") continue;  // temp files
    Entry e;
    e.id = f.path().stem().string();
    e.path = f.path().string();
    entries.emplace(e.id, std::move(e));
  }
  if (ec) {
    error = "cannot read " + dir_ + "/" + kMeasurements + ": " + ec.message();
    return {};
  }
  std::ifstream in(dir_ + "/" + kIndex);
  std::string text;
  std::size_t number = 0;
  bool pending_torn = false;  // a bad line is only "torn" if it is the last one
  std::string torn_why;
  while (std::getline(in, text)) {
    ++number;
    if (pending_torn && skipped)
      skipped->push_back(dir_ + "/" + kIndex + " line " + std::to_string(number - 1) + ": " + torn_why + "; skipped");
    pending_torn = false;
    if (text.empty()) continue;
    std::string why;
    auto line = parse_index_line(text, why);
    if (!line) {
      pending_torn = true;  // reported unless it turns out to be the torn last line
      torn_why = why;
      continue;
    }
    auto it = entries.find(line->id);
    if (it == entries.end()) continue;
    Entry& e = it->second;
    // Once acknowledged, an entry stays uploaded: a late failure event (two
    // uploaders racing) must not make it pending again.
    if (e.state == State::uploaded) continue;
    if (line->state == "uploaded") {
      e.state = State::uploaded;
      e.measurement_uid = line->uid;
      e.error.clear();
    } else if (line->state == "failed") {
      e.state = State::failed;
      e.error = line->error;
      e.attempts += 1;
      e.next_attempt = line->next_attempt;
    }
  }
  std::vector<Entry> out;
  out.reserve(entries.size());
  for (auto& [id, e] : entries) out.push_back(std::move(e));
  return out;
}

std::vector<Entry> Spool::pending(std::string& error) const {
  auto all = list(error);
  std::erase_if(all, [](const Entry& e) { return e.state == State::uploaded; });
  return all;
}

std::optional<json> Spool::load(const std::string& id, std::string& error) const {
  if (!valid_id(id)) {
    error = "not a spool id: \"" + id + "\"";
    return std::nullopt;
  }
  std::ifstream in(measurement_path(id));
  if (!in) {
    error = "cannot read " + measurement_path(id);
    return std::nullopt;
  }
  std::stringstream ss;
  ss << in.rdbuf();
  auto m = json::parse(ss.str(), nullptr, false);
  if (!m.is_object()) {
    error = measurement_path(id) + " is not a JSON object";
    return std::nullopt;
  }
  return m;
}

std::string Spool::mark_uploaded(const std::string& id, const std::string& measurement_uid) {
  if (!valid_id(id)) return "not a spool id: \"" + id + "\"";
  return append_index({{"id", id}, {"state", "uploaded"}, {"uid", measurement_uid}});
}

std::string Spool::mark_failed(const std::string& id, const std::string& error, std::int64_t next_attempt) {
  if (!valid_id(id)) return "not a spool id: \"" + id + "\"";
  return append_index({{"id", id}, {"state", "failed"}, {"error", error}, {"next_attempt", next_attempt}});
}

}  // namespace vantage::spool
