// Lighthouse (pinned in package-lock.json) on the dashboard in Debian's
// Chromium; run by tests/browser.sh against a running local stack.  Prints
// one line per check as browser.js does ("OK<TAB>what", "NOK<TAB>what<TAB>
// detail"), and the scores as "#" lines.
//
// Lighthouse's default configuration: a phone (its mobile form factor and
// screen) on simulated throttling (a slow 4G network and a 4x slower CPU,
// modelled from one unthrottled load).  The four categories are scored
// RUNS times (3) in one browser and the run Lighthouse's own
// computeMedianRun picks (the one nearest the median first contentful
// paint and time to interactive) is the one checked: the performance score
// of a single run moves by a few points with the load on the machine, the
// other three do not move.  Targets: performance >= 95, accessibility,
// best practices and SEO 100.  The accessibility audits are axe-core's
// rules (the axe-core Lighthouse bundles): every one that fails is named.
// Its audit of render-blocking requests must find none, and that of
// uncompressed text none of the page's own files (/, /app.js, /app.css).
//
// Environment: BASE (http://127.0.0.1:PORT), CHROMIUM, PROFILE (a scratch
// directory), ARTIFACTS (the median run's report goes there as
// lighthouse-LABEL.json), LABEL (hour or day), RUNS.
"use strict";
const puppeteer = require("puppeteer-core");
const launch = require("./launch.js");
const path = require("path");
const fs = require("fs");
const { pathToFileURL } = require("url");

const BASE = process.env.BASE;
const LABEL = process.env.LABEL || "hour";
const RUNS = Math.max(1, +(process.env.RUNS || 3));
const TARGET = { performance: 95, accessibility: 100, "best-practices": 100, seo: 100 };

function report(kind, what, detail) {
  console.log([kind, what, String(detail || "").replace(/\s+/g, " ").slice(0, 900)].join("\t"));
}
function check(cond, what, detail) { report(cond ? "OK" : "NOK", what, cond ? "" : detail); }
function note(text) { report("#", text, ""); }

// an ES module of the npm tree browser.sh installed (NODE_PATH)
function load(rel) {
  return import(pathToFileURL(require.resolve(rel)).href);
}

const score = (lhr, c) => Math.round(lhr.categories[c].score * 100);
// the audits of a category that lose points, "id (score)"
function losing(lhr, c) {
  return lhr.categories[c].auditRefs.filter((r) => r.weight > 0)
    .map((r) => lhr.audits[r.id])
    .filter((a) => a.score !== null && a.score < 1)
    .map((a) => `${a.id} (${a.score}${a.displayValue ? ", " + a.displayValue : ""})`);
}

(async () => {
  const lighthouse = (await load("lighthouse")).default;
  const { computeMedianRun } = await load("lighthouse/core/lib/median-run.js");
  const versions = ["lighthouse", "axe-core"].map((p) =>
    p + " " + JSON.parse(fs.readFileSync(require.resolve(p + "/package.json"), "utf8")).version);

  const browser = await launch(puppeteer);
  const runs = [];
  try {
    const port = +new URL(browser.wsEndpoint()).port;
    for (let i = 0; i < RUNS; i++) {
      const t0 = Date.now();
      const r = await lighthouse(BASE + "/", { port, output: "json", logLevel: "error",
        onlyCategories: Object.keys(TARGET) });
      const lhr = r.lhr;
      if (lhr.runtimeError) throw new Error(lhr.runtimeError.code + ": " + lhr.runtimeError.message);
      runs.push(lhr);
      const m = (id) => lhr.audits[id].displayValue;
      note(`${LABEL} run ${i + 1} of ${RUNS} (${((Date.now() - t0) / 1000).toFixed(0)} s): ` +
        Object.keys(TARGET).map((c) => `${c} ${score(lhr, c)}`).join(", ") +
        ` (FCP ${m("first-contentful-paint")}, LCP ${m("largest-contentful-paint")},` +
        ` TBT ${m("total-blocking-time")}, CLS ${m("cumulative-layout-shift")},` +
        ` SI ${m("speed-index")})`);
    }
  } finally {
    await browser.close();
  }

  const med = computeMedianRun(runs);
  const which = runs.indexOf(med) + 1;
  fs.writeFileSync(path.join(process.env.ARTIFACTS, `lighthouse-${LABEL}.json`), JSON.stringify(med));
  note(`Lighthouse ${med.lighthouseVersion} (${versions[1]}), ${med.configSettings.formFactor}, ` +
    `${med.configSettings.throttlingMethod} throttling, ${med.environment.hostUserAgent.replace(/.*(Chrom[^ ]+).*/, "$1")}`);
  note(`${LABEL} mode, the median of ${RUNS} runs (run ${which}): ` +
    Object.keys(TARGET).map((c) => `${c} ${score(med, c)}`).join(", "));
  for (const [c, want] of Object.entries(TARGET)) {
    check(score(med, c) >= want,
      `Lighthouse mobile ${c} ${score(med, c)} >= ${want} (the median of ${RUNS} runs)`,
      losing(med, c).join("; "));
  }
  // what the page does for its first paint: no request holds it up (the
  // styles it needs are inline, app.css comes beside), and the page's own
  // files come compressed (gzip_static); the JSON answers are named
  const own = (u) => /^\/(app\.(js|css))?(\?|$)/.test(new URL(u).pathname + new URL(u).search);
  const listed = (id) => ((med.audits[id].details || {}).items || []).map((x) => ({ own: own(x.url),
    text: x.url + (x.wastedMs ? ` (${Math.round(x.wastedMs)} ms)` : x.wastedBytes ? ` (${x.wastedBytes} bytes to save)` : "") }));
  const blocking = listed("render-blocking-resources");
  check(blocking.length === 0, "Lighthouse: no render-blocking request (render-blocking-resources)",
    blocking.map((x) => x.text).join("; "));
  const plain = listed("uses-text-compression");
  check(!plain.some((x) => x.own), "Lighthouse: the page, its script and its stylesheet come compressed (uses-text-compression)",
    plain.filter((x) => x.own).map((x) => x.text).join("; "));
  if (plain.some((x) => !x.own)) note("uncompressed besides: " + plain.filter((x) => !x.own).map((x) => x.text).join("; "));
  // axe-core's rules as Lighthouse runs them: a violation is a failed
  // audit of the accessibility category, weighted or not
  const axe = med.categories.accessibility.auditRefs.map((r) => med.audits[r.id]);
  const applied = axe.filter((a) => a.scoreDisplayMode === "binary");
  const failed = applied.filter((a) => a.score === 0);
  note(`axe-core: ${applied.length} rules applied, ${applied.length - failed.length} passed, ` +
    `${failed.length} violations${failed.length ? ": " + failed.map((a) => a.id).join(", ") : ""}`);
  check(failed.length === 0, `axe-core (in Lighthouse): no violation of its ${applied.length} applicable rules`,
    failed.map((a) => `${a.id}: ${a.title}; ${((a.details || {}).items || []).slice(0, 3)
      .map((x) => x.node && x.node.snippet).join(" ")}`).join("; "));
})().catch((e) => {
  report("NOK", "the Lighthouse script ran to its end", e && e.stack);
  process.exitCode = 1;
});
