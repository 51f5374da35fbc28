import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { loadConfig } from "../../src/config/load.js";
import { ConfigControl, changedKeys, mergePatch, requiresRestart } from "../../src/config/runtime.js";
import type { ModemSnapshot } from "../../src/modem/slot.js";
import { reconnectDelayMs, redactUrl } from "../../src/mqtt/link.js";
import {
  modemSignature,
  SignalFilter,
  type SiteState,
  stateSignature,
  telemetryMoved,
} from "../../src/mqtt/reporter.js";
import { NocStore, openNocDatabase, TRANSACTION_TTL_MS } from "../../src/mqtt/store.js";

const dirs: string[] = [];
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), "bts-mqtt-"));
  dirs.push(d);
  return d;
};
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe("RFC 7386 merge patch", () => {
  const table: [string, unknown, unknown, unknown][] = [
    [
      "adds and replaces keys",
      { a: 1, b: { c: 2 } },
      { b: { d: 3 }, e: 4 },
      { a: 1, b: { c: 2, d: 3 }, e: 4 },
    ],
    ["null deletes", { a: 1, b: { c: 2 } }, { b: { c: null } }, { a: 1, b: {} }],
    ["a list replaces a list whole", { l: [1, 2, 3] }, { l: [4] }, { l: [4] }],
    ["a scalar replaces a map", { a: { b: 1 } }, { a: 2 }, { a: 2 }],
    ["a map replaces a scalar", { a: 2 }, { a: { b: 1 } }, { a: { b: 1 } }],
    ["a non-object patch replaces the target (RFC 7386 §2)", { a: 1 }, [1], [1]],
  ];
  for (const [what, target, patch, expected] of table)
    it(what, () => assert.deepEqual(mergePatch(target, patch), expected));
});

describe("config keys changed and restart needs", () => {
  it("lists changed leaves, lists whole", () => {
    assert.deepEqual(changedKeys({ a: { b: 1, c: [1] }, d: 1 }, { a: { b: 2, c: [1] }, d: 1, e: 0 }), [
      "a.b",
      "e",
    ]);
  });
  const table: [string, boolean][] = [
    ["sms.max_parts", false],
    ["log.level", false],
    ["mqtt.telemetry_interval_s", false],
    ["mqtt.url", true],
    ["sip.listen", true],
    ["site.name", false],
    ["modems", true],
    ["sip.auth.users", false],
    ["no.such.key", true],
  ];
  for (const [key, restart] of table)
    it(`${key} ${restart ? "needs" : "does not need"} a restart`, () =>
      assert.equal(requiresRestart(key), restart));
});

describe("config/set on a real runtime file", () => {
  async function control() {
    const dir = tempDir();
    const main = join(dir, "config.yaml");
    const files: Record<string, string> = {
      [main]: `site: { id: site-1 }\nstorage: { dir: ${dir} }\nsms: { max_parts: 4 }\n`,
    };
    const loaded = await loadConfig({
      mainFile: main,
      bootFile: null,
      readFile: (p) => files[p] ?? readFileSync(p, "utf8"),
    });
    const applied: string[][] = [];
    const c = new ConfigControl({ loaded, live: loaded.config, onApplied: (k) => applied.push(k) });
    return { c, live: loaded.config, runtime: join(dir, "config.runtime.json"), applied };
  }

  it("applies a runtime key in place, persists it, no restart", async () => {
    const { c, live, runtime, applied } = await control();
    const smsObject = live.sms;
    const r = await c.set({ sms: { max_parts: 6 } });
    assert.deepEqual(r, { restart_required: false, changed: ["sms.max_parts"], pending_restart: [] });
    assert.equal(live.sms.max_parts, 6);
    assert.equal(live.sms, smsObject, "the same object: the parts holding it see the change");
    assert.deepEqual(JSON.parse(readFileSync(runtime, "utf8")), { sms: { max_parts: 6 } });
    assert.deepEqual(applied, [["sms.max_parts"]]);
    assert.equal(c.get().source["sms.max_parts"], "runtime");
  });

  it("keeps a restart key's running value and says restart_required", async () => {
    const { c, live } = await control();
    const r = await c.set({ sip: { listen: "0.0.0.0:5070" }, log: { level: "debug" } });
    assert.equal(r.restart_required, true);
    assert.deepEqual(r.pending_restart, ["sip.listen"]);
    assert.equal(live.sip.listen, "0.0.0.0:5060");
    assert.equal(live.log.level, "debug");
    assert.equal(c.restartRequired, true);
  });

  it("refuses a bad value naming the key, and changes nothing (memory or disk)", async () => {
    const { c, live, runtime } = await control();
    await c.set({ sms: { max_parts: 5 } });
    const before = readFileSync(runtime, "utf8");
    await assert.rejects(
      c.set({ sms: { max_parts: 99, too_long: "truncate" } }),
      (err: Error & { code?: string }) => {
        assert.equal(err.code, "config.invalid");
        assert.match(err.message, /sms\.max_parts/);
        return true;
      },
    );
    assert.equal(live.sms.max_parts, 5);
    assert.equal(live.sms.too_long, "reject");
    assert.equal(readFileSync(runtime, "utf8"), before);
    await assert.rejects(c.set({ site: { id: "other" } }), /site\.id: cannot be changed by the NOC/);
  });

  it("removes a runtime key with null (back to the file's value)", async () => {
    const { c, live } = await control();
    await c.set({ sms: { max_parts: 7 } });
    const r = await c.set({ sms: { max_parts: null } });
    assert.deepEqual(r.changed, ["sms.max_parts"]);
    assert.equal(live.sms.max_parts, 4);
  });

  it("never shows passwords whole", async () => {
    const { c } = await control();
    await c.set({ mqtt: { password: "s3cret" }, sip: { auth: { users: { core: "pw" } } } });
    const shown = JSON.stringify(c.get().config);
    assert.doesNotMatch(shown, /s3cret|"pw"/);
  });
});

describe("what makes state and modem/<id> go out again", () => {
  const state = (over: Partial<SiteState["queues"]["sms_out"]> = {}, bars = 4): SiteState => ({
    modems: [{ id: "m1", state: "ready", bars, operator: "MTN" }],
    uplinks: { mqtt: { connected: true } },
    queues: {
      sms_out: { pending: 0, oldest_pending_s: null, ...over },
      sms_in: { waiting_parts: 0 },
      sip_out: { pending: 0 },
      noc_events: { pending: 0 },
    },
    health: { status: "ok", checks: [{ name: "modems", status: "ok", reason: "1 of 1 ready" }] },
  });
  it("ignores queue figures under 10 and within one order of magnitude, and ages", () => {
    assert.equal(
      stateSignature(state({ pending: 3, oldest_pending_s: 10 })),
      stateSignature(state({ pending: 7, oldest_pending_s: 99 })),
    );
    assert.equal(stateSignature(state({ pending: 0 })), stateSignature(state({ pending: 9 })));
    assert.notEqual(stateSignature(state({ pending: 9 })), stateSignature(state({ pending: 10 })));
    assert.notEqual(stateSignature(state({ pending: 99 })), stateSignature(state({ pending: 100 })));
    assert.notEqual(stateSignature(state({}, 4)), stateSignature(state({}, 3)));
  });
  it("a modem's counters and a CSQ within the same bars do not count, its state does", () => {
    const m = (o: Partial<ModemSnapshot>): ModemSnapshot =>
      ({
        id: "m1",
        state: "ready",
        since: "x",
        port: "/dev/x",
        profile: "generic",
        imei: "1",
        iccid: "2",
        imsi: "3",
        manufacturer: null,
        model: null,
        firmware: null,
        operator: "MTN",
        signal: { csq: 20, dbm: -73, bars: 4 },
        registration: { stat: 1, text: "home", lac: null, ci: null },
        smsc: null,
        counters: { sent: 1 },
        last_error: null,
        ...o,
      }) as ModemSnapshot;
    assert.equal(
      modemSignature(m({})),
      modemSignature(m({ counters: { sent: 9 }, signal: { csq: 21, dbm: -71, bars: 4 } })),
    );
    assert.notEqual(modemSignature(m({})), modemSignature(m({ state: "recovering" })));
  });
  it("signal bars change only when the CSQ moved 3 or more from the last reported", () => {
    const f = new SignalFilter();
    // 17 is 3 bars, 18 is 4: a CSQ wobbling 16..19 stays at the first reported.
    const seen = [17, 18, 16, 19, 17, 18, 20, 19, 18, 17, 21].map((csq) => f.bars("m1", csq));
    assert.deepEqual(seen, [3, 3, 3, 3, 3, 3, 4, 4, 4, 3, 4]);
    assert.equal(f.bars("m1", 99), 0);
    assert.equal(f.bars("m1", null), null);
    assert.equal(f.bars("m2", 12), 2, "each modem on its own");
  });

  it("telemetry moves past deadbands only", () => {
    const t = { cpu_percent: 10, temperature_c: 50, uptime_s: 100, sms_sent: 3, under_voltage_now: false };
    assert.equal(telemetryMoved(undefined, t), true);
    assert.equal(telemetryMoved(t, { ...t, cpu_percent: 25, temperature_c: 52, uptime_s: 400 }), false);
    assert.equal(telemetryMoved(t, { ...t, temperature_c: 53 }), true);
    assert.equal(
      telemetryMoved(t, { ...t, sms_sent: 4 }),
      false,
      "counters ride along, events tell each SMS",
    );
    assert.equal(telemetryMoved(t, { ...t, under_voltage_now: true }), true);
  });
});

describe("NOC store (site.db, migration 2)", () => {
  const ev = (i: number, kind = "sms_sent") => ({
    event_id: `e${i}`,
    kind,
    payload: `{"n":${i}}`,
    at: 1000 + i,
  });

  it("keeps events in order until acknowledged", () => {
    const s = new NocStore(openNocDatabase(tempDir()));
    s.add([ev(1), ev(2), ev(3)], 100);
    assert.deepEqual(
      s.after(0, 10).map((e) => e.event_id),
      ["e1", "e2", "e3"],
    );
    const [first] = s.after(0, 1);
    s.acknowledge(first!.seq);
    assert.deepEqual(
      s.after(0, 10).map((e) => e.event_id),
      ["e2", "e3"],
    );
    assert.equal(s.pending(), 2);
    assert.equal(s.oldestAt(), 1002);
  });

  it("drops the oldest past the limit and counts them by kind, across a reopen", () => {
    const dir = tempDir();
    let s = new NocStore(openNocDatabase(dir));
    s.add([ev(1, "modem_state"), ev(2), ev(3)], 100);
    assert.equal(s.add([ev(4), ev(5)], 3), 2);
    s.db.close();
    s = new NocStore(openNocDatabase(dir));
    assert.deepEqual(
      s.after(0, 10).map((e) => e.event_id),
      ["e3", "e4", "e5"],
    );
    assert.deepEqual(s.overflow(), {
      dropped: 2,
      first_at: 1001,
      last_at: 1002,
      kinds: { modem_state: 1, sms_sent: 1 },
    });
    s.clearOverflow();
    assert.equal(s.overflow(), undefined);
  });

  it("keeps a request's first answer for 24 h only", () => {
    const s = new NocStore(openNocDatabase(tempDir()));
    s.rememberTransaction("sms/send\u0000t1", '{"status":"ok"}', 0);
    s.rememberTransaction("sms/send\u0000t1", '{"status":"error"}', 10);
    assert.equal(s.transaction("sms/send\u0000t1", 1000), '{"status":"ok"}');
    assert.equal(s.transaction("sms/send\u0000t1", TRANSACTION_TTL_MS + 1), undefined);
    assert.equal(s.pruneTransactions(TRANSACTION_TTL_MS + 1), 1);
  });
});

describe("reconnecting to the broker", () => {
  const table: [number, number, number, number, number][] = [
    // attempt, min s, max s, random, ms
    [0, 5, 300, 0, 2500],
    [0, 5, 300, 0.999, 4998],
    [1, 5, 300, 0.5, 7500],
    [3, 5, 300, 0, 20_000],
    [6, 5, 300, 0, 150_000],
    [6, 5, 300, 0.999, 299_850],
    [40, 5, 300, 0.5, 225_000],
  ];
  for (const [attempt, min, max, random, ms] of table)
    it(`attempt ${attempt}, ${min}–${max} s, random ${random}: ${ms} ms`, () =>
      assert.equal(reconnectDelayMs(attempt, min, max, random), ms));

  it("spreads a thousand sites cut off at once over the first window", () => {
    const waits = Array.from({ length: 1000 }, (_, i) => reconnectDelayMs(0, 5, 300, i / 1000));
    const perSecond = new Map<number, number>();
    for (const w of waits)
      perSecond.set(Math.floor(w / 1000), (perSecond.get(Math.floor(w / 1000)) ?? 0) + 1);
    assert.ok(Math.max(...perSecond.values()) <= 400, "no second takes more than 40 %");
    assert.ok(Math.min(...waits) >= 2500 && Math.max(...waits) < 5000);
  });

  it("never logs a broker password", () => {
    assert.equal(redactUrl("mqtts://site:s3cret@noc.example:8883"), "mqtts://site:***@noc.example:8883");
    assert.equal(redactUrl("mqtt://noc.example:1883"), "mqtt://noc.example:1883");
  });
});
