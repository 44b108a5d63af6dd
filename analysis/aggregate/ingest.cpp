// Streaming ingest of measurements. See ingest.h for the contract.
#include "analysis/aggregate/ingest.h"

#include <simdjson.h>
#include <sqlite3.h>
#include <zlib.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <functional>
#include <thread>
#include <utility>

#include "analysis/aggregate/clickhouse_source.h"

namespace vantage::analysis {

using nlohmann::json;
namespace od = simdjson::ondemand;

namespace {

constexpr std::size_t kPadding = simdjson::SIMDJSON_PADDING;

// A stable id for a measurement without one: 64 bits of a word-at-a-time
// multiply-xorshift hash of its text (fast: it may run on every line).
std::string hash_id(std::string_view text) {
  std::uint64_t h = 0x9E3779B97F4A7C15ull ^ text.size();
  std::size_t i = 0;
  for (; i + 8 <= text.size(); i += 8) {
    std::uint64_t w;
    std::memcpy(&w, text.data() + i, 8);
    h = (h ^ w) * 0xFF51AFD7ED558CCDull;
    h ^= h >> 32;
  }
  for (; i < text.size(); ++i) h = (h ^ static_cast<unsigned char>(text[i])) * 0x100000001B3ull;
  h ^= h >> 29;
  h *= 0xC4CEB9FE1A85EC53ull;
  h ^= h >> 32;
  char buf[24];
  std::snprintf(buf, sizeof buf, "h%016llx", static_cast<unsigned long long>(h));
  return buf;
}

std::string_view get_sv(od::value v) {
  std::string_view s;
  if (v.get_string().get(s)) return {};
  return s;
}

// Views into the parser's buffers: valid until its next document.
void read_strings(od::value v, std::vector<std::string_view>& out) {
  od::array a;
  if (v.get_array().get(a)) return;
  for (auto e : a) {
    std::string_view s;
    if (!e.get_string().get(s)) out.push_back(s);
  }
}

// test_keys.x_verdict -> the recorded score (only what aggregation needs),
// as views. A feature without a status is left out; a repeated feature
// name counts once (the first), as a JSON object read into a map would.
void read_verdict(od::object v, ScoreView& s) {
  for (auto f : v) {
    std::string_view key = f.unescaped_key();
    if (key == "status") s.verdict = get_sv(f.value());
    else if (key == "methods") read_strings(f.value(), s.methods);
    else if (key == "features") {
      od::object features;
      if (f.value().get_object().get(features)) continue;
      for (auto feature : features) {
        std::string_view name = feature.unescaped_key();
        od::object fo;
        if (feature.value().get_object().get(fo)) continue;
        bool seen = false;
        for (std::size_t i = 0; i < s.feature_count && !seen; ++i) seen = s.features[i].name == name;
        if (seen) continue;
        ScoreView::Feature& fs = s.add_feature();
        fs.name = name;
        for (auto g : fo) {
          std::string_view k = g.unescaped_key();
          if (k == "status") fs.status = get_sv(g.value());
          else if (k == "methods") read_strings(g.value(), fs.methods);
        }
        if (fs.status.empty()) --s.feature_count;
      }
    }
  }
}

// The Score a recorded verdict's views stand for (only for the index).
Score score_of(const ScoreView& v) {
  Score s;
  s.verdict = v.verdict;
  s.methods.assign(v.methods.begin(), v.methods.end());
  for (std::size_t i = 0; i < v.feature_count; ++i) {
    FeatureScore f;
    f.status = v.features[i].status;
    f.methods.assign(v.features[i].methods.begin(), v.features[i].methods.end());
    s.features.emplace(std::string(v.features[i].name), std::move(f));
  }
  s.scoring_rule = "vantage-verdict-recorded";
  return s;
}

bool has_suffix(const std::string& s, const char* suffix) {
  const std::size_t n = std::strlen(suffix);
  return s.size() >= n && s.compare(s.size() - n, n, suffix) == 0;
}

using LineFn = std::function<void(std::string_view line, std::size_t readable)>;

// Reads `read` to the end, calling `line` for each non-empty line; the
// buffer keeps simdjson's padding readable after every line.
std::string for_each_line(const std::function<long(char*, std::size_t)>& read, const LineFn& line,
                          const std::string& what) {
  std::vector<char> buf(std::size_t(4) << 20);
  std::size_t have = 0;
  for (;;) {
    if (buf.size() - have < kPadding + (std::size_t(1) << 16)) buf.resize(buf.size() * 2);
    const long n = read(buf.data() + have, buf.size() - have - kPadding);
    if (n < 0) return what + ": read error";
    const bool eof = n == 0;
    have += static_cast<std::size_t>(n);
    std::size_t start = 0;
    for (;;) {
      const char* nl = static_cast<const char*>(std::memchr(buf.data() + start, '\n', have - start));
      if (!nl && !(eof && start < have)) break;
      const std::size_t end = nl ? static_cast<std::size_t>(nl - buf.data()) : have;
      std::size_t len = end - start;
      while (len > 0 && (buf[start + len - 1] == '\r' || buf[start + len - 1] == ' ')) --len;
      if (len > 0) line(std::string_view(buf.data() + start, len), buf.size() - start);
      start = nl ? end + 1 : have;
    }
    std::memmove(buf.data(), buf.data() + start, have - start);
    have -= start;
    if (eof) return "";
  }
}

}  // namespace

bool is_valid_measurement_id(std::string_view id) {
  if (id.empty() || id.size() > 128) return false;
  for (char c : id)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '.' && c != '-') return false;
  return true;
}

// ---- MeasurementIndex ---------------------------------------------------

namespace {
bool item_greater(const MeasurementIndex::Item& a, const MeasurementIndex::Item& b) {
  return std::tie(a.start_time, a.id) > std::tie(b.start_time, b.id);
}
}  // namespace

bool MeasurementIndex::wants(const std::string& start_time, const std::string& id) const {
  if (limit_ == 0) return false;
  if (heap_.size() < limit_) return true;
  const Item& min = heap_.front();
  return std::tie(start_time, id) > std::tie(min.start_time, min.id);
}

void MeasurementIndex::offer(json entry, std::string body, json x_analysis) {
  Item item{entry.value("measurement_start_time", ""), entry.value("id", ""), std::move(entry), std::move(body),
            std::move(x_analysis)};
  if (!wants(item.start_time, item.id)) return;
  if (heap_.size() >= limit_) {
    std::pop_heap(heap_.begin(), heap_.end(), item_greater);
    heap_.pop_back();
  }
  heap_.push_back(std::move(item));
  std::push_heap(heap_.begin(), heap_.end(), item_greater);
}

void MeasurementIndex::merge(MeasurementIndex&& other) {
  for (Item& i : other.heap_) offer(std::move(i.entry), std::move(i.body), std::move(i.x_analysis));
  other.heap_.clear();
}

std::vector<const MeasurementIndex::Item*> MeasurementIndex::newest_first() const {
  std::vector<const Item*> out;
  for (const auto& i : heap_) out.push_back(&i);
  std::sort(out.begin(), out.end(), [](const Item* a, const Item* b) { return item_greater(*a, *b); });
  return out;
}

json MeasurementIndex::to_json() const {
  json out = json::array();
  for (const Item* i : newest_first()) out.push_back(i->entry);
  return out;
}

// ---- Ingest -------------------------------------------------------------

IngestStats& IngestStats::operator+=(const IngestStats& o) {
  bytes += o.bytes, lines += o.lines, measurements += o.measurements, malformed += o.malformed;
  filtered_out += o.filtered_out, rows_aggregated_in_store += o.rows_aggregated_in_store;
  return *this;
}

struct Ingest::Parser {
  od::parser parser;
  std::vector<char> scratch;  // padded copies of store rows
  ScoreView recorded;         // the current line's recorded verdict (views into `parser`)
  std::vector<std::string_view> statuses;
  std::string combined;       // its service verdict, when it recorded none
};

Ingest::Ingest(IngestOptions options)
    : options_(std::move(options)), index_(options_.index_limit), parser_(std::make_unique<Parser>()) {}
Ingest::~Ingest() = default;

void Ingest::report_progress() {
  if (options_.progress) options_.progress(stats_);
}

void Ingest::add_text(std::string_view text, std::size_t readable, std::string_view store_uid) {
  ++stats_.lines;
  stats_.bytes += text.size() + 1;
  if (options_.progress && stats_.lines % 4096 == 0) options_.progress(stats_);

  MeasurementKeys k;
  std::string start, test_name, uid;
  ScoreView& view = parser_->recorded;
  view.clear();
  bool recorded = false;
  try {
    auto doc = parser_->parser.iterate(text.data(), text.size(), std::max(readable, text.size() + kPadding));
    od::object obj = doc.get_object();
    for (auto field : obj) {
      std::string_view key = field.unescaped_key();
      switch (key.empty() ? 0 : key[0]) {
        case 'm':
          if (key == "measurement_start_time") start = get_sv(field.value());
          else if (key == "measurement_uid") uid = get_sv(field.value());
          break;
        case 'p':
          if (key == "probe_cc") k.probe_cc = get_sv(field.value());
          else if (key == "probe_asn") k.probe_asn = get_sv(field.value());
          else if (key == "probe_network_name") k.probe_network_name = get_sv(field.value());
          break;
        case 's':
          if (key == "software_name") k.software_name = get_sv(field.value());
          else if (key == "software_version") k.software_version = get_sv(field.value());
          break;
        case 't':
          if (key == "test_name") test_name = get_sv(field.value());
          else if (key == "test_keys" && !options_.rescore) {
            od::object tk;
            if (field.value().get_object().get(tk)) break;
            for (auto t : tk) {
              std::string_view tkey = t.unescaped_key();
              if (tkey != "x_verdict") continue;
              od::object v;
              if (t.value().get_object().get(v)) continue;
              read_verdict(v, view);
              recorded = true;
            }
          }
          break;
        default:
          break;
      }
    }
  } catch (const simdjson::simdjson_error&) {
    ++stats_.malformed;
    return;
  }
  k.day = start.size() >= 10 ? start.substr(0, 10) : "";
  k.service = test_name;
  if (!options_.filters.matches(k.day, k.probe_cc, k.probe_asn, k.service)) {
    ++stats_.filtered_out;
    return;
  }
  Score score;  // only made for a measurement without a recorded verdict, or for the index
  if (recorded) {
    std::sort(view.methods.begin(), view.methods.end());
    for (std::size_t i = 0; i < view.feature_count; ++i)
      std::sort(view.features[i].methods.begin(), view.features[i].methods.end());
    if (view.feature_count == 0) {
      view.verdict = "unscorable";
    } else if (view.verdict.empty()) {
      parser_->statuses.clear();
      for (std::size_t i = 0; i < view.feature_count; ++i) parser_->statuses.push_back(view.features[i].status);
      parser_->combined = combine_statuses(parser_->statuses);
      view.verdict = parser_->combined;
    }
  } else {
    json m = json::parse(text.begin(), text.end(), nullptr, false);
    if (!m.is_object()) {
      ++stats_.malformed;
      return;
    }
    score = score_measurement(m);
    view.assign(score);
  }
  ++stats_.measurements;
  aggregator_.add(k, view);

  if (!index_.wants(start, "\x7f")) return;  // not among the newest, whatever its id
  std::string id = is_valid_measurement_id(uid) ? uid : std::string(store_uid);
  if (!is_valid_measurement_id(id)) id = hash_id(text);
  if (!index_.wants(start, id)) return;
  if (recorded) score = score_of(view);
  score.service = k.service;
  json entry = {{"id", id}, {"measurement_start_time", start}, {"day", k.day}, {"probe_cc", k.probe_cc},
                {"probe_asn", k.probe_asn}, {"service", k.service}, {"test_name", test_name},
                {"software_name", k.software_name}, {"verdict", score.verdict}, {"methods", score.methods},
                {"scoring_rule", score.scoring_rule}};
  index_.offer(std::move(entry), options_.keep_bodies ? std::string(text) : std::string(), to_x_analysis(score));
}

void Ingest::add_index_entry(json entry, std::string body, json x_analysis) {
  index_.offer(std::move(entry), options_.keep_bodies ? std::move(body) : std::string(), std::move(x_analysis));
}

std::string Ingest::add_jsonl_file(const std::string& path) {
  unsigned char magic[2] = {0, 0};
  if (FILE* f = std::fopen(path.c_str(), "rb")) {
    std::size_t got = std::fread(magic, 1, 2, f);
    std::fclose(f);
    if (got < 2) magic[0] = magic[1] = 0;
  } else {
    return path + ": cannot open: " + std::strerror(errno);
  }
  if (magic[0] == 0x1f && magic[1] == 0x8b) {
    gzFile gz = gzopen(path.c_str(), "rb");
    if (!gz) return path + ": cannot open";
    gzbuffer(gz, 1 << 20);
    std::string err = for_each_line(
        [&](char* p, std::size_t n) -> long {
          int got = gzread(gz, p, static_cast<unsigned>(std::min<std::size_t>(n, 1u << 30)));
          return got;
        },
        [this](std::string_view text, std::size_t readable) { add_text(text, readable); }, path);
    int errnum = 0;
    const char* msg = gzerror(gz, &errnum);
    if (err.empty() && errnum != Z_OK && errnum != Z_BUF_ERROR) err = path + ": gzip: " + msg;
    gzclose(gz);
    return err;
  }
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return path + ": cannot open: " + std::strerror(errno);
  struct stat st {};
  const std::uint64_t size = ::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) ? static_cast<std::uint64_t>(st.st_size) : 0;
  std::string err = add_jsonl_ranges(fd, size, path);
  ::close(fd);
  return err;
}

namespace {

// Reads [begin, end) of `fd` with pread (end = UINT64_MAX: to EOF).
std::function<long(char*, std::size_t)> range_reader(int fd, std::uint64_t begin, std::uint64_t end) {
  return [fd, at = begin, end](char* p, std::size_t n) mutable -> long {
    if (at >= end) return 0;
    n = static_cast<std::size_t>(std::min<std::uint64_t>(n, end - at));
    for (;;) {
      const ssize_t got = ::pread(fd, p, n, static_cast<off_t>(at));
      if (got < 0 && errno == EINTR) continue;
      if (got > 0) at += static_cast<std::uint64_t>(got);
      return got;
    }
  };
}

// The first offset after `from` that starts a line (just past a '\n'), or `size`.
std::uint64_t next_line_start(int fd, std::uint64_t from, std::uint64_t size) {
  char buf[4096];
  while (from < size) {
    const ssize_t got = ::pread(fd, buf, sizeof buf, static_cast<off_t>(from));
    if (got <= 0) return size;
    if (const void* nl = std::memchr(buf, '\n', static_cast<std::size_t>(got)))
      return from + static_cast<std::uint64_t>(static_cast<const char*>(nl) - buf) + 1;
    from += static_cast<std::uint64_t>(got);
  }
  return size;
}

}  // namespace

std::string Ingest::add_jsonl_ranges(int fd, std::uint64_t size, const std::string& path) {
  unsigned threads = options_.threads ? options_.threads : std::max(1u, std::thread::hardware_concurrency());
  threads = std::min<unsigned>({threads, 8u, static_cast<unsigned>(size / std::max<std::uint64_t>(options_.min_bytes_per_thread, 1))});
  if (threads <= 1) {
    return for_each_line(range_reader(fd, 0, UINT64_MAX),
                         [this](std::string_view text, std::size_t readable) { add_text(text, readable); }, path);
  }
  // Each thread reads its own range of whole lines into an Ingest of its
  // own; they are merged in file order, so the result is the one reading
  // the file from start to end gives (the figures are sums and unions;
  // the index keeps the newest by a total order).
  std::vector<std::uint64_t> cuts{0};
  for (unsigned i = 1; i < threads; ++i) cuts.push_back(std::max(cuts.back(), next_line_start(fd, size * i / threads, size)));
  cuts.push_back(UINT64_MAX);
  IngestOptions child_options = options_;
  child_options.progress = nullptr;
  std::vector<std::unique_ptr<Ingest>> parts;
  std::vector<std::string> errors(threads);
  std::atomic<std::uint64_t> lines{0}, bytes{0};
  std::atomic<unsigned> running{threads};
  std::vector<std::thread> workers;
  for (unsigned i = 0; i < threads; ++i) parts.push_back(std::make_unique<Ingest>(child_options));
  for (unsigned i = 0; i < threads; ++i) {
    workers.emplace_back([&, i] {
      Ingest& part = *parts[i];
      std::uint64_t n = 0, b = 0;
      errors[i] = for_each_line(range_reader(fd, cuts[i], cuts[i + 1]),
                                [&](std::string_view text, std::size_t readable) {
                                  part.add_text(text, readable);
                                  b += text.size() + 1;
                                  if (++n % 4096 == 0) lines += 4096, bytes += std::exchange(b, 0);
                                },
                                path);
      --running;
    });
  }
  while (running > 0 && options_.progress) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    IngestStats so_far = stats_;
    so_far.lines += lines, so_far.bytes += bytes;
    options_.progress(so_far);
  }
  for (auto& w : workers) w.join();
  for (unsigned i = 0; i < threads; ++i) {
    if (!errors[i].empty()) return errors[i];
    merge(std::move(*parts[i]));
  }
  return "";
}

void Ingest::merge(Ingest&& part) {
  aggregator_.merge(part.aggregator_);
  index_.merge(std::move(part.index_));
  stats_ += part.stats_;
}

std::string Ingest::add_sqlite(const std::string& path) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    std::string err = path + ": " + (db ? sqlite3_errmsg(db) : "cannot open");
    sqlite3_close(db);
    return err;
  }
  const Filters& f = options_.filters;
  std::string sql = "SELECT measurement_uid, body FROM measurements WHERE 1=1";
  std::vector<std::string> params;
  auto add = [&](const char* cond, const std::string& v) {
    if (v.empty()) return;
    sql += cond;
    params.push_back(v);
  };
  add(" AND probe_cc = ?", f.probe_cc), add(" AND probe_asn = ?", f.probe_asn), add(" AND test_name = ?", f.service);
  add(" AND measurement_start_time >= ?", f.since);
  add(" AND measurement_start_time <= ?", f.until.empty() ? "" : f.until + "~");
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK) {
    std::string err = path + ": not a collector store: " + sqlite3_errmsg(db);
    sqlite3_close(db);
    return err;
  }
  for (std::size_t i = 0; i < params.size(); ++i)
    sqlite3_bind_text(stmt, static_cast<int>(i + 1), params[i].data(), static_cast<int>(params[i].size()), SQLITE_TRANSIENT);
  std::string err;
  int rc;
  while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    const char* uid = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
    const char* body = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 1));
    const std::size_t len = static_cast<std::size_t>(sqlite3_column_bytes(stmt, 1));
    auto& buf = parser_->scratch;
    if (buf.size() < len + kPadding) buf.resize(len + kPadding);
    if (body) std::memcpy(buf.data(), body, len);
    add_text(std::string_view(buf.data(), len), buf.size(), uid ? std::string_view(uid) : std::string_view());
  }
  if (rc != SQLITE_DONE) err = path + ": " + sqlite3_errmsg(db);
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return err;
}

std::string Ingest::add_clickhouse(const std::string& url) { return aggregate_in_clickhouse(url, *this); }

std::string Ingest::add_input(const std::string& spec) {
  if (spec.rfind("clickhouse://", 0) == 0) return add_clickhouse(spec);
  if (spec.rfind("sqlite://", 0) == 0) return add_sqlite(spec.substr(9));
  if (spec.rfind("sqlite:", 0) == 0) return add_sqlite(spec.substr(7));
  namespace fs = std::filesystem;
  std::error_code ec;
  if (fs::is_directory(spec, ec)) {
    std::vector<std::string> files;
    // Not recursive: the probe's results directory keeps a spool/ copy of
    // every measurement, which would count each twice.
    for (auto it = fs::directory_iterator(spec, ec); !ec && it != fs::directory_iterator(); it.increment(ec)) {
      const std::string p = it->path().string();
      if (it->is_regular_file() && (has_suffix(p, ".jsonl") || has_suffix(p, ".json") || has_suffix(p, ".jsonl.gz") ||
                                    has_suffix(p, ".json.gz")))
        files.push_back(p);
    }
    if (ec) return spec + ": " + ec.message();
    std::sort(files.begin(), files.end());
    for (const auto& f : files)
      if (auto err = add_input(f); !err.empty()) return err;
    return "";
  }
  if (!fs::exists(spec, ec)) return spec + ": no such file or directory";
  char head[16] = {};
  if (FILE* f = std::fopen(spec.c_str(), "rb")) {
    std::size_t got = std::fread(head, 1, sizeof head, f);
    std::fclose(f);
    if (got == sizeof head && std::memcmp(head, "SQLite format 3", 16) == 0) return add_sqlite(spec);
  }
  return add_jsonl_file(spec);
}

}  // namespace vantage::analysis
