// Measurement engine. See engine.h for the contract.
#include "probe/engine/engine.h"

#include <algorithm>
#include <deque>
#include <exception>
#include <fstream>
#include <memory>
#include <sstream>
#include <thread>
#include <mutex>
#include <set>
#include <tuple>

#include "reports/format/ip_address.h"
#include "probe/engine/control_queue.h"
#include "probe/engine/parallel.h"
#include "probe/net/app_exchange.h"
#include "probe/net/dns_lookup.h"
#include "probe/net/http_request.h"
#include "probe/net/step_clock.h"
#include "probe/net/tcp_connect.h"
#include "probe/net/tls_handshake.h"
#include "reports/format/vocabulary.h"

namespace vantage::engine {
namespace {

using catalog::Chain;
using nlohmann::json;
using std::chrono::milliseconds;

using vocab::kInterrupted;
using vocab::kTimeout;
// What a POST endpoint is sent (the control is sent the same).
constexpr std::size_t kPostBodyBytes = 16;

struct HostLookup {
  std::string name;
  std::vector<format::DnsObservation> attempts;  // the last one counts
  std::vector<format::DnsObservation> udp;       // every response to the UDP query
  std::vector<std::string> ips;                  // usable addresses
  std::string failure;
  long control_id = -1;                          // the control's lookup, when ours failed
  bool literal = false;                          // an address literal: ips = {name}, nothing looked up
  bool aaaa = false;                             // the lookup gave a usable (non-bogon) IPv6 address
};

// One distinct chain to measure, shared by every endpoint that needs it.
struct ChainJob {
  std::string ip;
  int port = 0;
  Chain kind = Chain::Tcp;
  std::string host;  // SNI and Host
  std::string url;
  std::string method;
  bool throughput = false;
  std::vector<std::string> alpn;
  net::TlsTrust trust;
  std::optional<catalog::Exchange> exchange;  // sent after the connect (tcp) or inside the TLS session (tls, https)
  std::string exchange_name() const { return exchange ? exchange->name : ""; }
  // Results.
  int64_t transaction_id = 0;  // final attempt
  int attempts = 0;
  bool interrupted = false;
  std::vector<format::TcpConnectObservation> tcp;
  std::vector<format::TlsHandshakeObservation> tls;
  std::vector<format::HttpObservation> http;
  std::vector<format::AppExchangeObservation> exchanges;
  std::vector<format::NetworkEvent> events;
  std::string failure;  // of the final attempt
  bool compare = false;  // an endpoint of a measured service (not the canary) needs it
  long control_id = -1;  // the control's answer about this chain

  auto key() const { return std::make_tuple(ip, port, kind, host, url, method, exchange_name()); }
};

std::string join_address(const std::string& ip, int port) { return ip::join_host_port(ip, port); }

class Runner {
 public:
  Runner(const catalog::Catalog& cat, const EngineOptions& opt) : catalog_(cat), opt_(opt) {}
  ~Runner() { join_udp_queries(); }

  RunResult run(const std::vector<std::string>& names) {
    RunResult result;
    result.start_time = std::chrono::system_clock::now();
    std::vector<const catalog::Service*> services;
    for (const auto& n : names)
      if (const auto* s = catalog_.find(n)) services.push_back(s);
    if (const auto* c = catalog_.canary(); c && std::find(services.begin(), services.end(), c) == services.end())
      services.push_back(c);

    // The control is asked while the measurement runs (control_queue.h);
    // its reachability is checked from the start.
    if (opt_.control)
      // At most 16 control requests in flight: a helper limits connections
      // per client address (vantage-testhelper: 32 by default) and closes
      // the ones beyond, which would read as failed control answers.
      control_ = std::make_unique<ControlQueue>(opt_.control, opt_.control_url, [this] { return remaining(); },
                                                opt_.connect_timeout, std::min(opt_.parallelism, 16));
    resolve_and_run(services);
    join_udp_queries();
    // The last answers, within the run's deadline (Ctrl-C stops the wait).
    if (control_)
      while (!control_->wait(std::min(std::chrono::steady_clock::now() + milliseconds(100), clock_.origin + opt_.deadline)) &&
             !out_of_time()) {
      }
    for (const auto* s : services) result.services[s->name] = assemble(*s);
    const bool chains_interrupted = interrupted() ||
        std::any_of(jobs_.begin(), jobs_.end(), [](const ChainJob& j) { return j.interrupted; }) ||
        std::any_of(hosts_.begin(), hosts_.end(), [](const HostLookup& h) { return h.failure == kInterrupted; });

    result.runtime = clock_.now();
    result.interrupted = chains_interrupted;
    return result;
  }

 private:
  bool interrupted() const { return opt_.interrupted && opt_.interrupted->load(); }

  milliseconds remaining() const {
    auto left = opt_.deadline - std::chrono::duration_cast<milliseconds>(std::chrono::steady_clock::now() - clock_.origin);
    return std::max(left, milliseconds(0));
  }

  // A step's timeout, never past the run's deadline.
  milliseconds budget(milliseconds step) const { return std::min(step, remaining()); }

  bool out_of_time() const { return interrupted() || remaining() <= milliseconds(50); }

  net::StepContext context() { return {&clock_, next_tx_.fetch_add(1)}; }

  void progress(const std::string& service, const std::string& what, const std::string& failure) {
    if (!opt_.progress) return;
    std::lock_guard lock(progress_mu_);
    opt_.progress(service, what, failure);
  }

  void resolve_hosts(const std::vector<const catalog::Service*>& services) {
    std::set<std::string> names;
    for (const auto* s : services)
      for (const auto& e : s->endpoints) {
        names.insert(e.host);
        if (!s->canary) compared_hosts_.insert(e.host);
      }
    for (const auto& n : names) {
      HostLookup h{n, {}, {}, {}, ""};
      // Reached by address: the catalog's own address is measured as it is
      // (it is no DNS answer, so the bogon check does not apply; the catalog
      // refuses bogon literals), and no query is ever sent for it.
      if (catalog::is_address_literal(n)) h.literal = true, h.ips = {n};
      hosts_.push_back(std::move(h));
    }
    udp_resolver_ = opt_.udp_resolver == "system" ? system_resolver() : opt_.udp_resolver;
    if (opt_.capture) {
      std::vector<std::string> resolvers;
      if (std::string sys = system_resolver(); !sys.empty()) resolvers.push_back(with_dns_port(sys));
      if (!udp_resolver_.empty()) resolvers.push_back(with_dns_port(udp_resolver_));
      for (const auto& h : hosts_)
        if (!h.literal) opt_.capture->map_qname(h.name, h.name);
      opt_.capture->set_targets(resolvers, {});
    }
    start_udp_queries();
  }

  // Every name is looked up at once, with one waiter for all the system
  // lookups (this thread); a name's chains start as soon as its answer is
  // judged, so a slow or lost lookup holds back only the chains that need
  // that name. The chains run on at most `parallelism` threads.
  void resolve_and_run(const std::vector<const catalog::Service*>& services) {
    resolve_hosts(services);
    WorkPool chains(opt_.parallelism);
    // The names judged together (every answer that had come in): their new
    // chains are told to the capture at once, then started.
    std::vector<const HostLookup*> batch;
    auto run_batch = [&] {
      std::vector<ChainJob*> added;
      for (const HostLookup* h : batch) {
        auto jobs = plan_chains(services, *h);
        added.insert(added.end(), jobs.begin(), jobs.end());
      }
      register_flows(services, batch, added);
      for (ChainJob* job : added) chains.submit([this, job] { run_chain(*job); });
      batch.clear();
    };
    net::SystemLookups lookups(opt_.system_lookup);
    auto start = [&](std::size_t i) {
      if (out_of_time()) {
        hosts_[i].failure = kInterrupted;
        return false;
      }
      lookups.start(i, hosts_[i].name, budget(opt_.dns_timeout), context());
      return true;
    };
    auto take = [&](net::SystemLookups::Result done) {
      HostLookup& h = hosts_[done.tag];
      auto& obs = h.attempts.emplace_back(std::move(done.observation));
      const bool retry = h.attempts.size() > 1;
      if (retry) obs.tags.push_back(vocab::kTagRetry);
      // A lookup that timed out is tried once more.
      if (obs.failure && *obs.failure == kTimeout && !retry) {
        obs.tags.push_back(vocab::kTagRetried);
        if (start(done.tag)) return;
      }
      if (h.failure != kInterrupted) judge_lookup(h);
      batch.push_back(&h);
    };
    for (std::size_t i = 0; i < hosts_.size(); ++i) {
      if (hosts_[i].literal) batch.push_back(&hosts_[i]);
      else start(i);
    }
    run_batch();
    while (auto done = lookups.next()) {
      take(std::move(*done));
      while (auto more = lookups.next_finished()) take(std::move(*more));
      run_batch();
    }
    chains.wait();
  }

  // The first nameserver of /etc/resolv.conf (inside `ip netns exec`, the
  // namespace's own), or "" when there is none.
  static std::string system_resolver() {
    std::ifstream in("/etc/resolv.conf");
    std::string line;
    while (std::getline(in, line)) {
      std::istringstream words(line);
      std::string key, value;
      if (words >> key >> value && key == "nameserver") return value;
    }
    return "";
  }

  // The UDP hold-on queries run beside the system lookups, all at once on
  // one thread of their own (one poll loop over every query's socket, so
  // each listening window runs concurrently), and are only joined after
  // every chain has run, so they never delay a connection.
  void start_udp_queries() {
    if (udp_resolver_.empty()) return;
    try {
      udp_thread_ = std::thread([this] {
        if (out_of_time()) return;
        std::vector<net::UdpQuery> queries;
        std::vector<HostLookup*> asked;  // queries[i] is about asked[i]
        for (auto& h : hosts_)
          if (!h.literal) queries.push_back({h.name, context()}), asked.push_back(&h);
        if (queries.empty()) return;
        net::UdpQueryOptions q;
        q.resolver = udp_resolver_;
        q.timeout = budget(opt_.dns_timeout);
        q.hold = opt_.dns_hold;
        auto results = net::query_udp_many(queries, q);
        for (std::size_t i = 0; i < asked.size() && i < results.size(); ++i) asked[i]->udp = std::move(results[i]);
      });
    } catch (const std::system_error&) {
      // No thread for the hold-on queries: the system lookups still run.
    }
  }

  void join_udp_queries() {
    if (udp_thread_.joinable()) udp_thread_.join();
  }

  // The system lookup's final answer, judged: the addresses to measure, or
  // the name's failure (and the control asked about it).
  void judge_lookup(HostLookup& h) {
    auto& obs = h.attempts.back();
    if (obs.failure) {
      h.failure = *obs.failure;
      ask_control_dns(h);
      return;
    }
    std::vector<std::string> v4, v6;
    bool any = false;
    for (const auto& a : obs.answers) {
      std::string ip = !a.ipv4.empty() ? a.ipv4 : a.ipv6;
      if (ip.empty()) continue;
      any = any || !a.ipv4.empty();
      if (opt_.reject_bogons && ip::is_bogon(ip)) continue;
      auto& list = a.ipv4.empty() ? v6 : v4;
      if (std::find(list.begin(), list.end(), ip) == list.end()) list.push_back(ip);
    }
    if (v4.size() > opt_.max_ips_per_host) v4.resize(opt_.max_ips_per_host);
    if (v6.size() > opt_.max_ipv6_per_host) v6.resize(opt_.max_ipv6_per_host);
    h.ips = v4;
    h.aaaa = !v6.empty();
    // IPv6 only where the host can reach it: many volunteers have AAAA
    // answers but no IPv6 route, and network_unreachable there is not
    // censorship (x_ipv6 says so once instead).
    if (!v6.empty() && ipv6_usable(v6.front())) h.ips.insert(h.ips.end(), v6.begin(), v6.end());
    // A bogon A answer beside a genuine AAAA is still a lie about the
    // address an IPv4 app would use: the name is judged a bogon.
    if (any && v4.empty()) {
      obs.failure = vocab::kDnsBogon;  // as OONI records it
      h.failure = *obs.failure;
      h.ips.clear();
    } else if (h.ips.empty()) {
      obs.failure = vocab::kDnsNoAnswer;  // no address to measure
      h.failure = *obs.failure;
    }
    if (!h.failure.empty()) ask_control_dns(h);
  }

  // Whether IPv6 can be measured, decided once per run at the first AAAA
  // answer (no packet is sent: ipv6_connectivity.h).
  bool ipv6_usable(const std::string& destination) {
    std::lock_guard lock(ipv6_mu_);
    if (!ipv6_) ipv6_ = opt_.ipv6_connectivity ? opt_.ipv6_connectivity(destination) : net::ipv6_connectivity(destination);
    return ipv6_->usable;
  }

  // x_ipv6 of one service: the run's decision, and how many of its IPv6
  // addresses were measured.
  Ipv6Record ipv6_record(const catalog::Service& s) {
    Ipv6Record r;
    std::set<std::string> measured;
    bool aaaa = false;
    for (const auto& e : s.endpoints)
      if (const HostLookup* h = host(e.host)) {
        aaaa = aaaa || h->aaaa;
        for (const auto& ip : h->ips)
          if (ip.find(':') != std::string::npos) measured.insert(ip);
      }
    r.addresses = static_cast<int>(measured.size());
    std::lock_guard lock(ipv6_mu_);
    if (opt_.max_ipv6_per_host == 0) r.reason = "disabled";
    else if (ipv6_) r.usable = ipv6_->usable, r.reason = ipv6_->reason;
    else r.reason = "no_aaaa_answer";
    // The run could reach IPv6, but none of this service's names had an
    // AAAA answer: nothing of it was measured over IPv6.
    if (r.usable && *r.usable && !aaaa) r.reason = "no_aaaa_answer";
    return r;
  }

  // What the control's resolver says about a name ours failed on.
  void ask_control_dns(HostLookup& h) {
    if (!control_ || !compared_hosts_.count(h.name)) return;
    format::ControlRequest request;
    request.http_request = "http://" + h.name + "/";
    request.chain = vocab::kChainDns;
    h.control_id = static_cast<long>(control_->put(format::to_json(request)));
  }

  // The control measures this chain at this address: the helper runs the
  // same chain (x_chain), for the same address, name and URL.
  void ask_control_chain(ChainJob& job) {
    if (!control_ || job.control_id >= 0) return;
    if (std::lock_guard lock(compare_mu_); !job.compare) return;
    const std::string address = join_address(job.ip, job.port);
    format::ControlRequest request;
    request.tcp_connect = {address};
    switch (job.kind) {
      case Chain::Tcp:
        request.http_request = "http://" + address + "/";
        request.chain = vocab::kChainTcp;
        break;
      case Chain::Tls:
        request.http_request = "https://" + job.host + ":" + std::to_string(job.port) + "/";
        request.chain = vocab::kChainTls;
        break;
      default:
        request.http_request = job.url;
        request.chain = catalog::chain_name(job.kind);
        if (job.method == "POST") {
          request.http_method = "POST";
          request.http_body = std::string(kPostBodyBytes, '\0');
        }
    }
    job.control_id = static_cast<long>(control_->put(format::to_json(request)));
  }

  static std::string with_dns_port(const std::string& resolver) {
    // A bare address gets port 53; "ip:port" and "[v6]:port" are kept.
    const bool bare = resolver.find(':') == std::string::npos ||
                      (resolver.front() != '[' && std::count(resolver.begin(), resolver.end(), ':') > 1);
    return bare ? ip::join_host_port(resolver, 53) : resolver;
  }

  // Tells the capture which addresses of these names' are ours and whose
  // they are, before their chains send anything.
  void register_flows(const std::vector<const catalog::Service*>& services, const std::vector<const HostLookup*>& hosts,
                      const std::vector<ChainJob*>& jobs) {
    if (!opt_.capture || jobs.empty()) return;
    std::vector<std::string> targets;
    for (const ChainJob* j : jobs) {
      std::string addr = join_address(j->ip, j->port);
      if (std::find(targets.begin(), targets.end(), addr) == targets.end()) targets.push_back(addr);
    }
    for (const HostLookup* h : hosts)
      for (const auto* s : services)
        for (const auto& e : s->endpoints)
          if (e.host == h->name)
            for (int port : e.ports)
              for (const auto& ip : h->ips)
                opt_.capture->map_endpoint(join_address(ip, port), e.host + ":" + std::to_string(port));
    opt_.capture->set_targets({}, targets);
  }

  const HostLookup* host(const std::string& name) const {
    for (const auto& h : hosts_)
      if (h.name == name) return &h;
    return nullptr;
  }

  net::TlsTrust trust_for(const catalog::Service& s) const {
    net::TlsTrust t;
    t.system_store = s.system_store;
    t.ca_bundle_file = opt_.ca_bundle;
    t.pinned_pem = s.pinned_pem;
    return t;
  }

  // The chains the endpoints named `h` need, now that its addresses are
  // known; returns the new ones (a TCP chain at an address another name
  // led to may exist already).
  std::vector<ChainJob*> plan_chains(const std::vector<const catalog::Service*>& services, const HostLookup& h) {
    std::vector<ChainJob*> added;
    for (const auto* s : services)
      for (const auto& e : s->endpoints) {
        if (e.chain == Chain::Dns || e.host != h.name) continue;
        for (int port : e.ports)
          for (const auto& ip : h.ips) {
            ChainJob job = job_for(e, ip, port);
            job.throughput = e.throughput;
            job.alpn = e.alpn;
            job.trust = trust_for(*s);
            job.compare = !s->canary;
            if (ChainJob* same = find_job(job)) {
              std::lock_guard lock(compare_mu_);  // it may be running
              same->compare = same->compare || job.compare;
            } else {
              added.push_back(&jobs_.emplace_back(std::move(job)));
            }
          }
      }
    return added;
  }

  // The chain an endpoint needs at one address. A TCP-only chain is the same
  // whichever name led to the address, so it is shared across names.
  static ChainJob job_for(const catalog::Endpoint& e, const std::string& ip, int port) {
    ChainJob job;
    job.ip = ip;
    job.port = port;
    job.kind = e.chain;
    job.exchange = e.exchange;
    if (job.kind != Chain::Tcp) {
      job.host = e.host;
      job.url = e.url;
      job.method = e.method;
    }
    return job;
  }

  ChainJob* find_job(const ChainJob& like) {
    for (auto& j : jobs_)
      if (j.key() == like.key()) return &j;
    return nullptr;
  }

  void run_chain(ChainJob& job) {
    // Web endpoints are always compared with the control (a block page is
    // a successful exchange with the wrong content): ask at once.
    if (job.kind == Chain::Http || job.kind == Chain::Https) ask_control_chain(job);
    for (int attempt = 1; attempt <= 2; ++attempt) {
      if (out_of_time()) {
        job.interrupted = true;
        job.failure = kInterrupted;
        return;
      }
      if (attempt > 1) {
        for (auto& o : job.tcp) o.tags.push_back(vocab::kTagRetried);
        for (auto& o : job.tls) o.tags.push_back(vocab::kTagRetried);
        for (auto& o : job.http) o.tags.push_back(vocab::kTagRetried);
        for (auto& o : job.exchanges) o.tags.push_back(vocab::kTagRetried);
      }
      // A retry that the deadline would cut short could only time out
      // again: it would be the deadline speaking, not the network.
      if (attempt > 1 && remaining() < chain_budget(job)) {
        job.interrupted = true;
        job.failure = kInterrupted;
        break;
      }
      job.attempts = attempt;
      bool full_budget = remaining() >= chain_budget(job);
      job.failure = attempt_chain(job, attempt);
      // Failed once: the control measures it while we retry.
      if (!job.failure.empty()) ask_control_chain(job);
      if (job.failure == kTimeout && !full_budget) {
        job.interrupted = true;
        job.failure = kInterrupted;
        break;
      }
      if (job.failure != kTimeout) break;
    }
    std::string what = job.host.empty() ? join_address(job.ip, job.port) : job.host + " " + join_address(job.ip, job.port);
    progress("", what, job.failure);
  }

  // The nominal time one attempt of this chain may take.
  milliseconds chain_budget(const ChainJob& job) const {
    milliseconds t = opt_.connect_timeout;
    if (job.exchange) t += opt_.exchange_timeout;
    if (job.kind == Chain::Tls || job.kind == Chain::Https) t += opt_.tls_timeout;
    if (job.kind == Chain::Http || job.kind == Chain::Https)
      t += opt_.http_timeout + (job.throughput ? opt_.throughput_window : milliseconds(0));
    return t;
  }

  std::string attempt_chain(ChainJob& job, int attempt) {
    auto ctx = context();
    job.transaction_id = ctx.transaction_id;
    const std::string address = join_address(job.ip, job.port);
    auto tag = [&](auto& obs) {
      if (attempt > 1) obs.tags.push_back(vocab::kTagRetry);
    };
    // `t`: when it happened, if not now (the steps run inside the TLS handshake's callback).
    auto event = [&](const std::string& op, const format::Failure& failure, std::optional<double> t = std::nullopt) {
      format::NetworkEvent ev;
      ev.t = t ? *t : clock_.now();
      ev.transaction_id = ctx.transaction_id;
      ev.operation = op;
      ev.address = address;
      ev.proto = "tcp";
      ev.failure = failure;
      job.events.push_back(ev);
    };

    // An HTTP step that a TCP or TLS failure stopped is still recorded as a
    // request carrying that failure, as OONI's probes do: OONI's pipeline
    // reads requests[] and scores a missing entry as a failed measurement.
    auto unsent_request = [&](const format::Failure& failure, double t0) {
      if (job.kind != Chain::Http && job.kind != Chain::Https) return;
      format::HttpObservation r;
      r.t0 = t0;
      r.t = clock_.now();
      r.transaction_id = ctx.transaction_id;
      r.address = address;
      r.url = job.url;
      r.method = job.method.empty() ? "GET" : job.method;
      r.failure = failure;
      tag(r);
      job.http.push_back(r);
    };

    auto tcp = net::tcp_connect(job.ip, job.port, budget(opt_.connect_timeout), ctx);
    tag(tcp.observation);
    job.tcp.push_back(tcp.observation);
    event("connect", tcp.observation.failure);
    if (tcp.observation.failure) {
      unsent_request(tcp.observation.failure, tcp.observation.t0);
      return *tcp.observation.failure;
    }
    if (job.kind == Chain::Tcp && job.exchange) {
      // The app's opening bytes on the accepted connection: a censor keying
      // on them cuts or starves it here, after a connect that worked.
      net::AppExchangeOptions x;
      x.exchange = job.exchange->name;
      try {
        x.send = catalog::opening_bytes(*job.exchange);
      } catch (const std::exception& e) {
        // The probe's own fault (no key pair could be made): nothing was
        // sent and no exchange is on record, so the verdict cannot take it
        // for the app's protocol being blocked (it is inconclusive).
        std::string failure = std::string("unknown_failure: ") + e.what();
        event("app_exchange_done", failure);
        return failure;
      }
      x.max_read = job.exchange->max_read;
      x.timeout = budget(opt_.exchange_timeout);
      event("app_exchange_start", std::nullopt);
      auto obs = net::app_exchange(tcp.socket, address, x, ctx);
      tag(obs);
      event("app_exchange_done", obs.failure);
      job.exchanges.push_back(obs);
      return obs.failure ? *obs.failure : "";
    }
    if (job.kind == Chain::Tcp) return "";

    if (job.kind == Chain::Tls || job.kind == Chain::Https) {
      net::TlsOptions tls;
      tls.server_name = job.host;
      tls.alpn = job.alpn.empty() && job.kind == Chain::Https ? std::vector<std::string>{"h2", "http/1.1"} : job.alpn;
      tls.trust = job.trust;
      tls.timeout = budget(opt_.tls_timeout);
      // The app's exchange inside the TLS session, once the handshake (same
      // SNI, same verification) worked: a censor that lets the handshake
      // through and keys on the app's first request cuts or starves it here.
      std::optional<format::AppExchangeObservation> inside;
      if (job.exchange) {
        net::AppExchangeOptions x;
        x.exchange = job.exchange->name;
        x.send = catalog::opening_bytes(*job.exchange);
        x.max_read = job.exchange->max_read;
        x.timeout = budget(opt_.exchange_timeout);
        tls.established = [&, x](::ssl_st* ssl, int fd) { inside = net::app_exchange_tls(ssl, fd, address, x, ctx); };
      }
      event("tls_handshake_start", std::nullopt);
      auto obs = net::tls_handshake(tcp.socket, address, tls, ctx);
      tag(obs);
      event("tls_handshake_done", obs.failure, obs.t);
      job.tls.push_back(obs);
      if (obs.failure) {
        unsent_request(obs.failure, tcp.observation.t0);
        return *obs.failure;
      }
      if (inside) {
        tag(*inside);
        event("app_exchange_start", std::nullopt, inside->t0);
        event("app_exchange_done", inside->failure, inside->t);
        job.exchanges.push_back(*inside);
        if (inside->failure) {
          unsent_request(inside->failure, tcp.observation.t0);
          return *inside->failure;
        }
      }
      if (job.kind == Chain::Tls) return "";
    }
    tcp.socket.reset();  // libcurl makes its own connection to the same IP

    net::HttpOptions http;
    http.url = job.url;
    http.method = job.method.empty() ? "GET" : job.method;
    if (http.method == "POST") http.body = std::string(kPostBodyBytes, '\0');
    http.pin_ip = job.ip;
    http.pin_port = job.port;
    http.trust = job.trust;
    http.timeout = budget(opt_.http_timeout + (job.throughput ? opt_.throughput_window : milliseconds(0)));
    // Every body is read for at most the throughput window after its first
    // byte: a slow link cannot make the run long, and a cut body that was
    // still flowing is a throughput sample the verdict can judge.
    http.download_window = opt_.throughput_window;
    if (job.throughput) http.max_download = 64u << 20;
    event("http_transaction_start", std::nullopt);
    auto obs = net::http_request(http, ctx);
    tag(obs);
    event("http_transaction_done", obs.failure);
    job.http.push_back(obs);
    return obs.failure ? *obs.failure : "";
  }

  ServiceObservations assemble(const catalog::Service& s) {
    ServiceObservations out;
    std::set<std::string> hosts_added;
    std::set<const ChainJob*> jobs_added;
    std::map<std::string, std::vector<long>> control_ids;  // by endpoint key
    std::set<std::string> requests_added;  // URLs of HTTP steps DNS stopped
    for (const auto& e : s.endpoints) {
      const HostLookup* h = host(e.host);
      if (!h) continue;
      if (hosts_added.insert(h->name).second) {
        out.queries.insert(out.queries.end(), h->attempts.begin(), h->attempts.end());
        out.queries.insert(out.queries.end(), h->udp.begin(), h->udp.end());
      }
      const int64_t dns_tx = h->attempts.empty() ? -1 : h->attempts.back().transaction_id;
      const int64_t udp_tx = h->udp.empty() ? -1 : h->udp.front().transaction_id;
      format::PlannedEndpoint base;
      base.host = e.host;
      base.chain = catalog::chain_name(e.chain);
      base.feature = e.feature;
      base.judged = e.judged;
      base.throughput = e.throughput;
      base.dns_transaction_id = dns_tx;
      base.dns_udp_transaction_id = udp_tx;
      base.confirmed = e.confirmed;
      if (!e.url.empty()) base.url = e.url, base.method = e.method;
      if (e.exchange) base.exchange = e.exchange->name;
      if (e.chain == Chain::Dns) {
        format::PlannedEndpoint ep = base;
        ep.endpoint = e.host;
        if (h->failure == kInterrupted) ep.failure = kInterrupted;
        if (h->control_id >= 0) control_ids[e.host].push_back(h->control_id);
        out.endpoints.push_back(ep);
        continue;
      }
      for (int port : e.ports) {
        format::PlannedEndpoint ep = base;
        ep.endpoint = e.host + ":" + std::to_string(port);
        ep.port = port;
        // Without an address there is no family (DNS stopped both).
        if (h->ips.empty()) {
          if (h->failure == kInterrupted) ep.failure = kInterrupted;
          if (h->control_id >= 0) control_ids[ep.endpoint].push_back(h->control_id);
          out.endpoints.push_back(ep);
          // The HTTP step DNS stopped is recorded too, with the DNS failure
          // and the lookup's transaction, as OONI's probes do.
          if ((e.chain == Chain::Http || e.chain == Chain::Https) && !h->failure.empty() &&
              h->failure != kInterrupted && requests_added.insert(e.url).second) {
            format::HttpObservation r;
            r.transaction_id = dns_tx;
            if (!h->attempts.empty()) r.t0 = h->attempts.back().t0, r.t = h->attempts.back().t;
            r.url = e.url;
            r.method = e.method.empty() ? "GET" : e.method;
            r.failure = h->failure;
            out.requests.push_back(r);
          }
          continue;
        }
        for (const auto& ip : h->ips) {
          const ChainJob* job = find_job(job_for(e, ip, port));
          format::PlannedEndpoint one = ep;
          one.ip = ip;
          one.family = ip.find(':') == std::string::npos ? vocab::kFamilyIpv4 : vocab::kFamilyIpv6;
          if (!job) continue;
          one.transaction_id = job->transaction_id;
          one.attempts = job->attempts;
          if (job->interrupted) one.failure = kInterrupted;
          else if (job->control_id >= 0) control_ids[ep.endpoint].push_back(job->control_id);
          out.endpoints.push_back(one);
          if (jobs_added.insert(job).second) {
            out.tcp_connect.insert(out.tcp_connect.end(), job->tcp.begin(), job->tcp.end());
            out.tls_handshakes.insert(out.tls_handshakes.end(), job->tls.begin(), job->tls.end());
            out.requests.insert(out.requests.end(), job->http.begin(), job->http.end());
            out.app_exchanges.insert(out.app_exchanges.end(), job->exchanges.begin(), job->exchanges.end());
            out.network_events.insert(out.network_events.end(), job->events.begin(), job->events.end());
          }
        }
      }
    }
    out.ipv6 = ipv6_record(s);
    if (control_ && !s.canary) {
      // One answer per endpoint, united from the answers about its
      // addresses (and its name's lookup).
      format::ControlRecord record;
      record.url = opt_.control_url;
      if (std::string why = control_->unreachable(); !why.empty()) record.unreachable = why;
      for (const auto& [key, ids] : control_ids) {
        std::vector<json> answers;
        for (long id : ids) answers.push_back(control_->answer(static_cast<std::size_t>(id)));
        record.answers[key] = format::control_response_from_json(merge_control_answers(answers));
      }
      out.control = std::move(record);
    }
    return out;
  }

  const catalog::Catalog& catalog_;
  const EngineOptions& opt_;
  net::StepClock clock_;
  std::atomic<int64_t> next_tx_{1};
  std::mutex progress_mu_;
  std::vector<HostLookup> hosts_;
  std::string udp_resolver_;
  std::thread udp_thread_;
  std::deque<ChainJob> jobs_;  // planned by the lookups' thread only; a deque, so a running job never moves
  std::mutex compare_mu_;      // ChainJob::compare, set by planning while the job may run
  std::mutex ipv6_mu_;
  std::optional<net::Ipv6Connectivity> ipv6_;  // the run's decision, at the first AAAA answer
  std::set<std::string> compared_hosts_;  // names of measured services (the canary's are not compared)
  // Last member: destroyed first, its threads joined while the rest lives.
  std::unique_ptr<ControlQueue> control_;
};

}  // namespace

RunResult run(const catalog::Catalog& catalog, const std::vector<std::string>& services, const EngineOptions& options) {
  return Runner(catalog, options).run(services);
}

}  // namespace vantage::engine
