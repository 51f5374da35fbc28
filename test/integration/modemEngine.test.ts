import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { ModemConfig } from "../../src/config/types.js";
import { ModemSimulator, type ModemSimulatorOptions } from "../../src/sim/simulator.js";
import { type Harness, modem, startFleet, tempDir, waitFor } from "../helpers/fleetHarness.js";

// Each simulated device and the quirk profile the engine must pick for it.
const PROFILES: [sim: string, driverProfile: string][] = [
  ["generic", "generic"],
  ["sim800", "simcom_sim800"],
  ["ec25", "quectel_ec2x"],
  ["huawei_e3531", "huawei"],
  ["wavecom", "wavecom"],
  ["zte_mf", "zte_qualcomm"],
];

const TIME_SCALE = 0.05;
const POWER_LINE = 17;

let root: ReturnType<typeof tempDir>;
before(() => {
  root = tempDir("engine");
});
after(() => root.cleanup());

/** A simulator whose link folder exists. */
function simulator(opts: ModemSimulatorOptions): ModemSimulator {
  mkdirSync(dirname(opts.link), { recursive: true });
  return new ModemSimulator(opts);
}

function stateOf(h: Harness, id: string): string | undefined {
  return h.fleet.get(id)?.state;
}

function statesOf(h: Harness): string[] {
  return h.events.filter((e) => e.name === "modem_state").map((e) => (e.payload as { state: string }).state);
}

interface Site {
  dir: string;
  linkDir: string;
  gpioDir: string;
}

/**
 * One simulated modem (power line GPIO17) and a fleet with modem `m1` bound to it by IMEI; both are
 * stopped after `body`, whatever happens.
 */
async function withOneModem(
  name: string,
  sim: Partial<ModemSimulatorOptions>,
  config: Partial<ModemConfig>,
  body: (h: Harness, sim: ModemSimulator, site: Site) => Promise<void>,
  beforeFleet?: (sim: ModemSimulator) => void,
): Promise<void> {
  const dir = join(root.dir, name);
  const site = { dir, linkDir: join(dir, "dev"), gpioDir: join(dir, "gpio") };
  const s = simulator({
    link: join(site.linkDir, "usb-a"),
    powerGpio: { dir: site.gpioDir, line: POWER_LINE },
    timeScale: TIME_SCALE,
    ...sim,
  });
  await s.start();
  beforeFleet?.(s);
  const h = await startFleet({
    ...site,
    modems: [modem({ id: "m1", imei: s.state().imei, power_gpio: POWER_LINE, ...config })],
  });
  try {
    await body(h, s, site);
  } finally {
    await h.stop();
    await s.stop();
  }
}

for (const [simProfile, driverProfile] of PROFILES) {
  describe(`a simulated ${simProfile} on a real pseudo-terminal`, () => {
    it(`is probed to ready with the ${driverProfile} profile`, async () => {
      await withOneModem(`probe-${simProfile}`, { profile: simProfile }, {}, async (h, sim) => {
        await waitFor(
          "ready with an operator",
          () => stateOf(h, "m1") === "ready" && h.fleet.get("m1")!.snapshot().operator,
          15_000,
        );
        const snap = h.fleet.get("m1")!.snapshot();
        assert.equal(snap.profile, driverProfile);
        assert.equal(snap.imei, sim.state().imei);
        assert.equal(snap.iccid, sim.state().iccid);
        assert.equal(snap.imsi, sim.state().imsi);
        assert.equal(snap.smsc, sim.state().smsc);
        assert.ok(snap.signal && snap.signal.dbm !== null, "signal read");
        assert.equal(snap.operator, "MTN UG");
        if (simProfile === "ec25")
          assert.match(snap.port ?? "", /-if02$/, "the EC25's primary AT port (interface 2)");
        assert.equal(statesOf(h)[0], "initializing");
        assert.equal(statesOf(h).at(-1), "ready");
      });
    });

    it("walks a hung modem down the ladder to a power cycle and back to ready", async () => {
      await withOneModem(`hang-${simProfile}`, { profile: simProfile }, {}, async (h, sim) => {
        await waitFor("ready", () => stateOf(h, "m1") === "ready", 15_000);
        sim.hang();
        await waitFor("recovering", () => stateOf(h, "m1") === "recovering", 10_000);
        const ok = (e: Harness["events"][number]) =>
          e.name === "modem_recovery" && (e.payload as { result: string }).result === "ok";
        await waitFor("a recovery step that worked", () => h.events.find(ok), 30_000);
        await waitFor("ready again", () => stateOf(h, "m1") === "ready", 15_000);
        const steps = h.events
          .filter((e) => e.name === "modem_recovery")
          .map((e) => `${(e.payload as { step: string }).step}:${(e.payload as { result: string }).result}`);
        assert.deepEqual(steps, ["reinit:failed", "radio_off_on:failed", "reset:failed", "power_cycle:ok"]);
        const fromRecovery = statesOf(h).slice(statesOf(h).indexOf("recovering"));
        assert.ok(
          !fromRecovery.includes("initializing"),
          `recovering until the modem is back: ${fromRecovery}`,
        );
        assert.equal(h.fleet.get("m1")!.snapshot().counters.power_cycles, 1);
        assert.equal(sim.state().hung, false, "the power cycle cleared the hang");
      });
    });

    it("marks an unplugged modem absent and finds it again under a new name, same id", async () => {
      await withOneModem(`plug-${simProfile}`, { profile: simProfile }, {}, async (h, sim, site) => {
        await waitFor("ready", () => stateOf(h, "m1") === "ready", 15_000);
        assert.match(h.fleet.get("m1")!.snapshot().port ?? "", /usb-a(-if\d\d)?$/);
        await sim.unplug();
        await waitFor("absent", () => stateOf(h, "m1") === "absent", 10_000);
        await sim.replug(join(site.linkDir, "usb-b"));
        await waitFor("ready on the new name", () => stateOf(h, "m1") === "ready", 15_000);
        const snap = h.fleet.get("m1")!.snapshot();
        assert.match(snap.port ?? "", /usb-b(-if\d\d)?$/);
        assert.equal(snap.imei, sim.state().imei);
        assert.equal(snap.id, "m1");
      });
    });

    it("enters a wrong PIN once, stays pin_required, and never retries it, even after a restart", async () => {
      const dir = join(root.dir, `pin-${simProfile}`);
      const site = { dir, linkDir: join(dir, "dev"), gpioDir: join(dir, "gpio"), dbDir: join(dir, "db") };
      const sim = simulator({
        link: join(site.linkDir, "pin"),
        profile: simProfile,
        pin: "1234",
        timeScale: TIME_SCALE,
      });
      await sim.start();
      const cpin: string[] = [];
      sim.on("command", (c: { line: string }) => {
        if (/^AT\+CPIN="/i.test(c.line)) cpin.push(c.line);
      });
      const modems = [modem({ id: "m1", imei: sim.state().imei, pin: "0000" })];
      let h = await startFleet({ ...site, modems });
      try {
        await waitFor("pin_required", () => stateOf(h, "m1") === "pin_required", 15_000);
        await new Promise((r) => setTimeout(r, 1500)); // several probe intervals
        assert.deepEqual(cpin, ['AT+CPIN="0000"']);
        assert.match(h.fleet.get("m1")!.snapshot().last_error ?? "", /rejected/);
        await h.stop();
        h = await startFleet({ ...site, modems });
        await waitFor("pin_required after restart", () => stateOf(h, "m1") === "pin_required", 15_000);
        await new Promise((r) => setTimeout(r, 1000));
        assert.deepEqual(cpin, ['AT+CPIN="0000"'], "not retried after a restart");
        assert.equal(sim.state().pin_attempts, 2, "the SIM has two tries left, not fewer");
      } finally {
        await h.stop();
        await sim.stop();
      }
    });

    it("logs and skips garbage on the line and stays ready", async () => {
      await withOneModem(`noise-${simProfile}`, { profile: simProfile }, {}, async (h, sim) => {
        await waitFor("ready", () => stateOf(h, "m1") === "ready", 15_000);
        for (let i = 0; i < 5; i++) {
          sim.garbage();
          await new Promise((r) => setTimeout(r, 100));
        }
        await new Promise((r) => setTimeout(r, 1000));
        assert.equal(stateOf(h, "m1"), "ready");
        assert.ok(
          h.logs.some((r) => /skipped garbage/.test(r.msg)),
          "garbage was logged",
        );
        assert.equal(h.events.filter((e) => e.name === "modem_recovery").length, 0, "no recovery for noise");
      });
    });
  });
}

describe("SIM, indications and discovery", () => {
  it("enters the right PIN and reaches ready", async () => {
    await withOneModem("pin-ok", { profile: "ec25", pin: "1234" }, { pin: "1234" }, async (h) => {
      await waitFor("ready", () => stateOf(h, "m1") === "ready", 15_000);
    });
  });

  it("reports no_sim for a modem without a SIM, and ready once one is inserted", async () => {
    await withOneModem(
      "nosim",
      { profile: "huawei_e3531" },
      {},
      async (h, sim) => {
        await waitFor("no_sim", () => stateOf(h, "m1") === "no_sim", 15_000);
        sim.setSim("ready");
        await waitFor("ready", () => stateOf(h, "m1") === "ready", 15_000);
      },
      (sim) => sim.setSim("absent"),
    );
  });

  it("brings the SIM up again when the modem reports it pulled, and back when reinserted", async () => {
    await withOneModem("hotswap", { profile: "generic" }, {}, async (h, sim) => {
      await waitFor("ready", () => stateOf(h, "m1") === "ready", 15_000);
      sim.setSim("absent");
      sim.emitUrc("+CPIN: NOT INSERTED");
      await waitFor("no_sim", () => stateOf(h, "m1") === "no_sim", 10_000);
      sim.setSim("ready");
      await waitFor("ready", () => stateOf(h, "m1") === "ready", 15_000);
    });
  });

  it("sends a modem that stays unregistered too long down the ladder", async () => {
    const dir = join(root.dir, "searching");
    const linkDir = join(dir, "dev");
    const sim = simulator({ link: join(linkDir, "s"), profile: "generic", timeScale: TIME_SCALE });
    await sim.start();
    sim.on("AT+CREG?", () => ["+CREG: 2,2", "OK"]);
    const h = await startFleet({
      dir,
      linkDir,
      gpioDir: join(dir, "gpio"),
      modems: [modem({ id: "m1", imei: sim.state().imei })],
      supervisor: { searching_recovery_ms: 1500 },
    });
    try {
      await waitFor("searching", () => stateOf(h, "m1") === "searching", 15_000);
      const rec = await waitFor(
        "a recovery",
        () => h.events.find((e) => e.name === "modem_recovery") as { payload: { step: string } } | undefined,
        10_000,
      );
      assert.equal(rec.payload.step, "reinit");
      assert.match(h.fleet.get("m1")!.snapshot().last_error ?? "", /not registered/);
    } finally {
      await h.stop();
      await sim.stop();
    }
  });

  it("passes new-message and status-report indications, with the report's PDU, to the bus", async () => {
    await withOneModem("urc", { profile: "sim800" }, {}, async (h, sim) => {
      await waitFor("ready", () => stateOf(h, "m1") === "ready", 15_000);
      // A real SMS-DELIVER ("How are you?") and ModemManager's +CDS example PDU.
      const index = sim.injectSms(
        "07911326040000F0040B911346610089F60000208062917314080CC8F71D14969741F977FD07",
      );
      const report = "07914356060013F10659098136395339F6219011707193802190117071938030";
      sim.injectStatusReport(report);
      const urcs = () =>
        h.events
          .filter((e) => e.name === "modem_urc")
          .map((e) => e.payload as { line: string; extra?: string });
      await waitFor("+CMTI", () => urcs().find((u) => u.line === `+CMTI: "SM",${index}`), 5000);
      const cds = await waitFor("+CDS", () => urcs().find((u) => u.line.startsWith("+CDS:")), 5000);
      assert.equal(cds.extra, report);
    });
  });

  it("uses every modem found when no modem is configured, named by IMEI", async () => {
    const dir = join(root.dir, "disc");
    const sims = [
      simulator({ link: join(dir, "dev", "a"), profile: "generic", timeScale: TIME_SCALE }),
      simulator({ link: join(dir, "dev", "b"), profile: "sim800", timeScale: TIME_SCALE }),
    ];
    for (const s of sims) await s.start();
    const h = await startFleet({ dir, linkDir: join(dir, "dev"), gpioDir: join(dir, "gpio"), modems: [] });
    try {
      await waitFor(
        "two ready modems",
        () => h.fleet.list().filter((s) => s.state === "ready").length === 2,
        15_000,
      );
      const ids = h.fleet.list().map((s) => s.id);
      assert.deepEqual(ids.sort(), sims.map((s) => s.state().imei).sort());
    } finally {
      await h.stop();
      for (const s of sims) await s.stop();
    }
  });
});
