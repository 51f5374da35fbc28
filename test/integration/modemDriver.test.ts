import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { AtChannel } from "../../src/at/channel.js";
import { isSiteError } from "../../src/core/errors.js";
import { silentLogger } from "../../src/core/logger.js";
import { dataPath } from "../../src/core/paths.js";
import { ModemDriver } from "../../src/modem/driver.js";
import { ProfileSet } from "../../src/modem/profile.js";
import { ModemSimulator } from "../../src/sim/simulator.js";
import { serialportOpener } from "../../src/transport/serial/serialportBinding.js";
import { tempDir } from "../helpers/fleetHarness.js";

// Quirks of real firmwares, through the real serial stack against the simulated devices.
describe("the driver against vendor quirks", () => {
  let t: ReturnType<typeof tempDir>;
  let profiles: ProfileSet;
  before(async () => {
    t = tempDir("driver");
    mkdirSync(join(t.dir, "dev"), { recursive: true });
    profiles = (await ProfileSet.load([dataPath("modem", "quirks")])).set;
  });
  after(() => t.cleanup());

  async function open(simProfile: string, driverProfile: string) {
    const sim = new ModemSimulator({
      link: join(t.dir, "dev", simProfile),
      profile: simProfile,
      timeScale: 0.05,
    });
    await sim.start();
    await sim.waitFor("booted", undefined, 5000).catch(() => {});
    const conn = await serialportOpener(silentLogger())({ path: sim.primaryLink(), baudRate: 115200 });
    const channel = new AtChannel({
      conn,
      logger: silentLogger(),
      urcs: profiles.urcRegistry(),
      extraErrors: profiles.allExtraErrors(),
      defaultTimeoutMs: 1500,
    });
    channel.start();
    const driver = new ModemDriver(channel, profiles.get(driverProfile)!, silentLogger());
    assert.ok(await driver.sync(3, 1000));
    await driver.runSteps(profiles.generic.init); // ATE0, ATV1, AT+CMEE=1: errors by number
    return {
      sim,
      driver,
      async close() {
        await channel.close();
        await sim.stop();
      },
    };
  }

  it("Wavecom: rides out +CME ERROR: 515 after AT+CFUN=1 by asking again", async () => {
    const m = await open("wavecom", "wavecom");
    const csq: string[] = [];
    m.sim.on("command", (c: { line: string }) => {
      if (c.line === "AT+CSQ") csq.push(c.line);
    });
    try {
      await m.driver.radioOffOn();
      const r = await m.driver.command("AT+CSQ");
      assert.match(r.lines[0] ?? "", /^\+CSQ: /);
      assert.equal(csq.length, 3, "two busy answers, then the reading");
    } finally {
      await m.close();
    }
  });

  it("Wavecom: reads AT+CPIN? although it never ends with OK", async () => {
    const m = await open("wavecom", "wavecom");
    try {
      const t0 = performance.now();
      assert.equal(await m.driver.simStatus(), "ready");
      assert.ok(performance.now() - t0 < 1000, "completed at the +CPIN line, not by a timeout");
    } finally {
      await m.close();
    }
  });

  it("Huawei: COMMAND NOT SUPPORT ends an unknown command at once as an error", async () => {
    const m = await open("huawei_e3531", "huawei");
    try {
      const t0 = performance.now();
      await assert.rejects(
        m.driver.command("AT+WIND?"),
        (e) => isSiteError(e, "at.error") && e.detail.text === "COMMAND NOT SUPPORT",
      );
      assert.ok(performance.now() - t0 < 1000);
    } finally {
      await m.close();
    }
  });

  it("ZTE/Qualcomm: bring-up never sends AT+CSMP, so the SMSC survives", async () => {
    const m = await open("zte_mf", "zte_qualcomm");
    const sent: string[] = [];
    m.sim.on("command", (c: { line: string }) => {
      sent.push(c.line);
    });
    try {
      await m.driver.runSteps(m.driver.profile.init);
      await m.driver.runSteps(m.driver.profile.smsInit);
      assert.ok(!sent.some((l) => /CSMP/i.test(l)));
      assert.equal(await m.driver.smsc(), m.sim.state().smsc);
      assert.ok(m.sim.state().smsc.length > 0);
    } finally {
      await m.close();
    }
  });
});
