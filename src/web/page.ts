/**
 * The status page served at `GET /` (contract, sections 5 and 6): one self-contained HTML document,
 * inline CSS and script, no external assets, readable on a phone in the sun.
 *
 *   renderPage(state) ── document shell + CSS
 *                     ├─ sections (shared renderers, src/web/pageScript.ts): complete with JS off
 *                     └─ inline script: polls GET /api/state every 3 s, redraws changed sections,
 *                        logs in and runs the actions by fetch (POST, JSON, same-origin cookie)
 *
 * Pure: the server gathers the state (event texts already masked) and sends the string.
 */
import type { ModemStateName } from "../core/events.js";
import { HEALTH_LIMITS } from "../health/checks.js";
import {
  type PageLimits,
  type PageRenderers,
  pageRenderers,
  pageScript,
  type SectionId,
} from "./pageScript.js";

export interface PageModem {
  id: string;
  state: ModemStateName;
  operator: string | null;
  /** `bars` 0–5; `dbm` null when the CSQ is 99 (unknown). */
  signal: { csq: number; dbm: number | null; bars: number } | null;
  imei: string | null;
  iccid: string | null;
  imsi: string | null;
  port: string | null;
  model: string | null;
  counters: Record<string, number>;
  last_error: string | null;
  /** ISO 8601: when the modem entered `state`. */
  since: string;
}

type Status = "ok" | "degraded" | "failed";

export interface PageState {
  site: { id: string; name: string };
  /** ISO 8601; every "for N min" and "N min ago" on the page is counted to this instant. */
  generated_at: string;
  modems: PageModem[];
  queues: {
    sms_out: { pending: number; oldest_pending_s: number | null };
    sms_in: { waiting_parts: number };
    sip_out: { pending: number };
    noc_events: { pending: number };
  };
  /** null: that uplink is not configured. */
  uplinks: {
    mqtt: { connected: boolean; since: string } | null;
    sip: { uri: string; reachable: boolean | null; registered: boolean }[] | null;
  };
  health: { status: Status; checks: { name: string; status: Status; reason: string }[] };
  system: {
    temperature_c: number | null;
    under_voltage_now: boolean | null;
    under_voltage_seen: boolean | null;
    disk_used_percent: number | null;
    disk_free_mb: number | null;
    uptime_s: number | null;
    process_rss_mb: number | null;
  } | null;
  /** Recent events, newest first, already masked by the server (phone numbers like +2567•••••12). */
  events: { at: string; kind: string; text: string }[];
  /** What each LED shows now, e.g. `{ status: "on", uplink: "slow", "modem:m1": "on" }`. */
  leds: Record<string, "on" | "slow" | "fast" | "off">;
  /** A session cookie is valid. */
  logged_in: boolean;
  /** False when no `web.password_hash` is set: the page is read-only. */
  can_login: boolean;
}

/** Thresholds the page colours by: the health checks' own. */
export const PAGE_LIMITS: PageLimits = {
  weakBars: HEALTH_LIMITS.weakBars,
  hotC: HEALTH_LIMITS.hotC,
  diskHighUsedPercent: Math.round(100 * (1 - HEALTH_LIMITS.diskLowShare)),
  queueAgeS: HEALTH_LIMITS.queueAgeS,
  maxEvents: 20,
};

let shared: PageRenderers | undefined;
let script: string | undefined;
const renderers = (): PageRenderers => {
  shared ??= pageRenderers(PAGE_LIMITS);
  return shared;
};

/** `&`, `<`, `>`, `"` and `'` as entities: safe in HTML text and in double-quoted attributes. */
export function escapeHtml(text: string): string {
  return renderers().escapeHtml(text);
}

/** Plain words for a modem state / last error and what to do about it (used by the page and tests). */
export function modemAdvice(m: PageModem): { title: string; advice: string } {
  return renderers().modemAdvice(m);
}

/**
 * Mobile first (360 px), black on white, large type and heavy weights for sunlight; colour always
 * comes with words. LEDs blink at their real rates: slow 1 Hz, fast 4 Hz.
 */
const CSS = `*{box-sizing:border-box}html{-webkit-text-size-adjust:100%}
body{margin:0 auto;padding:10px;max-width:1000px;font:18px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;font-weight:400;color:#000;background:#fff}
h1{font-size:1.8em;line-height:1.15;margin:.1em 0;font-weight:800;overflow-wrap:anywhere}
h2{font-size:1.35em;margin:1.1em 0 .4em;border-bottom:4px solid #000;font-weight:800}
h3{font-size:1.2em;margin:0 0 .3em;font-weight:800;overflow-wrap:anywhere}
p{margin:.35em 0}
.brand{font-weight:700;margin:0}
.health{font-size:1.45em;font-weight:800;padding:.35em .55em;border:3px solid #000}
.h-ok{background:#0b6b0b;color:#fff}.h-degraded{background:#ffbf00;color:#000}.h-failed{background:#b00000;color:#fff}
.why{padding-left:1.1em;margin:.3em 0}.why li{margin:.2em 0}
.card{border:3px solid #000;border-left-width:14px;padding:.55em .65em;margin:.6em 0}
.t-ok{border-left-color:#0b6b0b}.t-work{border-left-color:#ffbf00}.t-person{border-left-color:#b00000}.t-off{border-left-color:#888}
.state{display:inline-block;padding:0 .35em;border:2px solid #000;font-size:.85em;font-weight:700;vertical-align:middle}
.t-ok .state{background:#0b6b0b;color:#fff}.t-work .state{background:#ffbf00}.t-person .state{background:#b00000;color:#fff}
.advice{font-size:1.05em;font-weight:600}
.err{border-left:4px solid #b00000;padding-left:.5em}
code{font:.85em/1.3 ui-monospace,Menlo,Consolas,monospace;font-weight:600;overflow-wrap:anywhere}
dl{display:grid;grid-template-columns:minmax(6em,max-content) minmax(7.5em,1fr);gap:.15em .8em;margin:.4em 0}
dt{font-weight:700}dd{margin:0;overflow-wrap:anywhere}
.u{color:#444}
.ctr{font-size:.9em}
.bars{display:inline-flex;align-items:flex-end;gap:3px;height:1.25em;vertical-align:-.2em}
.bars i{display:block;width:8px;border:2px solid #000;background:#fff}
.bars i:nth-child(1){height:30%}.bars i:nth-child(2){height:47%}.bars i:nth-child(3){height:64%}.bars i:nth-child(4){height:82%}.bars i:nth-child(5){height:100%}
.bars i.f{background:#000}
.g{color:#0b6b0b;font-weight:800}.x{background:#b00000;color:#fff;font-weight:700;padding:0 .2em}.w{background:#ffbf00;color:#000;font-weight:700;padding:0 .2em}
.why .x,.why .w{padding:.1em .3em}
button{font:inherit;font-weight:700;min-height:48px;padding:.4em 1em;margin:.25em .5em .25em 0;border:3px solid #000;border-radius:6px;background:#fff;color:#000}
button:disabled{opacity:.5}
label{display:block;font-weight:700;margin:.35em 0}
input{display:block;width:100%;max-width:24em;font:inherit;padding:.45em;border:3px solid #000;border-radius:4px;color:#000;background:#fff}
.leds{list-style:none;padding:0}.leds li{margin:.3em 0}
.led{display:inline-block;width:1.2em;height:1.2em;border-radius:50%;border:3px solid #000;background:#0b6b0b;vertical-align:-.25em}
.led.off{background:#fff}
.led.slow{animation:blink 1s step-end infinite}.led.fast{animation:blink .25s step-end infinite}
@keyframes blink{50%{background:#fff}}
@media (prefers-reduced-motion:reduce){.led{animation:none!important}}
.ev{padding-left:1.2em}.ev li{margin:.25em 0;overflow-wrap:anywhere}
#lost{position:sticky;top:0;z-index:2;margin:0 -10px;padding:.5em 10px;background:#b00000;color:#fff;font-weight:800}
#live{font-weight:600}
#result{position:sticky;bottom:0;z-index:2;padding:.55em;border:3px solid #000;background:#fff;font-weight:800}
#result:empty{display:none}
#result.r-ok{border-color:#0b6b0b}#result.r-bad{background:#b00000;color:#fff}
[hidden]{display:none!important}
@media (min-width:760px){#modems{display:grid;grid-template-columns:1fr 1fr;gap:0 .8em}}`;

/** The section containers in page order, with their static headings. */
const LAYOUT: [SectionId, string][] = [
  ["modems", "Modems"],
  ["actions", "Actions"],
  ["queues", "Queues"],
  ["uplinks", "Uplinks"],
  ["system", "System"],
  ["leds", "LEDs on the board"],
  ["events", "Recent events"],
];

/** The whole status page for `state`: complete without JavaScript, live with it. */
export function renderPage(state: PageState): string {
  const r = renderers();
  script ??= pageScript(PAGE_LIMITS);
  const parts = r.sections(state);
  const box = (id: SectionId, tag = "div") =>
    `<${tag} id="${id}" data-k="${r.hash(parts[id])}">${parts[id]}</${tag}>`;
  return (
    '<!doctype html><html lang="en"><head><meta charset="utf-8">' +
    '<meta name="viewport" content="width=device-width, initial-scale=1">' +
    '<meta name="color-scheme" content="light"><link rel="icon" href="data:,">' +
    `<title>${r.escapeHtml(r.title(state))}</title>` +
    '<noscript><meta http-equiv="refresh" content="30"></noscript>' +
    `<style>${CSS.replace(/\n/g, "")}</style></head><body>` +
    '<p id="lost" data-testid="connection-lost" role="alert" hidden></p>' +
    box("head", "header") +
    `<p id="live" data-testid="last-updated">State of ${r.escapeHtml(r.utc(state.generated_at))}</p>` +
    "<noscript><p><b>JavaScript is off:</b> this page reloads itself every 30 s; the buttons need JavaScript.</p></noscript>" +
    "<main>" +
    LAYOUT.map(([id, h]) => `<section><h2>${h}</h2>${box(id)}</section>`).join("") +
    "</main>" +
    '<p id="result" data-testid="action-result" role="status" aria-live="polite"></p>' +
    `<script>${script}</script></body></html>`
  );
}
