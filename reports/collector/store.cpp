// Store URL parsing. See store.h.
#include "reports/collector/store.h"

namespace vantage::collector {

std::unique_ptr<Store> open_store(const std::string& url, std::string& error) {
  const std::string ch = "clickhouse://";
  if (url.rfind(ch, 0) == 0) {
    std::string rest = url.substr(ch.size());
    bool unsynced = false;
    if (auto q = rest.find('?'); q != std::string::npos) {
      if (rest.substr(q + 1) != "unsynced=1") {
        error = "store URL " + url + ": the only option is ?unsynced=1";
        return nullptr;
      }
      unsynced = true;
      rest.resize(q);
    }
    std::string database = "vantage";
    if (auto slash = rest.find('/'); slash != std::string::npos) {
      if (slash + 1 < rest.size()) database = rest.substr(slash + 1);
      rest.resize(slash);
    }
    std::string host = rest, port_text;
    if (!rest.empty() && rest.front() == '[') {  // [v6]:port
      const auto close = rest.find(']');
      host = close == std::string::npos ? "" : rest.substr(1, close - 1);
      if (close != std::string::npos && close + 1 < rest.size()) {
        if (rest[close + 1] != ':') host.clear();
        port_text = rest.substr(close + 2);
      }
    } else if (const auto colon = rest.rfind(':'); colon != std::string::npos) {
      host = rest.substr(0, colon);
      port_text = rest.substr(colon + 1);
    }
    int port = 8123;
    if (!port_text.empty()) {
      if (port_text.size() > 5 || port_text.find_first_not_of("0123456789") != std::string::npos) port = -1;
      else port = std::stoi(port_text);
    }
    for (char c : database) {
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') {
        error = "store URL " + url + ": the database name may only have letters, digits and _";
        return nullptr;
      }
    }
    if (host.empty() || port <= 0 || port > 65535) {
      error = "store URL " + url + ": expected clickhouse://HOST:PORT[/DATABASE]";
      return nullptr;
    }
    return open_clickhouse_store(host, port, database, error, unsynced);
  }
  std::string path = url;
  if (path.rfind("sqlite://", 0) == 0) path = path.substr(9);
  else if (path.rfind("sqlite:", 0) == 0) path = path.substr(7);
  if (path.empty()) {
    error = "store URL " + url + ": expected sqlite:PATH or clickhouse://HOST:PORT[/DATABASE]";
    return nullptr;
  }
  if (path.find("://") != std::string::npos) {
    error = "store URL " + url + ": unknown scheme (sqlite:PATH or clickhouse://HOST:PORT[/DATABASE])";
    return nullptr;
  }
  return open_sqlite_store(path, error);
}

}  // namespace vantage::collector
