// Unit tests (node --test) for what the dashboard counts (src/data.js) and
// what its drill-down extracts (src/evidence.js): hand-made rows with known
// sums, the period-filtered network table, the blocking rate's denominator,
// and measurements with missing or malformed keys (never an exception).
import { test } from "node:test";
import assert from "node:assert/strict";
import * as D from "../src/data.js";
import * as E from "../src/evidence.js";

const row = (day, verdict, method, measurements, probes, extra = {}) => ({
  day, probe_cc: "IR", probe_asn: "AS1", probe_network_name: "One", service: "whatsapp", feature: "",
  verdict, method, measurements, probes, ...extra,
});

const aggregates = {
  totals: { first_day: "2026-11-01", last_day: "2026-11-04" },
  daily: [
    row("2026-11-01", "accessible", "", 5, 2),
    row("2026-11-02", "blocked", "dns", 3, 1),
    row("2026-11-02", "blocked", "tcp_ip", 1, 1),
    row("2026-11-04", "partially_blocked", "tls", 2, 2),
    row("2026-11-04", "unscorable", "", 1, 1),
    row("2026-11-02", "blocked", "dns", 9, 3, { feature: "messaging" }),  // a feature row: not in service charts
    row("2026-11-03", "accessible", "", 4, 2, { probe_cc: "RU", probe_asn: "AS2", service: "signal" }),
  ],
  networks: [{ probe_cc: "IR", probe_asn: "AS1", service: "whatsapp", feature: "", measurements: 12, probes: 3,
    counts: { accessible: 5, blocked: 4, partially_blocked: 2, down: 0, inconclusive: 0, unscorable: 1 }, blocking_rate: 0.545 }],
  change_points: [
    { probe_cc: "IR", probe_asn: "AS1", service: "whatsapp", day: "2026-11-02" },
    { probe_cc: "RU", probe_asn: "AS2", service: "signal", day: "2026-11-03" },
  ],
};

test("verdict series: every day of the period, whole-service rows only, summed per verdict", () => {
  const s = D.verdictSeries(aggregates, {}, "whatsapp");
  assert.deepEqual(s.days, ["2026-11-01", "2026-11-02", "2026-11-03", "2026-11-04"]);
  const byKey = Object.fromEntries(s.series.map((x) => [x.key, x.cells.map((c) => c.measurements)]));
  assert.deepEqual(byKey, { blocked: [0, 4, 0, 0], partially_blocked: [0, 0, 0, 2], unscorable: [0, 0, 0, 1], accessible: [5, 0, 0, 0] });
  assert.deepEqual(s.series.map((x) => x.key), ["blocked", "partially_blocked", "unscorable", "accessible"]);
  assert.equal(s.series[0].cells[1].probes, 2);  // summed over methods
});

test("method series counts blocked and partially blocked only", () => {
  const s = D.methodSeries(aggregates, { service: "whatsapp" });
  const byKey = Object.fromEntries(s.series.map((x) => [x.key, x.cells.map((c) => c.measurements)]));
  assert.deepEqual(byKey, { dns: [0, 3, 0, 0], tcp_ip: [0, 1, 0, 0], tls: [0, 0, 0, 2] });
});

test("filters: country, network, period", () => {
  assert.deepEqual(D.servicesIn(aggregates, {}), ["signal", "whatsapp"]);
  assert.deepEqual(D.servicesIn(aggregates, { cc: "RU" }), ["signal"]);
  assert.deepEqual(D.verdictSeries(aggregates, { since: "2026-11-02", until: "2026-11-03" }, "whatsapp").days,
    ["2026-11-02", "2026-11-03"]);
  assert.deepEqual(D.changePoints(aggregates, { asn: "AS2" }).map((c) => c.service), ["signal"]);
  assert.deepEqual(D.changePoints(aggregates, { until: "2026-11-02" }).map((c) => c.service), ["whatsapp"]);
});

test("network table: as written for the whole period, recomputed with a lower bound on probes for a period", () => {
  const whole = D.networkRows(aggregates, { service: "whatsapp" });
  assert.equal(whole.length, 1);
  assert.equal(whole[0].probes, 3);
  assert.equal(whole[0].probes_at_least, false);
  const period = D.networkRows(aggregates, { service: "whatsapp", since: "2026-11-02" }).filter((n) => n.feature === "");
  assert.equal(period.length, 1);
  const n = period[0];
  assert.equal(n.measurements, 7);
  assert.deepEqual(n.counts, { accessible: 0, blocked: 4, partially_blocked: 2, down: 0, inconclusive: 0, unscorable: 1 });
  assert.equal(n.blocking_rate, 1);
  assert.equal(n.probes, 2);
  assert.equal(n.probes_at_least, true);
  assert.deepEqual(n.methods, { dns: 3, tcp_ip: 1, tls: 2 });
  assert.equal(n.first_blocked, "2026-11-02");
  assert.equal(n.last_blocked, "2026-11-04");
});

test("blocking rate leaves out inconclusive and unscorable; null without judged measurements", () => {
  assert.equal(D.blockingRate({ accessible: 1, blocked: 1, partially_blocked: 1, down: 1, inconclusive: 50, unscorable: 50 }), 0.5);
  assert.equal(D.blockingRate({ accessible: 0, blocked: 0, partially_blocked: 0, down: 0, inconclusive: 3, unscorable: 1 }), null);
});

test("country rows: a probe counted once across services, each service's rate and probes", () => {
  const rows = D.countryRows([
    ...aggregates.networks,
    { probe_cc: "IR", probe_asn: "AS3", service: "whatsapp", feature: "", measurements: 10, probes: 2,
      counts: { accessible: 10, blocked: 0, partially_blocked: 0, down: 0, inconclusive: 0, unscorable: 0 } },
    { probe_cc: "IR", probe_asn: "AS3", service: "whatsapp", feature: "web", measurements: 99, probes: 9, counts: {} },
    // The same two probes of AS3 measured Signal too: not two more probes.
    { probe_cc: "IR", probe_asn: "AS3", service: "signal", feature: "", measurements: 4, probes: 2,
      counts: { accessible: 4, blocked: 0, partially_blocked: 0, down: 0, inconclusive: 0, unscorable: 0 } },
  ]);
  assert.equal(rows.length, 1);
  assert.equal(rows[0].networks, 2);
  assert.equal(rows[0].measurements, 26);
  assert.equal(rows[0].probes, 5);
  assert.deepEqual(rows[0].services.map((s) => [s.service, s.probes, s.measurements]), [["signal", 2, 4], ["whatsapp", 5, 22]]);
  assert.equal(rows[0].services[1].blocking_rate, 6 / 21);
});

test("ids: only the contract's characters", () => {
  for (const ok of ["a", "20261120T100000Z_IR.x-1", "a".repeat(128)]) assert.ok(D.ID_PATTERN.test(ok), ok);
  for (const bad of ["", "../x", "a/b", "a%2e", "a".repeat(129), "a b"]) assert.ok(!D.ID_PATTERN.test(bad), bad);
});

test("evidence: DNS answers with both TTLs, failures of every step, anomalies, control", () => {
  const m = {
    test_keys: {
      queries: [
        { hostname: "e1.whatsapp.net", query_type: "A", resolver_address: "198.18.0.53:53", engine: "udp", x_ip_ttl: 251,
          answers: [{ answer_type: "A", ipv4: "10.10.34.35", ttl: 0 }, { answer_type: "AAAA", ipv6: "2001:db8::1", ttl: 60 }] },
        { hostname: "gone.example", query_type: "A", failure: "dns_nxdomain_error", answers: null },
      ],
      tcp_connect: [{ ip: "198.18.1.1", port: 443, status: { failure: "connection_refused" }, t: 0.5 },
        { ip: "198.18.1.2", port: 443, status: { failure: null } }],
      tls_handshakes: [{ server_name: "x", address: "198.18.1.3:443", failure: "connection_reset" }],
      requests: [{ failure: "eof_error", request: { url: "https://x/" } }, { failure: null }],
      x_capture: { enabled: true, anomalies: [{ type: "tcp_rst_injected", endpoint: "198.18.1.3:443", t: 0.1, evidence: { ip_ttl: 62 } }] },
      x_endpoints: [{ host: "x", port: 443, ip: "198.18.1.3", attempts: 2 }, { host: "z", port: 443, failure: "interrupted" }],
      x_verdict: { endpoints: [{ endpoint: "x:443", ip: "198.18.1.3", feature: "chat", status: "blocked", method: "tls",
        failure: "connection_reset", evidence: ["reset after ClientHello", 7] }, null] },
      x_control: { url: "https://c", answers: {
        "x:443": { tcp_connect: { "198.18.1.3:443": { status: true } }, dns: { addrs: ["198.18.1.3"] } },
        "y:443": { failure: "control_timeout" } } },
    },
  };
  const dns = E.dnsRows(m);
  assert.deepEqual(dns.map((r) => [r.hostname, r.answer, r.ttl, r.ip_ttl, r.failure]), [
    ["e1.whatsapp.net", "10.10.34.35", 0, 251, null], ["e1.whatsapp.net", "2001:db8::1", 60, 251, null],
    ["gone.example", "", null, null, "dns_nxdomain_error"]]);
  assert.deepEqual(E.failureRows(m).map((f) => [f.step, f.failure]),
    [["TCP connect", "connection_refused"], ["TLS handshake", "connection_reset"], ["HTTP request", "eof_error"]]);
  assert.deepEqual(E.anomalyRows(m).map((a) => [a.kind, a.evidence.ip_ttl]), [["tcp_rst_injected", 62]]);
  assert.equal(E.captureStatus(m), "capture on");
  assert.deepEqual(E.endpointRows(m).map((e) => [e.endpoint, e.measured, e.attempts]), [["x:443", true, 2], ["z:443", false, null]]);
  assert.deepEqual(E.verdictEndpointRows(m).map((r) => [r.endpoint, r.status, r.method, r.evidence]),
    [["x:443", "blocked", "tls", ["reset after ClientHello"]]]);
  const control = E.controlRows(m);
  assert.deepEqual(control.map((c) => [c.endpoint, c.reachable]), [["x:443", true], ["y:443", false]]);
  assert.match(control[0].summary, /TCP 198\.18\.1\.3:443: connected/);
  assert.match(control[1].summary, /control failed: control_timeout/);
});

test("evidence: missing or malformed keys give empty lists, never an exception", () => {
  for (const m of [null, {}, { test_keys: null }, { test_keys: "x" }, { test_keys: { queries: "x", tcp_connect: [null, 3],
    tls_handshakes: {}, requests: [{}], x_capture: { anomalies: [{ evidence: "x" }] }, x_control: { answers: [1] } } }]) {
    const safe = (f) => { try { return f(); } catch (err) { assert.fail(`${JSON.stringify(m)}: ${err}`); } };
    safe(() => E.dnsRows(m));
    safe(() => E.endpointRows(m));
    safe(() => E.failureRows(m));
    safe(() => E.verdictEndpointRows(m));
    safe(() => E.anomalyRows(m));
    safe(() => E.controlRows(m));
    safe(() => E.featureRows(m));
    safe(() => E.captureStatus(m));
  }
  assert.deepEqual(E.dnsRows({}), []);
  assert.equal(E.captureStatus({ test_keys: { x_capture: { enabled: false, reason: "not root" } } }), "capture off: not root");
});
