import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { after, before, describe, it } from "node:test";
import { ModemSimulator } from "../../src/sim/simulator.js";
import { type Harness, modem, startFleet, tempDir, waitFor } from "../helpers/fleetHarness.js";

/** A simulator whose link folder exists. */
function simulator(opts: ConstructorParameters<typeof ModemSimulator>[0]): ModemSimulator {
  mkdirSync(dirname(opts.link), { recursive: true });
  return new ModemSimulator(opts);
}

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

function stateOf(h: Harness, id: string): string | undefined {
  return h.fleet.get(id)?.state;
}

describe("every modem profile, probe to ready on a real pseudo-terminal", () => {
  for (const [simProfile, driverProfile] of PROFILES) {
    it(`brings a simulated ${simProfile} to ready with the ${driverProfile} profile`, async () => {
      const t = tempDir(`probe-${simProfile}`);
      const linkDir = join(t.dir, "dev");
      const gpioDir = join(t.dir, "gpio");
      const sim = simulator({
        link: join(linkDir, `sim-${simProfile}`),
        profile: simProfile,
        powerGpio: { dir: gpioDir, line: 5 },
        timeScale: TIME_SCALE,
      });
      await sim.start();
      const imei = sim.state().imei;
      const h = await startFleet({
        dir: t.dir,
        linkDir,
        gpioDir,
        modems: [modem({ id: "m1", imei, power_gpio: 5 })],
      });
      try {
        await waitFor(
          "ready with an operator",
          () => stateOf(h, "m1") === "ready" && h.fleet.get("m1")!.snapshot().operator,
          15_000,
        );
        const snap = h.fleet.get("m1")!.snapshot();
        assert.equal(snap.profile, driverProfile);
        assert.equal(snap.imei, imei);
        assert.equal(snap.iccid, sim.state().iccid);
        assert.equal(snap.imsi, sim.state().imsi);
        assert.ok(snap.signal && snap.signal.dbm !== null, "signal read");
        assert.equal(snap.operator, "MTN UG");
        if (simProfile === "ec25")
          assert.match(snap.port ?? "", /-if02$/, "the EC25's primary AT port (interface 2)");
        const states = h.events
          .filter((e) => e.name === "modem_state")
          .map((e) => (e.payload as { state: string }).state);
        assert.deepEqual(states.slice(0, 2), ["initializing", states[1]]);
        assert.equal(states.at(-1), "ready");
      } finally {
        await h.stop();
        await sim.stop();
        t.cleanup();
      }
    });
  }
});

describe("supervision and recovery, for every profile", () => {
  let t: ReturnType<typeof tempDir>;
  before(() => {
    t = tempDir("recovery");
  });
  after(() => t.cleanup());

  for (const [simProfile] of PROFILES) {
    describe(`simulated ${simProfile}`, () => {
      it("walks a hung modem down the ladder to a power cycle and back to ready", async () => {
        const dir = join(t.dir, `hang-${simProfile}`);
        const linkDir = join(dir, "dev");
        const gpioDir = join(dir, "gpio");
        const sim = simulator({
          link: join(linkDir, "hang"),
          profile: simProfile,
          powerGpio: { dir: gpioDir, line: 17 },
          timeScale: TIME_SCALE,
        });
        await sim.start();
        const h = await startFleet({
          dir,
          linkDir,
          gpioDir,
          modems: [modem({ id: "m1", imei: sim.state().imei, power_gpio: 17 })],
        });
        try {
          await waitFor("ready", () => stateOf(h, "m1") === "ready", 15_000);
          sim.hang();
          await waitFor("recovering", () => stateOf(h, "m1") === "recovering", 10_000);
          await waitFor(
            "power cycle ok",
            () =>
              h.events.find(
                (e) => e.name === "modem_recovery" && (e.payload as { result: string }).result === "ok",
              ),
            30_000,
          );
          await waitFor("ready again", () => stateOf(h, "m1") === "ready", 15_000);
          const steps = h.events
            .filter((e) => e.name === "modem_recovery")
            .map(
              (e) => `${(e.payload as { step: string }).step}:${(e.payload as { result: string }).result}`,
            );
          assert.deepEqual(steps, ["reinit:failed", "radio_off_on:failed", "reset:failed", "power_cycle:ok"]);
          const states = h.events
            .filter((e) => e.name === "modem_state")
            .map((e) => (e.payload as { state: string }).state);
          const fromRecovery = states.slice(states.indexOf("recovering"));
          assert.ok(
            !fromRecovery.includes("initializing"),
            `recovering until the modem is back: ${fromRecovery}`,
          );
          assert.equal(states.at(-1), "ready");
          assert.equal(h.fleet.get("m1")!.snapshot().counters.power_cycles, 1);
          assert.equal(sim.state().hung, false, "the power cycle cleared the hang");
        } finally {
          await h.stop();
          await sim.stop();
        }
      });

      it("marks an unplugged modem absent and finds it again under a new name, same id", async () => {
        const dir = join(t.dir, `plug-${simProfile}`);
        const linkDir = join(dir, "dev");
        const sim = simulator({ link: join(linkDir, "usb-a"), profile: simProfile, timeScale: TIME_SCALE });
        await sim.start();
        const imei = sim.state().imei;
        const h = await startFleet({
          dir,
          linkDir,
          gpioDir: join(dir, "gpio"),
          modems: [modem({ id: "m1", imei })],
        });
        try {
          await waitFor("ready", () => stateOf(h, "m1") === "ready", 15_000);
          assert.match(h.fleet.get("m1")!.snapshot().port ?? "", /usb-a(-if\d\d)?$/);
          await sim.unplug();
          await waitFor("absent", () => stateOf(h, "m1") === "absent", 10_000);
          await sim.replug(join(linkDir, "usb-b"));
          await waitFor("ready on the new name", () => stateOf(h, "m1") === "ready", 15_000);
          const snap = h.fleet.get("m1")!.snapshot();
          assert.match(snap.port ?? "", /usb-b(-if\d\d)?$/);
          assert.equal(snap.imei, imei);
          assert.equal(snap.id, "m1");
        } finally {
          await h.stop();
          await sim.stop();
        }
      });

      it("enters a wrong PIN once, stays pin_required, and never retries it, even after a restart", async () => {
        const dir = join(t.dir, `pin-${simProfile}`);
        const linkDir = join(dir, "dev");
        const sim = simulator({
          link: join(linkDir, "pin"),
          profile: simProfile,
          pin: "1234",
          timeScale: TIME_SCALE,
        });
        await sim.start();
        const cpin: string[] = [];
        sim.on("command", (c: { line: string }) => {
          if (/^AT\+CPIN="/i.test(c.line)) cpin.push(c.line);
        });
        const dbDir = join(dir, "db");
        const config = [modem({ id: "m1", imei: sim.state().imei, pin: "0000" })];
        let h = await startFleet({ dir, dbDir, linkDir, gpioDir: join(dir, "gpio"), modems: config });
        try {
          await waitFor("pin_required", () => stateOf(h, "m1") === "pin_required", 15_000);
          await new Promise((r) => setTimeout(r, 1500)); // several probe intervals
          assert.deepEqual(cpin, ['AT+CPIN="0000"']);
          assert.match(h.fleet.get("m1")!.snapshot().last_error ?? "", /rejected/);
          await h.stop();
          h = await startFleet({ dir, dbDir, linkDir, gpioDir: join(dir, "gpio"), modems: config });
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
        const dir = join(t.dir, `noise-${simProfile}`);
        const linkDir = join(dir, "dev");
        const sim = simulator({ link: join(linkDir, "noise"), profile: simProfile, timeScale: TIME_SCALE });
        await sim.start();
        const h = await startFleet({
          dir,
          linkDir,
          gpioDir: join(dir, "gpio"),
          modems: [modem({ id: "m1", imei: sim.state().imei })],
        });
        try {
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
          assert.equal(
            h.events.filter((e) => e.name === "modem_recovery").length,
            0,
            "no recovery for noise",
          );
        } finally {
          await h.stop();
          await sim.stop();
        }
      });
    });
  }
});

describe("SIM and discovery", () => {
  let t: ReturnType<typeof tempDir>;
  let linkDir: string;
  let gpioDir: string;
  before(() => {
    t = tempDir("sim");
    linkDir = join(t.dir, "dev");
    gpioDir = join(t.dir, "gpio");
  });
  after(() => t.cleanup());

  it("enters the right PIN and reaches ready", async () => {
    const sim = simulator({
      link: join(linkDir, "pin-ok"),
      profile: "ec25",
      pin: "1234",
      timeScale: TIME_SCALE,
    });
    await sim.start();
    const h = await startFleet({
      dir: join(t.dir, "pin-ok-site"),
      linkDir,
      gpioDir,
      modems: [modem({ id: "m1", imei: sim.state().imei, pin: "1234" })],
    });
    try {
      await waitFor("ready", () => stateOf(h, "m1") === "ready", 15_000);
    } finally {
      await h.stop();
      await sim.stop();
    }
  });

  it("reports no_sim for a modem without a SIM, and ready once one is inserted", async () => {
    const sim = simulator({ link: join(linkDir, "nosim"), profile: "huawei_e3531", timeScale: TIME_SCALE });
    await sim.start();
    sim.setSim("absent");
    const h = await startFleet({
      dir: join(t.dir, "nosim-site"),
      linkDir,
      gpioDir,
      modems: [modem({ id: "m1", imei: sim.state().imei })],
    });
    try {
      await waitFor("no_sim", () => stateOf(h, "m1") === "no_sim", 15_000);
      sim.setSim("ready");
      await waitFor("ready", () => stateOf(h, "m1") === "ready", 15_000);
    } finally {
      await h.stop();
      await sim.stop();
    }
  });

  it("logs and skips garbage on the line and stays ready", async () => {
    const sim = simulator({ link: join(linkDir, "noise"), profile: "generic", timeScale: TIME_SCALE });
    await sim.start();
    const h = await startFleet({
      dir: join(t.dir, "noise-site"),
      linkDir,
      gpioDir,
      modems: [modem({ id: "m1", imei: sim.state().imei })],
    });
    try {
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
    } finally {
      await h.stop();
      await sim.stop();
    }
  });

  it("passes new-message and status-report indications, with the report's PDU, to the bus", async () => {
    const sim = simulator({ link: join(linkDir, "urc"), profile: "sim800", timeScale: TIME_SCALE });
    await sim.start();
    const h = await startFleet({
      dir: join(t.dir, "urc-site"),
      linkDir,
      gpioDir,
      modems: [modem({ id: "m1", imei: sim.state().imei })],
    });
    try {
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
    } finally {
      await h.stop();
      await sim.stop();
    }
  });

  it("uses every modem found when no modem is configured, named by IMEI", async () => {
    const dir = join(t.dir, "disc");
    const sims = [
      simulator({ link: join(dir, "dev", "a"), profile: "generic", timeScale: TIME_SCALE }),
      simulator({ link: join(dir, "dev", "b"), profile: "sim800", timeScale: TIME_SCALE }),
    ];
    for (const s of sims) await s.start();
    const h = await startFleet({ dir, linkDir: join(dir, "dev"), gpioDir, modems: [] });
    try {
      await waitFor(
        "two ready modems",
        () => h.fleet.list().filter((s) => s.state === "ready").length === 2,
        15_000,
      );
      assert.deepEqual(
        h.fleet
          .list()
          .map((s) => s.id)
          .sort(),
        sims.map((s) => s.state().imei).sort(),
      );
    } finally {
      await h.stop();
      for (const s of sims) await s.stop();
    }
  });
});
