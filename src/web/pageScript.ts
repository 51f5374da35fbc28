/**
 * The status page's renderers, shared by the server (the first response) and the browser (live
 * updates), and the page's inline script.
 *
 *   pageRenderers(limits) ── server: renderPage() calls it directly
 *          │ .toString()
 *          ▼
 *   <script> (function(){ var R = (pageRenderers source)(limits); poll /api/state every 3 s,
 *             R.sections(state) → swap each section whose hash changed; actions by fetch })()
 *
 * `pageRenderers` is one self-contained function: it may reference nothing outside its own body
 * (no imports, no module constants), because its source text is shipped to the browser. Both the
 * tsx loader and the production bundle (esbuild `keepNames`) insert `__name(fn, "name")` calls into
 * that text, and the bundle may rename identifiers inside it consistently; the script defines a
 * no-op `__name`, and test/unit/webPage.test.ts runs the shipped script to prove it works.
 * No I/O here.
 */
import type { PageModem, PageState } from "./page.js";

/** Thresholds the page colours by (from src/health/checks.ts, passed in so the browser has them). */
export interface PageLimits {
  /** A ready modem with at most this many bars (0–5) gets antenna advice. */
  weakBars: number;
  /** °C at or above which the board is shown hot. */
  hotC: number;
  /** Disk use, %, at or above which it is shown nearly full. */
  diskHighUsedPercent: number;
  /** The oldest outgoing SMS waiting longer than this is shown late, s. */
  queueAgeS: number;
  /** Events listed at most (newest first). */
  maxEvents: number;
}

/** The ids of the page's parts that live updates re-render (each an element id). */
export type SectionId = "head" | "modems" | "actions" | "queues" | "uplinks" | "system" | "leds" | "events";

/** Shared renderers. Keep the body self-contained (see the file comment). */
export function pageRenderers(limits: PageLimits) {
  const ENTITIES: Record<string, string> = {
    "&": "&amp;",
    "<": "&lt;",
    ">": "&gt;",
    '"': "&quot;",
    "'": "&#39;",
  };

  /** Text for HTML content and double-quoted attributes; null and undefined give "". */
  function escapeHtml(value: unknown): string {
    return String(value === null || value === undefined ? "" : value).replace(
      /[&<>"']/g,
      (c) => ENTITIES[c]!,
    );
  }
  const e = escapeHtml;

  /** FNV-1a of a string, base 36: lets the browser skip sections that did not change. */
  function hash(s: string): string {
    let h = 0x811c9dc5;
    for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
    return (h >>> 0).toString(36);
  }

  /** A coarse duration: changes at most once a minute, so sections are not redrawn every poll. */
  function dur(s: number): string {
    if (!(s >= 60)) return "less than a minute";
    const m = Math.floor(s / 60);
    if (m < 120) return m + " min";
    const h = Math.floor(m / 60);
    if (h < 48) return h + " h " + (m % 60) + " min";
    return Math.floor(h / 24) + " d " + (h % 24) + " h";
  }

  /** "N s ago" for the live line (seconds matter there). */
  function ago(s: number): string {
    if (s < 120) return Math.max(0, Math.round(s)) + " s ago";
    return dur(s) + " ago";
  }

  /** Seconds from `from` to `to` (ISO 8601), or null when either is not a date. */
  function between(from: string | null | undefined, to: string): number | null {
    const d = (Date.parse(to) - Date.parse(String(from))) / 1000;
    return Number.isFinite(d) ? Math.max(0, d) : null;
  }

  /** "2024-05-01 12:03 UTC": the same on the server and in any browser's time zone. */
  function utc(iso: string): string {
    const t = Date.parse(iso);
    return Number.isFinite(t)
      ? new Date(t).toISOString().slice(0, 16).replace("T", " ") + " UTC"
      : String(iso);
  }

  function agoAt(iso: string, now: string): string {
    const s = between(iso, now);
    return `<time title="${e(utc(iso))}">${s === null ? e(iso) : dur(s) + " ago"}</time>`;
  }

  const weak = (m: PageModem): boolean => !!m.signal && m.signal.bars <= limits.weakBars;

  /** Plain words for a modem's state (and last error) and what a person should do. */
  function modemAdvice(m: PageModem): { title: string; advice: string } {
    switch (m.state) {
      case "ready":
        if (weak(m))
          return {
            title: "Weak signal",
            advice:
              `only ${m.signal!.bars} of 5 bars: check the antenna is screwed on tight and its cable is not ` +
              "damaged; raise the antenna or point it towards the operator's mast",
          };
        return { title: "Working", advice: "nothing to do" };
      case "initializing":
        return { title: "Starting up", advice: "wait a minute while the site sets the modem up" };
      case "searching":
        return {
          title: "Looking for the network",
          advice:
            "check the antenna (screwed on, cable not damaged); if it lasts, check the SIM's operator covers this place",
        };
      case "recovering":
        return {
          title: "Recovering",
          advice: "the modem stopped answering and the site is restarting it by itself: wait a few minutes",
        };
      case "no_sim":
        return { title: "No SIM card", advice: `insert a SIM into modem ${m.id}'s slot` };
      case "pin_required":
        if (/PUK/i.test(m.last_error || ""))
          return {
            title: "SIM locked (PUK needed)",
            advice: "unlock the SIM with its PUK in a phone, or replace the SIM",
          };
        return {
          title: "SIM PIN refused",
          advice: "set modems[].pin for this modem's SIM, or replace the SIM",
        };
      case "faulted":
        return {
          title: "Modem not answering after recovery attempts",
          advice: "check the USB cable and its power; it will keep retrying",
        };
      case "absent":
        return {
          title: "Modem not found",
          advice: "check it is plugged in (USB cable and power); the site picks it up by itself",
        };
      default:
        return { title: `Unknown state "${m.state}"`, advice: "tell the NOC what the page shows" };
    }
  }

  /** What a raw last error means, in plain words ("" when not known). */
  function plainError(raw: string): string {
    const table: [RegExp, string][] = [
      [/PUK/i, "The SIM is locked and needs its PUK."],
      [/PIN/, "The SIM refused its PIN."],
      [/CME ERROR: 10\b|SIM not inserted|no SIM/i, "No SIM card was found."],
      [/does not answer|timed? ?out|took longer/i, "The modem stopped answering commands."],
      [/went away|unplugged|no open port|ENODEV|ENXIO|ENOENT|closed/i, "The modem's USB connection dropped."],
      [/EACCES|EPERM|permission/i, "The site may not open the modem's port (permissions)."],
      [/EBUSY|locked by another/i, "Another program holds the modem's port."],
      [/not registered/i, "No network accepted the SIM for a while."],
    ];
    for (const [re, words] of table) if (re.test(raw)) return words;
    return "";
  }

  function tone(m: PageModem): "ok" | "work" | "person" | "off" {
    switch (m.state) {
      case "ready":
        return weak(m) ? "work" : "ok";
      case "initializing":
      case "searching":
      case "recovering":
        return "work";
      case "absent":
        return "off";
      default:
        return "person";
    }
  }

  const orUnknown = (v: string | null | undefined): string => (v ? e(v) : '<i class="u">not read</i>');
  const row = (dt: string, dd: string): string => `<dt>${dt}</dt><dd>${dd}</dd>`;

  function bars(n: number): string {
    let s = "";
    for (let i = 1; i <= 5; i++) s += i <= n ? '<i class="f"></i>' : "<i></i>";
    return `<span class="bars" role="img" aria-label="${n} of 5 bars">${s}</span>`;
  }

  function modemCard(m: PageModem, s: PageState): string {
    const id = e(m.id);
    const a = modemAdvice(m);
    const sig = m.signal
      ? `${bars(m.signal.bars)} ${m.signal.bars}/5` +
        (m.signal.dbm === null ? "" : `, ${m.signal.dbm} dBm`) +
        ` <small>(CSQ ${e(m.signal.csq)})</small>`
      : '<i class="u">no reading</i>';
    const since = between(m.since, s.generated_at);
    const counters = Object.keys(m.counters || {})
      .map((k) => `${e(k.replace(/_/g, " "))} <b>${e(m.counters[k])}</b>`)
      .join(" · ");
    let err = "";
    if (m.last_error) {
      const plain = plainError(m.last_error);
      err = `<p class="err">Last error: ${plain ? e(plain) + " " : ""}<code>${e(m.last_error)}</code></p>`;
    }
    const buttons = s.logged_in
      ? `<p class="btns"><button type="button" data-act="restart" data-modem="${id}" data-testid="restart-${id}">Restart</button>` +
        `<button type="button" data-act="power_cycle" data-modem="${id}" data-testid="power-cycle-${id}">Power-cycle</button></p>`
      : "";
    return (
      `<article class="card t-${tone(m)}" data-testid="modem-${id}">` +
      `<h3>Modem ${id} <span class="state" data-testid="modem-${id}-state" data-state="${e(m.state)}">${e(m.state)}</span></h3>` +
      `<p class="advice" data-testid="modem-${id}-advice"><b>${e(a.title)}</b>: ${e(a.advice)}</p>${err}<dl>` +
      row("Network", orUnknown(m.operator)) +
      row("Signal", sig) +
      row("In this state", since === null ? e(m.since) : `for ${dur(since)}`) +
      row("SIM ICCID", orUnknown(m.iccid)) +
      row("IMSI", orUnknown(m.imsi)) +
      row("IMEI", orUnknown(m.imei)) +
      row("Model", orUnknown(m.model)) +
      row("Port", orUnknown(m.port)) +
      `</dl>${counters ? `<p class="ctr">${counters}</p>` : ""}${buttons}</article>`
    );
  }

  const HEALTH_WORDS: Record<string, string> = {
    ok: "OK: the site is working",
    degraded: "DEGRADED: working, with problems",
    failed: "FAILED: the site cannot carry SMS",
  };

  function head(s: PageState): string {
    const h = s.health;
    const bad = (h.checks || []).filter((c) => c.status !== "ok");
    const why = bad.length
      ? `<ul class="why">${bad.map((c) => `<li class="${c.status === "failed" ? "x" : "w"}"><b>${e(c.name)}</b>: ${e(c.reason)}</li>`).join("")}</ul>`
      : "";
    return (
      `<p class="brand">bts-site status</p><h1 data-testid="site-name">${e(s.site.name || s.site.id)}</h1>` +
      `<p>Site id <b data-testid="site-id">${e(s.site.id)}</b></p>` +
      `<p class="health h-${e(h.status)}" data-testid="health" data-status="${e(h.status)}">${e(HEALTH_WORDS[h.status] || h.status)}</p>${why}`
    );
  }

  function actions(s: PageState): string {
    if (!s.can_login)
      return '<p data-testid="read-only">Read-only: no password is set on this site (web.password_hash)</p>';
    if (!s.logged_in)
      return (
        "<p>Restarting a modem or sending a test SMS needs the site password.</p>" +
        '<form data-form="login" data-testid="login-form" method="post" action="/api/login">' +
        '<label>Password <input type="password" name="password" autocomplete="current-password" required data-testid="login-password"></label>' +
        '<button data-testid="login-button">Log in</button></form>'
      );
    return (
      '<form data-form="sms" data-testid="sms-form"><p><b>Send a test SMS</b></p>' +
      '<label>To <input type="tel" name="to" inputmode="tel" placeholder="+256..." required data-testid="sms-to"></label>' +
      `<label>Text <input name="text" maxlength="160" required value="Test from bts-site ${e(s.site.id)}" data-testid="sms-text"></label>` +
      '<button data-testid="sms-send">Send test SMS</button></form>' +
      '<p><button type="button" data-act="logout" data-testid="logout-button">Log out</button></p>'
    );
  }

  function queues(s: PageState): string {
    const q = s.queues;
    const old = q.sms_out.oldest_pending_s;
    const late = old !== null && old > limits.queueAgeS;
    return (
      "<dl>" +
      row(
        "SMS to send",
        `<b>${e(q.sms_out.pending)}</b> waiting` +
          (old === null ? "" : `, oldest <span class="${late ? "w" : ""}">${dur(old)}</span>`),
      ) +
      row("SMS parts received, waiting for the rest", `<b>${e(q.sms_in.waiting_parts)}</b>`) +
      row("Messages waiting for the core (SIP)", `<b>${e(q.sip_out.pending)}</b>`) +
      row("Events waiting for the NOC", `<b>${e(q.noc_events.pending)}</b>`) +
      "</dl>"
    );
  }

  function uplinks(s: PageState): string {
    const mq = s.uplinks.mqtt;
    const sip = s.uplinks.sip;
    const forText = (iso: string) => {
      const d = between(iso, s.generated_at);
      return d === null ? "" : ` for ${dur(d)}`;
    };
    const mqtt = !mq
      ? "not configured"
      : mq.connected
        ? `<span class="g">connected</span>${forText(mq.since)}`
        : `<span class="x">disconnected</span>${forText(mq.since)}: events wait on disk and go when the link returns`;
    const ups =
      !sip || sip.length === 0
        ? "not configured"
        : `<ul>${sip
            .map(
              (u) =>
                `<li><code>${e(u.uri)}</code>: ` +
                (u.reachable === null
                  ? "not checked yet"
                  : u.reachable
                    ? '<span class="g">answers</span>'
                    : '<span class="x">does not answer</span>') +
                `, ${u.registered ? "registered" : "not registered"}</li>`,
            )
            .join("")}</ul>`;
    return "<dl>" + row("NOC link (MQTT)", mqtt) + row("SIP upstream", ups) + "</dl>";
  }

  function system(s: PageState): string {
    const y = s.system;
    if (!y) return "<p>No figures: not measured on this machine.</p>";
    const na = '<i class="u">not measured</i>';
    const yes = (v: boolean | null, bad: string, cls: string) =>
      v === null ? na : v ? `<span class="${cls}">${bad}</span>` : "no";
    const t = y.temperature_c;
    const temp =
      t === null
        ? na
        : t >= limits.hotC
          ? `<span class="x">${Math.round(t)} °C: hot</span> (check the enclosure's shade and ventilation)`
          : `${Math.round(t)} °C`;
    const du = y.disk_used_percent;
    const disk =
      du === null
        ? na
        : (du >= limits.diskHighUsedPercent
            ? `<span class="w">${Math.round(du)} % used: nearly full</span>`
            : `${Math.round(du)} % used`) +
          (y.disk_free_mb === null ? "" : `, ${Math.round(y.disk_free_mb)} MB free`);
    return (
      "<dl>" +
      row("Temperature", temp) +
      row(
        "Under-voltage now",
        yes(y.under_voltage_now, "YES: the power supply is too weak (check the supply and its cable)", "x"),
      ) +
      row("Under-voltage since start", yes(y.under_voltage_seen, "yes, seen since the site started", "w")) +
      row("Disk", disk) +
      row("Running for", y.uptime_s === null ? na : dur(y.uptime_s)) +
      row("Memory (controller)", y.process_rss_mb === null ? na : `${Math.round(y.process_rss_mb)} MB`) +
      "</dl>"
    );
  }

  const LED_WORDS: Record<string, [string, string]> = {
    on: ["Solid on", "good"],
    slow: ["Slow blink (1 Hz)", "working towards good (starting, searching, reconnecting)"],
    fast: ["Fast blink (4 Hz)", "needs a person (no SIM, PIN wrong, modem faulted)"],
    off: ["Off", "absent or powered off"],
  };

  function ledName(name: string): string {
    if (name === "status") return "<b>Status</b> (the whole site)";
    if (name === "uplink") return "<b>Uplink</b> (NOC link and SIP)";
    if (name.indexOf("modem:") === 0) return `<b>Modem ${e(name.slice(6))}</b>`;
    return `<b>${e(name)}</b>`;
  }

  function leds(s: PageState): string {
    const dot = (p: string) => `<span class="led ${e(p)}" role="img" aria-label="${e(p)}"></span>`;
    const names = Object.keys(s.leds || {});
    const now = names.length
      ? `<ul class="leds">${names
          .map((n) => {
            const p = s.leds[n]!;
            const w = LED_WORDS[p] || [p, ""];
            return `<li>${dot(p)} ${ledName(n)}: ${e(w[0].charAt(0).toLowerCase() + w[0].slice(1))}, ${e(w[1])}</li>`;
          })
          .join("")}</ul>`
      : "<p>No LEDs on this site.</p>";
    const legend = Object.keys(LED_WORDS)
      .map((p) => `<li>${dot(p)} <b>${LED_WORDS[p]![0]}</b>: ${LED_WORDS[p]![1]}</li>`)
      .join("");
    return `<p>Now:</p>${now}<p>What the patterns mean:</p><ul class="leds">${legend}</ul>`;
  }

  function events(s: PageState): string {
    const all = s.events || [];
    if (all.length === 0) return "<p>No events since the site started.</p>";
    const shown = all.slice(0, limits.maxEvents);
    const more = all.length - shown.length;
    return (
      `<ol class="ev">${shown
        .map((v) => `<li>${agoAt(v.at, s.generated_at)} <b>${e(v.kind)}</b> ${e(v.text)}</li>`)
        .join("")}</ol>` + (more > 0 ? `<p>${more} older not shown.</p>` : "")
    );
  }

  function modems(s: PageState): string {
    if (s.modems.length === 0)
      return '<p class="card t-person">No modem found. Check the modems are plugged in (USB) and powered.</p>';
    return s.modems.map((m) => modemCard(m, s)).join("");
  }

  /** Every part live updates redraw, by element id. */
  function sections(s: PageState): Record<SectionId, string> {
    return {
      head: head(s),
      modems: modems(s),
      actions: actions(s),
      queues: queues(s),
      uplinks: uplinks(s),
      system: system(s),
      leds: leds(s),
      events: events(s),
    };
  }

  function title(s: PageState): string {
    return `${String(s.health.status).toUpperCase()} · ${s.site.name || s.site.id} · bts-site`;
  }

  return { escapeHtml, modemAdvice, hash, ago, utc, sections, title };
}

export type PageRenderers = ReturnType<typeof pageRenderers>;

/**
 * The page's behaviour in the browser, after `R` (the shared renderers) is defined: polling, the
 * live line, the connection-lost note and the actions. Plain JavaScript (the project's TypeScript
 * has no DOM types); test/unit/webPage.test.ts runs it against a small fake DOM.
 */
const CLIENT = `
var POLL_MS = 3000, TIMEOUT_MS = 5000;
var okAt = Date.now(), failing = false, failText = "", inFlight = false, again = false;
function $(id) { return document.getElementById(id); }
function apply(s) {
  var parts = R.sections(s);
  for (var k in parts) {
    var el = $(k);
    if (!el) continue;
    var h = R.hash(parts[k]);
    if (el.getAttribute("data-k") !== h) { el.innerHTML = parts[k]; el.setAttribute("data-k", h); }
  }
  document.title = R.title(s);
}
function tick() {
  var s = (Date.now() - okAt) / 1000;
  var live = $("live"), lost = $("lost");
  if (live) live.textContent = "Last updated " + R.ago(s);
  if (lost) {
    lost.hidden = !failing;
    lost.textContent = failing ? "Connection lost: " + failText + ". The page shows the state of " + R.ago(s) + "; retrying every 3 s." : "";
  }
}
function request(path, init) {
  var ac = typeof AbortController === "function" ? new AbortController() : null;
  var t = setTimeout(function () { if (ac) ac.abort(); }, TIMEOUT_MS);
  init.credentials = "same-origin";
  if (ac) init.signal = ac.signal;
  return fetch(path, init).then(function (r) { clearTimeout(t); return r; }, function (err) { clearTimeout(t); throw err; });
}
function poll() {
  if (inFlight) { again = true; return; }
  inFlight = true;
  request("/api/state", { cache: "no-store", headers: { Accept: "application/json" } })
    .then(function (r) {
      if (!r.ok) throw new Error("the site controller answered HTTP " + r.status);
      return r.json();
    })
    .then(function (s) {
      try { apply(s); okAt = Date.now(); failing = false; }
      catch (err) { failing = true; failText = "the page could not show the new state (" + err.message + ")"; }
    }, function (err) {
      failing = true;
      failText = /HTTP/.test(err && err.message) ? err.message : "the page cannot reach the site controller";
    })
    .then(function () {
      inFlight = false;
      tick();
      if (again) { again = false; poll(); }
    });
}
function say(text, kind) {
  var el = $("result");
  if (!el) return;
  el.textContent = text;
  el.className = kind ? "r-" + kind : "";
}
function post(path, body, what, done, btn) {
  if (btn) btn.disabled = true;
  say(what + " ...", "busy");
  request(path, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) })
    .then(function (r) {
      return r.text().then(function (t) {
        var j = null;
        try { j = t ? JSON.parse(t) : null; } catch (x) { j = null; }
        if (!r.ok) throw new Error((j && j.error) || "HTTP " + r.status);
        return j && j.data ? j.data : j || {};
      });
    })
    .then(function (d) { say(done(d), "ok"); }, function (err) {
      var why = err && err.name !== "TypeError" && err.name !== "AbortError" ? err.message : "the page cannot reach the site controller";
      say(what + " failed: " + why, "bad");
    })
    .then(function () { if (btn) btn.disabled = false; poll(); });
}
document.addEventListener("submit", function (ev) {
  var f = ev.target, kind = f && f.getAttribute ? f.getAttribute("data-form") : null;
  if (!kind) return;
  ev.preventDefault();
  var btn = f.querySelector("button");
  if (kind === "login") {
    var pw = f.elements.password.value;
    f.elements.password.value = "";
    post("/api/login", { password: pw }, "Log in", function () { return "Logged in."; }, btn);
  } else if (kind === "sms") {
    var to = f.elements.to.value.trim();
    post("/api/sms", { to: to, text: f.elements.text.value }, "Test SMS to " + to, function (d) {
      return "Test SMS to " + to + " queued" + (d.id != null ? " (id " + d.id + ")" : "") + ".";
    }, btn);
  }
});
document.addEventListener("click", function (ev) {
  var b = ev.target && ev.target.closest ? ev.target.closest("button[data-act]") : null;
  if (!b) return;
  var act = b.getAttribute("data-act"), m = b.getAttribute("data-modem");
  if (act === "logout") {
    post("/api/logout", {}, "Log out", function () { return "Logged out."; }, b);
  } else if (act === "restart" || act === "power_cycle") {
    var what = (act === "restart" ? "Restart" : "Power-cycle") + " of modem " + m;
    post("/api/modems/" + encodeURIComponent(m) + "/" + act, {}, what, function (d) {
      return what + " done" + (d.state ? ": now " + d.state : "") + ".";
    }, b);
  }
});
document.addEventListener("visibilitychange", function () { if (!document.hidden) poll(); });
setInterval(function () { if (!document.hidden) poll(); }, POLL_MS);
setInterval(tick, 1000);
tick();
`;

/**
 * The page's inline script: the shared renderers' own source, then {@link CLIENT}. `</` and `<!--`
 * are escaped so nothing in it can end the `<script>` element early.
 */
export function pageScript(limits: PageLimits): string {
  const src =
    '(function(){"use strict";var __name=function(f){return f};' +
    `var R=(${pageRenderers.toString()})(${JSON.stringify(limits)});${CLIENT.replace(/\n\s*/g, "\n")}})();`;
  return src.replace(/<\//g, "<\\/").replace(/<!--/g, "<\\!--");
}
