#include "analysis/dashboard/site.h"

#include <nlohmann/json.hpp>

#include <fstream>
#include <sstream>
#include <system_error>

#include "reports/format/read_file.h"

namespace vantage::dashboard {

namespace fs = std::filesystem;

namespace {

constexpr std::size_t kMaxAssets = 64;
constexpr std::uintmax_t kMaxAssetBytes = 32u << 20;
constexpr std::uintmax_t kMaxDataFileBytes = 256u << 20;
constexpr std::size_t kMaxPath = 512;

Response error_response(int status, const std::string& message) {
  Response r;
  r.status = status;
  r.content_type = "application/json";
  r.body = nlohmann::json{{"error", message}}.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return r;
}

bool read_file(const fs::path& path, std::uintmax_t limit, std::string& out, std::string& error) {
  const std::string why = format::read_file(path.string(), out, limit);
  if (!why.empty()) error = path.string() + ": " + why;
  return why.empty();
}

bool name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.';
}

// A relative name of plain segments: no empty, "." or ".." segment, only
// name characters and '/'. Percent signs are refused too: the path is
// already decoded, so one left over means double encoding.
bool plain_relative_path(const std::string& path) {
  if (path.empty() || path.size() > kMaxPath) return false;
  std::size_t start = 0;
  while (start <= path.size()) {
    const std::size_t slash = path.find('/', start);
    const std::string segment = path.substr(start, slash == std::string::npos ? std::string::npos : slash - start);
    if (segment.empty() || segment == "." || segment == "..") return false;
    for (char c : segment)
      if (!name_char(c)) return false;
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
  return true;
}

bool valid_measurement_id(const std::string& id) {
  if (id.empty() || id.size() > 128) return false;
  for (char c : id)
    if (!name_char(c)) return false;
  return true;
}

const char* const kPageFiles[] = {"index.html", "app.js", "style.css", "THIRD-PARTY-LICENSES.txt"};

}  // namespace

std::string content_type_for(const std::string& name) {
  auto ends = [&name](const std::string& suffix) {
    return name.size() >= suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
  };
  if (ends(".html")) return "text/html; charset=utf-8";
  if (ends(".js")) return "text/javascript; charset=utf-8";
  if (ends(".css")) return "text/css; charset=utf-8";
  if (ends(".json")) return "application/json";
  if (ends(".svg")) return "image/svg+xml";
  if (ends(".png")) return "image/png";
  if (ends(".txt")) return "text/plain; charset=utf-8";
  return "application/octet-stream";
}

std::string default_assets_dir() {
  std::vector<std::string> candidates;
#ifdef VANTAGE_DASHBOARD_BUILD_DIR
  candidates.push_back(VANTAGE_DASHBOARD_BUILD_DIR);
#endif
#ifdef VANTAGE_DASHBOARD_INSTALL_DIR
  candidates.push_back(VANTAGE_DASHBOARD_INSTALL_DIR);
#endif
  for (const auto& dir : candidates) {
    std::error_code ec;
    if (fs::is_regular_file(fs::path(dir) / "index.html", ec)) return dir;
  }
  return "";
}

bool write_dashboard_site(const fs::path& assets_dir, const fs::path& out_dir, std::string& error) {
  std::error_code ec;
  if (assets_dir.empty()) {
    error = "this build has no dashboard pages (configure with -DVANTAGE_DASHBOARD=ON, which needs npm)";
    return false;
  }
  if (!fs::is_regular_file(assets_dir / "index.html", ec)) {
    error = "dashboard pages not found: " + (assets_dir / "index.html").string() +
            " is missing (build with -DVANTAGE_DASHBOARD=ON, which needs npm)";
    return false;
  }
  fs::create_directories(out_dir / "data" / "measurements", ec);
  if (ec) {
    error = "cannot create " + (out_dir / "data" / "measurements").string() + ": " + ec.message();
    return false;
  }
  for (const char* name : kPageFiles) {
    const fs::path from = assets_dir / name;
    if (!fs::exists(from, ec)) {
      if (std::string(name) == "THIRD-PARTY-LICENSES.txt") continue;
      error = "dashboard pages incomplete: " + from.string() + " is missing";
      return false;
    }
    fs::copy_file(from, out_dir / name, fs::copy_options::overwrite_existing, ec);
    if (ec) {
      error = "cannot copy " + from.string() + " to " + (out_dir / name).string() + ": " + ec.message();
      return false;
    }
  }
  return true;
}

std::optional<Assets> Assets::load(const fs::path& dir, std::string& error) {
  std::error_code ec;
  if (!fs::is_regular_file(dir / "index.html", ec)) {
    error = "dashboard pages not found: " + (dir / "index.html").string() + " is missing";
    return std::nullopt;
  }
  Assets assets;
  std::uintmax_t total = 0;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (!it->is_regular_file(ec)) continue;  // data/ and the like are not pages
    const std::string name = it->path().filename().string();
    if (!plain_relative_path(name)) continue;
    if (assets.files_.size() >= kMaxAssets) {
      error = dir.string() + ": more than " + std::to_string(kMaxAssets) + " files; is this the dashboard's directory?";
      return std::nullopt;
    }
    std::string body;
    if (!read_file(it->path(), kMaxAssetBytes, body, error)) return std::nullopt;
    total += body.size();
    if (total > kMaxAssetBytes) {
      error = dir.string() + ": more than " + std::to_string(kMaxAssetBytes) + " bytes of pages";
      return std::nullopt;
    }
    assets.files_.emplace(name, std::move(body));
  }
  if (ec) {
    error = dir.string() + ": " + ec.message();
    return std::nullopt;
  }
  return assets;
}

const std::string* Assets::find(const std::string& name) const {
  auto it = files_.find(name);
  return it == files_.end() ? nullptr : &it->second;
}

Response serve(const Request& request, const Assets* assets, const DataSource& data) {
  if (request.method != "GET" && request.method != "HEAD") {
    Response r = error_response(405, "the dashboard answers GET only");
    r.headers.emplace_back("Allow", "GET, HEAD");
    return r;
  }
  static const std::string prefix = "/dashboard/";
  if (request.path == "/dashboard") {
    Response r;
    r.status = 301;
    r.content_type = "text/plain; charset=utf-8";
    r.body = "moved to /dashboard/\n";
    r.headers.emplace_back("Location", prefix);
    return r;
  }
  if (request.path.compare(0, prefix.size(), prefix) != 0) return error_response(404, "not a dashboard path");
  std::string rest = request.path.substr(prefix.size());
  if (rest.empty()) rest = "index.html";
  if (!plain_relative_path(rest)) return error_response(400, "dashboard path refused: only plain names, no '..'");

  Response r;
  if (rest.compare(0, 5, "data/") == 0) {
    if (!data) {
      return error_response(503, "no dashboard data here: start vantage-collector with --dashboard-data DIR "
                                 "(a directory written by vantage-analyze dashboard)");
    }
    r = data(rest, request);
  } else {
    if (!assets) {
      return error_response(503, "this build has no dashboard pages (configure with -DVANTAGE_DASHBOARD=ON, "
                                 "or pass --dashboard-assets DIR)");
    }
    const std::string* body = assets->find(rest);
    if (!body) return error_response(404, "no such dashboard file: " + rest);
    r.content_type = content_type_for(rest);
    r.body = *body;
    // The pages change with the build; a short cache keeps reloads cheap.
    r.headers.emplace_back("Cache-Control", "max-age=300");
  }
  r.headers.emplace_back("X-Content-Type-Options", "nosniff");
  if (request.method == "HEAD") r.body.clear();
  return r;
}

DataSource data_directory_source(fs::path data_dir) {
  return [data_dir = std::move(data_dir)](const std::string& path, const Request&) -> Response {
    // path is "data/..." and already a plain relative name.
    const std::string rest = path.substr(5);
    fs::path file;
    if (rest == "aggregates.json") {
      file = data_dir / "aggregates.json";
    } else if (rest == "measurements/index.json") {
      file = data_dir / "measurements" / "index.json";
    } else if (rest.compare(0, 13, "measurements/") == 0 && rest.size() > 18 &&
               rest.compare(rest.size() - 5, 5, ".json") == 0) {
      const std::string id = rest.substr(13, rest.size() - 18);
      if (!valid_measurement_id(id)) return error_response(400, "measurement id must match [A-Za-z0-9_.-]{1,128}");
      file = data_dir / "measurements" / (id + ".json");
    } else {
      return error_response(404, "no such dashboard data file: " + path);
    }
    std::error_code ec;
    if (!fs::is_regular_file(file, ec)) return error_response(404, "no such dashboard data file: " + path);
    Response r;
    std::string error;
    // The error names the server's own path: log-worthy, not for the client.
    if (!read_file(file, kMaxDataFileBytes, r.body, error)) return error_response(500, "cannot read " + path);
    r.content_type = "application/json";
    r.headers.emplace_back("Cache-Control", "no-cache");
    return r;
  };
}

}  // namespace vantage::dashboard
