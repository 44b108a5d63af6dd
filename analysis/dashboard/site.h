// The dashboard's pages outside the browser: writing the static site next to
// a data/ directory (`vantage-analyze dashboard --out DIR`), and serving the
// same pages live under /dashboard/ (the collector). The pages themselves
// are bundled at build time by CMake's `dashboard` target (npm ci + esbuild,
// analysis/dashboard/README.md) into a flat directory: index.html, app.js,
// style.css, THIRD-PARTY-LICENSES.txt.
//
// Serving is a plain function over small request/response structs so it does
// not depend on any HTTP library; the server glues it to its routes. Asset
// paths are looked up in a table loaded at startup, never joined to a
// filesystem path, and anything that is not a plain relative name (empty or
// dot segments, '%', '\\', other characters) is refused with 400.
#pragma once

#include <cstddef>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace vantage::dashboard {

// The bundled pages of this build (when configured with VANTAGE_DASHBOARD),
// else the installed copy (<prefix>/share/vantage/dashboard); "" when
// neither holds an index.html.
std::string default_assets_dir();

// Copies the pages from assets_dir into out_dir (created if missing; page
// files already there are replaced) and creates out_dir/data/measurements,
// where the caller writes the data files. Nothing under data/ is touched.
// False with `error` naming the path when assets_dir has no index.html or a
// copy fails.
bool write_dashboard_site(const std::filesystem::path& assets_dir, const std::filesystem::path& out_dir,
                          std::string& error);

struct Request {
  std::string method;                        // "GET", "HEAD", ...
  std::string path;                          // the URL path, decoded: "/dashboard/app.js"
  std::map<std::string, std::string> query;  // decoded query parameters (data endpoints filter with them)
};

struct Response {
  int status = 200;
  std::string content_type;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // e.g. Location on a redirect
};

// Answers for /dashboard/data/...: `path` is relative to /dashboard/, e.g.
// "data/aggregates.json" (already checked to be a plain relative name).
using DataSource = std::function<Response(const std::string& path, const Request& request)>;

// The pages, held in memory.
class Assets {
 public:
  // Loads the regular files directly in dir (at most 64 files, 32 MB in all).
  static std::optional<Assets> load(const std::filesystem::path& dir, std::string& error);
  const std::string* find(const std::string& name) const;
  std::size_t size() const { return files_.size(); }

 private:
  std::map<std::string, std::string> files_;
};

// GET/HEAD /dashboard -> 301 to /dashboard/; /dashboard/ -> index.html;
// /dashboard/<name> -> the asset; /dashboard/data/... -> `data` (503 when
// empty); 400 for a path that is not a plain relative name, 404 for an
// unknown asset, 405 for other methods. `assets` may be null (built without
// the dashboard): pages answer 503 saying so.
Response serve(const Request& request, const Assets* assets, const DataSource& data);

// A DataSource over a data directory written by `vantage-analyze dashboard`
// (DIR/data): serves exactly aggregates.json, measurements/index.json and
// measurements/<id>.json with <id> matching [A-Za-z0-9_.-]{1,128}; files
// over 256 MB are refused. Query parameters are ignored (the files are
// already computed).
DataSource data_directory_source(std::filesystem::path data_dir);

// "application/json", "text/html; charset=utf-8", ... by file name.
std::string content_type_for(const std::string& name);

}  // namespace vantage::dashboard
