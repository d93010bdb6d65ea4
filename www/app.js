// IsBitcoinLit dashboard: reads /is-bitcoin-lit, /history and /healthz of
// this origin, updates the page in place every minute with conditional
// requests.  No inline style anywhere (the CSP forbids it): the SVG is
// coloured by classes in app.css and placed with attributes.  app.css comes
// without holding up the first paint (media="print" in index.html): it is
// applied here, and the chart is drawn once it is in.
"use strict";

(function () {
  var EVERY_MS = 60000;
  // When /healthz does not say (an older server): the newest sample is
  // stale after an hour, or in day mode two days and an hour (a daily
  // feed's newest sample is at 00:00 UTC of today or yesterday).  /healthz
  // judges each series by its own feed's step.
  var STALE_AFTER_S = 3600;
  var DAY_STALE_AFTER_S = 2 * 86400 + 3600;
  var SERIES = ["price", "sentiment"];
  // the feed formats of /healthz's series.*.source, in the page's words
  var SOURCE_NAMES = { "senticrypt-v1": "SentiCrypt v1",
    "senticrypt-v2": "SentiCrypt v2", "kraken-ohlc": "Kraken",
    "coinbase-candles": "Coinbase" };
  var SVG = "http://www.w3.org/2000/svg";

  // One entry per URL: the last ETag and the body it belongs to.
  var cache = {};
  // mode: "hour" or "day", as the summary says (its rows field); "" before
  // the first summary
  var state = { mode: "", summary: null, history: null, historyMissing: false,
                health: null, fetchedAt: 0, problem: "" };
  var timer = 0;

  function $(id) { return document.getElementById(id); }

  // GET url with If-None-Match; resolves {status, body}: body is the
  // parsed JSON (the cached one on 304), null when there is none.
  function get(url) {
    var c = cache[url];
    var headers = { "Accept": "application/json" };
    if (c && c.etag) headers["If-None-Match"] = c.etag;
    return fetch(url, { headers: headers, cache: "no-store" }).then(function (r) {
      if (r.status === 304 && c) return { status: 200, body: c.body, same: true };
      return r.text().then(function (t) {
        var body = null;
        try { body = t ? JSON.parse(t) : null; } catch (e) { body = null; }
        var etag = r.headers.get("ETag");
        if (r.status === 200 && etag) cache[url] = { etag: etag, body: body };
        else if (r.status !== 200) delete cache[url];
        return { status: r.status, body: body, same: false };
      });
    });
  }

  // ---- formatting ----
  var priceFmt = new Intl.NumberFormat("en-US",
    { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  function fmtPrice(v) { return v == null ? "no sample" : "$" + priceFmt.format(v); }
  function fmtSent(v) { return v == null ? "no sample" : (v >= 0 ? "+" : "−") + Math.abs(v).toFixed(4); }
  // "2021-07-07T15:00:00+00:00" -> "2021-07-07 15:00"
  function fmtHour(t) { return t.slice(0, 10) + " " + t.slice(11, 16); }
  function fmtShortHour(t) { return t.slice(11, 16); }
  // "2021-07-07T00:00:00+00:00" -> "2021-07-07"; "Jul 7" for an axis
  function fmtDay(t) { return t.slice(0, 10); }
  var MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug",
    "Sep", "Oct", "Nov", "Dec"];
  function fmtShortDay(t) { return MONTHS[+t.slice(5, 7) - 1] + " " + (+t.slice(8, 10)); }

  // ---- the two modes: the rows fields, the URL, the words ----
  // Hour mode's words are index.html's own, read once at start; day mode's
  // replace them while the summary is of days.
  var DAY_TEXTS = {
    "sub": "The BTC price and its sentiment, averaged by the day.",
    "rule-span": "the last of the days below with the first",
    "hours-h": "The days of the verdict",
    "hours-caption": "Daily averages of the summary, oldest first (UTC). " +
      "This table is also the text version of the chart's shaded days.",
    "hours-col": "Day (UTC)",
    "chart-h": "The last 31 days",
    "legend-window": "The days of the verdict",
    "history-link": "/history"
  };
  var HOUR_TEXTS = {};
  var MODES = {
    hour: { rows: "hourly_average_of_averages", hist: "hourly",
            url: "/history?hours=24", unit: "hour", span: "24-hour",
            fmt: fmtHour, tick: fmtShortHour, texts: HOUR_TEXTS },
    day: { rows: "daily_average_of_averages", hist: "daily",
           url: "/history?days=31", unit: "day", span: "31-day",
           fmt: fmtDay, tick: fmtShortDay, texts: DAY_TEXTS }
  };
  function mode() { return MODES[state.mode || "hour"]; }
  // the mode of a summary document, "" when it is neither
  function modeOf(body) {
    if (!body || typeof body !== "object") return "";
    if (Array.isArray(body.hourly_average_of_averages)) return "hour";
    if (Array.isArray(body.daily_average_of_averages)) return "day";
    return "";
  }
  function renderMode() {
    var m = mode();
    if (document.body.getAttribute("data-mode") === state.mode) return;
    for (var id in DAY_TEXTS) setText($(id), m.texts[id]);
    $("history-link").setAttribute("href", m.url);
    if (state.mode) document.body.setAttribute("data-mode", state.mode);
  }

  var rtf = typeof Intl.RelativeTimeFormat === "function" ?
    new Intl.RelativeTimeFormat("en", { numeric: "auto" }) : null;
  // seconds -> "3 days ago"
  function ageWords(s) {
    var units = [["year", 31536000], ["month", 2592000], ["week", 604800],
                 ["day", 86400], ["hour", 3600], ["minute", 60]];
    for (var i = 0; i < units.length; i++) {
      if (s >= units[i][1]) {
        var n = Math.floor(s / units[i][1]);
        return rtf ? rtf.format(-n, units[i][0]) :
          n + " " + units[i][0] + (n === 1 ? "" : "s") + " ago";
      }
    }
    return "just now";
  }
  function dirWords(d) {
    return d === "rising" ? "↑ rising" : d === "falling" ? "↓ falling" : "→ flat";
  }
  // the API's verdict, in the page's words (the rule is the API's alone)
  var VERDICT_WORDS = { "lit": "Lit", "not lit": "Not lit", "mixed": "Mixed" };
  function verdictOf(s) {
    return Object.prototype.hasOwnProperty.call(VERDICT_WORDS, s.verdict) ?
      VERDICT_WORDS[s.verdict] : "Unknown";
  }

  function setText(el, text) { if (el.textContent !== text) el.textContent = text; }

  // ---- the verdict, the as-of line, the stale banner ----
  function ageSeconds() {
    var h = state.health, s = state.summary;
    if (h && typeof h.age_s === "number")
      return h.age_s + Math.round((Date.now() - state.fetchedAt) / 1000);
    var asOf = (s && s.as_of) || (h && h.as_of);
    if (!asOf) return null;
    var t = Date.parse(asOf);
    return isNaN(t) ? null : Math.max(0, Math.round((Date.now() - t) / 1000));
  }

  function renderVerdict() {
    var s = state.summary;
    var v = $("verdict");
    if (!s) {
      setText(v, state.problem === "nodata" ? "No data yet" : "Unknown");
      v.setAttribute("data-verdict", "");
      setText($("price-dir"), "–");
      setText($("sentiment-dir"), "–");
      setText($("asof"), "");
      setText($("age"), "");
      $("stale").hidden = true;
      $("verdict-card").setAttribute("data-stale", "false");
      SERIES.forEach(function (name) { setText($(name + "-src"), "–"); });
      return;
    }
    var word = verdictOf(s);
    setText(v, word);
    v.setAttribute("data-verdict", word.toLowerCase().replace(" ", "-"));
    [["price-dir", s.price_direction], ["sentiment-dir", s.sentiment_direction]]
      .forEach(function (p) {
        var el = $(p[0]);
        setText(el, dirWords(p[1]));
        el.setAttribute("data-dir", p[1]);
      });
    var t = $("asof");
    t.setAttribute("datetime", s.as_of);
    setText(t, fmtHour(s.as_of) + " UTC");
    renderAge();
  }

  // /healthz's view of series name: {source, step_s, age_s, data}, the age
  // moved on since it was fetched; null when /healthz does not say
  function seriesInfo(name) {
    var h = state.health, s = h && h.series && h.series[name];
    if (!s || typeof s !== "object" || typeof s.source !== "string") return null;
    var since = Math.round((Date.now() - state.fetchedAt) / 1000);
    return { source: s.source, step: s.step_s, data: s.data,
             age: typeof s.age_s === "number" ? s.age_s + since : null };
  }
  function sourceWords(info) {
    var name = Object.prototype.hasOwnProperty.call(SOURCE_NAMES, info.source) ?
      SOURCE_NAMES[info.source] : info.source;
    var step = info.step === 3600 ? "hourly" : info.step === 86400 ? "daily" :
      typeof info.step === "number" ? "every " + info.step + " s" : "";
    return name + (step ? " (" + step + ")" : "");
  }

  // Each series' source and age; which series are stale (names).
  function renderSources() {
    var stale = [], shown = false;
    SERIES.forEach(function (name) {
      var info = seriesInfo(name), dd = $(name + "-src");
      if (!info) { setText(dd, "not reported"); dd.setAttribute("data-stale", ""); return; }
      shown = true;
      var old = info.data === "stale";
      if (old) stale.push(name);
      setText(dd, sourceWords(info) + ", " + (info.age == null ? "no sample yet" :
        "newest sample " + ageWords(info.age)) + (old ? " (stale)" : ""));
      dd.setAttribute("data-stale", old ? "true" : "false");
    });
    return { known: shown, stale: stale };
  }

  function renderAge() {
    if (!state.summary) return;
    var age = ageSeconds();
    setText($("age"), age == null ? "" : "(" + ageWords(age) + ")");
    var src = renderSources(), stale, text;
    if (src.known) stale = src.stale.length > 0;
    else if (state.mode === "day") stale = age != null && age > DAY_STALE_AFTER_S;
    else stale = age != null && age > STALE_AFTER_S;
    var frozen = src.stale.some(function (n) {
      return seriesInfo(n).source === "senticrypt-v1";
    });
    if (stale && (frozen || !src.known)) {
      text = "The newest sample is from " + fmtHour(state.summary.as_of) +
        " UTC, " + ageWords(age || 0) + ". The default feed, SentiCrypt v1, " +
        "is frozen (its data collection has stopped), so a service reading " +
        "it shows the same past day until it is pointed at a live feed " +
        "(see the README: today's verdict, from live feeds).";
    } else if (stale) {
      text = src.stale.map(function (n) {
        var info = seriesInfo(n);
        return "The newest " + n + " sample, from " + sourceWords(info) +
          (info.age == null ? ", is missing." : ", came " + ageWords(info.age) + ".");
      }).join(" ") + (src.stale.length > 1 ? " Their feeds have" : " Its feed has") +
        " not delivered since; the verdict may be out of date.";
    }
    // one line under the verdict, the rest behind it (a screen reader
    // reads all of it, the hidden copy)
    var which = !stale ? "" : !src.known ? "the newest sample is old" :
      src.stale.length > 1 ? "both series stopped moving" : "the " + src.stale[0] + " stopped moving";
    setText($("verdict-stale-which"), which);
    if (stale) {
      setText($("stale-text"), text);
      setText($("stale-sr"), text);
    }
    $("stale").hidden = !stale;
    $("verdict-card").setAttribute("data-stale", stale ? "true" : "false");
  }

  // ---- the table of the three hours ----
  function cell(tag, cls, text, value) {
    var td = document.createElement(tag);
    if (cls) td.className = cls;
    td.textContent = text;
    if (value !== undefined) td.setAttribute("data-value", String(value));
    return td;
  }
  function renderTable() {
    var body = $("hours").tBodies[0];
    var m = mode();
    var rows = state.summary ? state.summary[m.rows] : [];
    var key = JSON.stringify(rows);
    if (body.getAttribute("data-key") === key) return;   // unchanged: no redraw
    body.setAttribute("data-key", key);
    var frag = document.createDocumentFragment();
    rows.forEach(function (r) {
      var tr = document.createElement("tr");
      var th = document.createElement("th");
      th.scope = "row";
      var tm = document.createElement("time");
      tm.setAttribute("datetime", r.time);
      tm.textContent = m.fmt(r.time);
      th.appendChild(tm);
      tr.appendChild(th);
      tr.appendChild(cell("td", "num", fmtPrice(r.price), r.price));
      tr.appendChild(cell("td", "num", fmtSent(r.sentiment), r.sentiment));
      frag.appendChild(tr);
    });
    if (!rows.length) {
      var tr = document.createElement("tr");
      var td = cell("td", "empty", !state.summary ? "No data." :
        state.mode === "day" ? "No day of the verdict's window has samples of both series." :
        "No hour of the last three has samples of both series.");
      td.colSpan = 3;
      tr.appendChild(td);
      frag.appendChild(tr);
    }
    body.replaceChildren(frag);
  }

  // ---- the chart ----
  function el(name, attrs, parent) {
    var e = document.createElementNS(SVG, name);
    for (var k in attrs) e.setAttribute(k, attrs[k]);
    if (parent) parent.appendChild(e);
    return e;
  }
  // [min, max] of the non-null values; null when there is none
  function range(rows, field) {
    var lo = Infinity, hi = -Infinity;
    rows.forEach(function (r) {
      var v = r[field];
      if (v != null) { if (v < lo) lo = v; if (v > hi) hi = v; }
    });
    return lo === Infinity ? null : [lo, hi];
  }
  // Round ticks for the values lo..hi: a step of 1, 2 or 5 times a power
  // of ten giving about four intervals, from the step's multiple at or
  // below lo to the one at or above hi; {lo, hi, step, ticks, digits}
  function niceTicks(lo, hi) {
    if (hi <= lo) { var pad = Math.abs(hi) * 0.01 || 1; lo -= pad; hi += pad; }
    var raw = (hi - lo) / 4, mag = Math.pow(10, Math.floor(Math.log10(raw)));
    var f = raw / mag, step = (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * mag;
    var digits = Math.max(0, -Math.floor(Math.log10(step) + 1e-9));
    var k0 = Math.floor(lo / step + 1e-9), k1 = Math.ceil(hi / step - 1e-9);
    var ticks = [];
    for (var k = k0; k <= k1; k++) ticks.push(+(k * step).toFixed(digits));
    return { lo: ticks[0], hi: ticks[ticks.length - 1], step: step, ticks: ticks, digits: digits };
  }

  // A path of the non-null points, "M" after each gap; the number of segments
  function linePath(rows, field, x, y) {
    var d = "", pen = false, segs = 0;
    rows.forEach(function (r, i) {
      var v = r[field];
      if (v == null) { pen = false; return; }
      d += (pen ? "L" : "M") + x(i).toFixed(1) + " " + y(v).toFixed(1);
      if (!pen) segs++;
      pen = true;
    });
    return { d: d, segments: segs };
  }

  var chartKey = "";
  // The drawn chart's tooltip and points, for the listeners on #chart.  The
  // listeners sit on the HTML container: Chromium makes an SVG element
  // with focus listeners focusable itself.
  var chartTip = null;
  function chartEvents(box) {
    function at(e) {
      var p = chartTip && e.target.closest && e.target.closest(".pt");
      return p ? +p.getAttribute("data-index") : -1;
    }
    function showAt(e) { var i = at(e); if (i >= 0) chartTip.show(i); }
    function hide() { if (chartTip) chartTip.hide(); }
    box.addEventListener("mouseover", showAt);
    box.addEventListener("mouseleave", hide);
    box.addEventListener("focusin", showAt);
    box.addEventListener("focusout", hide);
    box.addEventListener("keydown", function (e) {
      var i = at(e), n = chartTip ? chartTip.n : 0, j = i;
      if (i < 0) return;
      if (e.key === "ArrowLeft" || e.key === "ArrowDown") j = Math.max(0, i - 1);
      else if (e.key === "ArrowRight" || e.key === "ArrowUp") j = Math.min(n - 1, i + 1);
      else if (e.key === "Home") j = 0;
      else if (e.key === "End") j = n - 1;
      else if (e.key === "Escape") { hide(); return; }
      else return;
      e.preventDefault();
      var all = chartTip.pts.querySelectorAll(".pt");
      all[i].setAttribute("tabindex", "-1");
      all[j].setAttribute("tabindex", "0");
      all[j].focus();
    });
  }
  // app.css: in once it has loaded (or failed to); then applied
  var chartStyles = false;
  function loadChartStyles() {
    var link = $("chart-css");
    function done() {
      if (chartStyles) return;
      if (link) link.media = "all";
      chartStyles = true;
      renderChart(false);
    }
    // loaded, or already failed (its fetch is over: no event will come)
    if (!link || link.sheet || (window.performance && performance.getEntriesByName &&
        performance.getEntriesByName(link.href).length)) return done();
    link.addEventListener("load", done);
    link.addEventListener("error", done);
  }
  function renderChart(force) {
    var box = $("chart"), note = $("chart-note");
    var h = state.history, md = mode();
    // before its styles the box keeps its room and its note
    if (!chartStyles) return;
    if (!h || !h[md.hist] || !h[md.hist].length) {
      box.replaceChildren();
      chartKey = "";
      chartTip = null;
      // before the first answer the box keeps its room
      box.hidden = updates > 0;
      note.classList.toggle("warn", updates > 0);
      setText(note, !updates ? "Loading the chart…" : state.historyMissing ?
        "The " + md.span + " chart is not available: this server has no /history endpoint yet." :
        state.summary ? "No " + md.span + " history to draw." : "No data to draw.");
      return;
    }
    var width = Math.max(280, Math.round(box.clientWidth || 640));
    var key = width + state.mode + JSON.stringify(h[md.hist]) +
      (state.summary ? JSON.stringify(state.summary[md.rows]) : "");
    if (!force && key === chartKey) return;
    chartKey = key;
    box.hidden = false;
    note.classList.remove("warn");
    setText(note, "Tap or hover a point for its values, or use the arrow " +
      "keys on the chart to step through the " + md.unit + "s; a gap in a " +
      "line is a" + (md.unit === "hour" ? "n " : " ") + md.unit + " without a sample.");

    var rows = h[md.hist], n = rows.length;
    var narrow = width < 520;
    // the height is the stylesheet's, which keeps the room before the chart
    var height = Math.round(parseFloat(getComputedStyle(box).minHeight)) || (narrow ? 240 : 300);
    var dated = state.mode !== "day";
    var m = { l: narrow ? 54 : 70, r: narrow ? 50 : 60, t: 14, b: dated ? 40 : 30 };
    var pw = width - m.l - m.r, ph = height - m.t - m.b;
    var step = pw / n;
    function x(i) { return m.l + step * (i + 0.5); }
    var pr = range(rows, "price") || [0, 1], sr = range(rows, "sentiment") || [0, 1];
    var pt = niceTicks(pr[0], pr[1]), st = niceTicks(sr[0], sr[1]);
    function yp(v) { return m.t + ph * (1 - (v - pt.lo) / (pt.hi - pt.lo)); }
    function ys(v) { return m.t + ph * (1 - (v - st.lo) / (st.hi - st.lo)); }

    var svg = el("svg", { width: width, height: height, viewBox: "0 0 " + width + " " + height,
      role: "group", "aria-labelledby": "chart-h", "aria-describedby": "chart-note",
      "class": "svg" });

    // the three hours of the verdict: the last three of the history; the
    // days of the verdict: from the summary's first row to its last
    var w0 = Math.max(0, n - 3), w1 = n - 1;
    if (state.mode === "day") {
      var sr0 = state.summary ? state.summary[md.rows] : [];
      var times = rows.map(function (r) { return r.time; });
      w0 = sr0.length ? times.indexOf(sr0[0].time) : -1;
      w1 = sr0.length ? times.indexOf(sr0[sr0.length - 1].time) : -1;
    }
    if (w0 >= 0 && w1 >= w0)
      el("rect", { "class": "window", x: (m.l + step * w0).toFixed(1), y: m.t,
        width: (step * (w1 + 1 - w0)).toFixed(1), height: ph,
        "data-from": rows[w0].time, "data-to": rows[w1].time }, svg);

    // grid and axes: round values, the grid on the price's
    var g = el("g", { "class": "axes", "aria-hidden": "true" }, svg);
    pt.ticks.forEach(function (v) {
      var yy = yp(v);
      el("line", { "class": "grid", x1: m.l, x2: m.l + pw, y1: yy, y2: yy }, g);
      el("text", { "class": "tick price", x: m.l - 6, y: yy + 4, "text-anchor": "end", "data-value": v }, g)
        .textContent = v.toLocaleString("en-US", { minimumFractionDigits: pt.digits, maximumFractionDigits: pt.digits });
    });
    st.ticks.forEach(function (v) {
      el("text", { "class": "tick sentiment", x: m.l + pw + 6, y: ys(v) + 4, "text-anchor": "start", "data-value": v }, g)
        .textContent = v.toFixed(st.digits);
    });
    // hours: the date under the first tick and under each that starts a new day
    var every = state.mode === "day" ? (narrow ? 10 : 5) : narrow ? 6 : 3;
    var lastDay = "";
    rows.forEach(function (r, i) {
      if ((n - 1 - i) % every !== 0) return;
      var t = el("text", { "class": "tick", x: x(i), y: height - (dated ? 22 : 10),
        "text-anchor": "middle", "data-time": r.time }, g);
      t.textContent = md.tick(r.time);
      if (dated && r.time.slice(0, 10) !== lastDay)
        el("tspan", { x: x(i), dy: 14, "class": "date" }, t).textContent = fmtShortDay(r.time);
      lastDay = r.time.slice(0, 10);
    });

    var lp = linePath(rows, "price", x, yp), ls = linePath(rows, "sentiment", x, ys);
    el("path", { "class": "line price", d: lp.d, "data-segments": lp.segments, "aria-hidden": "true" }, svg);
    el("path", { "class": "line sentiment", d: ls.d, "data-segments": ls.segments, "aria-hidden": "true" }, svg);

    // one focusable point per hour; one tab stop, arrow keys move (roving tabindex)
    var pts = el("g", { "class": "points" }, svg);
    var focusIndex = n - 1;
    rows.forEach(function (r, i) {
      var label = md.fmt(r.time) + " UTC: price " + fmtPrice(r.price) +
        ", sentiment " + fmtSent(r.sentiment);
      var p = el("g", { "class": "pt", tabindex: i === focusIndex ? "0" : "-1",
        role: "img", "aria-label": label, "data-index": i, "data-time": r.time }, pts);
      el("rect", { "class": "hit", x: (m.l + step * i).toFixed(1), y: m.t,
        width: step.toFixed(1), height: ph }, p);
      el("line", { "class": "guide", x1: x(i), x2: x(i), y1: m.t, y2: m.t + ph }, p);
      if (r.price != null) el("circle", { "class": "dot price", cx: x(i), cy: yp(r.price), r: 3.5 }, p);
      if (r.sentiment != null) el("rect", { "class": "dot sentiment", x: x(i) - 3.5, y: ys(r.sentiment) - 3.5, width: 7, height: 7 }, p);
    });

    // the tooltip: text placed by attributes
    var tip = el("g", { "class": "tip", "aria-hidden": "true", visibility: "hidden" }, svg);
    var tipBox = el("rect", { rx: 4, height: 52 }, tip);
    var tipLines = [0, 1, 2].map(function (j) {
      return el("text", { x: 8, y: 16 + j * 15, "class": j ? "tip-v" : "tip-t" }, tip);
    });
    function show(i) {
      var r = rows[i];
      tipLines[0].textContent = md.fmt(r.time) + " UTC";
      tipLines[1].textContent = "Price " + fmtPrice(r.price) + (r.price_samples != null ? " (" + r.price_samples + ")" : "");
      tipLines[2].textContent = "Sentiment " + fmtSent(r.sentiment) + (r.sentiment_samples != null ? " (" + r.sentiment_samples + ")" : "");
      var tw = 0;
      tipLines.forEach(function (t) { tw = Math.max(tw, t.getComputedTextLength()); });
      tw += 16;
      tipBox.setAttribute("width", tw.toFixed(0));
      var tx = x(i) + 10;
      if (tx + tw > width - 2) tx = x(i) - 10 - tw;
      tip.setAttribute("transform", "translate(" + Math.max(2, tx).toFixed(0) + "," + (m.t + 4) + ")");
      tip.setAttribute("visibility", "visible");
      tip.setAttribute("data-index", i);
    }
    function hide() { tip.setAttribute("visibility", "hidden"); }
    chartTip = { show: show, hide: hide, pts: pts, n: n };

    // keep the focused hour focused across a redraw
    var had = box.querySelector(".pt:focus");
    var hadIndex = had ? +had.getAttribute("data-index") : -1;
    box.replaceChildren(svg);
    if (hadIndex >= 0 && hadIndex < n) {
      var all = pts.querySelectorAll(".pt");
      all[n - 1].setAttribute("tabindex", "-1");
      all[hadIndex].setAttribute("tabindex", "0");
      all[hadIndex].focus();
    }
  }

  // ---- problems ----
  var PROBLEMS = {
    nodata: ["No data yet.", "The service has not stored a sample yet: no " +
      "refresh of the feed has succeeded. This page tries again every minute."],
    redis: ["The service cannot reach its database.", "Redis is unavailable " +
      "just now; the page shows the last data it had and tries again every minute."],
    network: ["The service cannot be reached.", "A network error, or the " +
      "server is down; the page shows the last data it had and tries again every minute."],
    server: ["The service answered with an error.", "The page shows the last " +
      "data it had and tries again every minute."]
  };
  function renderProblem() {
    var p = PROBLEMS[state.problem];
    $("problem").hidden = !p;
    if (p) {
      setText($("problem-title"), p[0]);
      setText($("problem-text"), p[1]);
    }
    document.body.setAttribute("data-state", state.problem || "ok");
  }

  function render() {
    renderMode();
    renderProblem();
    renderVerdict();
    renderTable();
    renderChart(false);
  }

  // ---- one update ----
  // updates: answered so far; newAt: when one last brought new data
  var updating = false, updates = 0, newAt = 0, fresh = false;
  function utcTime(ms) { return new Date(ms).toISOString().slice(11, 16) + " UTC"; }
  // asked: by "Update now", which is answered in the live region even
  // when nothing changed
  function update(asked) {
    if (updating) return Promise.resolve();
    updating = true;
    fresh = false;
    var before = state.summary ? verdictOf(state.summary) + state.summary.as_of : "";
    // the summary first: its rows field says which history to ask for
    // (without a summary, the mode of the last one; none before the first)
    return Promise.all([
      get("/is-bitcoin-lit"),
      get("/healthz").catch(function () { return null; })
    ]).then(function (res) {
      var md = res[0].status === 200 ? modeOf(res[0].body) : "";
      var m = md || state.mode;
      var h = m ? get(MODES[m].url).catch(function () { return null; }) : null;
      return Promise.all([res[0], h, res[1]]);
    }).then(function (res) {
      var s = res[0], h = res[1], z = res[2];
      state.fetchedAt = Date.now();
      // new data: a summary or a history that is not the one we had (the
      // ages in /healthz move on every second; they are not data)
      fresh = !s.same || (h != null && !h.same);
      if (fresh) newAt = state.fetchedAt;
      state.health = z && z.body && typeof z.body === "object" ? z.body : null;
      var sm = s.status === 200 ? modeOf(s.body) : "";
      if (sm) {
        if (sm !== state.mode) state.history = null;
        state.mode = sm;
        state.summary = s.body;
        state.problem = "";
      } else if (s.status === 503 && s.body && s.body.error === "no data") {
        state.summary = null;
        state.history = null;
        state.problem = "nodata";
      } else if (s.status === 503 && s.body && s.body.error === "redis unavailable") {
        state.problem = "redis";
      } else {
        state.problem = "server";
      }
      if (h && h.status === 200 && h.body && Array.isArray(h.body[mode().hist])) {
        state.history = h.body;
        state.historyMissing = false;
      } else if (h && h.status === 404) {
        state.history = null;
        state.historyMissing = true;
      } else if (state.problem === "nodata") {
        state.history = null;
      }
    }, function () {
      state.problem = "network";
    }).then(function () {
      updates++;
      render();
      var now = state.summary ? verdictOf(state.summary) + state.summary.as_of : "";
      var live = $("live"), said = "";
      if (state.problem) said = PROBLEMS[state.problem][0];
      else if (now !== before && updates > 1)
        said = "Updated: " + verdictOf(state.summary) + ", as of " +
          fmtHour(state.summary.as_of) + " UTC.";
      else if (asked && !fresh)
        said = "No new data since " + utcTime(newAt) + ".";
      else if (asked)
        said = "Updated at " + utcTime(state.fetchedAt) + "; the verdict is the same.";
      setText($("checked"), state.problem ? "Could not update at " + utcTime(Date.now()) + "." :
        fresh ? "Updated at " + utcTime(newAt) + "." : "No new data since " + utcTime(newAt) + ".");
      // the same words again are said again
      if (said && said === live.textContent) live.textContent = "";
      if (said) setTimeout(function () { setText(live, said); }, 50);
      setTimeout(function () { document.body.setAttribute("data-updates", updates); }, 60);
    }).then(function () { updating = false; }, function (e) {
      updating = false;
      throw e;
    });
  }

  function schedule() {
    clearTimeout(timer);
    timer = setTimeout(function () { update().then(schedule, schedule); }, EVERY_MS);
  }

  document.addEventListener("DOMContentLoaded", function () {
    for (var id in DAY_TEXTS) HOUR_TEXTS[id] = $(id).textContent;
    chartEvents($("chart"));
    loadChartStyles();
    $("update").addEventListener("click", function () {
      update(true).then(schedule, schedule);
    });
    var resizeTimer = 0;
    window.addEventListener("resize", function () {
      clearTimeout(resizeTimer);
      resizeTimer = setTimeout(function () { renderChart(false); }, 150);
    });
    // the age in words moves on between updates
    setInterval(renderAge, 30000);
    update().then(schedule, schedule);
  });
})();
