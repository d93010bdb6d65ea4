// The dashboard in Debian's Chromium, driven by puppeteer-core; run by
// tests/browser.sh against a running local stack.  Prints one line per
// check, "OK<TAB>what", "NOK<TAB>what<TAB>detail" or "SKIP<TAB>what<TAB>why",
// which the shell turns into TAP.
//
// With the argument "day" it checks the page on a stack with day buckets
// (ISBITCOINLIT_BUCKET=day) instead, reading the live feeds: first with a
// sentiment feed three days behind, then, once FRESH_FEED is copied over
// LIVE_FEED and a refresh has run, caught up.
//
// Environment: BASE (http://127.0.0.1:PORT), CHROMIUM, ARTIFACTS (where the
// screenshots go), PROFILE (a scratch directory), RCLI (redis-cli with its
// arguments, for the stack's Redis), PREFIX (the key prefix).
"use strict";
const puppeteer = require("puppeteer-core");
const launch = require("./launch.js");
const { execFileSync } = require("child_process");
const path = require("path");
const fs = require("fs");

const BASE = process.env.BASE;
const OUT = process.env.ARTIFACTS;
const RCLI = process.env.RCLI.split(" ");
const PREFIX = process.env.PREFIX || "is-bitcoin-lit";

function report(kind, what, detail) {
  console.log([kind, what, String(detail || "").replace(/\s+/g, " ").slice(0, 600)].join("\t"));
}
function check(cond, what, detail) { report(cond ? "OK" : "NOK", what, cond ? "" : detail); }
function skip(what, why) { report("SKIP", what, why); }
function redis(...args) {
  return execFileSync(RCLI[0], RCLI.slice(1).concat(args), { encoding: "utf8" });
}
async function getJSON(p) {
  const r = await fetch(BASE + p);
  const t = await r.text();
  let body = null;
  try { body = JSON.parse(t); } catch (e) { /* not JSON */ }
  return { status: r.status, body };
}
const wait = (ms) => new Promise((r) => setTimeout(r, ms));
const MODE = process.argv[2] === "day" ? "day" : "hour";

if (MODE === "day") dayMode().catch((e) => {
  report("NOK", "the browser script ran to its end", e && e.stack);
  process.exitCode = 1;
});
else (async () => {
  const summary = (await getJSON("/is-bitcoin-lit")).body;
  const hist = await getJSON("/history?hours=24");
  const health = (await getJSON("/healthz")).body;
  const haveHistory = hist.status === 200;

  const browser = await launch(puppeteer);
  try {
    await checkApiDocs(browser);
    const page = await browser.newPage();
    const errors = await watch(page);
    await page.evaluateOnNewDocument(() => {
      // the chart as the page is parsed, before any answer
      document.addEventListener("DOMContentLoaded", () => {
        const c = document.getElementById("chart");
        window.__loading = { note: document.getElementById("chart-note").textContent,
          height: c.hidden ? 0 : c.getBoundingClientRect().height };
      });
    });
    const requests = [];
    page.on("request", (r) => requests.push({ url: r.url(), headers: r.headers() }));
    const responses = [];
    page.on("response", (r) => responses.push({ url: r.url(), status: r.status() }));

    await page.setViewport({ width: 1280, height: 800 });
    await page.emulateMediaFeatures([{ name: "prefers-color-scheme", value: "light" }]);
    const resp = await page.goto(BASE + "/", { waitUntil: "networkidle0" });
    check(resp.status() === 200, "GET / in the browser: 200", resp.status());
    await page.waitForSelector("body[data-updates]", { timeout: 10000 });
    await checkLayoutShift(browser);
    const loading = await page.evaluate(() => window.__loading);
    check(/^Loading/.test(loading.note) && !/No data/.test(loading.note) && loading.height >= 240,
      "while it loads the chart says so and keeps its room", JSON.stringify(loading));
    const desc = await page.$eval("meta[name=description]", (m) => m.content).catch(() => "");
    check(desc.length >= 50 && /lit/i.test(desc), "the page has a meta description", desc);

    // ---- the verdict ----
    const want = summary.price_direction === "rising" && summary.sentiment_direction === "rising" ? "Lit"
      : summary.price_direction === "falling" && summary.sentiment_direction === "falling" ? "Not lit" : "Mixed";
    check(summary.verdict === want.toLowerCase(), `the API's verdict is the rule's ("${want.toLowerCase()}")`, `verdict: "${summary.verdict}"`);
    const shown = await page.$eval("#verdict", (e) => e.textContent.trim());
    check(shown === want, `the verdict reads "${want}" (price ${summary.price_direction}, sentiment ${summary.sentiment_direction})`, `shown: "${shown}"`);
    const dirs = await page.evaluate(() => [
      document.getElementById("price-dir").getAttribute("data-dir"),
      document.getElementById("price-dir").textContent,
      document.getElementById("sentiment-dir").getAttribute("data-dir"),
      document.getElementById("sentiment-dir").textContent]);
    check(dirs[0] === summary.price_direction && dirs[1].includes(summary.price_direction) &&
      dirs[2] === summary.sentiment_direction && dirs[3].includes(summary.sentiment_direction),
    "each direction is shown", JSON.stringify(dirs));
    const rule = await page.$eval(".rule", (e) => e.textContent.replace(/\s+/g, " "));
    check(/both rising = lit/.test(rule) && /both falling = not lit/.test(rule) && /else = mixed/.test(rule),
      "the rule is written on the page", rule);

    // ---- the three rows ----
    const rows = await page.$$eval("#hours tbody tr", (trs) => trs.map((tr) => ({
      time: tr.querySelector("time") && tr.querySelector("time").getAttribute("datetime"),
      shown: tr.querySelector("th") && tr.querySelector("th").textContent,
      price: tr.cells[1] && tr.cells[1].getAttribute("data-value"),
      priceText: tr.cells[1] && tr.cells[1].textContent,
      sentiment: tr.cells[2] && tr.cells[2].getAttribute("data-value"),
    })));
    const exp = summary.hourly_average_of_averages;
    check(exp.length === 3 && rows.length === 3, "the table has the three hourly rows",
      `json ${exp.length}, table ${rows.length}`);
    exp.forEach((r, i) => {
      const got = rows[i] || {};
      check(got.time === r.time && got.shown === r.time.slice(0, 10) + " " + r.time.slice(11, 16) &&
        Number(got.price) === r.price && Number(got.sentiment) === r.sentiment &&
        got.priceText === "$" + r.price.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 }),
      `row ${i + 1}: ${r.time} ${r.price} ${r.sentiment} as in /is-bitcoin-lit`, JSON.stringify(got));
    });
    const caption = await page.$eval("#hours caption", (e) => e.textContent.trim());
    check(caption.length > 0, "the table has a caption", caption);

    // ---- as of, age, the stale banner ----
    const asof = await page.evaluate(() => [document.getElementById("asof").getAttribute("datetime"),
      document.getElementById("age").textContent]);
    check(asof[0] === summary.as_of && /ago\)$/.test(asof[1]), `"as of ${summary.as_of}" with the age in words`, JSON.stringify(asof));
    const stale = await page.evaluate(() => {
      const b = document.getElementById("stale");
      const r = b.getBoundingClientRect();
      return { visible: !b.hidden && r.height > 0 && r.width > 0, text: b.textContent.replace(/\s+/g, " ") };
    });
    check(stale.visible && /frozen/.test(stale.text) && /SentiCrypt v1/.test(stale.text),
      `the stale banner is shown for 2021 data (healthz data: ${health.data === undefined ? "not given" : health.data})`, JSON.stringify(stale));
    const dim = await verdictLook(page);
    check(health.series.price.data === "stale" && dim.stale === "true" && dim.word !== dim.lively &&
      dim.word === dim.muted && dim.note,
    "the verdict on 2021 data is dimmed (the muted colour) and says it rests on old data", JSON.stringify(dim));
    check(/^SentiCrypt v1 \(every 30 s\), newest sample .* ago \(stale\)$/.test(dim.price) &&
      /^SentiCrypt v1 \(every 30 s\), newest sample .* ago \(stale\)$/.test(dim.sentiment),
    "each series' source and age are shown, both stale", JSON.stringify(dim));

    // ---- landmarks ----
    const marks = await page.evaluate(() => ({
      main: !!document.querySelector("main"), header: !!document.querySelector("header"),
      footer: !!document.querySelector("footer"), h1: document.querySelectorAll("h1").length,
      live: !!document.querySelector("[aria-live]"), lang: document.documentElement.lang }));
    check(marks.main && marks.header && marks.footer && marks.h1 === 1 && marks.live && marks.lang === "en",
      "landmarks, one h1, a live region, the language", JSON.stringify(marks));

    // ---- the chart ----
    if (haveHistory) {
      const h = hist.body.hourly;
      const chart = await page.evaluate(() => {
        const pts = Array.from(document.querySelectorAll("#chart .pt"));
        const win = document.querySelector("#chart rect.window");
        const wb = win && win.getBoundingClientRect();
        return {
          n: pts.length,
          times: pts.map((p) => p.getAttribute("data-time")),
          labels: pts.map((p) => p.getAttribute("aria-label")),
          focusable: pts.filter((p) => p.hasAttribute("tabindex")).length,
          tabStops: pts.filter((p) => p.getAttribute("tabindex") === "0").length,
          priceDots: pts.map((p) => !!p.querySelector(".dot.price")),
          sentDots: pts.map((p) => !!p.querySelector(".dot.sentiment")),
          centers: pts.map((p) => { const b = p.querySelector(".hit").getBoundingClientRect(); return b.left + b.width / 2; }),
          win: win && { from: win.getAttribute("data-from"), to: win.getAttribute("data-to"), left: wb.left, right: wb.right },
          segs: Array.from(document.querySelectorAll("#chart path.line")).map((p) => +p.getAttribute("data-segments")),
          styleAttrs: document.querySelectorAll("#chart [style]").length,
        };
      });
      check(h.length === 24 && chart.n === 24, "the chart has 24 hourly points", `history ${h.length}, chart ${chart.n}`);
      check(JSON.stringify(chart.times) === JSON.stringify(h.map((r) => r.time)),
        "the points are the hours of /history, oldest first", JSON.stringify(chart.times));
      check(chart.focusable === 24 && chart.tabStops === 1 && chart.labels.every((l) => l && /UTC: price .*, sentiment /.test(l)),
        "every point is focusable with an aria-label (one tab stop)", JSON.stringify(chart.labels.slice(-1)));
      check(JSON.stringify(chart.priceDots) === JSON.stringify(h.map((r) => r.price != null)) &&
        JSON.stringify(chart.sentDots) === JSON.stringify(h.map((r) => r.sentiment != null)),
      "a dot for each hour with a sample, none for an hour without", "");
      const segments = (f) => h.reduce((a, r, i) => a + (r[f] != null && (i === 0 || h[i - 1][f] == null) ? 1 : 0), 0);
      check(chart.segs[0] === segments("price") && chart.segs[1] === segments("sentiment"),
        `each line breaks where an hour has no sample (${segments("price")} and ${segments("sentiment")} segments)`, JSON.stringify(chart.segs));
      const w = chart.win || {};
      const inside = chart.centers.map((c) => c > w.left && c < w.right);
      check(w.from === h[21].time && w.to === h[23].time &&
        inside.slice(21).every(Boolean) && !inside.slice(0, 21).some(Boolean),
      `the shaded window covers the three summary hours ${h[21].time} to ${h[23].time}`, JSON.stringify(w));
      check(exp.every((r) => r.time >= h[21].time && r.time <= h[23].time),
        "the summary's rows lie in the shaded hours", "");
      check(chart.styleAttrs === 0, "no style attribute in the chart", chart.styleAttrs);
      // app.css, loaded beside the page, is applied before the chart is drawn
      const look = await page.evaluate(() => {
        const line = document.querySelector("#chart path.line.price");
        const hit = document.querySelector("#chart .hit");
        return { media: document.getElementById("chart-css").media,
          href: document.getElementById("chart-css").getAttribute("href"),
          lineFill: getComputedStyle(line).fill, hitFill: getComputedStyle(hit).fill };
      });
      check(look.media === "all" && /^\/app\.css\?v=[0-9a-f]{12}$/.test(look.href) &&
        look.lineFill === "none" && look.hitFill === "rgba(0, 0, 0, 0)",
      "the chart's stylesheet (app.css, not render-blocking) is applied: lines unfilled, hit areas clear", JSON.stringify(look));

      // keyboard: Tab from the button before the chart lands on its one
      // tab stop, the newest hour; then Home, then ArrowRight
      await page.focus("#update");
      await page.keyboard.press("Tab");
      const first = await page.evaluate(() => document.activeElement.getAttribute("data-index"));
      check(first === "23", "Tab reaches the chart at its newest hour", String(first));
      await page.keyboard.press("Home");
      await page.keyboard.press("ArrowRight");
      const kb = await page.evaluate(() => {
        const a = document.activeElement;
        const tip = document.querySelector("#chart .tip");
        return { index: a && a.getAttribute("data-index"), tip: tip.getAttribute("visibility"),
          tipIndex: tip.getAttribute("data-index"), text: tip.textContent };
      });
      const p1 = h[1].price == null ? "no sample" : h[1].price.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
      check(kb.index === "1" && kb.tip === "visible" && kb.tipIndex === "1" && kb.text.includes(p1),
        "the arrow keys move between points and show the values", JSON.stringify(kb));
      // the mouse: hover the last point
      const last = await page.$("#chart .pt:last-of-type .hit");
      await last.hover();
      const tipNow = await page.$eval("#chart .tip", (t) => [t.getAttribute("visibility"), t.getAttribute("data-index")]);
      check(tipNow[0] === "visible" && tipNow[1] === "23", "hovering a point shows its values", JSON.stringify(tipNow));
      await page.mouse.move(1, 1);
      await page.focus("#update");

      // the axes: round values; the date under the first hour and where a day begins
      await checkYTicks(page, h);
      const xt = await page.$$eval("#chart text.tick:not(.price):not(.sentiment)", (ts) => ts.map((t) => ({
        time: t.getAttribute("data-time"), date: t.querySelector(".date") ? t.querySelector(".date").textContent : "" })));
      const M = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
      const midnight = new Set(h.map((r) => r.time.slice(0, 10))).size > 1;
      check(xt.length >= 4 && xt.every((t, i) => t.date === (i === 0 || t.time.slice(0, 10) !== xt[i - 1].time.slice(0, 10) ?
        M[+t.time.slice(5, 7) - 1] + " " + +t.time.slice(8, 10) : "")) &&
        xt.filter((t) => t.date).length === (midnight ? 2 : 1),
      `the x axis dates its first hour and the first after midnight (the 24 hours ${midnight ? "cross" : "do not cross"} midnight)`,
      JSON.stringify(xt));
    } else {
      const note = await page.$eval("#chart-note", (e) => e.textContent);
      check(/not available/.test(note), "without /history the page says the chart is not available", note);
      skip("the chart's 24 points and shaded window", `/history answers ${hist.status}: the endpoint is not in this build`);
    }

    // ---- an update in place, with If-None-Match ----
    await page.evaluate(() => { document.querySelector("#hours tbody tr").__mark = 1; });
    const nreq = requests.length, nresp = responses.length;
    const before = await page.$eval("body", (b) => +b.getAttribute("data-updates"));
    await page.click("#update");
    await page.waitForFunction((n) => +document.body.getAttribute("data-updates") > n, { timeout: 10000 }, before);
    const again = requests.slice(nreq).filter((r) => r.url.endsWith("/is-bitcoin-lit"));
    const again304 = responses.slice(nresp).filter((r) => r.url.endsWith("/is-bitcoin-lit"));
    check(again.length === 1 && /^(W\/)?"[^"]+"$/.test(again[0].headers["if-none-match"] || "") &&
      again304.length === 1 && again304[0].status === 304,
    "the update asks with If-None-Match and gets 304", JSON.stringify({ again, again304 }));
    const kept = await page.evaluate(() => document.querySelector("#hours tbody tr").__mark === 1 &&
      document.getElementById("verdict").textContent.trim());
    check(kept === want, "the page updates in place (no redraw of unchanged rows)", String(kept));
    const same = await page.waitForFunction(() => /^No new data since \d\d:\d\d UTC\.$/.test(document.getElementById("live").textContent),
      { timeout: 3000 }).then(() => true, () => false);
    const said = await page.evaluate(() => {
      const c = document.getElementById("checked");
      return { live: document.getElementById("live").textContent, shown: c.textContent, h: c.getBoundingClientRect().height };
    });
    check(same && said.shown === said.live && said.h > 0,
      "\"Update now\" with nothing new says so, in the live region and on the page", JSON.stringify(said));

    // ---- no console error, no CSP violation (a missing /history's 404 aside) ----
    const csp = await page.evaluate(() => window.__csp);
    check(csp.length === 0, "no CSP violation", csp.join("; "));
    const real = errors.filter((e) => haveHistory || !/404/.test(e) || !/history/.test(e));
    check(real.length === 0, "no console error", real.join("; "));

    // ---- screenshots, light and dark, 1280 and 360 wide ----
    await page.screenshot({ path: path.join(OUT, "dashboard-1280x800.png") });
    await page.setViewport({ width: 360, height: 740 });
    await wait(400);        // the chart redraws for the new width
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth);
    const inner = await page.evaluate(() => Array.from(document.querySelectorAll("main *"))
      .filter((e) => e.scrollWidth > e.clientWidth + 1 && getComputedStyle(e).overflowX !== "visible" &&
        !e.classList.contains("sr-only"))
      .map((e) => e.tagName + "." + e.className));
    check(overflow <= 360 && inner.length === 0, "nothing is wider than a 360 px screen, nothing scrolls sideways",
      `scrollWidth ${overflow}; ${inner.join(" ")}`);
    await page.screenshot({ path: path.join(OUT, "dashboard-360x740.png") });
    await page.emulateMediaFeatures([{ name: "prefers-color-scheme", value: "dark" }]);
    const bg = await page.evaluate(() => getComputedStyle(document.documentElement).backgroundColor);
    check(bg !== "rgb(246, 247, 249)", "a dark scheme when the system prefers it", bg);
    await page.screenshot({ path: path.join(OUT, "dashboard-dark-360x740.png") });
    await page.setViewport({ width: 1280, height: 800 });
    await wait(400);
    await page.screenshot({ path: path.join(OUT, "dashboard-dark-1280x800.png") });
    await page.emulateMediaFeatures([{ name: "prefers-color-scheme", value: "light" }]);

    // ---- a phone: tap a point; the stale note one line, all of it for a screen reader ----
    const phone = await browser.newPage();
    await phone.setViewport({ width: 360, height: 740, hasTouch: true, isMobile: true });
    await phone.goto(BASE + "/", { waitUntil: "networkidle0" });
    await phone.waitForSelector("body[data-updates]", { timeout: 10000 });
    const compact = await phone.evaluate(() => {
      const b = document.getElementById("stale"), sr = document.getElementById("stale-sr");
      return { h: b.getBoundingClientRect().height, open: b.querySelector("details").open,
        sr: sr.textContent, srShown: getComputedStyle(sr).display !== "none" && !sr.closest("[aria-hidden=true]") };
    });
    check(compact.h > 0 && compact.h <= 740 * 0.1 && !compact.open && compact.srShown &&
      /frozen/.test(compact.sr) && /SentiCrypt v1/.test(compact.sr),
    `on a phone the stale note is short (${Math.round(compact.h)} px of 740, the rest behind "details") and a screen reader gets all of it`,
    JSON.stringify(compact));
    await phone.screenshot({ path: path.join(OUT, "dashboard-phone-360x740.png") });
    if (haveHistory) {
      const note = await phone.$eval("#chart-note", (e) => e.textContent);
      await phone.tap("#chart .pt:nth-of-type(10) .hit");
      const tapped = await phone.$eval("#chart .tip", (t) => [t.getAttribute("visibility"), t.getAttribute("data-index")]);
      check(/^Tap /.test(note) && tapped[0] === "visible" && tapped[1] === "9",
        "on a phone the note says to tap a point, and a tap shows its values", JSON.stringify({ note, tapped }));
    }
    await phone.close();

    // ---- 503 no data: the series and the caches gone ----
    const keys = redis("--scan", "--pattern", PREFIX + ":*").split("\n").filter(Boolean);
    if (keys.length) redis("del", ...keys);
    await wait(1500);     // past the microcache's second
    errors.length = 0;
    await page.reload({ waitUntil: "networkidle0" });
    await page.waitForSelector("body[data-updates]", { timeout: 10000 });
    const nodata = await page.evaluate(() => ({
      state: document.body.getAttribute("data-state"),
      problem: !document.getElementById("problem").hidden && document.getElementById("problem").textContent.replace(/\s+/g, " "),
      verdict: document.getElementById("verdict").textContent, rows: document.querySelectorAll("#hours tbody tr td.empty").length,
      stale: document.getElementById("stale").hidden }));
    check(nodata.state === "nodata" && /No data yet/.test(nodata.problem) && nodata.verdict === "No data yet" &&
      nodata.rows === 1 && nodata.stale, "503 no data: a friendly message, no stale verdict", JSON.stringify(nodata));
    await page.screenshot({ path: path.join(OUT, "dashboard-no-data-1280x800.png") });
    const unexpected = errors.filter((e) => !/status of (503|404)/.test(e));
    check(unexpected.length === 0, "no console error but the 503 answers themselves", unexpected.join("; "));

    // ---- Redis down, then the network gone ----
    try { redis("shutdown", "nosave"); } catch (e) { /* it closes the connection */ }
    await wait(200);
    let n0 = await page.$eval("body", (b) => +b.getAttribute("data-updates"));
    await page.click("#update");
    await page.waitForFunction((n) => +document.body.getAttribute("data-updates") > n, { timeout: 15000 }, n0);
    const down = await page.evaluate(() => [document.body.getAttribute("data-state"),
      document.getElementById("problem").textContent.replace(/\s+/g, " ")]);
    check(down[0] === "redis" && /database/.test(down[1]), "Redis down: a friendly message", JSON.stringify(down));
    await page.setOfflineMode(true);
    n0 = await page.$eval("body", (b) => +b.getAttribute("data-updates"));
    await page.click("#update");
    await page.waitForFunction((n) => +document.body.getAttribute("data-updates") > n, { timeout: 15000 }, n0);
    const net = await page.evaluate(() => [document.body.getAttribute("data-state"),
      document.getElementById("problem").textContent.replace(/\s+/g, " ")]);
    check(net[0] === "network" && /cannot be reached/.test(net[1]), "a network error: a friendly message", JSON.stringify(net));
    await page.setOfflineMode(false);
    const csp2 = await page.evaluate(() => window.__csp);
    check(csp2.length === 0, "still no CSP violation", csp2.join("; "));
  } finally {
    await browser.close();
  }
})().catch((e) => {
  report("NOK", "the browser script ran to its end", e && e.stack);
  process.exitCode = 1;
});

// How the verdict looks: its card's data-stale, the verdict word's colour,
// the colours it would have lively and muted, the sources' lines and
// whether the note under the verdict is shown.
function verdictLook(page) {
  return page.evaluate(() => {
    const css = getComputedStyle(document.documentElement);
    const probe = document.createElement("span");
    document.body.appendChild(probe);
    const colour = (v) => { probe.style.color = css.getPropertyValue(v).trim(); return getComputedStyle(probe).color; };
    const v = document.getElementById("verdict");
    const lively = colour({ "lit": "--lit", "not-lit": "--notlit", "mixed": "--mixed" }[v.getAttribute("data-verdict")] || "--fg");
    const muted = colour("--muted");
    probe.remove();
    const note = document.getElementById("verdict-stale");
    return {
      stale: document.getElementById("verdict-card").getAttribute("data-stale"),
      word: getComputedStyle(v).color, lively, muted,
      note: !note.hidden && note.getBoundingClientRect().height > 0 ? note.textContent.replace(/\s+/g, " ").trim() : "",
      price: document.getElementById("price-src").textContent,
      sentiment: document.getElementById("sentiment-src").textContent,
      priceStale: document.getElementById("price-src").getAttribute("data-stale"),
      sentimentStale: document.getElementById("sentiment-src").getAttribute("data-stale"),
    };
  });
}

// The page on a stack with day buckets: the daily summary and /history?days=31.
async function dayMode() {
  const browser = await launch(puppeteer);
  try {
    const page = await browser.newPage();
    const errors = [];
    page.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });
    page.on("pageerror", (e) => errors.push("uncaught: " + e.message));
    await page.evaluateOnNewDocument(() => {
      window.__csp = [];
      document.addEventListener("securitypolicyviolation", (e) => {
        window.__csp.push(e.violatedDirective + " " + e.blockedURI);
      });
    });
    const requests = [];
    page.on("request", (r) => requests.push(r.url()));
    await page.setViewport({ width: 1280, height: 800 });
    await page.emulateMediaFeatures([{ name: "prefers-color-scheme", value: "light" }]);
    const resp = await page.goto(BASE + "/", { waitUntil: "networkidle0" });
    check(resp.status() === 200, "GET / in the browser: 200", resp.status());
    await page.waitForSelector("body[data-updates]", { timeout: 10000 });

    // ---- first the live feeds with a sentiment three days behind ----
    await checkLayoutShift(browser);
    const health = (await getJSON("/healthz")).body;
    const old = await verdictLook(page);
    const banner = await page.evaluate(() => {
      const b = document.getElementById("stale");
      return { visible: !b.hidden && b.getBoundingClientRect().height > 0, text: b.textContent.replace(/\s+/g, " ") };
    });
    check(health.series.sentiment.data === "stale" && health.series.price.data === "fresh",
      "/healthz: the sentiment (v2, three days behind) stale, the price (Kraken) fresh", JSON.stringify(health.series));
    check(/^Kraken \(hourly\), newest sample (.* ago|just now)$/.test(old.price) && old.priceStale === "false" &&
      /^SentiCrypt v2 \(daily\), newest sample 3 days ago \(stale\)$/.test(old.sentiment) && old.sentimentStale === "true",
    "each series' source and age: Kraken hourly and fresh, SentiCrypt v2 daily and stale", JSON.stringify(old));
    check(banner.visible && /newest sentiment sample, from SentiCrypt v2 \(daily\), came 3 days ago/.test(banner.text) &&
      !/frozen/.test(banner.text) && !/price/.test(banner.text),
    "the stale banner names the stale series and its source (not the frozen v1 feed)", JSON.stringify(banner));
    check(old.stale === "true" && old.word === old.muted && old.word !== old.lively &&
      /old data: the sentiment stopped moving/i.test(old.note),
    "the verdict is dimmed (the muted colour) and says what is old", JSON.stringify(old));
    await page.screenshot({ path: path.join(OUT, "dashboard-days-stale-1280x800.png") });

    // ---- the sentiment feed catches up: a refresh, an update ----
    fs.copyFileSync(process.env.FRESH_FEED, process.env.LIVE_FEED);
    const rr = await fetch(BASE + "/refresh", { method: "POST",
      headers: { Authorization: "Bearer " + process.env.ISBITCOINLIT_REFRESH_TOKEN } });
    check(rr.status === 200, "a refresh reads the sentiment feed caught up", rr.status);
    await wait(1500);     // past the microcache's second
    const n0 = await page.$eval("body", (b) => +b.getAttribute("data-updates"));
    await page.click("#update");
    await page.waitForFunction((n) => +document.body.getAttribute("data-updates") > n, { timeout: 10000 }, n0);
    const fresh = await verdictLook(page);
    check(fresh.stale === "false" && fresh.word === fresh.lively && fresh.word !== fresh.muted && !fresh.note &&
      /^SentiCrypt v2 \(daily\), newest sample (today|.* hours? ago|.* minutes? ago)$/.test(fresh.sentiment) &&
      fresh.sentimentStale === "false",
    "caught up: the verdict in its own colour, no note, the sentiment fresh", JSON.stringify(fresh));

    const summary = (await getJSON("/is-bitcoin-lit")).body;
    const hist = await getJSON("/history?days=31");
    check(summary && Array.isArray(summary.daily_average_of_averages) && hist.status === 200 &&
      Array.isArray(hist.body.daily), "the stack serves day documents", JSON.stringify(summary).slice(0, 200));

    const words = { "lit": "Lit", "not lit": "Not lit", "mixed": "Mixed" };
    const shown = await page.$eval("#verdict", (e) => e.textContent.trim());
    check(shown === words[summary.verdict], `the verdict reads the API's "${summary.verdict}"`, `shown: "${shown}"`);
    const mode = await page.$eval("body", (b) => b.getAttribute("data-mode"));
    check(mode === "day", "the page takes day mode from the summary", String(mode));

    // the table: one row a summary row, dates without a time
    const exp = summary.daily_average_of_averages;
    const rows = await page.$$eval("#hours tbody tr", (trs) => trs.map((tr) => ({
      time: tr.querySelector("time") && tr.querySelector("time").getAttribute("datetime"),
      shown: tr.querySelector("th") && tr.querySelector("th").textContent,
      price: tr.cells[1] && Number(tr.cells[1].getAttribute("data-value")),
      sentiment: tr.cells[2] && Number(tr.cells[2].getAttribute("data-value")),
    })));
    check(exp.length > 0 && rows.length === exp.length &&
      exp.every((r, i) => rows[i].time === r.time && rows[i].shown === r.time.slice(0, 10) &&
        /^\d{4}-\d\d-\d\d$/.test(rows[i].shown) && rows[i].price === r.price && rows[i].sentiment === r.sentiment),
    `the table has the ${exp.length} daily rows of the summary, as dates`, JSON.stringify(rows));

    // the words say days
    const t = await page.evaluate(() => ({
      sub: document.getElementById("sub").textContent,
      h: document.getElementById("hours-h").textContent,
      col: document.getElementById("hours-col").textContent,
      chart: document.getElementById("chart-h").textContent,
      rule: document.querySelector(".rule").textContent.replace(/\s+/g, " "),
      note: document.getElementById("chart-note").textContent,
      legend: document.querySelector(".legend").textContent.replace(/\s+/g, " "),
      link: document.getElementById("history-link").getAttribute("href"),
      hour: ["sub", "hours-h", "hours-caption", "hours-col", "chart-h", "chart-note"].concat([])
        .map((id) => document.getElementById(id).textContent).concat([".rule", ".legend"]
          .map((q) => document.querySelector(q).textContent)).some((x) => /\bhours?\b/i.test(x)),
    }));
    check(/days/i.test(t.h) && t.col === "Day (UTC)" && t.chart === "The last 31 days" &&
      /by the day/.test(t.sub) && /last of the days below with the first/.test(t.rule) &&
      /a day without a sample/.test(t.note) && /days of the verdict/.test(t.legend) &&
      t.link === "/history?days=31" && !t.hour,
    "the headings, the column, the rule, the note and the link say days (no \"hour\" left)", JSON.stringify(t));

    // headings and labels, as in hour mode
    const marks = await page.evaluate(() => ({
      h1: document.querySelectorAll("h1").length,
      h2: Array.from(document.querySelectorAll("section")).every((s) =>
        document.getElementById(s.getAttribute("aria-labelledby"))),
      caption: document.querySelector("#hours caption").textContent.trim(),
      live: !!document.querySelector("[aria-live]"), lang: document.documentElement.lang }));
    check(marks.h1 === 1 && marks.h2 && /Daily/.test(marks.caption) && marks.live && marks.lang === "en",
      "one h1, labelled sections, a caption of days, a live region", JSON.stringify(marks));

    // the chart: one point a history row, the verdict's days shaded, date ticks
    const h = hist.body.daily;
    const chart = await page.evaluate(() => {
      const pts = Array.from(document.querySelectorAll("#chart .pt"));
      const win = document.querySelector("#chart rect.window");
      const wb = win && win.getBoundingClientRect();
      return {
        n: pts.length,
        times: pts.map((p) => p.getAttribute("data-time")),
        labels: pts.map((p) => p.getAttribute("aria-label")),
        centers: pts.map((p) => { const b = p.querySelector(".hit").getBoundingClientRect(); return b.left + b.width / 2; }),
        win: win && { from: win.getAttribute("data-from"), to: win.getAttribute("data-to"), left: wb.left, right: wb.right },
        ticks: Array.from(document.querySelectorAll("#chart text.tick:not(.price):not(.sentiment)")).map((e) => e.textContent),
      };
    });
    check(h.length === 31 && chart.n === h.length &&
      JSON.stringify(chart.times) === JSON.stringify(h.map((r) => r.time)),
    `the chart has one point per /history?days=31 row (${h.length})`, `chart ${chart.n}`);
    check(chart.labels.every((l, i) => l.startsWith(h[i].time.slice(0, 10) + " UTC: price ")),
      "each point's aria-label is its date", JSON.stringify(chart.labels.slice(-1)));
    const w = chart.win || {};
    const inWin = chart.centers.map((c) => c > w.left && c < w.right);
    const want = h.map((r) => r.time >= exp[0].time && r.time <= exp[exp.length - 1].time);
    check(w.from === exp[0].time && w.to === exp[exp.length - 1].time &&
      JSON.stringify(inWin) === JSON.stringify(want),
    `the shaded window covers the verdict's days ${exp[0].time.slice(0, 10)} to ${exp[exp.length - 1].time.slice(0, 10)}`, JSON.stringify(w));
    check(chart.ticks.length >= 3 && chart.ticks.every((x) => /^[A-Z][a-z]{2} \d{1,2}$/.test(x)),
      "the x axis is dates", JSON.stringify(chart.ticks));
    await checkYTicks(page, h);

    // today's v2 object and the open candle: no stale banner
    const stale = await page.$eval("#stale", (b) => b.hidden);
    check(stale, "no stale banner for live feeds that are up to date", "");

    // an update in place; never the hours of /history
    const before = await page.$eval("body", (b) => +b.getAttribute("data-updates"));
    await page.click("#update");
    await page.waitForFunction((n) => +document.body.getAttribute("data-updates") > n, { timeout: 10000 }, before);
    const hist24 = requests.filter((u) => /\/history\?hours=/.test(u));
    const days31 = requests.filter((u) => /\/history\?days=31$/.test(u));
    // the first load, the update after the refresh, this one
    check(hist24.length === 0 && days31.length === 3, "it asks for /history?days=31, never ?hours=",
      JSON.stringify(requests));

    const csp = await page.evaluate(() => window.__csp);
    check(csp.length === 0, "no CSP violation", csp.join("; "));
    check(errors.length === 0, "no console error", errors.join("; "));

    await page.screenshot({ path: path.join(OUT, "dashboard-days-1280x800.png") });
    await page.setViewport({ width: 360, height: 740 });
    await wait(400);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth);
    check(overflow <= 360, "nothing is wider than a 360 px screen", `scrollWidth ${overflow}`);
    await page.screenshot({ path: path.join(OUT, "dashboard-days-360x740.png") });
  } finally {
    await browser.close();
  }
}

// The page's cumulative layout shift at a viewport, in a fresh tab: the
// 'layout-shift' entries (buffered, none after an input) from navigation
// through the first update and a second one started by script (a click
// from script is no input).  Returns {cls, updates, top: the largest
// shifts and what moved}.
async function layoutShift(browser, width, height) {
  const page = await browser.newPage();
  try {
    await page.evaluateOnNewDocument(() => {
      window.__shifts = [];
      new PerformanceObserver((list) => {
        for (const e of list.getEntries()) {
          if (e.hadRecentInput) continue;
          window.__shifts.push({ value: e.value, at: Math.round(e.startTime),
            nodes: (e.sources || []).map((s) => s.node ? (s.node.id || s.node.className || s.node.nodeName) : "?") });
        }
      }).observe({ type: "layout-shift", buffered: true });
    });
    await page.setViewport({ width, height });
    await page.emulateMediaFeatures([{ name: "prefers-color-scheme", value: "light" }]);
    await page.goto(BASE + "/", { waitUntil: "networkidle0" });
    await page.waitForSelector("body[data-updates]", { timeout: 10000 });
    await wait(300);
    await page.evaluate(() => document.getElementById("update").click());
    await page.waitForFunction(() => +document.body.getAttribute("data-updates") >= 2, { timeout: 10000 });
    await wait(500);
    const shifts = await page.evaluate(() => window.__shifts);
    return { cls: shifts.reduce((a, s) => a + s.value, 0),
      updates: await page.$eval("body", (b) => +b.getAttribute("data-updates")),
      top: shifts.sort((a, b) => b.value - a.value).slice(0, 4)
        .map((s) => s.value.toFixed(3) + "@" + s.at + "ms:" + s.nodes.join(",")).join(" ") };
  } finally {
    await page.close();
  }
}

// Layout shift under 0.1 on a phone and on a desktop screen.
async function checkLayoutShift(browser) {
  for (const [w, h] of [[360, 740], [1280, 800]]) {
    const r = await layoutShift(browser, w, h);
    check(r.cls < 0.1 && r.updates >= 2,
      `the cards do not move as the data arrives: layout shift ${r.cls.toFixed(3)} < 0.1 at ${w}x${h} (load and two updates)`,
      r.top);
  }
}

// The y axes' ticks: evenly spaced by a round step (1, 2 or 5 times a power
// of ten), from at or below the lowest value to at or above the highest,
// no more than a step beyond either.
async function checkYTicks(page, rows) {
  const ticks = await page.evaluate(() => ["price", "sentiment"].map((c) =>
    Array.from(document.querySelectorAll("#chart text.tick." + c)).map((e) => [+e.getAttribute("data-value"), e.textContent])));
  ["price", "sentiment"].forEach((f, j) => {
    const vals = rows.map((r) => r[f]).filter((v) => v != null);
    const lo = Math.min(...vals), hi = Math.max(...vals);
    const t = ticks[j].map((x) => x[0]).sort((a, b) => a - b);
    const step = t[1] - t[0];
    const mag = Math.pow(10, Math.floor(Math.log10(step) + 1e-9));
    const round = [1, 2, 5, 10].some((k) => Math.abs(step / mag - k) < 1e-6);
    const even = t.every((v, i) => i === 0 || Math.abs(v - t[i - 1] - step) < step * 1e-6);
    const multiples = t.every((v) => Math.abs(v / step - Math.round(v / step)) < 1e-6);
    check(t.length >= 3 && round && even && multiples && t[0] <= lo && t[0] > lo - step &&
      t[t.length - 1] >= hi && t[t.length - 1] < hi + step,
    `the ${f} axis: round ticks every ${+step.toPrecision(6)} covering ${lo} to ${hi}`, JSON.stringify(ticks[j]));
  });
}

// What a page reports: its console errors and uncaught exceptions (the
// array returned), and every CSP violation, which the page itself records
// in window.__csp.
async function watch(page) {
  const errors = [];
  page.on("console", (m) => {
    if (m.type() === "error") {
      const loc = m.location() && m.location().url ? " (" + m.location().url + ")" : "";
      errors.push(m.text() + loc);
    }
  });
  page.on("pageerror", (e) => errors.push("uncaught: " + e.message));
  await page.evaluateOnNewDocument(() => {
    window.__csp = [];
    document.addEventListener("securitypolicyviolation", (e) => {
      window.__csp.push(e.violatedDirective + " " + e.blockedURI + " " +
        (e.sourceFile || "") + ":" + e.lineNumber);
    });
  });
  return errors;
}

// The interactive documentation at /docs (Swagger UI), in a tab of its
// own: it renders every operation of /openapi.json (and no other: the
// methods a resource answers 405 are no operations), "Try it out" and
// Execute on GET /is-bitcoin-lit gets this site's 200, every request stays
// on this origin, and there is no console error and no CSP violation.
// Screenshots of the page, and of that answer, go to ARTIFACTS.
async function checkApiDocs(browser) {
  const doc = (await getJSON("/openapi.json")).body;
  const ops = [];
  for (const [p, item] of Object.entries(doc.paths))
    for (const m of ["get", "put", "post", "delete", "options", "head", "patch", "trace"])
      if (item[m]) ops.push(`${m.toUpperCase()} ${p}`);
  const page = await browser.newPage();
  const errors = await watch(page);
  const requests = [];
  page.on("request", (r) => requests.push(r.url()));
  const answers = [];
  page.on("response", (r) => answers.push({ url: r.url(), status: r.status(), method: r.request().method() }));
  try {
    await page.setViewport({ width: 1280, height: 800 });
    const resp = await page.goto(BASE + "/docs", { waitUntil: "networkidle0" });
    check(resp.status() === 200, "GET /docs in the browser: 200", resp.status());
    await page.waitForSelector("#operations-data-getSummary", { timeout: 15000 });
    const shown = await page.$$eval(".opblock", (els) => els.map((e) =>
      e.querySelector(".opblock-summary-method").textContent.trim() + " " +
      e.querySelector(".opblock-summary-path").getAttribute("data-path")));
    check(shown.length === ops.length && ops.every((o) => shown.includes(o)),
      `/docs lists the ${ops.length} operations of /openapi.json, and no other`,
      `shown ${shown.length}: ${shown.join(", ")}; documented: ${ops.join(", ")}`);
    check(await page.$eval("#operations-data-getSummary", (e) => e.getBoundingClientRect().height > 0),
      "GET /is-bitcoin-lit is visible", "");
    const title = await page.$eval(".info .title", (e) => e.textContent).catch(() => "");
    check(/IsBitcoinLit/.test(title), "the document's title is shown", title);
    await page.screenshot({ path: path.join(OUT, "docs-1280x800.png") });

    // Try it out and Execute on GET /is-bitcoin-lit
    await page.click("#operations-data-getSummary .opblock-summary-control");
    await page.waitForSelector("#operations-data-getSummary .try-out__btn", { timeout: 10000 });
    await page.click("#operations-data-getSummary .try-out__btn");
    await page.waitForSelector("#operations-data-getSummary .execute", { timeout: 10000 });
    await page.click("#operations-data-getSummary .execute");
    await page.waitForSelector("#operations-data-getSummary .live-responses-table tr.response .response-col_status",
      { timeout: 15000 });
    const live = await page.$eval("#operations-data-getSummary .live-responses-table tr.response .response-col_status",
      (e) => e.textContent.trim());
    const body = await page.$eval("#operations-data-getSummary .live-responses-table tr.response .response-col_description pre",
      (e) => e.textContent).catch(() => "");
    const called = answers.filter((a) => a.method === "GET" && new URL(a.url).pathname === "/is-bitcoin-lit");
    check(live === "200" && /"verdict"/.test(body) && called.length === 1 && called[0].status === 200 &&
      new URL(called[0].url).origin === new URL(BASE).origin,
    "Try it out, Execute on GET /is-bitcoin-lit: this site answers 200, the summary shown",
    `shown ${live}; calls ${JSON.stringify(called)}; body ${body.slice(0, 200)}`);
    await page.$eval("#operations-data-getSummary .live-responses-table", (e) => e.scrollIntoView());
    await page.screenshot({ path: path.join(OUT, "docs-try-it-out-1280x800.png") });
  } catch (e) {
    // what went wrong is likely below: the checks that follow still run
    report("NOK", "/docs: the page could be driven to its end", e && e.message);
  }
  try {
    const origin = new URL(BASE).origin;
    const away = requests.filter((u) => !u.startsWith("data:") && new URL(u).origin !== origin);
    check(away.length === 0, "every request of /docs is to this origin", away.join(" "));
    const csp = await page.evaluate(() => window.__csp);
    check(csp.length === 0, "/docs: no CSP violation", csp.join("; "));
    check(errors.length === 0, "/docs: no console error", errors.join("; "));
  } finally {
    await page.close();
  }
}
