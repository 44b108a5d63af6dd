// dashboard_write_site ASSETS_DIR OUT_DIR: write_dashboard_site() as a
// program, so the browser test loads pages written by the same function
// `vantage-analyze dashboard` calls.
#include <iostream>

#include "analysis/dashboard/site.h"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: dashboard_write_site ASSETS_DIR OUT_DIR\n";
    return 2;
  }
  std::string error;
  if (!vantage::dashboard::write_dashboard_site(argv[1], argv[2], error)) {
    std::cerr << "dashboard_write_site: " << error << "\n";
    return 1;
  }
  return 0;
}
