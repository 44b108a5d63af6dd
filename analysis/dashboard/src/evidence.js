// The evidence of one stored measurement (OONI format plus Vantage's x_ keys,
// reports/README.md), as plain rows for the drill-down page. Pure functions:
// unknown or missing keys give empty lists, never an exception.

// The objects of an array (a null or a number where an object belongs is skipped).
function list(value) {
  return Array.isArray(value) ? value.filter((x) => x !== null && typeof x === "object") : [];
}
function strings(value) {
  return Array.isArray(value) ? value.filter((x) => typeof x === "string") : [];
}

function keys(m) {
  return m && typeof m.test_keys === "object" && m.test_keys !== null ? m.test_keys : {};
}

// DNS: one row per answer (a query without answers gets one row with its
// failure). ttl is the DNS record's TTL; ip_ttl the IP TTL of the response
// packet (x_ip_ttl), which differs when an on-path injector answered.
export function dnsRows(m) {
  const rows = [];
  for (const q of list(keys(m).queries)) {
    const base = {
      hostname: q.hostname ?? "", query_type: q.query_type ?? "", resolver: q.resolver_address ?? "",
      engine: q.engine ?? "", failure: q.failure ?? null, ip_ttl: q.x_ip_ttl ?? null,
    };
    const answers = list(q.answers);
    if (answers.length === 0) rows.push({ ...base, answer: "", answer_type: "", ttl: null });
    for (const a of answers) {
      rows.push({
        ...base, answer_type: a.answer_type ?? "",
        answer: a.ipv4 ?? a.ipv6 ?? a.hostname ?? a.alpn ?? "", ttl: a.ttl ?? null,
      });
    }
  }
  return rows;
}

export function endpointRows(m) {
  return list(keys(m).x_endpoints).map((e) => ({
    endpoint: `${e.host ?? ""}:${e.port ?? ""}`, ip: e.ip ?? "", chain: e.chain ?? "", feature: e.feature ?? "",
    measured: e.failure !== "interrupted", attempts: e.attempts ?? null,
  }));
}

// The probe's own reasoning (test_keys.x_verdict.endpoints[], Vantage's
// measurements only): per endpoint, its status, the technique and the
// evidence sentences behind it.
export function verdictEndpointRows(m) {
  return list(keys(m).x_verdict?.endpoints).map((e) => ({
    endpoint: String(e.endpoint ?? ""), ip: String(e.ip ?? ""), feature: String(e.feature ?? ""),
    status: String(e.status ?? ""), method: String(e.method ?? ""), failure: e.failure ?? null,
    evidence: strings(e.evidence),
  }));
}

// Every failed network step: TCP connects, TLS handshakes, HTTP requests.
export function failureRows(m) {
  const k = keys(m);
  const rows = [];
  for (const c of list(k.tcp_connect)) {
    const failure = c.status?.failure ?? null;
    if (failure) rows.push({ step: "TCP connect", target: `${c.ip ?? ""}:${c.port ?? ""}`, failure, t: c.t ?? null });
  }
  for (const h of list(k.tls_handshakes)) {
    if (h.failure) {
      rows.push({ step: "TLS handshake", target: `${h.server_name ?? ""} (${h.address ?? ""})`, failure: h.failure, t: h.t ?? null });
    }
  }
  for (const r of list(k.requests)) {
    if (r.failure) rows.push({ step: "HTTP request", target: r.request?.url ?? "", failure: r.failure, t: r.t ?? null });
  }
  return rows;
}

// What the packet capture saw (test_keys.x_capture.anomalies[]).
export function anomalyRows(m) {
  const capture = keys(m).x_capture;
  return list(capture?.anomalies).map((a) => ({
    kind: a.type ?? a.kind ?? "", endpoint: a.endpoint ?? "", t: a.t ?? null,
    evidence: a.evidence && typeof a.evidence === "object" ? a.evidence : {},
  }));
}

export function captureStatus(m) {
  const capture = keys(m).x_capture;
  if (!capture || typeof capture !== "object") return "no capture recorded";
  if (capture.enabled === false) return "capture off" + (capture.reason ? `: ${capture.reason}` : "");
  return "capture on";
}

// The control's view: for each endpoint the probe could not reach, what the
// control helper (outside the censored network) saw. Answers follow OONI's
// test-helper shape ({tcp_connect: {"ip:port": {status, failure}}, dns, tls_handshake,
// http_request}) or {failure}.
export function controlRows(m) {
  const control = keys(m).x_control;
  if (!control || typeof control !== "object") return [];
  const rows = [];
  const answers = control.answers && typeof control.answers === "object" ? control.answers : {};
  for (const [endpoint, answer] of Object.entries(answers)) {
    const a = answer && typeof answer === "object" ? answer : {};
    const parts = [];
    if (a.failure) parts.push(`control failed: ${a.failure}`);
    if (a.dns) {
      const addrs = strings(a.dns.addrs);
      parts.push(a.dns.failure ? `DNS: ${a.dns.failure}` : `DNS: ${addrs.join(", ") || "no address"}`);
    }
    for (const [target, tcp] of Object.entries(a.tcp_connect ?? {})) {
      parts.push(`TCP ${target}: ${tcp?.status ? "connected" : tcp?.failure ?? "failed"}`);
    }
    for (const [target, tls] of Object.entries(a.tls_handshake ?? {})) {
      parts.push(`TLS ${target}: ${tls?.failure ?? "handshake ok"}`);
    }
    if (a.http_request) {
      const h = a.http_request;
      parts.push(h.failure ? `HTTP: ${h.failure}` : `HTTP: status ${h.status_code ?? "?"}`);
    }
    const reachable = !a.failure && Object.values(a.tcp_connect ?? {}).some((t) => t?.status);
    rows.push({ endpoint, reachable, summary: parts.join("; ") || JSON.stringify(a) });
  }
  return rows;
}

export function featureRows(m) {
  const features = m?.x_analysis?.features ?? {};
  return Object.entries(features).map(([name, f]) => ({
    feature: name, status: f?.status ?? "", methods: strings(f?.methods),
  }));
}
