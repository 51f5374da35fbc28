import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { evaluateHealth, type HealthInput } from "../../src/health/checks.js";

const NOW = Date.parse("2026-11-23T12:00:00Z");

function input(over: Partial<HealthInput> = {}): HealthInput {
  return {
    now: NOW,
    modems: [
      { id: "m1", state: "ready", bars: 4, last_error: null },
      { id: "m2", state: "ready", bars: 3, last_error: null },
    ],
    configuredModems: 2,
    sms: { pending: 0, oldest_pending_s: null },
    lastSentAt: NOW - 60_000,
    lastReceivedAt: NOW - 3600_000,
    startedAt: NOW - 86_400_000 * 2,
    storageWritable: true,
    disk: { free_bytes: 10e9, total_bytes: 16e9 },
    temperature_c: 55,
    power: { under_voltage_now: false, under_voltage_occurred: false, throttled_now: false },
    ...over,
  };
}

const check = (i: HealthInput, name: string) => evaluateHealth(i).checks.find((c) => c.name === name);

describe("site health", () => {
  it("is ok, healthy, when every check is", () => {
    const r = evaluateHealth(input());
    assert.equal(r.status, "ok");
    assert.equal(r.healthy, true);
    assert.deepEqual(
      r.checks.map((c) => c.name),
      [
        "modems",
        "signal",
        "sms_queue",
        "last_send",
        "last_receive",
        "storage",
        "disk",
        "temperature",
        "power",
      ],
    );
  });

  const table: [string, Partial<HealthInput>, "ok" | "degraded" | "failed", string, RegExp][] = [
    [
      "no modem ready: failed",
      { modems: [{ id: "m1", state: "faulted", bars: null, last_error: "hang" }] },
      "failed",
      "modems",
      /no modem ready \(m1 faulted\)/,
    ],
    ["no modem at all: failed", { modems: [], configuredModems: 0 }, "failed", "modems", /no modem found/],
    [
      "one of two ready: degraded",
      {
        modems: [
          { id: "m1", state: "ready", bars: 4, last_error: null },
          { id: "m2", state: "recovering", bars: null, last_error: null },
        ],
      },
      "degraded",
      "modems",
      /1 of 2 ready \(m2 recovering\)/,
    ],
    [
      "a configured modem never found: degraded",
      { configuredModems: 3 },
      "degraded",
      "modems",
      /2 of 3 ready \(1 not found\)/,
    ],
    ["database not writable: failed", { storageWritable: false }, "failed", "storage", /cannot be written/],
    [
      "weak signal: degraded",
      { modems: [{ id: "m1", state: "ready", bars: 1, last_error: null }], configuredModems: 1 },
      "degraded",
      "signal",
      /m1 1 bar/,
    ],
    [
      "an SMS waiting 20 min: degraded",
      { sms: { pending: 3, oldest_pending_s: 1200 }, lastSentAt: NOW - 60_000 },
      "degraded",
      "sms_queue",
      /3 SMS waiting, the oldest for 20 min/,
    ],
    [
      "SMS waiting and nothing sent for 40 min: degraded",
      { sms: { pending: 1, oldest_pending_s: 60 }, lastSentAt: NOW - 40 * 60_000 },
      "degraded",
      "last_send",
      /SMS waiting but last sent 40 min ago/,
    ],
    [
      "nothing received for 2 days: degraded",
      { lastReceivedAt: NOW - 2 * 86_400_000 },
      "degraded",
      "last_receive",
      /last received 48 h ago/,
    ],
    [
      "all upstreams down: degraded",
      { upstreams: [{ uri: "sip:a", reachable: false, registered: false, register: true }] },
      "degraded",
      "sip_upstream",
      /no SIP upstream answers/,
    ],
    [
      "reachable but not registered: degraded",
      { upstreams: [{ uri: "sip:a", reachable: true, registered: false, register: true }] },
      "degraded",
      "sip_upstream",
      /not registered at sip:a/,
    ],
    [
      "primary down, fallback answers: degraded",
      {
        upstreams: [
          { uri: "sip:a", reachable: false, registered: false, register: false },
          { uri: "sip:b", reachable: true, registered: false, register: false },
        ],
      },
      "degraded",
      "sip_upstream",
      /sip:b answers; down: sip:a/,
    ],
    [
      "disk 5 % free: degraded",
      { disk: { free_bytes: 0.8e9, total_bytes: 16e9 } },
      "degraded",
      "disk",
      /5\.0 % free.*low/,
    ],
    [
      "disk 1 % free: degraded, nearly full",
      { disk: { free_bytes: 0.16e9, total_bytes: 16e9 } },
      "degraded",
      "disk",
      /nearly full/,
    ],
    ["82 °C: degraded", { temperature_c: 82 }, "degraded", "temperature", /82\.0 °C: too hot/],
    [
      "under-voltage now: degraded",
      { power: { under_voltage_now: true, under_voltage_occurred: true, throttled_now: false } },
      "degraded",
      "power",
      /under-voltage now/,
    ],
    [
      "under-voltage only in the past: ok",
      { power: { under_voltage_now: false, under_voltage_occurred: true, throttled_now: false } },
      "ok",
      "power",
      /seen since the site started \(not now\)/,
    ],
  ];
  for (const [what, over, overall, name, reason] of table) {
    it(`${what}`, () => {
      const i = input(over);
      const r = evaluateHealth(i);
      assert.equal(r.status, overall);
      assert.equal(r.healthy, overall === "ok");
      const c = check(i, name);
      assert.ok(c, `check ${name} present`);
      assert.match(c.reason, reason);
    });
  }

  it("leaves out the checks that do not apply (no upstream, not a Pi, no thermal zone)", () => {
    const names = evaluateHealth(input({ power: null, temperature_c: null, disk: null })).checks.map(
      (c) => c.name,
    );
    assert.deepEqual(names, ["modems", "signal", "sms_queue", "last_send", "last_receive", "storage"]);
  });
});
