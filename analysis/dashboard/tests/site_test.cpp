// Tests for the dashboard's site writer and page server: what is copied,
// what each path answers, and that nothing outside the pages or the data
// files can be reached (dot segments, double encoding, bad ids, methods).
// Uses small stand-in pages, so it runs without the npm build.
#include "analysis/dashboard/site.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

namespace vantage::dashboard {
namespace {

namespace fs = std::filesystem;

void write(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << text;
}

std::string slurp(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string header(const Response& r, const std::string& name) {
  for (const auto& [k, v] : r.headers)
    if (k == name) return v;
  return "";
}

class SiteTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() /
            ("dashboard_site_test_" + std::to_string(::getpid()) + "_" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
    assets_ = root_ / "assets";
    write(assets_ / "index.html", "<!doctype html><title>t</title>");
    write(assets_ / "app.js", "console.log(1)");
    write(assets_ / "style.css", "body{}");
    write(assets_ / "THIRD-PARTY-LICENSES.txt", "MIT");
    data_ = root_ / "site" / "data";
    write(data_ / "aggregates.json", R"({"totals":{}})");
    write(data_ / "measurements" / "index.json", "[]");
    write(data_ / "measurements" / "20261120T1000Z_IR.x-1.json", R"({"id":1})");
    write(root_ / "secret.json", R"({"secret":true})");
  }
  void TearDown() override { fs::remove_all(root_); }

  Response get(const std::string& path, const Assets* assets, const DataSource& data) {
    return serve({"GET", path, {}}, assets, data);
  }

  fs::path root_, assets_, data_;
};

TEST_F(SiteTest, WritesThePagesAndAnEmptyDataDirectory) {
  const fs::path out = root_ / "out";
  std::string error;
  ASSERT_TRUE(write_dashboard_site(assets_, out, error)) << error;
  EXPECT_EQ(slurp(out / "index.html"), "<!doctype html><title>t</title>");
  EXPECT_EQ(slurp(out / "app.js"), "console.log(1)");
  EXPECT_EQ(slurp(out / "style.css"), "body{}");
  EXPECT_TRUE(fs::is_directory(out / "data" / "measurements"));
  // Writing again replaces the pages and keeps the data.
  write(out / "data" / "aggregates.json", "{}");
  write(assets_ / "app.js", "console.log(2)");
  ASSERT_TRUE(write_dashboard_site(assets_, out, error)) << error;
  EXPECT_EQ(slurp(out / "app.js"), "console.log(2)");
  EXPECT_EQ(slurp(out / "data" / "aggregates.json"), "{}");
}

TEST_F(SiteTest, WriteFailsClearlyWithoutThePages) {
  std::string error;
  EXPECT_FALSE(write_dashboard_site(root_ / "nowhere", root_ / "out", error));
  EXPECT_NE(error.find("index.html"), std::string::npos) << error;
  EXPECT_NE(error.find("VANTAGE_DASHBOARD"), std::string::npos) << error;
  EXPECT_FALSE(write_dashboard_site("", root_ / "out", error));
  EXPECT_NE(error.find("no dashboard pages"), std::string::npos) << error;
  fs::remove(assets_ / "app.js");
  error.clear();
  EXPECT_FALSE(write_dashboard_site(assets_, root_ / "out", error));
  EXPECT_NE(error.find("app.js"), std::string::npos) << error;
}

TEST_F(SiteTest, ServesPagesWithTheirTypes) {
  std::string error;
  auto assets = Assets::load(assets_, error);
  ASSERT_TRUE(assets) << error;
  EXPECT_EQ(assets->size(), 4u);
  auto index = get("/dashboard/", &*assets, {});
  EXPECT_EQ(index.status, 200);
  EXPECT_EQ(index.content_type, "text/html; charset=utf-8");
  EXPECT_EQ(index.body, "<!doctype html><title>t</title>");
  EXPECT_EQ(header(index, "X-Content-Type-Options"), "nosniff");
  auto js = get("/dashboard/app.js", &*assets, {});
  EXPECT_EQ(js.status, 200);
  EXPECT_EQ(js.content_type, "text/javascript; charset=utf-8");
  EXPECT_EQ(get("/dashboard/style.css", &*assets, {}).content_type, "text/css; charset=utf-8");
  auto head = serve({"HEAD", "/dashboard/app.js", {}}, &*assets, {});
  EXPECT_EQ(head.status, 200);
  EXPECT_TRUE(head.body.empty());
  auto redirect = get("/dashboard", &*assets, {});
  EXPECT_EQ(redirect.status, 301);
  EXPECT_EQ(header(redirect, "Location"), "/dashboard/");
  EXPECT_EQ(get("/dashboard/nothing.js", &*assets, {}).status, 404);
  auto post = serve({"POST", "/dashboard/", {}}, &*assets, {});
  EXPECT_EQ(post.status, 405);
  EXPECT_EQ(header(post, "Allow"), "GET, HEAD");
}

TEST_F(SiteTest, RefusesPathsThatAreNotPlainNames) {
  std::string error;
  auto assets = Assets::load(assets_, error);
  ASSERT_TRUE(assets) << error;
  const DataSource data = data_directory_source(data_);
  for (const std::string path :
       {"/dashboard/../secret.json", "/dashboard/data/../../secret.json", "/dashboard/./index.html",
        "/dashboard//etc/passwd", "/dashboard/data/measurements/..", "/dashboard/%2e%2e/secret.json",
        "/dashboard/data\\..\\secret.json", "/dashboard/index.html/", "/dashboard/a b", "/dashboard/\x01",
        "/dashboard/data/measurements/../../../secret.json"}) {
    auto r = get(path, &*assets, data);
    EXPECT_EQ(r.status, 400) << path;
    EXPECT_EQ(r.body.find("secret"), std::string::npos) << path;
  }
  EXPECT_EQ(get("/dashboard/" + std::string(600, 'a'), &*assets, data).status, 400);
  EXPECT_EQ(get("/other", &*assets, data).status, 404);
}

TEST_F(SiteTest, ServesOnlyTheDataFilesOfTheContract) {
  const DataSource data = data_directory_source(data_);
  auto aggregates = get("/dashboard/data/aggregates.json", nullptr, data);
  EXPECT_EQ(aggregates.status, 200);
  EXPECT_EQ(aggregates.content_type, "application/json");
  EXPECT_EQ(aggregates.body, R"({"totals":{}})");
  EXPECT_EQ(get("/dashboard/data/measurements/index.json", nullptr, data).body, "[]");
  auto one = get("/dashboard/data/measurements/20261120T1000Z_IR.x-1.json", nullptr, data);
  EXPECT_EQ(one.status, 200);
  EXPECT_EQ(one.body, R"({"id":1})");
  EXPECT_EQ(get("/dashboard/data/measurements/missing.json", nullptr, data).status, 404);
  EXPECT_EQ(get("/dashboard/data/measurements/" + std::string(129, 'a') + ".json", nullptr, data).status, 400);
  EXPECT_EQ(get("/dashboard/data/measurements/a/b.json", nullptr, data).status, 400);
  EXPECT_EQ(get("/dashboard/data/other.json", nullptr, data).status, 404);
  EXPECT_EQ(get("/dashboard/data/measurements/index.txt", nullptr, data).status, 404);
  // Without a data source the answer says how to get one.
  auto none = get("/dashboard/data/aggregates.json", nullptr, {});
  EXPECT_EQ(none.status, 503);
  EXPECT_NE(none.body.find("--dashboard-data"), std::string::npos) << none.body;
  // Without pages, likewise.
  auto no_pages = get("/dashboard/", nullptr, data);
  EXPECT_EQ(no_pages.status, 503);
  EXPECT_NE(no_pages.body.find("VANTAGE_DASHBOARD"), std::string::npos) << no_pages.body;
}

TEST_F(SiteTest, LoadSkipsDirectoriesAndBoundsTheFileCount) {
  write(assets_ / "data" / "aggregates.json", "{}");
  std::string error;
  auto assets = Assets::load(assets_, error);
  ASSERT_TRUE(assets) << error;
  EXPECT_EQ(assets->find("data"), nullptr);
  EXPECT_EQ(assets->size(), 4u);
  for (int i = 0; i < 70; ++i) write(assets_ / ("f" + std::to_string(i) + ".js"), "x");
  EXPECT_FALSE(Assets::load(assets_, error));
  EXPECT_NE(error.find("more than 64 files"), std::string::npos) << error;
  EXPECT_FALSE(Assets::load(root_ / "nowhere", error));
  EXPECT_NE(error.find("index.html"), std::string::npos) << error;
}

}  // namespace
}  // namespace vantage::dashboard
