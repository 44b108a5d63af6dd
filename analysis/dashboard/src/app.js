// The dashboard page: loads data/aggregates.json and data/measurements/
// (relative to the page, so the same files work from a directory written by
// `vantage-analyze dashboard` and from the collector's /dashboard/), draws the
// charts with Chart.js and puts a table behind each. State (filters, the open
// measurement) lives in the URL's fragment so a view can be linked to.
// Everything is built with textContent: measurement data is never parsed as HTML.
import {
  Chart, BarController, BarElement, CategoryScale, LinearScale, Legend, Tooltip,
} from "chart.js";
import * as D from "./data.js";
import * as E from "./evidence.js";

Chart.register(BarController, BarElement, CategoryScale, LinearScale, Legend, Tooltip);
Chart.defaults.font.family = getComputedStyle(document.documentElement).fontFamily || "sans-serif";
Chart.defaults.color = "#1a1a1a";
Chart.defaults.animation = false;

const VERDICT_COLOURS = {
  accessible: "#00845f", blocked: "#c0392b", partially_blocked: "#a86b00",
  down: "#0062a3", inconclusive: "#737373", unscorable: "#9c4f96",
};
const METHOD_COLOURS = {
  dns: "#0062a3", tcp_ip: "#c0392b", tls: "#6a3d9a", http: "#a86b00",
  throttling: "#00845f", app_protocol: "#9c4f96", "": "#737373",
};
const SERVICE_NAMES = {
  whatsapp: "WhatsApp", signal: "Signal", telegram: "Telegram",
  facebook_messenger: "Facebook Messenger", wechat: "WeChat",
};
const MAX_TABLE_ROWS = 500;
const LIST_PAGE = 50;

const regionNames = typeof Intl.DisplayNames === "function" ? new Intl.DisplayNames(["en"], { type: "region" }) : null;
const numberFormat = new Intl.NumberFormat("en");

// What tests and curious readers can inspect: the charts and what they show.
const dashboard = { ready: false, charts: {}, filters: {}, measurement: null, error: null, listQuery: "" };
window.vantageDashboard = dashboard;

const pageTitle = document.title;
let aggregates = null;
let index = [];

// ------------------------------------------------------------ small helpers

function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "class") el.className = v;
    else if (k === "text") el.textContent = v;
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

const $ = (id) => document.getElementById(id);
const num = (n) => (n === null || n === undefined ? "–" : numberFormat.format(n));
const seconds = (t) => (typeof t === "number" && Number.isFinite(t) ? t.toFixed(3) : "–");
const pct = (r) => (r === null || r === undefined ? "–" : `${(r * 100).toFixed(r > 0 && r < 0.01 ? 1 : 0)}%`);

function serviceName(s) {
  return SERVICE_NAMES[s] ?? s;
}

function countryName(cc) {
  if (!cc || cc === "ZZ") return cc === "ZZ" ? "Unknown country (ZZ)" : "–";
  try {
    const name = regionNames?.of(cc);
    return name && name !== cc ? `${name} (${cc})` : cc;
  } catch {
    return cc;
  }
}

function networkName(asn, name) {
  return name ? `${asn} ${name}` : asn;
}

function featureName(f) {
  return f ? f.replace(/_/g, " ") : "whole service";
}

// region: the table may be wider than the page; its scrolling box gets a
// tab stop and a name so keyboard users can scroll it.
function table(caption, headers, rows, { numeric = [], region = false } = {}) {
  const head = h("tr", {}, headers.map((t, i) => h("th", { scope: "col", class: numeric.includes(i) ? "num" : null }, t)));
  const body = rows.map((cells) =>
    h("tr", {}, cells.map((c, i) => (i === 0
      ? h("th", { scope: "row" }, c)
      : h("td", { class: numeric.includes(i) ? "num" : null }, c)))));
  return h("div", { class: "table-wrap", tabindex: region ? 0 : null, role: region ? "region" : null,
    "aria-label": region ? caption : null }, h("table", {}, h("caption", { text: caption }), h("thead", {}, head), h("tbody", {}, body)));
}

function empty(text) {
  return h("p", { class: "empty", text });
}

// ------------------------------------------------------------ filters and URL

function readHash() {
  const p = new URLSearchParams(location.hash.replace(/^#/, ""));
  const day = (v) => (/^\d{4}-\d{2}-\d{2}$/.test(v ?? "") ? v : "");
  return {
    filters: {
      service: p.get("service") ?? "", cc: p.get("cc") ?? "", asn: p.get("asn") ?? "",
      since: day(p.get("since")), until: day(p.get("until")),
    },
    measurement: p.get("measurement") ?? "",
  };
}

function writeHash(filters, measurement = "") {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(filters)) if (v) p.set(k, v);
  if (measurement) p.set("measurement", measurement);
  const next = "#" + p.toString();
  if (location.hash !== next && !(location.hash === "" && next === "#")) location.hash = next;
}

function fillSelect(select, choices, selected) {
  const first = select.options[0];
  select.replaceChildren(first);
  for (const { value, label } of choices) select.append(h("option", { value, text: label }));
  select.value = choices.some((c) => c.value === selected) ? selected : "";
}

function formFilters() {
  return {
    service: $("f-service").value, cc: $("f-cc").value, asn: $("f-asn").value,
    since: $("f-since").value, until: $("f-until").value,
  };
}

function syncForm(filters) {
  const choices = D.filterChoices(aggregates, index);
  fillSelect($("f-service"), choices.services.map((s) => ({ value: s, label: serviceName(s) })), filters.service);
  fillSelect($("f-cc"), choices.countries.map((c) => ({ value: c, label: countryName(c) })), filters.cc);
  fillSelect($("f-asn"), choices.networks.filter((n) => !filters.cc || n.cc === filters.cc)
    .map((n) => ({ value: n.asn, label: `${networkName(n.asn, n.name)} (${n.cc})` })), filters.asn);
  for (const k of ["since", "until"]) {
    const input = $(`f-${k}`);
    input.value = filters[k];
    if (aggregates.totals?.first_day) input.min = aggregates.totals.first_day;
    if (aggregates.totals?.last_day) input.max = aggregates.totals.last_day;
  }
}

// ------------------------------------------------------------ charts

function stackedChart(name, container, title, summary, seriesData, labelOf, colours) {
  const figureId = `chart-${name.replace(/[^a-z0-9]+/gi, "-")}`;
  const canvas = h("canvas", { role: "img", "aria-label": `${title}. ${summary} The table below has the numbers.` });
  const datasets = seriesData.series.map((s) => ({
    label: labelOf(s.key), key: s.key,
    data: s.cells.map((c) => c.measurements), probes: s.cells.map((c) => c.probes),
    backgroundColor: colours[s.key] ?? "#4a4a4a", borderColor: "#ffffff", borderWidth: 1,
  }));
  const rows = seriesData.days.map((day, i) => [day, ...seriesData.series.map((s) =>
    s.cells[i].measurements ? `${num(s.cells[i].measurements)} (${num(s.cells[i].probes)} probes)` : "0")]);
  const totals = seriesData.series.map((s) => s.cells.reduce((sum, c) => sum + c.measurements, 0));
  rows.push(["All days", ...totals.map(num)]);
  const figure = h("figure", { id: figureId },
    h("figcaption", {}, title, h("br"), h("span", { class: "note", text: summary })),
    h("div", { class: "chart-box" }, canvas),
    h("details", {}, h("summary", { text: "Show the numbers behind this chart (table)" }),
      table(`${title}: measurements per day (probes summed over networks and methods)`,
        ["Day", ...datasets.map((d) => d.label)], rows,
        { numeric: datasets.map((_, i) => i + 1) })));
  container.append(figure);
  const chart = new Chart(canvas, {
    type: "bar",
    data: { labels: seriesData.days, datasets },
    options: {
      responsive: true, maintainAspectRatio: false,
      scales: {
        x: { stacked: true, ticks: { maxRotation: 0, autoSkip: true, maxTicksLimit: 12 } },
        y: { stacked: true, beginAtZero: true, title: { display: true, text: "measurements" }, ticks: { precision: 0 } },
      },
      plugins: {
        legend: { position: "bottom" },
        tooltip: {
          callbacks: {
            label: (ctx) => `${ctx.dataset.label}: ${num(ctx.raw)} measurements, ${num(ctx.dataset.probes[ctx.dataIndex])} probes`,
          },
        },
      },
    },
  });
  dashboard.charts[name] = chart;
  return chart;
}

function destroyCharts() {
  for (const chart of Object.values(dashboard.charts)) chart.destroy();
  dashboard.charts = {};
}

function probesOfService(service, filters) {
  return D.networkRows(aggregates, { ...filters, service })
    .filter((n) => (n.feature ?? "") === "").reduce((s, n) => s + (n.probes ?? 0), 0);
}

function renderBlocking(filters) {
  const box = $("blocking-charts");
  box.replaceChildren();
  const services = D.servicesIn(aggregates, filters);
  if (services.length === 0) box.append(empty("No measurement matches the filters."));
  for (const service of services) {
    const s = D.verdictSeries(aggregates, filters, service);
    const total = s.series.reduce((sum, x) => sum + x.cells.reduce((a, c) => a + c.measurements, 0), 0);
    const blocked = s.series.filter((x) => x.key === "blocked" || x.key === "partially_blocked")
      .reduce((sum, x) => sum + x.cells.reduce((a, c) => a + c.measurements, 0), 0);
    const probes = probesOfService(service, filters);
    const summary = `${num(total)} measurements from ${filters.since || filters.until ? "at least " : ""}${num(probes)} probes, ` +
      `${s.days[0] ?? "–"} to ${s.days[s.days.length - 1] ?? "–"}; ${num(blocked)} found it blocked or partially blocked.`;
    stackedChart(`blocking:${service}`, box, `${serviceName(service)}: measurements per day by result`, summary, s,
      D.verdictLabel, VERDICT_COLOURS);
  }
}

function renderMethods(filters) {
  const box = $("methods-chart");
  box.replaceChildren();
  const s = D.methodSeries(aggregates, filters);
  if (s.series.length === 0) {
    box.append(empty("No blocked measurement matches the filters."));
    return;
  }
  const total = s.series.reduce((sum, x) => sum + x.cells.reduce((a, c) => a + c.measurements, 0), 0);
  const scope = filters.service ? serviceName(filters.service) : "all services";
  stackedChart("methods", box, `Blocking techniques seen (${scope})`,
    `${num(total)} blocked or partially blocked measurements, by the technique recorded for each.`, s,
    D.methodLabel, METHOD_COLOURS);
}

// ------------------------------------------------------------ tables

function renderChanges(filters) {
  const box = $("changes-list");
  box.replaceChildren();
  const rows = D.changePoints(aggregates, filters);
  if (rows.length === 0) {
    box.append(empty("No change detected for the filters."));
    return;
  }
  const list = h("ul", { class: "changes", "aria-label": "Detected changes" });
  for (const c of rows) {
    list.append(h("li", { class: `change ${c.direction === "unblocked" ? "unblocked" : "blocked"}` },
      h("p", {}, h("strong", { text: c.text || `${serviceName(c.service)} ${c.direction} in ${c.probe_asn} (${c.probe_cc}) since ${c.day}` })),
      h("p", { class: "note", text:
        `${countryName(c.probe_cc)}, network ${c.probe_asn}, ${serviceName(c.service)} (${featureName(c.feature)}): ` +
        `blocked in ${pct(c.rate_before)} of measurements before ${c.day}, ${pct(c.rate_after)} after. ` +
        `Based on ${num(c.measurements)} measurements from ${num(c.probes)} probes.` })));
  }
  box.append(list);
}

function renderCountries(networks) {
  const box = $("countries-table");
  box.replaceChildren();
  const rows = D.countryRows(networks);
  if (rows.length === 0) {
    box.append(empty("No country matches the filters."));
    return;
  }
  box.append(table("Countries: measurements, probes and the blocking rate of each service " +
    "(probes: at least this many; a probe that measured several services counts once)",
    ["Country", "Networks", "Measurements", "Probes", "Blocking rate by service"],
    rows.map((c) => [countryName(c.probe_cc), num(c.networks), num(c.measurements), num(c.probes),
      c.services.map((s) => `${serviceName(s.service)} ${pct(s.blocking_rate)} of ${num(s.measurements)} measurements ` +
        `(${num(s.probes)} probes)`).join("; ")]),
    { numeric: [1, 2, 3] }));
}

function renderNetworks(allNetworks, filters) {
  const box = $("networks-table");
  box.replaceChildren();
  const networks = $("networks-parts").checked ? allNetworks : allNetworks.filter((n) => (n.feature ?? "") === "");
  if (networks.length === 0) {
    box.append(empty("No network matches the filters."));
    return;
  }
  const periodNote = filters.since || filters.until
    ? " For a chosen period, probes are a lower bound (the most probes seen on one day)." : "";
  box.append(h("p", { class: "explain", text:
    ($("networks-parts").checked ? "One row per network, service and part of the service. "
      : "One row per network and service. ") + "Counts are measurements; the blocking rate leaves out " +
    "inconclusive and unscorable ones." + periodNote }));
  const shown = networks.slice(0, MAX_TABLE_ROWS);
  box.append(table(`Networks (${num(networks.length)} rows${networks.length > shown.length ? `, first ${shown.length} shown` : ""})`,
    ["Network", "Service", "Measurements", "Probes", "Blocking rate", "What the measurements found", "Techniques",
      "Blocked (first – last day)"],
    shown.map((n) => [
      h("span", {}, n.probe_asn, h("span", { class: "sub", text: `${n.probe_network_name ?? ""} · ${countryName(n.probe_cc)}` })),
      h("span", {}, serviceName(n.service), n.feature ? h("span", { class: "sub", text: featureName(n.feature) }) : null),
      num(n.measurements), (n.probes_at_least ? "≥ " : "") + num(n.probes), pct(n.blocking_rate),
      D.SERVICE_VERDICTS.filter((v) => n.counts?.[v]).map((v) => `${num(n.counts[v])} ${D.verdictLabel(v).toLowerCase()}`).join(", ") || "–",
      Object.entries(n.methods ?? {}).map(([m, c]) => `${D.methodLabel(m)} ${num(c)}`).join(", ") || "–",
      n.first_blocked ? `${n.first_blocked} – ${n.last_blocked}` : "never"]),
    { numeric: [2, 3, 4], region: true }));
}

// The list is the newest measurements of index.json. Unfiltered, that is
// the newest of all; so, for a filtered view, the page asks for
// index.json?service=…&probe_cc=… as well: the collector answers with the
// newest that match (a static directory ignores the query and sends the
// same file). Either way the rows are filtered here too.
const listIndexes = new Map();  // query -> rows
let listQuery = "";

function serverQuery(filters) {
  const p = new URLSearchParams();
  for (const [ours, theirs] of [["since", "since"], ["until", "until"], ["cc", "probe_cc"], ["asn", "probe_asn"], ["service", "service"]]) {
    if (filters[ours]) p.set(theirs, filters[ours]);
  }
  return p.toString();
}

async function refreshList(filters) {
  const q = serverQuery(filters);
  listQuery = q;
  if (!q || listIndexes.has(q)) return;
  try {
    const rows = await fetchJson(`data/measurements/index.json?${q}`);
    if (!Array.isArray(rows)) return;
    listIndexes.set(q, rows);
    dashboard.listQuery = q;
    if (listQuery === q && !document.body.dataset.measurement) renderList(filters);
  } catch {
    // The unfiltered list stays.
  }
}

function listRows(filters) {
  const q = serverQuery(filters);
  return D.measurementRows(listIndexes.get(q) ?? index, filters);
}

function renderList(filters, limit = LIST_PAGE) {
  const box = $("measurements-table");
  box.replaceChildren();
  const rows = listRows(filters);
  if (rows.length === 0) {
    box.append(empty("No measurement matches the filters."));
    return;
  }
  const shown = rows.slice(0, limit);
  const link = (r) => (D.ID_PATTERN.test(r.id ?? "")
    ? h("a", { href: "#" + new URLSearchParams({ ...Object.fromEntries(Object.entries(filters).filter(([, v]) => v)), measurement: r.id }),
      class: "measurement-link", text: r.measurement_start_time || r.day })
    : (r.measurement_start_time || r.day));
  box.append(table(`${num(rows.length)} measurements match${rows.length > shown.length ? `; the newest ${num(shown.length)} are listed` : ""}`,
    ["Time (UTC)", "Country", "Network", "Service", "Result", "Techniques", "Scored by", "Software"],
    shown.map((r) => [link(r), countryName(r.probe_cc), r.probe_asn, serviceName(r.service),
      h("span", { class: `verdict verdict-${r.verdict}`, text: D.verdictLabel(r.verdict) }),
      (r.methods ?? []).map(D.methodLabel).join(", ") || "–", r.scoring_rule ?? "–", r.software_name ?? "–"]),
    { region: true }));
  if (rows.length > shown.length) {
    const more = h("button", { type: "button", class: "more", text: `Show ${Math.min(LIST_PAGE, rows.length - shown.length)} more` });
    more.addEventListener("click", () => {
      renderList(filters, limit + LIST_PAGE);
      box.querySelectorAll("a.measurement-link")[limit]?.focus();
    });
    box.append(more);
  }
}

function renderTotals() {
  const t = aggregates.totals ?? {};
  $("totals").textContent = `${num(t.measurements)} measurements from ${num(t.probes)} probes, ${t.first_day ?? "–"} to ` +
    `${t.last_day ?? "–"}. ${num(t.scored)} could be scored; ${num(t.unscorable)} could not (they are counted apart, never as accessible).`;
  $("generated").textContent = aggregates.generated_at ?? "";
}

function renderOverview(filters) {
  destroyCharts();
  renderBlocking(filters);
  renderMethods(filters);
  renderChanges(filters);
  const networks = D.networkRows(aggregates, filters);
  renderCountries(networks);
  renderNetworks(networks, filters);
  renderList(filters);
  refreshList(filters);
}

// ------------------------------------------------------------ drill-down

function section(title, content) {
  return h("section", { class: "evidence", "aria-label": title }, h("h3", { text: title }), content);
}

function renderMeasurement(m, id) {
  const a = m.x_analysis ?? {};
  const entry = index.find((r) => r.id === id) ?? [...listIndexes.values()].flat().find((r) => r.id === id) ?? {};
  const body = $("measurement-body");
  body.replaceChildren();
  const verdict = a.service_verdict ?? entry.verdict ?? "unscorable";
  $("measurement-h").textContent = `${serviceName(entry.service ?? m.test_name)} measurement in ${countryName(m.probe_cc)}, ` +
    `${(m.measurement_start_time ?? "").slice(0, 10)}`;
  document.title = `${$("measurement-h").textContent} – Vantage`;
  body.append(h("dl", { class: "facts" },
    h("dt", { text: "Service" }), h("dd", { text: serviceName(entry.service ?? m.test_name) }),
    h("dt", { text: "Result" }), h("dd", {}, h("span", { class: `verdict verdict-${verdict}`, id: "measurement-verdict", text: D.verdictLabel(verdict) })),
    h("dt", { text: "Time (UTC)" }), h("dd", { text: m.measurement_start_time ?? "–" }),
    h("dt", { text: "Where" }), h("dd", { text: `${countryName(m.probe_cc)}, network ${networkName(m.probe_asn, m.probe_network_name)}` }),
    h("dt", { text: "Test" }), h("dd", { text: `${m.test_name ?? "–"} ${m.test_version ?? ""}` }),
    h("dt", { text: "Software" }), h("dd", { text: `${m.software_name ?? "–"} ${m.software_version ?? ""}` }),
    h("dt", { text: "Scored by" }), h("dd", { text: a.scoring_rule ?? entry.scoring_rule ?? "–" }),
    h("dt", { text: "Measurement id" }), h("dd", { text: id })));

  const features = E.featureRows(m);
  body.append(section("What the scorer decided, part by part", features.length
    ? table("Result of each part of the service", ["Part", "Result", "Techniques"],
      features.map((f) => [featureName(f.feature), D.verdictLabel(f.status), f.methods.map(D.methodLabel).join(", ") || "–"]))
    : empty("No per-part result recorded.")));
  if (Array.isArray(a.notes) && a.notes.length) {
    body.append(h("ul", { class: "notes" }, a.notes.map((n) => h("li", { text: String(n) }))));
  }

  const dns = E.dnsRows(m);
  body.append(section("DNS answers", dns.length
    ? table("DNS: each answer with its record TTL and the IP TTL of the response packet (an injected answer often has a different IP TTL)",
      ["Name", "Type", "Answer", "Record TTL", "IP TTL", "Resolver", "Failure"],
      dns.map((r) => [r.hostname, r.answer_type || r.query_type, r.answer || "–", r.ttl ?? "–", r.ip_ttl ?? "–",
        `${r.resolver} ${r.engine}`.trim() || "–", r.failure ?? "–"]), { numeric: [3, 4] })
    : empty("No DNS lookup recorded.")));

  const endpoints = E.endpointRows(m);
  if (endpoints.length) {
    body.append(section("Endpoints tried", table("Each address the probe tried", ["Endpoint", "Address", "Steps", "Part", "Attempts"],
      endpoints.map((e) => [e.endpoint, e.ip || "–", e.chain || "–", featureName(e.feature),
        e.measured ? String(e.attempts ?? "–") : "never measured (the run was interrupted)"]))));
  }

  const reasons = E.verdictEndpointRows(m);
  if (reasons.length) {
    body.append(section("Why the probe judged it so", table("The probe's verdict for each endpoint, with its evidence",
      ["Endpoint", "Address", "Part", "Status", "Technique", "Evidence"],
      reasons.map((r) => [r.endpoint, r.ip || "–", featureName(r.feature), r.status, r.method ? D.methodLabel(r.method) : "–",
        r.evidence.join(" ") || (r.failure ? String(r.failure) : "–")]))));
  }

  const failures = E.failureRows(m);
  body.append(section("Failures", failures.length
    ? table("Network steps that failed", ["Step", "Target", "Failure", "At (s)"],
      failures.map((f) => [f.step, f.target, String(f.failure), seconds(f.t)]), { numeric: [3] })
    : empty("No network step failed.")));

  const anomalies = E.anomalyRows(m);
  body.append(section(`What the packet capture saw (${E.captureStatus(m)})`, anomalies.length
    ? table("Anomalies found in the probe's own packet capture", ["Anomaly", "Endpoint", "At (s)", "Evidence"],
      anomalies.map((x) => [String(x.kind).replace(/_/g, " "), x.endpoint || "–", seconds(x.t),
        Object.entries(x.evidence).map(([k, v]) => `${k}: ${typeof v === "object" ? JSON.stringify(v) : v}`).join("; ") || "–"]),
      { numeric: [2] })
    : empty("No capture anomaly recorded.")));

  const control = E.controlRows(m);
  body.append(section("The control's view (from outside the network)", control.length
    ? table(`What the control helper saw${m.test_keys?.x_control?.url ? ` (${m.test_keys.x_control.url})` : ""}`,
      ["Endpoint", "Reachable from the control", "Details"],
      control.map((c) => [c.endpoint, c.reachable ? "yes" : "no", c.summary]))
    : empty("The control was not asked (no endpoint failed, or no control configured).")));

  const raw = JSON.stringify(m, null, 2);
  body.append(h("details", {}, h("summary", { text: "The whole measurement (JSON)" }),
    h("pre", { text: raw.length > 300000 ? raw.slice(0, 300000) + "\n… (truncated)" : raw })));
}

async function openMeasurement(id) {
  const sectionEl = $("measurement");
  for (const s of document.querySelectorAll("main > section")) s.hidden = s !== sectionEl;
  sectionEl.hidden = false;
  $("filters").hidden = true;  // they narrow the overview, not one measurement
  $("measurement-h").textContent = "One measurement";
  const body = $("measurement-body");
  dashboard.measurement = null;
  document.body.dataset.measurement = "loading";
  if (!D.ID_PATTERN.test(id)) {
    body.replaceChildren(h("p", { class: "error", role: "alert", text: "This is not a valid measurement id." }));
    document.body.dataset.measurement = "error";
    return;
  }
  body.replaceChildren(h("p", { text: "Loading the measurement…" }));
  try {
    const res = await fetch(`data/measurements/${encodeURIComponent(id)}.json`);
    if (!res.ok) throw new Error(`the measurement file answered HTTP ${res.status}`);
    const m = await res.json();
    renderMeasurement(m, id);
    dashboard.measurement = id;
    document.body.dataset.measurement = "ready";
  } catch (err) {
    body.replaceChildren(h("p", { class: "error", role: "alert", text: `Could not load measurement ${id}: ${err.message}` }));
    document.body.dataset.measurement = "error";
  }
  $("measurement-h").focus();
}

function closeMeasurement() {
  for (const s of document.querySelectorAll("main > section")) s.hidden = s.id === "measurement";
  $("filters").hidden = false;
  document.title = pageTitle;
  document.body.dataset.measurement = "";
}

// ------------------------------------------------------------ wiring

let lastFiltersKey = null;

function route() {
  if (!aggregates) return;
  const { filters, measurement } = readHash();
  dashboard.filters = filters;
  const key = JSON.stringify(filters);
  if (key !== lastFiltersKey) {
    syncForm(filters);
    renderOverview(filters);
    lastFiltersKey = key;
  }
  if (measurement) openMeasurement(measurement);
  else if (document.body.dataset.measurement) {
    closeMeasurement();
    $("list-h").scrollIntoView?.();
  }
}

async function fetchJson(path) {
  const res = await fetch(path);
  if (!res.ok) throw new Error(`${path} answered HTTP ${res.status}`);
  return res.json();
}

async function start() {
  $("networks-parts").addEventListener("change", () => renderNetworks(D.networkRows(aggregates, dashboard.filters), dashboard.filters));
  $("filters").addEventListener("change", (ev) => {
    const f = formFilters();
    if (ev.target.id === "f-cc") f.asn = "";  // a network belongs to one country
    writeHash(f);
  });
  $("filters").addEventListener("submit", (ev) => ev.preventDefault());
  $("f-reset").addEventListener("click", () => writeHash({}));
  $("measurement-close").addEventListener("click", (ev) => {
    ev.preventDefault();
    writeHash(readHash().filters);
  });
  window.addEventListener("hashchange", route);
  try {
    aggregates = await fetchJson("data/aggregates.json");
    try {
      index = await fetchJson("data/measurements/index.json");
      if (!Array.isArray(index)) index = [];
    } catch {
      index = [];  // the overview works without the list
    }
    renderTotals();
    route();
    dashboard.ready = true;
    document.body.dataset.state = "ready";
  } catch (err) {
    dashboard.error = err.message;
    $("totals").textContent = "";
    const box = $("error");
    box.hidden = false;
    box.textContent = `The data could not be loaded (${err.message}). The page expects data/aggregates.json next to it.`;
    document.body.dataset.state = "error";
  }
}

start();
