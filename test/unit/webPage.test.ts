import assert from "node:assert/strict";
import { describe, it } from "node:test";
import vm from "node:vm";
import {
  escapeHtml,
  modemAdvice,
  PAGE_LIMITS,
  type PageModem,
  type PageState,
  renderPage,
} from "../../src/web/page.js";
import { pageRenderers } from "../../src/web/pageScript.js";

const NOW = "2024-05-01T12:00:00.000Z";

function modem(over: Partial<PageModem> = {}): PageModem {
  return {
    id: "m1",
    state: "ready",
    operator: "MTN UG",
    signal: { csq: 21, dbm: -71, bars: 4 },
    imei: "356938035643809",
    iccid: "8925610000000000001",
    imsi: "641100000000001",
    port: "/dev/serial/by-id/usb-Quectel_EC25-if02-port0",
    model: "EC25",
    counters: { recoveries: 0, power_cycles: 1, at_timeouts: 2 },
    last_error: null,
    since: "2024-05-01T11:55:00.000Z",
    ...over,
  };
}

function state(over: Partial<PageState> = {}): PageState {
  return {
    site: { id: "site-042", name: "Kamuli hill" },
    generated_at: NOW,
    modems: [modem(), modem({ id: "m2", state: "no_sim", signal: null, iccid: null, operator: null })],
    queues: {
      sms_out: { pending: 3, oldest_pending_s: 1200 },
      sms_in: { waiting_parts: 1 },
      sip_out: { pending: 0 },
      noc_events: { pending: 5 },
    },
    uplinks: {
      mqtt: { connected: true, since: "2024-05-01T09:00:00.000Z" },
      sip: [{ uri: "sip:10.8.0.1:5060", reachable: false, registered: false }],
    },
    health: {
      status: "degraded",
      checks: [
        { name: "modems", status: "degraded", reason: "1 of 2 modems ready (m2 no_sim)" },
        { name: "storage", status: "ok", reason: "writable" },
      ],
    },
    system: {
      temperature_c: 51.4,
      under_voltage_now: false,
      under_voltage_seen: true,
      disk_used_percent: 42,
      disk_free_mb: 12000,
      uptime_s: 90000,
      process_rss_mb: 71.3,
    },
    events: [
      { at: "2024-05-01T11:58:00.000Z", kind: "sms_received", text: "from +2567•••••12 (2 parts)" },
      { at: "2024-05-01T11:55:00.000Z", kind: "modem_state", text: "m2 initializing → no_sim" },
    ],
    leds: { status: "fast", uplink: "slow", "modem:m1": "on", "modem:m2": "fast" },
    logged_in: false,
    can_login: true,
    ...over,
  };
}

/** The text between the element carrying `data-testid="<id>"` and its first closing tag. */
function testidText(html: string, id: string): string | undefined {
  const m = new RegExp(`data-testid="${id}"[^>]*>([^<]*)<`).exec(html);
  return m?.[1];
}

describe("status page: the first response", () => {
  const html = renderPage(state());

  it("is one HTML document with a viewport for phones", () => {
    assert.match(html, /^<!doctype html><html lang="en">/);
    assert.match(html, /<meta name="viewport" content="width=device-width, initial-scale=1">/);
    assert.match(html, /<\/html>$/);
  });

  it("names the site and its id", () => {
    assert.equal(testidText(html, "site-name"), "Kamuli hill");
    assert.equal(testidText(html, "site-id"), "site-042");
  });

  it("shows the overall health with the failing checks' reasons only", () => {
    assert.match(html, /data-testid="health" data-status="degraded">DEGRADED/);
    assert.match(html, /1 of 2 modems ready \(m2 no_sim\)/);
    assert.doesNotMatch(html, /writable/);
  });

  it("lists each modem with its state, ICCID, signal bars, counters and advice", () => {
    assert.equal(testidText(html, "modem-m1-state"), "ready");
    assert.equal(testidText(html, "modem-m2-state"), "no_sim");
    assert.match(html, /data-testid="modem-m1"/);
    assert.match(html, /8925610000000000001/);
    assert.match(html, /aria-label="4 of 5 bars"/);
    assert.match(html, /power cycles <b>1<\/b>/);
    assert.match(html, /<b>No SIM card<\/b>: insert a SIM into modem m2&#39;s slot/);
    assert.match(html, /for 5 min/);
  });

  const sections: [string, RegExp][] = [
    ["queues", /SMS to send<\/dt><dd><b>3<\/b> waiting, oldest <span class="w">20 min/],
    ["uplinks: MQTT", /NOC link \(MQTT\)<\/dt><dd><span class="g">connected<\/span> for 3 h 0 min/],
    ["uplinks: SIP", /<code>sip:10.8.0.1:5060<\/code>: <span class="x">does not answer/],
    ["system: temperature", /51 °C/],
    ["system: under-voltage seen", /yes, seen since the site started/],
    ["system: disk", /Disk<\/dt><dd>42 % used, 12000 MB free/],
    ["system: uptime", /Running for<\/dt><dd>25 h 0 min/],
    ["events, masked as given, with their age", /2 min ago<\/time> <b>sms_received<\/b> from \+2567•••••12/],
    [
      "LED legend: slow",
      /Slow blink \(1 Hz\)<\/b>: working towards good \(starting, searching, reconnecting\)/,
    ],
    ["LED legend: fast", /Fast blink \(4 Hz\)<\/b>: needs a person \(no SIM, PIN wrong, modem faulted\)/],
    ["LED legend: off", /<b>Off<\/b>: absent or powered off/],
    [
      "LEDs now",
      /<span class="led fast"[^>]*><\/span> <b>Modem m2<\/b>: fast blink \(4 Hz\), needs a person/,
    ],
    [
      "LED animation at 1 Hz and 4 Hz",
      /\.led\.slow\{animation:blink 1s[^}]*\}\.led\.fast\{animation:blink \.25s/,
    ],
    ["the live line", /data-testid="last-updated">State of 2024-05-01 12:00 UTC/],
    [
      "the hidden connection-lost note",
      /<p id="lost" data-testid="connection-lost" role="alert" hidden><\/p>/,
    ],
    ["the action result area", /<p id="result" data-testid="action-result"/],
  ];
  for (const [what, re] of sections) it(`shows ${what}`, () => assert.match(html, re));

  it("marks what needs attention: heat, a full disk, weak power, a weak antenna", () => {
    const page = renderPage(
      state({
        modems: [modem({ signal: { csq: 4, dbm: -105, bars: 1 } })],
        system: {
          temperature_c: 83,
          under_voltage_now: true,
          under_voltage_seen: true,
          disk_used_percent: 95,
          disk_free_mb: 300,
          uptime_s: 30,
          process_rss_mb: 70,
        },
      }),
    );
    assert.match(page, /<span class="x">83 °C: hot<\/span>/);
    assert.match(page, /<span class="x">YES: the power supply is too weak/);
    assert.match(page, /<span class="w">95 % used: nearly full<\/span>, 300 MB free/);
    assert.match(page, /class="card t-work" data-testid="modem-m1"/);
    assert.match(page, /<b>Weak signal<\/b>: only 1 of 5 bars/);
  });

  it("says when nothing is configured or measured", () => {
    const bare = renderPage(
      state({ modems: [], uplinks: { mqtt: null, sip: null }, system: null, events: [] }),
    );
    assert.match(bare, /No modem found/);
    assert.match(bare, /NOC link \(MQTT\)<\/dt><dd>not configured/);
    assert.match(bare, /SIP upstream<\/dt><dd>not configured/);
    assert.match(bare, /No figures: not measured/);
    assert.match(bare, /No events since the site started/);
  });

  it("lists at most 20 events and says how many more there are", () => {
    const events = Array.from({ length: 40 }, (_, i) => ({ at: NOW, kind: "k", text: `event ${i}` }));
    const page = renderPage(state({ events }));
    assert.match(page, /event 19</);
    assert.doesNotMatch(page, /event 20</);
    assert.match(page, /20 older not shown/);
  });
});

describe("escaping", () => {
  const table: [string, string][] = [
    ["<script>alert(1)</script>", "&lt;script&gt;alert(1)&lt;/script&gt;"],
    [`a "quoted" & 'single'`, "a &quot;quoted&quot; &amp; &#39;single&#39;"],
    ["plain +256 700 000000", "plain +256 700 000000"],
    ["", ""],
  ];
  for (const [raw, want] of table)
    it(`escapeHtml(${JSON.stringify(raw)})`, () => assert.equal(escapeHtml(raw), want));

  const evil = "<script>x</script>";
  const html = renderPage(
    state({
      site: { id: "s<1>", name: `Hill ${evil}` },
      modems: [modem({ id: `m"<b>`, operator: evil, last_error: evil, port: evil, counters: { [evil]: 1 } })],
      events: [{ at: NOW, kind: evil, text: `hello ${evil}` }],
      health: { status: "failed", checks: [{ name: evil, status: "failed", reason: evil }] },
      uplinks: { mqtt: null, sip: [{ uri: evil, reachable: null, registered: false }] },
      leds: { [`modem:${evil}`]: "on" },
      logged_in: true,
    }),
  );

  it("leaves no markup from a modem id, operator, event text or any other string", () => {
    assert.doesNotMatch(html, /<script>x/);
    assert.doesNotMatch(html, /<b>"/);
    assert.match(html, /Hill &lt;script&gt;x&lt;\/script&gt;/);
    assert.match(html, /hello &lt;script&gt;x&lt;\/script&gt;/);
  });

  it("escapes a modem id inside attributes", () => {
    assert.match(html, /data-testid="modem-m&quot;&lt;b&gt;"/);
    assert.match(html, /data-modem="m&quot;&lt;b&gt;" data-testid="restart-m&quot;&lt;b&gt;"/);
  });

  it("has exactly one script element, the page's own", () => {
    assert.equal(html.match(/<script/gi)?.length, 1);
    assert.equal(html.match(/<\/script/gi)?.length, 1);
  });
});

describe("modemAdvice", () => {
  const table: [string, Partial<PageModem>, string][] = [
    ["no_sim", { state: "no_sim" }, "No SIM card: insert a SIM into modem m1's slot"],
    [
      "pin_required",
      { state: "pin_required", last_error: "the SIM rejected the configured PIN" },
      "SIM PIN refused: set modems[].pin for this modem's SIM, or replace the SIM",
    ],
    [
      "pin_required with no PIN configured",
      { state: "pin_required" },
      "SIM PIN refused: set modems[].pin for this modem's SIM, or replace the SIM",
    ],
    [
      "pin_required for a PUK",
      { state: "pin_required", last_error: "the SIM needs its PUK: enter it by hand" },
      "SIM locked (PUK needed): unlock the SIM with its PUK",
    ],
    [
      "faulted",
      { state: "faulted" },
      "Modem not answering after recovery attempts: check the USB cable and its power; it will keep retrying",
    ],
    ["absent", { state: "absent", signal: null }, "Modem not found: check it is plugged in"],
    ["searching", { state: "searching" }, "Looking for the network: check the antenna"],
    ["initializing", { state: "initializing" }, "Starting up: wait a minute"],
    ["recovering", { state: "recovering" }, "Recovering: the modem stopped answering"],
    ["ready", {}, "Working: nothing to do"],
    [
      "ready with 1 bar",
      { signal: { csq: 5, dbm: -103, bars: 1 } },
      "Weak signal: only 1 of 5 bars: check the antenna",
    ],
    ["ready with 0 bars", { signal: { csq: 99, dbm: null, bars: 0 } }, "Weak signal: only 0 of 5 bars"],
    ["ready with 2 bars", { signal: { csq: 9, dbm: -95, bars: 2 } }, "Working: nothing to do"],
    ["ready, signal not read yet", { signal: null }, "Working: nothing to do"],
  ];
  for (const [what, over, want] of table)
    it(`${what}: "${want}"`, () => {
      const a = modemAdvice(modem(over));
      assert.ok(`${a.title}: ${a.advice}`.startsWith(want), `${a.title}: ${a.advice}`);
    });

  it("puts a last error in plain words next to the raw text", () => {
    const html = renderPage(
      state({
        modems: [modem({ state: "faulted", last_error: "/dev/ttyUSB2: the modem does not answer AT" })],
      }),
    );
    assert.match(html, /Last error: The modem stopped answering commands\. <code>\/dev\/ttyUSB2: the modem/);
  });
});

describe("login and actions", () => {
  const cases: [string, Partial<PageState>, { present: string[]; absent: string[] }][] = [
    [
      "read-only (no password set)",
      { can_login: false, logged_in: false },
      {
        present: ["read-only"],
        absent: ["login-form", "restart-m1", "power-cycle-m1", "logout-button", "sms-form"],
      },
    ],
    [
      "a password set, not logged in",
      { can_login: true, logged_in: false },
      {
        present: ["login-form", "login-password", "login-button"],
        absent: ["read-only", "restart-m1", "power-cycle-m1", "logout-button", "sms-form"],
      },
    ],
    [
      "logged in",
      { can_login: true, logged_in: true },
      {
        present: [
          "restart-m1",
          "power-cycle-m1",
          "restart-m2",
          "power-cycle-m2",
          "sms-form",
          "logout-button",
        ],
        absent: ["read-only", "login-form"],
      },
    ],
  ];
  for (const [what, over, want] of cases)
    it(`${what}: shows ${want.present.join(", ")}`, () => {
      const html = renderPage(state(over)).replace(/<script>[\s\S]*<\/script>/, "");
      for (const id of want.present) assert.ok(html.includes(`data-testid="${id}"`), `missing ${id}`);
      for (const id of want.absent) assert.ok(!html.includes(`data-testid="${id}"`), `unexpected ${id}`);
      assert.ok(html.includes('data-testid="action-result"'));
    });

  it("says why the page is read-only", () => {
    const html = renderPage(state({ can_login: false }));
    assert.match(html, /Read-only: no password is set on this site \(web\.password_hash\)/);
  });

  it("gives the password input the browser's password semantics", () => {
    assert.match(
      renderPage(state()),
      /<input type="password" name="password" autocomplete="current-password"/,
    );
  });
});

describe("the document's weight and self-containment", () => {
  it("is under 30 KB for 2 modems, logged in, with a full list of events", () => {
    const events = Array.from({ length: 40 }, (_, i) => ({
      at: NOW,
      kind: "sms_received",
      text: `from +2567•••••${String(i).padStart(2, "0")} (1 part)`,
    }));
    const bytes = Buffer.byteLength(renderPage(state({ logged_in: true, events })));
    assert.ok(bytes < 30 * 1024, `${bytes} bytes`);
  });

  it("names no http:// or https:// URL (no external assets)", () => {
    for (const s of [state(), state({ logged_in: true }), state({ can_login: false })])
      assert.doesNotMatch(renderPage(s), /https?:\/\//i);
  });
});

// ── the inline script, run against a small fake DOM ─────────────────────────────────────────────

interface FakeEl {
  id: string;
  innerHTML: string;
  textContent: string;
  hidden: boolean;
  className: string;
  disabled: boolean;
  attrs: Record<string, string>;
  getAttribute(name: string): string | null;
  setAttribute(name: string, value: string): void;
}

function el(id: string, attrs: Record<string, string> = {}): FakeEl {
  return {
    id,
    innerHTML: "",
    textContent: "",
    hidden: false,
    className: "",
    disabled: false,
    attrs: { ...attrs },
    getAttribute(n) {
      return this.attrs[n] ?? null;
    },
    setAttribute(n, v) {
      this.attrs[n] = v;
    },
  };
}

interface Call {
  url: string;
  init: { method?: string; credentials?: string; headers?: Record<string, string>; body?: string };
}

/** Loads the page's script in a sandbox whose document holds the page's section containers. */
function runScript(html: string) {
  const script = /<script>([\s\S]*)<\/script>/.exec(html)![1]!;
  const elements: Record<string, FakeEl> = {};
  for (const m of html.matchAll(/id="([a-z]+)"(?: data-k="([a-z0-9]+)")?/g))
    elements[m[1]!] = el(m[1]!, m[2] ? { "data-k": m[2] } : {});
  const listeners: Record<string, (ev: unknown) => void> = {};
  const intervals: (() => void)[] = [];
  const calls: Call[] = [];
  let answer: (call: Call) => Promise<unknown> = () => Promise.reject(new TypeError("Failed to fetch"));
  const document = {
    hidden: false,
    title: "",
    getElementById: (id: string) => elements[id] ?? null,
    addEventListener: (type: string, fn: (ev: unknown) => void) => {
      listeners[type] = fn;
    },
  };
  const context = vm.createContext({
    document,
    fetch: (url: string, init: Call["init"]) => {
      const call = { url, init };
      calls.push(call);
      return answer(call);
    },
    setInterval: (fn: () => void) => intervals.push(fn),
    setTimeout: () => 0,
    clearTimeout: () => {},
    AbortController,
    encodeURIComponent,
  });
  vm.runInContext(script, context);
  const settle = () => new Promise((r) => setTimeout(r, 10));
  const respond = (status: number, body: unknown) =>
    Promise.resolve({
      ok: status >= 200 && status < 300,
      status,
      json: () => Promise.resolve(body),
      text: () => Promise.resolve(JSON.stringify(body)),
    });
  return {
    elements,
    listeners,
    calls,
    document,
    settle,
    respond,
    answerWith(fn: (call: Call) => Promise<unknown>) {
      answer = fn;
    },
    /** The first interval is the 3 s poll. */
    poll: () => intervals[0]!(),
  };
}

describe("the inline script", () => {
  it("renders exactly what the server renders (one shared implementation)", () => {
    const script = /<script>([\s\S]*)<\/script>/.exec(renderPage(state()))![1]!;
    const shipped = /var R=([\s\S]*?);\nvar POLL_MS/.exec(script)![1]!;
    const r = vm.runInNewContext(`"use strict";var __name=function(f){return f};${shipped}`);
    const server = pageRenderers(PAGE_LIMITS);
    const s = state({ logged_in: true });
    assert.deepEqual({ ...r.sections(s) }, server.sections(s));
  });

  it("redraws only the sections that changed after a poll, and updates the title", async () => {
    const page = runScript(renderPage(state()));
    const before = { ...page.elements["queues"]! };
    const next = state({ modems: [modem({ state: "faulted" })] });
    page.answerWith(() => page.respond(200, next));
    page.poll();
    await page.settle();
    assert.equal(page.calls[0]!.url, "/api/state");
    assert.equal(page.calls[0]!.init.credentials, "same-origin");
    assert.match(
      page.elements["modems"]!.innerHTML,
      /data-testid="modem-m1-state" data-state="faulted">faulted/,
    );
    assert.equal(page.elements["queues"]!.innerHTML, before.innerHTML, "unchanged section left alone");
    assert.equal(page.elements["queues"]!.innerHTML, "");
    assert.match(page.document.title, /^DEGRADED · Kamuli hill/);
    assert.match(page.elements["live"]!.textContent, /^Last updated 0 s ago$/);
    assert.equal(page.elements["lost"]!.hidden, true);
  });

  it("shows a connection-lost note when polling fails, and hides it when it works again", async () => {
    const page = runScript(renderPage(state()));
    page.poll();
    await page.settle();
    assert.equal(page.elements["lost"]!.hidden, false);
    assert.match(
      page.elements["lost"]!.textContent,
      /^Connection lost: the page cannot reach the site controller/,
    );
    page.answerWith(() => page.respond(503, {}));
    page.poll();
    await page.settle();
    assert.match(page.elements["lost"]!.textContent, /HTTP 503/);
    page.answerWith(() => page.respond(200, state()));
    page.poll();
    await page.settle();
    assert.equal(page.elements["lost"]!.hidden, true);
  });

  it("restarts a modem by POST with JSON and the same-origin cookie, and shows the error text", async () => {
    const page = runScript(renderPage(state({ logged_in: true })));
    const button = el("b", { "data-act": "restart", "data-modem": "m/1" });
    page.answerWith((call) =>
      call.url === "/api/state"
        ? page.respond(200, state())
        : page.respond(409, { error: "modem m/1 is busy" }),
    );
    page.listeners["click"]!({ target: { closest: () => button } });
    assert.equal(button.disabled, true);
    await page.settle();
    const post = page.calls[0]!;
    assert.equal(post.url, "/api/modems/m%2F1/restart");
    assert.equal(post.init.method, "POST");
    assert.equal(post.init.credentials, "same-origin");
    assert.equal(post.init.headers?.["Content-Type"], "application/json");
    assert.equal(page.elements["result"]!.textContent, "Restart of modem m/1 failed: modem m/1 is busy");
    assert.equal(page.elements["result"]!.className, "r-bad");
    assert.equal(button.disabled, false);
  });

  it("logs in with {password} and then fetches the state again", async () => {
    const page = runScript(renderPage(state()));
    page.answerWith((call) => page.respond(200, call.url === "/api/state" ? state({ logged_in: true }) : {}));
    const password = { value: "s3cret" };
    let prevented = false;
    const form = {
      getAttribute: (n: string) => (n === "data-form" ? "login" : null),
      querySelector: () => null,
      elements: { password },
    };
    page.listeners["submit"]!({ target: form, preventDefault: () => (prevented = true) });
    await page.settle();
    assert.equal(prevented, true);
    assert.equal(page.calls[0]!.url, "/api/login");
    assert.deepEqual(JSON.parse(page.calls[0]!.init.body!), { password: "s3cret" });
    assert.equal(password.value, "", "the field is cleared");
    assert.equal(page.calls[1]!.url, "/api/state");
    assert.match(page.elements["actions"]!.innerHTML, /data-testid="logout-button"/);
    assert.equal(page.elements["result"]!.textContent, "Logged in.");
  });

  it("sends a test SMS as {to, text}", async () => {
    const page = runScript(renderPage(state({ logged_in: true })));
    page.answerWith((call) => page.respond(200, call.url === "/api/state" ? state() : { data: { id: 41 } }));
    const form = {
      getAttribute: (n: string) => (n === "data-form" ? "sms" : null),
      querySelector: () => null,
      elements: { to: { value: " +256700000001 " }, text: { value: "hello" } },
    };
    page.listeners["submit"]!({ target: form, preventDefault: () => {} });
    await page.settle();
    assert.equal(page.calls[0]!.url, "/api/sms");
    assert.deepEqual(JSON.parse(page.calls[0]!.init.body!), { to: "+256700000001", text: "hello" });
    assert.equal(page.elements["result"]!.textContent, "Test SMS to +256700000001 queued (id 41).");
  });
});
