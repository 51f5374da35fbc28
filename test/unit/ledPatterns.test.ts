import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { ModemStateName } from "../../src/core/events.js";
import { levelAt } from "../../src/leds/blinker.js";
import {
  type LedPattern,
  modemPattern,
  STARTUP_GRACE_MS,
  statusPattern,
  uplinkPattern,
} from "../../src/leds/patterns.js";

describe("LED patterns (contract, section 6)", () => {
  const modem: [ModemStateName, LedPattern][] = [
    ["ready", "on"],
    ["initializing", "slow"],
    ["searching", "slow"],
    ["recovering", "slow"],
    ["no_sim", "fast"],
    ["pin_required", "fast"],
    ["faulted", "fast"],
    ["absent", "off"],
  ];
  for (const [state, pattern] of modem)
    it(`a modem ${state}: ${pattern}`, () => assert.equal(modemPattern(state), pattern));

  const later = STARTUP_GRACE_MS + 1;
  const status: [string, Parameters<typeof statusPattern>[0], LedPattern][] = [
    [
      "all ready",
      { uptimeMs: later, modems: ["ready", "ready"], storageFailed: false, underVoltage: false },
      "on",
    ],
    [
      "starting, modems coming up",
      { uptimeMs: 5000, modems: ["initializing", "absent"], storageFailed: false, underVoltage: false },
      "slow",
    ],
    [
      "starting, no modem found yet",
      { uptimeMs: 5000, modems: [], storageFailed: false, underVoltage: false },
      "slow",
    ],
    [
      "no modem found after the grace",
      { uptimeMs: later, modems: ["absent"], storageFailed: false, underVoltage: false },
      "fast",
    ],
    [
      "one searching",
      { uptimeMs: later, modems: ["ready", "searching"], storageFailed: false, underVoltage: false },
      "slow",
    ],
    [
      "one unplugged, one ready",
      { uptimeMs: later, modems: ["ready", "absent"], storageFailed: false, underVoltage: false },
      "slow",
    ],
    [
      "a SIM missing",
      { uptimeMs: later, modems: ["ready", "no_sim"], storageFailed: false, underVoltage: false },
      "fast",
    ],
    [
      "a wrong PIN, even while starting",
      { uptimeMs: 1000, modems: ["pin_required"], storageFailed: false, underVoltage: false },
      "fast",
    ],
    [
      "a modem faulted",
      { uptimeMs: later, modems: ["faulted", "ready"], storageFailed: false, underVoltage: false },
      "fast",
    ],
    [
      "the database cannot be written",
      { uptimeMs: later, modems: ["ready"], storageFailed: true, underVoltage: false },
      "fast",
    ],
    [
      "under-voltage",
      { uptimeMs: later, modems: ["ready"], storageFailed: false, underVoltage: true },
      "fast",
    ],
  ];
  for (const [what, input, pattern] of status)
    it(`status LED, ${what}: ${pattern}`, () => assert.equal(statusPattern(input), pattern));

  const uplink: [string, Parameters<typeof uplinkPattern>[0], LedPattern][] = [
    ["nothing configured", {}, "off"],
    ["MQTT up", { mqtt: { connected: true, lastError: null } }, "on"],
    [
      "MQTT reconnecting",
      { mqtt: { connected: false, lastError: "connect ECONNREFUSED 10.8.0.1:8883" } },
      "slow",
    ],
    [
      "MQTT refused the credentials",
      { mqtt: { connected: false, lastError: "Connection refused: Not authorized" } },
      "fast",
    ],
    [
      "the site's certificate missing",
      { mqtt: { connected: false, lastError: "cannot read a TLS file: ENOENT" } },
      "fast",
    ],
    [
      "MQTT up, SIP upstream down",
      {
        mqtt: { connected: true, lastError: null },
        sip: [{ reachable: false, registered: false, register: false }],
      },
      "slow",
    ],
    [
      "SIP reachable but not registered",
      { sip: [{ reachable: true, registered: false, register: true }] },
      "slow",
    ],
    [
      "the fallback upstream answers",
      {
        sip: [
          { reachable: false, registered: false, register: false },
          { reachable: true, registered: false, register: false },
        ],
      },
      "on",
    ],
  ];
  for (const [what, input, pattern] of uplink)
    it(`uplink LED, ${what}: ${pattern}`, () => assert.equal(uplinkPattern(input), pattern));

  it("blinks slow at 1 Hz and fast at 4 Hz on 125 ms ticks", () => {
    const second = (p: LedPattern) => Array.from({ length: 8 }, (_, t) => levelAt(p, t)).join("");
    assert.equal(second("on"), "11111111");
    assert.equal(second("off"), "00000000");
    assert.equal(second("slow"), "11110000");
    assert.equal(second("fast"), "10101010");
  });
});
