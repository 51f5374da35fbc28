import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { after, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { isSiteError } from "../../src/core/errors.js";
import type { GpioValue } from "../../src/gpio/gpio.js";
import { createGpioDriver } from "../../src/gpio/index.js";
import { OnoffGpioDriver, type OnoffGpioLike, type OnoffLoader } from "../../src/gpio/onoffGpio.js";

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const roots: string[] = [];
after(() => {
  for (const r of roots) rmSync(r, { recursive: true, force: true });
});

function fakeSysfs(chips: [string, string, number, number][]): string {
  const root = mkdtempSync(join(tmpdir(), "bts-onoff-"));
  roots.push(root);
  for (const [name, label, base, ngpio] of chips) {
    const dir = join(root, "sys", "class", "gpio", name);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "label"), `${label}\n`);
    writeFileSync(join(dir, "base"), `${base}\n`);
    writeFileSync(join(dir, "ngpio"), `${ngpio}\n`);
  }
  return root;
}

const PI4_66 = (): string =>
  fakeSysfs([
    ["gpiochip512", "pinctrl-bcm2711", 512, 58],
    ["gpiochip570", "raspberrypi-exp-gpio", 570, 8],
  ]);

/** A stand-in for onoff's Gpio class that records what the driver asks of sysfs. */
function fakeOnoff(opts: { accessible?: boolean; failExport?: NodeJS.ErrnoException } = {}) {
  const calls: string[] = [];
  class FakeGpio implements OnoffGpioLike {
    static accessible = opts.accessible ?? true;
    private value: GpioValue;
    constructor(
      readonly number: number,
      direction: "high" | "low",
    ) {
      if (opts.failExport) throw opts.failExport;
      calls.push(`export ${number} ${direction}`);
      this.value = direction === "high" ? 1 : 0;
    }
    readSync(): GpioValue {
      return this.value;
    }
    writeSync(value: GpioValue): void {
      calls.push(`write ${this.number} ${value}`);
      this.value = value;
    }
    unexport(): void {
      calls.push(`unexport ${this.number}`);
    }
  }
  let loads = 0;
  const loadOnoff: OnoffLoader = async () => {
    loads += 1;
    return { Gpio: FakeGpio };
  };
  return { calls, loadOnoff, loads: () => loads };
}

describe("onoff GPIO driver", () => {
  test("exports GPIO17 of a Pi 4 on 6.6 as sysfs 529, driven to its initial level in one step", async () => {
    const fake = fakeOnoff();
    const driver = new OnoffGpioDriver({ sysRoot: PI4_66(), loadOnoff: fake.loadOnoff });
    const line = await driver.output(17, 0);
    await line.write(1);
    assert.equal(await line.read(), 1);
    await driver.close();
    assert.deepEqual(fake.calls, ["export 529 low", "write 529 1", "unexport 529"]);
  });

  test("loads onoff only when started, and only once", async () => {
    const fake = fakeOnoff();
    const driver = createGpioDriver(
      { driver: "onoff", sim_dir: "/unused" },
      { sysRoot: PI4_66(), loadOnoff: fake.loadOnoff },
    );
    assert.equal(driver.name, "onoff");
    assert.equal(fake.loads(), 0, "building the driver does no I/O");
    await driver.start();
    await driver.output(4, 1);
    await driver.output(5, 0);
    assert.equal(fake.loads(), 1);
    await driver.close();
  });

  test("uses the configured chip label", async () => {
    const fake = fakeOnoff();
    const root = fakeSysfs([
      ["gpiochip512", "pinctrl-bcm2711", 512, 58],
      ["gpiochip600", "pca953x", 600, 16],
    ]);
    const driver = createGpioDriver(
      { driver: "onoff", sim_dir: "", chip_label: "pca953x" },
      { sysRoot: root, loadOnoff: fake.loadOnoff },
    );
    await driver.output(3, 1);
    assert.deepEqual(fake.calls, ["export 603 high"]);
  });

  test("refuses a line beyond the chip's ngpio", async () => {
    const driver = new OnoffGpioDriver({ sysRoot: PI4_66(), loadOnoff: fakeOnoff().loadOnoff });
    await assert.rejects(
      driver.output(58, 0),
      /GPIO line 58 does not exist on gpiochip512 "pinctrl-bcm2711"/,
    );
  });

  test("fails with gpio.unavailable when sysfs GPIO is not writable", async () => {
    const driver = new OnoffGpioDriver({
      sysRoot: PI4_66(),
      loadOnoff: fakeOnoff({ accessible: false }).loadOnoff,
    });
    await assert.rejects(driver.start(), (err: unknown) => {
      assert.ok(isSiteError(err, "gpio.unavailable"));
      assert.match(err.message, /group gpio/);
      return true;
    });
  });

  test("fails with gpio.unavailable when onoff cannot be loaded, and may retry later", async () => {
    let attempts = 0;
    const good = fakeOnoff();
    const driver = new OnoffGpioDriver({
      sysRoot: PI4_66(),
      loadOnoff: async () => {
        attempts += 1;
        if (attempts === 1) throw new Error("Cannot find module 'epoll'");
        return good.loadOnoff();
      },
    });
    await assert.rejects(driver.start(), (err: unknown) => {
      assert.ok(isSiteError(err, "gpio.unavailable"));
      assert.match(String((err.cause as Error).message), /epoll/);
      return true;
    });
    await driver.start();
    assert.equal(attempts, 2);
  });

  test("explains an EBUSY export as a line held by someone else", async () => {
    const busy = Object.assign(new Error("EBUSY: resource busy or locked, write"), { code: "EBUSY" });
    const driver = new OnoffGpioDriver({
      sysRoot: PI4_66(),
      loadOnoff: fakeOnoff({ failExport: busy }).loadOnoff,
    });
    await assert.rejects(driver.output(17, 0), (err: unknown) => {
      assert.ok(isSiteError(err, "gpio.unavailable"));
      assert.match(err.message, /sysfs gpio529.*held by a kernel driver/);
      assert.equal(err.cause, busy);
      return true;
    });
  });

  test("rejects writes after close with gpio.write", async () => {
    const driver = new OnoffGpioDriver({ sysRoot: PI4_66(), loadOnoff: fakeOnoff().loadOnoff });
    const line = await driver.output(17, 0);
    await line.close();
    await line.close();
    await assert.rejects(line.write(1), (err: unknown) => isSiteError(err, "gpio.write"));
  });

  test("importing the gpio module does not load onoff", async () => {
    const script = `
      import { createRequire } from "node:module";
      const require = createRequire(import.meta.url);
      await import(${JSON.stringify(join(REPO, "src", "gpio", "index.ts"))});
      process.stdout.write(String(Object.keys(require.cache).some((k) => k.includes("/node_modules/onoff/"))));
    `;
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ["--import", "tsx", "--input-type=module", "-e", script],
      { cwd: REPO },
    );
    assert.equal(stdout, "false");
  });
});
