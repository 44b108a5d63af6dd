// Writes a realistic dashboard data directory (the format of
// analysis/dashboard/README.md, "Data files") with known ground truth, for the
// browser tests: 30 days of November 2026, four networks in three countries,
// three services, a DNS blocking of WhatsApp that starts on 2026-11-20 in
// AS58224 (a change point), TCP/IP and TLS blocking elsewhere, a one-day
// Signal outage, inconclusive and unscorable measurements, and full
// measurements (OONI format with Vantage's x_ keys) with DNS answers and IP
// TTLs, failures, capture anomalies and the control's view.
//
// Usage: node make_fixture.mjs --out DATA_DIR --truth FILE   (writes
// aggregates.json, measurements/index.json and measurements/<id>.json into
// DATA_DIR, and to FILE the ground truth, one row per measurement, which the
// tests check the page against).
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

function arg(name) {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}
const out = arg("--out");
const truthFile = arg("--truth");
if (!out || !truthFile) {
  console.error("usage: node make_fixture.mjs --out DATA_DIR --truth FILE");
  process.exit(2);
}

// Deterministic pseudo-random numbers (mulberry32): the same fixture every run.
let seed = 20261120;
function random() {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}

const NETWORKS = [
  { cc: "IR", asn: "AS58224", name: "Iran Telecommunication Company PJS", probes: ["ir-tci-1", "ir-tci-2", "ir-tci-3"] },
  { cc: "IR", asn: "AS197207", name: "Mobile Communication Company of Iran PLC", probes: ["ir-mci-1", "ir-mci-2"] },
  { cc: "RU", asn: "AS12389", name: "PJSC Rostelecom", probes: ["ru-rt-1", "ru-rt-2"] },
  { cc: "DE", asn: "AS3320", name: "Deutsche Telekom AG", probes: ["de-dt-1", "de-dt-2"] },
];
// Addresses from the lab's range (198.18.0.0/15), never real service addresses.
const SERVICES = {
  whatsapp: {
    features: { messaging: ["e1.whatsapp.net", 5222, "198.18.10.11"], web: ["web.whatsapp.com", 443, "198.18.10.21"],
      registration: ["v.whatsapp.net", 443, "198.18.10.31"] },
    software: "vantage", rule: "vantage-verdict", test_version: "0.1.0",
  },
  signal: {
    features: { backend: ["chat.signal.org", 443, "198.18.11.11"], storage: ["storage.signal.org", 443, "198.18.11.21"] },
    software: "vantage", rule: "vantage-verdict", test_version: "0.2.5",
  },
  telegram: {
    features: { datacenters: ["149.154.175.50", 443, "198.18.12.11"], web: ["web.telegram.org", 443, "198.18.12.21"] },
    software: "ooniprobe-android", rule: "ooni-telegram-0.3", test_version: "0.3.0",
  },
};
const DAYS = [];
for (let d = 1; d <= 30; d++) DAYS.push(`2026-11-${String(d).padStart(2, "0")}`);

// Ground truth: what each (network, service, day) measurement found.
// Returns {verdict, features: {name: {status, methods}}, methods}.
function truth(net, service, day, probeIndex) {
  const all = (status, method) => {
    const features = {};
    for (const f of Object.keys(SERVICES[service].features)) features[f] = { status, methods: method ? [method] : [] };
    return { verdict: status, features, methods: method ? [method] : [] };
  };
  if (service === "signal" && day === "2026-11-10") return all("down", "");
  if (service === "whatsapp" && net.asn === "AS58224" && day >= "2026-11-20") return all("blocked", "dns");
  if (service === "whatsapp" && net.asn === "AS197207") {
    const t = all("blocked", "tcp_ip");
    t.verdict = "partially_blocked";  // messaging blocked, WhatsApp Web still works
    t.features.web = { status: "accessible", methods: [] };
    t.features.registration = { status: "accessible", methods: [] };
    return t;
  }
  if (service === "signal" && net.cc === "RU") return all("blocked", "tls");
  if (service === "telegram" && day.endsWith("7") && probeIndex === 1) return { verdict: "unscorable", features: {}, methods: [] };
  if (random() < 0.05) return all("inconclusive", "");
  return all("accessible", "");
}

function pad(n, w = 2) {
  return String(n).padStart(w, "0");
}

// One full measurement whose raw observations agree with its verdict.
function measurement(net, service, day, probe, hour, t) {
  const spec = SERVICES[service];
  const time = `${day} ${pad(hour)}:${pad(Math.floor(random() * 60))}:${pad(Math.floor(random() * 60))}`;
  const compact = time.replace(/[- :]/g, "");
  const id = `${compact}.${pad(Math.floor(random() * 1e6), 6)}_${net.cc}_${service}_${Math.floor(random() * 2 ** 32).toString(16).padStart(8, "0")}`;
  const queries = [], tcp = [], tls = [], requests = [], endpoints = [], anomalies = [], control = {}, judged = [];
  let clock = 0.01;
  for (const [feature, [host, port, ip]] of Object.entries(spec.features)) {
    const status = t.features[feature]?.status ?? "inconclusive";
    const method = t.features[feature]?.methods?.[0] ?? "";
    const injected = status === "blocked" && method === "dns";
    const answerIp = injected ? "10.10.34.35" : ip;
    queries.push({
      answers: [{ answer_type: "A", ipv4: answerIp, ttl: injected ? 0 : 300 }], engine: "udp", failure: null,
      hostname: host, query_type: "A", resolver_address: "198.18.0.53:53", t0: clock, t: clock + 0.021,
      transaction_id: queries.length * 10 + 1, x_ip_ttl: injected ? 251 : 57, x_query_id: 4000 + queries.length,
    });
    clock += 0.03;
    let failure = null;
    if (status === "down" || (status === "blocked" && (method === "tcp_ip" || method === "dns"))) failure = "generic_timeout_error";
    tcp.push({ ip: answerIp, port, status: { failure, success: failure === null, blocked: failure !== null }, t0: clock, t: clock + (failure ? 10 : 0.04) });
    clock += failure ? 10 : 0.05;
    if (!failure && port === 443) {
      const tlsFailure = status === "blocked" && method === "tls" ? "connection_reset" : null;
      tls.push({ address: `${answerIp}:${port}`, server_name: host, failure: tlsFailure, negotiated_protocol: tlsFailure ? "" : "h2",
        t0: clock, t: clock + 0.08, tls_version: tlsFailure ? "" : "TLSv1.3" });
      clock += 0.1;
      if (tlsFailure) failure = tlsFailure;
      else if (feature === "web") {
        requests.push({ failure: null, request: { method: "GET", url: `https://${host}/` },
          response: { code: 200, body_is_truncated: false, x_body_bytes: 2048 }, t0: clock, t: clock + 0.2 });
      }
    }
    if (failure && feature === "web" && port === 443) {
      requests.push({ failure, request: { method: "GET", url: `https://${host}/` }, response: null, t0: clock, t: clock });
    }
    endpoints.push({ host, port, ip: answerIp, chain: port === 443 ? "https" : "tcp", feature, judged: true,
      attempts: failure ? 2 : 1, transaction_id: tcp.length * 10 });
    const endpointStatus = status === "accessible" ? "ok" : status;
    judged.push({ endpoint: `${host}:${port}`, ip: answerIp, feature, status: endpointStatus, method: failure ? method : "",
      failure, evidence: injected ? [`DNS answered ${answerIp} for ${host}, outside the service's networks; the control resolved ${ip}.`]
        : failure === "connection_reset" ? [`TLS handshake reset after the ClientHello; the control completed it.`]
        : failure && status === "blocked" ? [`TCP connect to ${answerIp}:${port} timed out; the control connected.`]
        : failure ? [`${failure}; the control failed too.`] : [] });
    if (injected) {
      anomalies.push({ type: "dns_ttl_mismatch", endpoint: `${host}:${port}`, t: 0.02,
        evidence: { qname: host, ttls: [251, 57], answers: [answerIp, ip], note: "two answers to one query, different IP TTLs" } });
    } else if (failure === "generic_timeout_error" && status === "blocked") {
      anomalies.push({ type: "syn_blackhole", endpoint: `${answerIp}:${port}`, t: clock - 10,
        evidence: { syns: 4, replies: 0 } });
    } else if (failure === "connection_reset") {
      anomalies.push({ type: "tcp_rst_injected", endpoint: `${answerIp}:${port}`, t: clock - 0.05,
        evidence: { after: "client_hello", ip_ttl: 62, expected_ip_ttl: 49, ip_id: 0 } });
    }
    if (failure) {
      control[`${host}:${port}`] = status === "down"
        ? { tcp_connect: { [`${ip}:${port}`]: { status: false, failure: "generic_timeout_error" } },
            dns: { failure: null, addrs: [ip] } }
        : { tcp_connect: { [`${ip}:${port}`]: { status: true, failure: null } }, dns: { failure: null, addrs: [ip] },
            ...(port === 443 ? { tls_handshake: { [`${ip}:${port}`]: { failure: null, server_name: host } } } : {}) };
    }
  }
  const unscorable = t.verdict === "unscorable";
  const m = {
    annotations: { platform: "linux" }, data_format_version: "0.2.0", input: null,
    measurement_start_time: time, test_start_time: time, probe_asn: net.asn, probe_cc: net.cc,
    probe_ip: "127.0.0.1", probe_network_name: net.name, report_id: `${compact}Z_${service}_${net.cc}_${net.asn.slice(2)}_n1_${probe}`,
    resolver_asn: net.asn, resolver_ip: "198.18.0.53", software_name: spec.software, software_version: "0.1.0",
    test_name: service, test_version: spec.test_version, test_runtime: clock,
    test_keys: unscorable ? { failure: "unknown_failure: interrupted", queries: [] } : {
      failure: null, failed_operation: null, queries, tcp_connect: tcp, tls_handshakes: tls, requests, network_events: [],
      x_endpoints: endpoints,
      x_verdict: spec.software === "vantage" ? { status: t.verdict, methods: t.methods, endpoints: judged } : undefined,
      x_canary: { status: t.verdict === "inconclusive" ? "failed" : "ok" },
      x_capture: { enabled: true, anomalies, flows: tcp.length, malformed: 0, duplicates: 0, ignored: 0 },
      x_control: Object.keys(control).length ? { url: "https://198.18.0.2/api/v1/control", answers: control } : null,
    },
    x_analysis: { service_verdict: t.verdict, features: t.features, scoring_rule: spec.rule,
      notes: unscorable ? ["the measurement was interrupted before any observation"] :
        t.verdict === "inconclusive" ? ["the canary failed: the probe's own network did not work"] : [] },
  };
  return { id, time, day, m };
}

// ---------------------------------------------------------------- generate
const all = [];
for (const day of DAYS) {
  for (const net of NETWORKS) {
    for (const service of Object.keys(SERVICES)) {
      for (let i = 0; i < 2; i++) {
        const probe = net.probes[(DAYS.indexOf(day) + i) % net.probes.length];
        const t = truth(net, service, day, i);
        const { id, time, m } = measurement(net, service, day, probe, 6 + i * 9, t);
        all.push({ id, time, day, net, service, probe, t, m });
      }
    }
  }
}

const aggregatesDaily = new Map();
const networks = new Map();
function bump(map, key, init) {
  if (!map.has(key)) map.set(key, init());
  return map.get(key);
}
for (const x of all) {
  const rows = [["", x.t.verdict, x.t.methods[0] ?? ""]];
  for (const [f, ft] of Object.entries(x.t.features)) rows.push([f, ft.status, ft.methods[0] ?? ""]);
  for (const [feature, verdict, method] of rows) {
    const d = bump(aggregatesDaily, [x.day, x.net.cc, x.net.asn, x.service, feature, verdict, method].join("|"), () => ({
      day: x.day, probe_cc: x.net.cc, probe_asn: x.net.asn, probe_network_name: x.net.name, service: x.service,
      feature, verdict, method, measurements: 0, probes: new Set() }));
    d.measurements++;
    d.probes.add(x.probe);
    const n = bump(networks, [x.net.cc, x.net.asn, x.service, feature].join("|"), () => ({
      probe_cc: x.net.cc, probe_asn: x.net.asn, probe_network_name: x.net.name, service: x.service, feature,
      measurements: 0, probes: new Set(),
      counts: { accessible: 0, blocked: 0, partially_blocked: 0, down: 0, inconclusive: 0, unscorable: 0 },
      methods: {}, first_seen: x.day, last_seen: x.day, first_blocked: null, last_blocked: null }));
    n.measurements++;
    n.probes.add(x.probe);
    n.counts[verdict]++;
    if (method) n.methods[method] = (n.methods[method] ?? 0) + 1;
    if (x.day < n.first_seen) n.first_seen = x.day;
    if (x.day > n.last_seen) n.last_seen = x.day;
    if (verdict === "blocked" || verdict === "partially_blocked") {
      if (!n.first_blocked || x.day < n.first_blocked) n.first_blocked = x.day;
      if (!n.last_blocked || x.day > n.last_blocked) n.last_blocked = x.day;
    }
  }
}
const networkRows = [...networks.values()].map((n) => {
  const c = n.counts;
  const denominator = c.accessible + c.blocked + c.partially_blocked + c.down;
  return { ...n, probes: n.probes.size,
    blocking_rate: denominator ? Math.round(((c.blocked + c.partially_blocked) / denominator) * 1000) / 1000 : null };
});

// The change point the scenario contains, with its rates computed from the data.
function rate(filter) {
  const xs = all.filter(filter).filter((x) => x.t.verdict !== "inconclusive" && x.t.verdict !== "unscorable");
  return xs.length ? Math.round((xs.filter((x) => x.t.verdict === "blocked").length / xs.length) * 100) / 100 : null;
}
const cpScope = (x) => x.service === "whatsapp" && x.net.asn === "AS58224";
const changePoints = ["", "messaging"].map((feature) => ({
  probe_cc: "IR", probe_asn: "AS58224", service: "whatsapp", feature, day: "2026-11-20", direction: "blocked",
  rate_before: rate((x) => cpScope(x) && x.day < "2026-11-20"), rate_after: rate((x) => cpScope(x) && x.day >= "2026-11-20"),
  measurements: all.filter(cpScope).length, probes: new Set(all.filter(cpScope).map((x) => x.probe)).size,
  text: `WhatsApp${feature ? " " + feature : ""} blocked in AS58224 (IR) since 2026-11-20`,
}));

const aggregates = {
  generated_at: "2026-12-01T12:00:00Z",
  filters: { since: null, until: null, probe_cc: null, probe_asn: null, service: null },
  totals: {
    measurements: all.length, scored: all.filter((x) => x.t.verdict !== "unscorable").length,
    unscorable: all.filter((x) => x.t.verdict === "unscorable").length,
    probes: new Set(all.map((x) => x.probe)).size, first_day: DAYS[0], last_day: DAYS[DAYS.length - 1],
  },
  daily: [...aggregatesDaily.values()].map((d) => ({ ...d, probes: d.probes.size })),
  networks: networkRows,
  change_points: changePoints,
};

mkdirSync(join(out, "measurements"), { recursive: true });
writeFileSync(join(out, "aggregates.json"), JSON.stringify(aggregates, null, 1));
const newestFirst = [...all].sort((a, b) => b.time.localeCompare(a.time));
writeFileSync(join(out, "measurements", "index.json"), JSON.stringify(newestFirst.map((x) => ({
  id: x.id, measurement_start_time: x.time, day: x.day, probe_cc: x.net.cc, probe_asn: x.net.asn, service: x.service,
  test_name: x.service, software_name: x.m.software_name, verdict: x.t.verdict, methods: x.t.methods,
  scoring_rule: x.m.x_analysis.scoring_rule,
}))));
for (const x of all) writeFileSync(join(out, "measurements", `${x.id}.json`), JSON.stringify(x.m));
// What the tests compare the page with, computed from the measurements, not from aggregates.json.
writeFileSync(truthFile, JSON.stringify(all.map((x) => ({
  id: x.id, day: x.day, probe_cc: x.net.cc, probe_asn: x.net.asn, service: x.service, probe: x.probe,
  verdict: x.t.verdict, method: x.t.methods[0] ?? "",
}))));
console.log(`fixture: ${all.length} measurements, ${aggregates.daily.length} daily rows, ${networkRows.length} network rows in ${out}`);
