import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { ModemSimulator } from "../../src/sim/simulator.js";
import { modem, startFleet, tempDir, waitFor } from "../helpers/fleetHarness.js";

// Random faults on several modems at once, then calm: every modem must come back to ready by itself.
// CI runs it for SOAK_SECONDS (default 40); `SOAK_SECONDS=1800 npm test` runs the long version.
const SOAK_SECONDS = Number(process.env.SOAK_SECONDS ?? 40);
const PROFILES = ["generic", "sim800", "ec25", "huawei_e3531"];

/** A small deterministic PRNG, so a failing run can be replayed with the same SOAK_SEED. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

describe("modem soak", () => {
  it(`survives ${SOAK_SECONDS} s of random hangs, unplugs, renames, SIM pulls and noise on four modems`, async () => {
    const seed = Number(process.env.SOAK_SEED ?? Date.now() % 100_000);
    const random = rng(seed);
    const t = tempDir("soak");
    const linkDir = join(t.dir, "dev");
    const gpioDir = join(t.dir, "gpio");
    mkdirSync(linkDir, { recursive: true });
    const sims = PROFILES.map(
      (profile, i) =>
        new ModemSimulator({
          link: join(linkDir, `m${i}`),
          profile,
          powerGpio: { dir: gpioDir, line: 20 + i },
          timeScale: 0.05,
        }),
    );
    for (const s of sims) await s.start();
    const h = await startFleet({
      dir: t.dir,
      linkDir,
      gpioDir,
      modems: sims.map((s, i) => modem({ id: `m${i}`, imei: s.state().imei, power_gpio: 20 + i })),
    });
    const faults: string[] = [];
    try {
      await waitFor("all ready", () => h.fleet.list().every((s) => s.state === "ready"), 30_000);
      const end = Date.now() + SOAK_SECONDS * 1000;
      let renames = 0;
      while (Date.now() < end) {
        const i = Math.floor(random() * sims.length);
        const sim = sims[i]!;
        const kind = Math.floor(random() * 5);
        if (!sim.state().running) {
          await new Promise((r) => setTimeout(r, 200));
          continue;
        }
        if (kind === 0) sim.hang();
        else if (kind === 1)
          await sim.unplug({ replugAs: join(linkDir, `m${i}-r${++renames}`), afterMs: 10_000 });
        else if (kind === 2) sim.garbage();
        else if (kind === 3) {
          sim.setSim("absent");
          setTimeout(() => sim.setSim("ready"), 1500);
        } else sim.setSignal(Math.floor(random() * 32));
        faults.push(`m${i}:${["hang", "unplug", "garbage", "sim", "signal"][kind]}`);
        await new Promise((r) => setTimeout(r, 1000 + random() * 3000));
      }
      for (const s of sims) if (s.state().sim !== "ready") s.setSim("ready");
      await waitFor(
        "every modem ready again after the storm",
        () => h.fleet.list().every((s) => s.state === "ready"),
        90_000,
      ).catch((err: Error) => {
        const states = h.fleet.snapshots().map((s) => `${s.id}:${s.state} (${s.last_error})`);
        throw new Error(
          `${err.message}; seed ${seed}; states ${states.join(", ")}; faults ${faults.join(" ")}`,
        );
      });
      assert.ok(faults.length > 0);
      const ids = h.fleet.list().map((s) => s.id);
      assert.deepEqual(ids, ["m0", "m1", "m2", "m3"], "every modem kept its id");
    } finally {
      await h.stop();
      for (const s of sims) await s.stop();
      t.cleanup();
    }
  });
});
