// What the dashboard computes from the data files (analysis/dashboard/README.md
// names them): pure functions over the rows of aggregates.json and
// measurements/index.json, no DOM. Every figure keeps the number of
// measurements and probes behind it.

export const SERVICE_VERDICTS = ["blocked", "partially_blocked", "down", "inconclusive", "unscorable", "accessible"];

export const VERDICT_LABELS = {
  accessible: "Accessible",
  blocked: "Blocked",
  partially_blocked: "Partially blocked",
  down: "Service down (not censorship)",
  inconclusive: "Inconclusive",
  unscorable: "Could not be scored",
};

export const METHOD_LABELS = {
  dns: "DNS tampering",
  tcp_ip: "TCP/IP blocking",
  tls: "TLS interference",
  http: "HTTP interference",
  throttling: "Throttling",
  app_protocol: "App protocol blocking",
  "": "Not recorded",
};

export function methodLabel(method) {
  return METHOD_LABELS[method] ?? method;
}

export function verdictLabel(verdict) {
  return VERDICT_LABELS[verdict] ?? verdict;
}

// Measurement ids as the data contract allows them; anything else is never
// put into a URL.
export const ID_PATTERN = /^[A-Za-z0-9_.-]{1,128}$/;

// filters: {service, cc, asn, since, until}; empty string or null = any.
export function matches(row, filters, dayKey = "day") {
  if (filters.service && row.service !== filters.service) return false;
  if (filters.cc && row.probe_cc !== filters.cc) return false;
  if (filters.asn && row.probe_asn !== filters.asn) return false;
  const day = row[dayKey];
  if (day !== undefined) {
    if (filters.since && day < filters.since) return false;
    if (filters.until && day > filters.until) return false;
  }
  return true;
}

// Every day from first to last inclusive ("YYYY-MM-DD"), so that days with
// no measurement show as gaps instead of disappearing from the axis.
export function dayRange(first, last) {
  const out = [];
  if (!first || !last || first > last) return out;
  const d = new Date(first + "T00:00:00Z");
  const end = new Date(last + "T00:00:00Z");
  while (d <= end && out.length < 3700) {
    out.push(d.toISOString().slice(0, 10));
    d.setUTCDate(d.getUTCDate() + 1);
  }
  return out;
}

function sortedUnique(values) {
  return [...new Set(values)].sort();
}

// The days the charts span: the filtered period, else the data's own.
export function chartDays(aggregates, filters) {
  const days = (aggregates.daily ?? []).map((r) => r.day);
  const first = filters.since || aggregates.totals?.first_day || days.reduce((a, b) => (a < b ? a : b), days[0]);
  const last = filters.until || aggregates.totals?.last_day || days.reduce((a, b) => (a > b ? a : b), days[0]);
  return dayRange(first, last);
}

// Rows of the whole service (feature "") that pass the filters.
export function serviceRows(aggregates, filters) {
  return (aggregates.daily ?? []).filter((r) => (r.feature ?? "") === "" && matches(r, filters));
}

// Stacked series for one chart: keys (verdicts or methods) x days.
// Each cell: {measurements, probes}; probes are summed over networks and
// methods (a probe that saw two verdicts on one day is counted under both).
function series(rows, days, keyOf, keyOrder) {
  const index = new Map(days.map((d, i) => [d, i]));
  const cells = new Map();
  for (const r of rows) {
    const i = index.get(r.day);
    if (i === undefined) continue;
    const key = keyOf(r);
    if (!cells.has(key)) cells.set(key, days.map(() => ({ measurements: 0, probes: 0 })));
    const cell = cells.get(key)[i];
    cell.measurements += r.measurements ?? 0;
    cell.probes += r.probes ?? 0;
  }
  const keys = [...cells.keys()].sort((a, b) => {
    const ia = keyOrder.indexOf(a), ib = keyOrder.indexOf(b);
    return (ia < 0 ? 99 : ia) - (ib < 0 ? 99 : ib) || String(a).localeCompare(String(b));
  });
  return { days, series: keys.map((key) => ({ key, cells: cells.get(key) })) };
}

// Blocking over time for one service: measurements per day, stacked by verdict.
export function verdictSeries(aggregates, filters, service) {
  const rows = serviceRows(aggregates, { ...filters, service });
  return series(rows, chartDays(aggregates, filters), (r) => r.verdict, SERVICE_VERDICTS);
}

// How blocking happened: blocked and partially blocked measurements per day,
// stacked by method.
export function methodSeries(aggregates, filters) {
  const rows = serviceRows(aggregates, filters).filter(
    (r) => r.verdict === "blocked" || r.verdict === "partially_blocked");
  return series(rows, chartDays(aggregates, filters), (r) => r.method ?? "", Object.keys(METHOD_LABELS));
}

export function servicesIn(aggregates, filters) {
  return sortedUnique(serviceRows(aggregates, filters).map((r) => r.service));
}

const COUNT_KEYS = ["accessible", "blocked", "partially_blocked", "down", "inconclusive", "unscorable"];

export function blockingRate(counts) {
  const denominator = counts.accessible + counts.blocked + counts.partially_blocked + counts.down;
  return denominator > 0 ? (counts.blocked + counts.partially_blocked) / denominator : null;
}

// The network table. Over the whole period it is aggregates.networks as
// written (exact probe counts); with a period filter it is recomputed from
// the daily rows, where distinct probes are unknown: probes is then a lower
// bound (probes_at_least).
export function networkRows(aggregates, filters) {
  const periodFiltered = Boolean(filters.since || filters.until);
  if (!periodFiltered) {
    return (aggregates.networks ?? []).filter((r) => matches(r, filters)).map((r) => ({ ...r, probes_at_least: false }));
  }
  const byKey = new Map();
  for (const r of (aggregates.daily ?? []).filter((row) => matches(row, filters))) {
    const key = [r.probe_cc, r.probe_asn, r.service, r.feature ?? ""].join("\u0000");
    if (!byKey.has(key)) {
      byKey.set(key, {
        probe_cc: r.probe_cc, probe_asn: r.probe_asn, probe_network_name: r.probe_network_name,
        service: r.service, feature: r.feature ?? "", measurements: 0, probes: 0, probes_at_least: true,
        counts: Object.fromEntries(COUNT_KEYS.map((k) => [k, 0])), methods: {},
        first_seen: r.day, last_seen: r.day, first_blocked: null, last_blocked: null,
      });
    }
    const n = byKey.get(key);
    n.measurements += r.measurements;
    n.probes = Math.max(n.probes, r.probes ?? 0);
    if (r.verdict in n.counts) n.counts[r.verdict] += r.measurements;
    if (r.method) n.methods[r.method] = (n.methods[r.method] ?? 0) + r.measurements;
    if (r.day < n.first_seen) n.first_seen = r.day;
    if (r.day > n.last_seen) n.last_seen = r.day;
    if (r.verdict === "blocked" || r.verdict === "partially_blocked") {
      if (!n.first_blocked || r.day < n.first_blocked) n.first_blocked = r.day;
      if (!n.last_blocked || r.day > n.last_blocked) n.last_blocked = r.day;
    }
  }
  const out = [...byKey.values()];
  for (const n of out) n.blocking_rate = blockingRate(n.counts);
  return out.sort((a, b) => (a.probe_cc + a.probe_asn + a.service + a.feature).localeCompare(
    b.probe_cc + b.probe_asn + b.service + b.feature));
}

// One row per country: its networks, measurements, probes, and the blocking
// rate of each service over all its networks. Distinct probes across
// services are not in the data: a network's probes are the most that
// measured any one service (exact when every probe runs every service), and
// a country's are the sum over its networks (a probe is in one network),
// so `probes` is a lower bound. Per service, probes are exact sums.
export function countryRows(networks) {
  const byCc = new Map();
  for (const n of networks.filter((r) => (r.feature ?? "") === "")) {
    if (!byCc.has(n.probe_cc)) {
      byCc.set(n.probe_cc, { probe_cc: n.probe_cc, networkProbes: new Map(), measurements: 0, services: new Map() });
    }
    const c = byCc.get(n.probe_cc);
    c.networkProbes.set(n.probe_asn, Math.max(c.networkProbes.get(n.probe_asn) ?? 0, n.probes ?? 0));
    c.measurements += n.measurements;
    if (!c.services.has(n.service)) {
      c.services.set(n.service, { counts: Object.fromEntries(COUNT_KEYS.map((k) => [k, 0])), probes: 0 });
    }
    const s = c.services.get(n.service);
    s.probes += n.probes ?? 0;
    for (const k of COUNT_KEYS) s.counts[k] += n.counts?.[k] ?? 0;
  }
  return [...byCc.values()].sort((a, b) => a.probe_cc.localeCompare(b.probe_cc)).map((c) => ({
    probe_cc: c.probe_cc,
    networks: c.networkProbes.size,
    measurements: c.measurements,
    probes: [...c.networkProbes.values()].reduce((a, b) => a + b, 0),
    services: [...c.services.entries()].sort().map(([service, { counts, probes }]) => ({
      service, counts, probes, blocking_rate: blockingRate(counts),
      measurements: COUNT_KEYS.reduce((sum, k) => sum + counts[k], 0),
    })),
  }));
}

export function changePoints(aggregates, filters) {
  return (aggregates.change_points ?? []).filter((r) => matches(r, filters))
    .sort((a, b) => (b.day ?? "").localeCompare(a.day ?? ""));
}

export function measurementRows(index, filters) {
  return (index ?? []).filter((r) => matches(r, filters));
}

// Choices for the filter menus, from every row of the data.
export function filterChoices(aggregates, index) {
  const rows = [...(aggregates.daily ?? []), ...(aggregates.networks ?? []), ...(index ?? [])];
  const networks = new Map();
  for (const r of rows) {
    if (!r.probe_asn) continue;
    const key = r.probe_cc + " " + r.probe_asn;
    if (!networks.has(key) || (!networks.get(key).name && r.probe_network_name)) {
      networks.set(key, { cc: r.probe_cc, asn: r.probe_asn, name: r.probe_network_name ?? "" });
    }
  }
  return {
    services: sortedUnique(rows.map((r) => r.service).filter(Boolean)),
    countries: sortedUnique(rows.map((r) => r.probe_cc).filter(Boolean)),
    networks: [...networks.values()].sort((a, b) => (a.cc + a.asn).localeCompare(b.cc + b.asn)),
  };
}
