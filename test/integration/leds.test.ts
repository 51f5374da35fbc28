/**
 * The LEDs as field staff see them: the sim GPIO driver's line files (real files) read every 10 ms,
 * blink rates counted from them; then a whole site's status, uplink and modem LEDs following its
 * state, and `leds/identify` over MQTT.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { silentLogger } from "../../src/core/logger.js";
import { SimGpioDriver } from "../../src/gpio/simGpio.js";
import { LedBlinker } from "../../src/leds/blinker.js";
import { remoteRequest } from "../../src/mqtt/remote.js";
import { tempDir, waitFor } from "../helpers/fleetHarness.js";
import { makePki, startMosquitto } from "../helpers/mosquitto.js";
import { NOC_PASSWORD, startNocSite } from "../helpers/nocHarness.js";

let tmp: ReturnType<typeof tempDir>;
before(() => {
  tmp = tempDir("bts-leds-");
});
after(() => tmp.cleanup());

/** Reads a line file every 10 ms for `ms`: the levels seen, and the rising edges per second. */
async function watch(dir: string, line: number, ms: number) {
  const levels: string[] = [];
  const end = Date.now() + ms;
  while (Date.now() < end) {
    try {
      levels.push(readFileSync(join(dir, `gpio${line}`), "utf8").trim());
    } catch {
      levels.push("?");
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  let rising = 0;
  for (let i = 1; i < levels.length; i++) if (levels[i - 1] === "0" && levels[i] === "1") rising++;
  return {
    levels,
    risingPerSecond: rising / (ms / 1000),
    ones: levels.filter((l) => l === "1").length / levels.length,
  };
}

describe("LED blink rates on GPIO lines", () => {
  it("on is steady 1, off steady 0, slow blinks at 1 Hz, fast at 4 Hz", async () => {
    const dir = join(tmp.dir, "gpio-rates");
    const gpio = new SimGpioDriver({ simDir: dir });
    const b = new LedBlinker(silentLogger());
    for (const [name, line] of [
      ["on", 1],
      ["off", 2],
      ["slow", 3],
      ["fast", 4],
    ] as const) {
      b.add(name, await gpio.output(line, 0));
      b.set(name, name);
    }
    try {
      const [on, off, slow, fast] = await Promise.all([1, 2, 3, 4].map((l) => watch(dir, l, 3000)));
      assert.equal(on!.ones, 1, "on: always 1");
      assert.equal(off!.ones, 0, "off: always 0");
      assert.ok(
        slow!.risingPerSecond >= 0.6 && slow!.risingPerSecond <= 1.4,
        `slow: ${slow!.risingPerSecond}/s`,
      );
      assert.ok(slow!.ones > 0.35 && slow!.ones < 0.65, `slow: on half the time (${slow!.ones})`);
      assert.ok(fast!.risingPerSecond >= 3 && fast!.risingPerSecond <= 5, `fast: ${fast!.risingPerSecond}/s`);
    } finally {
      await b.stop();
      await gpio.close();
    }
  });

  it("identify blinks every LED in turn, one second each, then the patterns come back", async () => {
    const dir = join(tmp.dir, "gpio-identify");
    const gpio = new SimGpioDriver({ simDir: dir });
    const b = new LedBlinker(silentLogger());
    for (const line of [10, 11, 12]) {
      b.add(`l${line}`, await gpio.output(line, 0));
      b.set(`l${line}`, "on");
    }
    try {
      b.identify(3);
      const w = await Promise.all([10, 11, 12].map((l) => watch(dir, l, 3000)));
      // Per second of the identify: which LED blinked (the others dark).
      for (let sec = 0; sec < 3; sec++) {
        const slice = (levels: string[]) =>
          levels.slice(Math.round(sec * 100) + 15, Math.round((sec + 1) * 100) - 15);
        const lit = w.map((x) => slice(x.levels).filter((l) => l === "1").length);
        const active = lit.findIndex((n) => n > 0);
        assert.equal(active, sec, `second ${sec}: LED ${sec} blinks (lit counts ${lit.join(",")})`);
        assert.equal(lit.filter((n) => n > 0).length, 1, `second ${sec}: one LED at a time`);
      }
      await waitFor(
        "the patterns back",
        () => readFileSync(join(dir, "gpio11"), "utf8").trim() === "1",
        2000,
      );
      const back = await Promise.all([10, 11, 12].map((l) => watch(dir, l, 400)));
      assert.ok(
        back.every((x) => x.ones === 1),
        "all steady on again",
      );
    } finally {
      await b.stop();
      await gpio.close();
    }
  });
});

describe("a site's LEDs", () => {
  it("status and modem on when ready, uplink on with the NOC and slow without, identify over MQTT", async () => {
    const pkiDir = join(tmp.dir, "pki");
    const { mkdirSync } = await import("node:fs");
    mkdirSync(pkiDir);
    const pki = await makePki(pkiDir);
    const broker = await startMosquitto({ dir: tmp.dir, pki, passwords: { noc: NOC_PASSWORD } });
    const dir = join(tmp.dir, "site");
    mkdirSync(dir);
    const s = await startNocSite({
      dir,
      siteId: "site-led",
      broker,
      pki,
      extra: { leds: { status: 5, uplink: 6 } },
    });
    const gpioDir = join(dir, "gpio");
    try {
      await waitFor("m1 ready", () => s.site.fleet?.get("m1")?.state === "ready", 20_000);
      await waitFor("status LED on", () => s.site.leds?.patterns().status === "on" || undefined, 70_000);
      await waitFor("uplink LED on", () => s.site.leds?.patterns().uplink === "on" || undefined, 10_000);
      const [status, uplink] = await Promise.all([5, 6].map((l) => watch(gpioDir, l, 600)));
      assert.equal(status!.ones, 1);
      assert.equal(uplink!.ones, 1);
      const r = await remoteRequest({
        broker: broker.plainUrl,
        username: "noc",
        password: NOC_PASSWORD,
        site: "site-led",
        command: "leds/identify",
        args: { seconds: 2 },
        timeoutMs: 10_000,
      });
      assert.equal(r.kind === "response" && r.response.status, "ok");
      const during = await watch(gpioDir, 5, 900);
      assert.ok(
        during.risingPerSecond >= 2,
        `the status LED blinks fast during identify (${during.risingPerSecond}/s)`,
      );
      await new Promise((res) => setTimeout(res, 1500));
      await broker.stop();
      await waitFor("uplink LED slow", () => s.site.leds?.patterns().uplink === "slow" || undefined, 15_000);
      const slow = await watch(gpioDir, 6, 2500);
      assert.ok(
        slow.risingPerSecond >= 0.6 && slow.risingPerSecond <= 1.4,
        `uplink slow: ${slow.risingPerSecond}/s`,
      );
    } finally {
      await s.stop();
      await broker.stop();
    }
  });
});
