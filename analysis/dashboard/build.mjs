// Bundles the dashboard into one self-contained directory (no CDN, no web
// fonts): index.html, style.css, app.js (Chart.js included) and the licence
// of what was bundled. Usage: node build.mjs --src SRC_DIR --out DIR
// Run by CMake's `dashboard` target from a copy of this file next to the
// node_modules `npm ci` installed in the build tree (so the source tree
// stays clean); SRC_DIR is analysis/dashboard/src.
import { build } from "esbuild";
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
function arg(name, fallback) {
  const i = process.argv.indexOf(name);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}
const src = arg("--src", join(here, "src"));
const out = arg("--out", null);
if (!out) {
  console.error("usage: node build.mjs --src SRC_DIR --out DIR");
  process.exit(2);
}
const modules = join(here, "node_modules");
mkdirSync(out, { recursive: true });

await build({
  entryPoints: [join(src, "app.js")],
  nodePaths: [modules],
  bundle: true,
  format: "iife",
  target: ["es2020"],
  minify: true,
  legalComments: "eof",
  outfile: join(out, "app.js"),
  logLevel: "warning",
});
for (const f of ["index.html", "style.css"]) copyFileSync(join(src, f), join(out, f));

const chartDir = join(modules, "chart.js");
const chartVersion = JSON.parse(readFileSync(join(chartDir, "package.json"), "utf8")).version;
const licence = readFileSync(join(chartDir, "LICENSE.md"), "utf8");
writeFileSync(join(out, "THIRD-PARTY-LICENSES.txt"),
  `app.js bundles Chart.js ${chartVersion} (https://www.chartjs.org/), under this licence:\n\n${licence}`);
console.log(`dashboard: wrote ${out}`);
