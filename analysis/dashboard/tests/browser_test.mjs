// The dashboard in headless Chromium (ctest `dashboard_browser`, label
// `browser`): the pages written by write_dashboard_site() with fixture data
// (make_fixture.mjs) are loaded from a static server on 127.0.0.1 and from a
// live vantage-collector's /dashboard/. Checks, against the fixture's ground
// truth (one row per measurement, not aggregates.json): every chart's series,
// that the bars were drawn, the tables behind the charts, change points,
// countries, a filter, keyboard navigation, the drill-down's evidence, and
// that no request left 127.0.0.1. Saves screenshots into --work (CI keeps
// them as artifacts).
//
// node browser_test.mjs --modules NODE_MODULES --assets SITE_DIR --write-site PROGRAM
//                       --collector VANTAGE_COLLECTOR --work DIR
import { spawn, spawnSync } from "node:child_process";
import { createReadStream, existsSync, mkdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { createServer } from "node:http";
import { createRequire } from "node:module";
import { dirname, extname, join, normalize, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import assert from "node:assert/strict";

const here = dirname(fileURLToPath(import.meta.url));
function arg(name) {
  const i = process.argv.indexOf(name);
  if (i < 0 || !process.argv[i + 1]) {
    console.error(`browser_test: missing ${name}`);
    process.exit(2);
  }
  return process.argv[i + 1];
}
const modules = arg("--modules"), assets = arg("--assets"), writeSite = arg("--write-site");
const collectorPath = arg("--collector"), work = resolve(arg("--work"));
const { chromium } = createRequire(join(modules, "noop.js"))("playwright-core");

const CHROMIUM = "/usr/bin/chromium";
assert.ok(existsSync(CHROMIUM), "Debian's chromium is needed (ci/install-deps.sh installs it)");

// ---------------------------------------------------------------- the site
rmSync(work, { recursive: true, force: true });
mkdirSync(work, { recursive: true });
const site = join(work, "site");
function run(cmd, args) {
  const r = spawnSync(cmd, args, { encoding: "utf8" });
  assert.equal(r.status, 0, `${cmd} ${args.join(" ")} failed: ${r.stderr}`);
  return r.stdout;
}
run(writeSite, [assets, site]);
run(process.execPath, [join(here, "make_fixture.mjs"), "--out", join(site, "data"), "--truth", join(work, "truth.json")]);
const truth = JSON.parse(readFileSync(join(work, "truth.json"), "utf8"));

// ---------------------------------------------------------------- expected series, from the ground truth
const DAYS = [...new Set(truth.map((t) => t.day))].sort();
function expectedSeries(rows, keyOf) {
  const out = {};
  for (const r of rows) {
    const key = keyOf(r);
    out[key] ??= DAYS.map(() => 0);
    out[key][DAYS.indexOf(r.day)]++;
  }
  return out;
}
function expectedCharts(filter = () => true) {
  const rows = truth.filter(filter);
  const charts = {};
  for (const service of [...new Set(rows.map((r) => r.service))]) {
    charts[`blocking:${service}`] = expectedSeries(rows.filter((r) => r.service === service), (r) => r.verdict);
  }
  const blocked = rows.filter((r) => r.verdict === "blocked" || r.verdict === "partially_blocked");
  if (blocked.length) charts.methods = expectedSeries(blocked, (r) => r.method);
  return charts;
}

// ---------------------------------------------------------------- servers on loopback
const TYPES = { ".html": "text/html", ".js": "text/javascript", ".css": "text/css", ".json": "application/json", ".txt": "text/plain" };
// /empty/... serves the same pages without their data files.
const staticServer = createServer((req, res) => {
  let path = normalize(decodeURIComponent(new URL(req.url, "http://x").pathname)).replace(/^\/+/, "");
  if (path.startsWith("empty/")) {
    path = path.slice(6);
    if (path.startsWith("data/")) path = "missing";
  }
  const file = join(site, path === "" ? "index.html" : path);
  if (!file.startsWith(site + "/") || !existsSync(file) || !statSync(file).isFile()) {
    res.writeHead(404).end("not found");
    return;
  }
  res.writeHead(200, { "Content-Type": TYPES[extname(file)] ?? "application/octet-stream" });
  createReadStream(file).pipe(res);
});
await new Promise((ok) => staticServer.listen(0, "127.0.0.1", ok));
const staticBase = `http://127.0.0.1:${staticServer.address().port}/`;

const collector = spawn(collectorPath, ["--listen", "127.0.0.1:0", "--store", `sqlite:${join(work, "collector.sqlite")}`,
  "--no-control", "--rate", "0", "--dashboard-assets", assets, "--dashboard-data", join(site, "data")],
{ stdio: ["ignore", "ignore", "pipe"] });
process.on("exit", () => collector.kill("SIGTERM"));
const collectorAddress = await new Promise((ok, fail) => {
  let buffer = "";
  const timer = setTimeout(() => fail(new Error(`collector did not start: ${buffer}`)), 10000);
  collector.stderr.on("data", (chunk) => {
    buffer += chunk;
    const m = buffer.match(/"event":"listening"[^\n]*?"address":"([^"]+)"|"address":"([^"]+)"[^\n]*?"event":"listening"/);
    if (m) {
      clearTimeout(timer);
      ok(m[1] ?? m[2]);
    }
  });
  collector.on("exit", (code) => fail(new Error(`collector exited (${code}): ${buffer}`)));
});
const collectorBase = `http://${collectorAddress}/dashboard/`;

// ---------------------------------------------------------------- the browser
const profile = join(work, "chromium-profile");
const browser = await chromium.launchPersistentContext(profile, {
  executablePath: CHROMIUM,
  headless: true,
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync"],
  viewport: { width: 1200, height: 900 },
});
const offHost = [];
await browser.route("**/*", (route) => {
  const url = new URL(route.request().url());
  if (url.hostname === "127.0.0.1") return route.continue();
  offHost.push(url.href);
  return route.abort();
});

let failures = 0;
async function check(name, fn) {
  const started = Date.now();
  try {
    await fn();
    console.log(`ok   ${name} (${Date.now() - started} ms)`);
  } catch (err) {
    failures++;
    console.log(`FAIL ${name}: ${err.stack ?? err}`);
  }
}

async function openPage(url) {
  const page = await browser.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(`page error: ${e.message}`));
  page.on("console", (m) => { if (m.type() === "error") errors.push(`console: ${m.text()}`); });
  await page.goto(url);
  await page.waitForSelector("body[data-state]", { timeout: 15000 });
  assert.equal(await page.getAttribute("body", "data-state"), "ready", `the page did not load its data: ${errors.join("; ")}`);
  return { page, errors };
}

// The series each chart holds, and whether its bars were drawn with a height.
function readCharts(page) {
  return page.evaluate(() => Object.fromEntries(Object.entries(window.vantageDashboard.charts).map(([name, c]) => [name, {
    labels: c.data.labels,
    series: Object.fromEntries(c.data.datasets.map((d) => [d.key, d.data])),
    drawn: c.data.datasets.every((d, i) => c.getDatasetMeta(i).data.every((bar, j) =>
      d.data[j] === 0 || Math.abs(bar.base - bar.y) > 0.5)),
    canvas: [c.canvas.width, c.canvas.height],
  }])));
}

function assertCharts(charts, expected) {
  assert.deepEqual(Object.keys(charts).sort(), Object.keys(expected).sort(), "the charts on the page");
  for (const [name, want] of Object.entries(expected)) {
    const got = charts[name];
    assert.deepEqual(got.labels, DAYS, `${name}: one bar per day`);
    assert.deepEqual(Object.keys(got.series).sort(), Object.keys(want).sort(), `${name}: its series`);
    for (const key of Object.keys(want)) assert.deepEqual(got.series[key], want[key], `${name}: series ${key}`);
    assert.ok(got.drawn, `${name}: every non-zero value has a drawn bar`);
    assert.ok(got.canvas[0] > 300 && got.canvas[1] > 100, `${name}: canvas size ${got.canvas}`);
  }
}

async function checkOverview(label, url, screenshot) {
  await check(`${label}: charts hold the ground truth's series`, async () => {
    const { page, errors } = await openPage(url);
    assertCharts(await readCharts(page), expectedCharts());
    // One table behind each chart: a row per day plus the total.
    const tableRows = await page.$$eval("figure details table tbody", (bodies) => bodies.map((b) => b.rows.length));
    assert.deepEqual(tableRows, tableRows.map(() => DAYS.length + 1));
    assert.equal(tableRows.length, Object.keys(expectedCharts()).length);
    const totals = await page.textContent("#totals");
    assert.match(totals, new RegExp(`^${truth.length} measurements from ${new Set(truth.map((t) => t.probe)).size} probes`));
    assert.match(await page.textContent("#changes-list"), /WhatsApp blocked in AS58224 \(IR\) since 2026-11-20/);
    assert.match(await page.textContent("#changes-list"), /60 measurements from 3 probes/);
    const countries = await page.$$eval("#countries-table tbody th", (ths) => ths.map((t) => t.textContent));
    assert.deepEqual(countries, ["Germany (DE)", "Iran (IR)", "Russia (RU)"]);
    // Probes per country: distinct probes of the ground truth (each runs every service).
    const probeCells = await page.$$eval("#countries-table tbody tr", (trs) => trs.map((tr) => tr.cells[3].textContent));
    const distinct = (cc) => String(new Set(truth.filter((t) => t.probe_cc === cc).map((t) => t.probe)).size);
    assert.deepEqual(probeCells, ["DE", "IR", "RU"].map(distinct));
    // Russia's Signal: blocked in every judged measurement but the outage day's "down".
    const ru = await page.$eval("#countries-table tbody tr:nth-child(3)", (tr) => tr.textContent);
    assert.match(ru, /Signal 97% of 60 measurements \(2 probes\)/);
    assert.deepEqual(errors, []);
    if (screenshot) {
      await page.screenshot({ path: join(work, screenshot), fullPage: true });
      // The tables on their own, readable at full size.
      await page.locator("#networks").screenshot({ path: join(work, screenshot.replace(".png", "-networks.png")) });
      await page.locator("#list").screenshot({ path: join(work, screenshot.replace(".png", "-list.png")) });
    }
    await page.close();
  });
}

await checkOverview("static directory", staticBase + "index.html", "dashboard-overview.png");
await checkOverview("collector /dashboard/", collectorBase, null);

await check("collector: /dashboard redirects, traversal and bad ids are refused", async () => {
  const base = `http://${collectorAddress}`;
  const redirect = await fetch(`${base}/dashboard`, { redirect: "manual" });
  assert.equal(redirect.status, 301);
  assert.equal(redirect.headers.get("location"), "/dashboard/");
  assert.equal((await fetch(`${base}/dashboard/app.js`)).headers.get("content-type"), "text/javascript; charset=utf-8");
  assert.equal((await fetch(`${base}/dashboard/data/measurements/a%2F..%2F..%2Faggregates.json`)).status, 400);
  assert.equal((await fetch(`${base}/dashboard/data/measurements/nope.json`)).status, 404);
});

await check("filters: service and country narrow every chart", async () => {
  const { page, errors } = await openPage(staticBase + "index.html");
  await page.selectOption("#f-service", "whatsapp");
  await page.waitForFunction(() => window.vantageDashboard.filters.service === "whatsapp");
  await page.selectOption("#f-cc", "IR");
  await page.waitForFunction(() => window.vantageDashboard.filters.cc === "IR");
  assert.match(page.url(), /service=whatsapp&cc=IR/);
  assertCharts(await readCharts(page), expectedCharts((r) => r.service === "whatsapp" && r.probe_cc === "IR"));
  const networks = await page.$$eval("#f-asn option", (os) => os.map((o) => o.value));
  assert.deepEqual(networks, ["", "AS197207", "AS58224"]);
  await page.fill("#f-since", "2026-11-20");
  await page.dispatchEvent("#f-since", "change");
  await page.waitForFunction(() => window.vantageDashboard.filters.since === "2026-11-20");
  const labels = await page.evaluate(() => window.vantageDashboard.charts["blocking:whatsapp"].data.labels);
  assert.equal(labels[0], "2026-11-20");
  assert.equal(labels.length, 11);
  assert.deepEqual(errors, []);
  await page.close();
});

// The page asks for the filtered list (index.json?filters: the live
// collector answers with the newest that match; analysis_pipeline_test checks
// that side); a data directory ignores the query, and the page still shows
// only what matches.
await check("filters: the list is asked for with the filters and shows only what matches", async () => {
  const { page, errors } = await openPage(`${collectorBase}#service=whatsapp&cc=IR`);
  await page.waitForFunction(() => window.vantageDashboard.listQuery === "probe_cc=IR&service=whatsapp", null, { timeout: 10000 });
  const want = truth.filter((t) => t.service === "whatsapp" && t.probe_cc === "IR").length;
  assert.match(await page.textContent("#measurements-table"), new RegExp(`^${want} measurements match`));
  assert.deepEqual(errors, []);
  await page.close();
});

await check("keyboard: Tab reaches the filters, tables and measurements; Enter opens one", async () => {
  const { page, errors } = await openPage(staticBase + "index.html#service=whatsapp&asn=AS58224");
  const reached = [];
  for (let i = 0; i < 60 && !reached.includes("measurement-link"); i++) {
    await page.keyboard.press("Tab");
    reached.push(await page.evaluate(() => {
      const el = document.activeElement;
      return el.id || (el.classList.contains("measurement-link") ? "measurement-link" : el.tagName.toLowerCase());
    }));
  }
  for (const id of ["f-service", "f-cc", "f-asn", "f-since", "f-until", "f-reset", "summary", "measurement-link"]) {
    assert.ok(reached.includes(id), `Tab never reached ${id}: ${reached.join(" ")}`);
  }
  // Every control has a label.
  const unlabelled = await page.$$eval("select, input, button", (els) => els.filter((e) => !e.labels?.length && !e.textContent.trim()).length);
  assert.equal(unlabelled, 0);
  const href = await page.evaluate(() => document.activeElement.getAttribute("href"));
  await page.keyboard.press("Enter");
  await page.waitForSelector("body[data-measurement=ready]", { timeout: 10000 });
  assert.ok(page.url().endsWith(href), `${page.url()} vs ${href}`);
  assert.equal(await page.isVisible("#measurement"), true);
  assert.equal(await page.isVisible("#blocking"), false);
  // The newest measurement of that network is after 2026-11-20: DNS-blocked.
  assert.equal(await page.textContent("#measurement-verdict"), "Blocked");
  assert.match(await page.title(), /^WhatsApp measurement in Iran \(IR\), 2026-11-\d\d/);
  assert.equal(await page.evaluate(() => document.activeElement.id), "measurement-h");  // focus moved to it
  await page.click("#measurement-close");
  await page.waitForFunction(() => !document.body.dataset.measurement);
  assert.equal(await page.isVisible("#blocking"), true);
  assert.deepEqual(errors, []);
  await page.close();
});

function evidenceOf(page) {
  return page.$$eval("#measurement-body section.evidence", (sections) => Object.fromEntries(sections.map((s) => [
    s.querySelector("h3").textContent,
    [...s.querySelectorAll("tbody tr")].map((tr) => [...tr.cells].map((c) => c.textContent)),
  ])));
}

await check("drill-down: DNS answers with IP TTLs, failures, capture anomalies, the control's view", async () => {
  const dnsBlocked = truth.find((t) => t.service === "whatsapp" && t.probe_asn === "AS58224" && t.day === "2026-11-25");
  const { page, errors } = await openPage(`${staticBase}index.html#measurement=${dnsBlocked.id}`);
  await page.waitForSelector("body[data-measurement=ready]", { timeout: 10000 });
  const ev = await evidenceOf(page);
  const dns = ev["DNS answers"];
  const messaging = dns.find((r) => r[0] === "e1.whatsapp.net");
  assert.deepEqual(messaging.slice(0, 5), ["e1.whatsapp.net", "A", "10.10.34.35", "0", "251"]);
  assert.ok(ev.Failures.some((r) => r[0] === "TCP connect" && r[1] === "10.10.34.35:5222" && r[2] === "generic_timeout_error"));
  const capture = Object.entries(ev).find(([k]) => k.startsWith("What the packet capture saw"));
  assert.match(capture[0], /capture on/);
  assert.ok(capture[1].some((r) => r[0] === "dns ttl mismatch" && r[1] === "e1.whatsapp.net:5222" && /ttls: \[251,57\]/.test(r[3])));
  const control = ev["The control's view (from outside the network)"];
  assert.ok(control.some((r) => r[0] === "e1.whatsapp.net:5222" && r[1] === "yes" && /TCP 198\.18\.10\.11:5222: connected/.test(r[2])));
  const why = ev["Why the probe judged it so"];
  assert.ok(why.some((r) => r[0] === "e1.whatsapp.net:5222" && r[3] === "blocked" && r[4] === "DNS tampering" &&
    /DNS answered 10\.10\.34\.35 for e1\.whatsapp\.net/.test(r[5])), JSON.stringify(why));
  assert.ok(ev["Endpoints tried"].some((r) => r[0] === "e1.whatsapp.net:5222" && r[4] === "2"));
  assert.ok(ev["What the scorer decided, part by part"].some((r) => r[0] === "messaging" && r[1] === "Blocked" && r[2] === "DNS tampering"));
  await page.screenshot({ path: join(work, "dashboard-measurement.png"), fullPage: true });

  // A TLS-reset Signal measurement in Russia, from the collector this time.
  const tlsBlocked = truth.find((t) => t.service === "signal" && t.probe_cc === "RU" && t.verdict === "blocked");
  await page.goto(`${collectorBase}#measurement=${tlsBlocked.id}`);
  await page.waitForSelector("body[data-measurement=ready]", { timeout: 10000 });
  const ev2 = await evidenceOf(page);
  assert.ok(ev2.Failures.some((r) => r[0] === "TLS handshake" && r[1].startsWith("chat.signal.org") && r[2] === "connection_reset"));
  assert.ok(Object.entries(ev2).find(([k]) => k.startsWith("What the packet capture"))[1].some((r) => r[0] === "tcp rst injected"));
  // An unscorable one says so, and a bad id is refused before any request.
  const unscorable = truth.find((t) => t.verdict === "unscorable");
  await page.goto(`${staticBase}index.html#measurement=${unscorable.id}`);
  await page.waitForSelector("body[data-measurement=ready]", { timeout: 10000 });
  assert.equal(await page.textContent("#measurement-verdict"), "Could not be scored");
  await page.goto(`${staticBase}index.html#measurement=..%2Fsecret`);
  await page.waitForSelector("body[data-measurement=error]", { timeout: 10000 });
  assert.match(await page.textContent("#measurement-body"), /not a valid measurement id/);
  assert.deepEqual(errors, []);
  await page.close();
});

await check("without data files the page says what is missing", async () => {
  const page = await browser.newPage();
  await page.goto(staticBase + "empty/index.html");
  await page.waitForSelector("body[data-state]", { timeout: 15000 });
  assert.equal(await page.getAttribute("body", "data-state"), "error");
  assert.equal(await page.isVisible("#error"), true);
  assert.match(await page.textContent("#error"), /data\/aggregates\.json answered HTTP 404/);
  await page.close();
});

await check("nothing was fetched from outside 127.0.0.1", async () => {
  assert.deepEqual(offHost, []);
});

await browser.close();
collector.kill("SIGTERM");
staticServer.close();
console.log(`screenshots: ${join(work, "dashboard-overview.png")}, ${join(work, "dashboard-measurement.png")}`);
if (failures) {
  console.log(`${failures} check(s) failed`);
  process.exit(1);
}
console.log("all dashboard browser checks passed");
