import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import {
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  unlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { setTimeout as delay } from "node:timers/promises";
import { isSiteError } from "../../src/core/errors.js";
import type { GpioValue } from "../../src/gpio/gpio.js";
import { createGpioDriver } from "../../src/gpio/index.js";
import { SimGpioDriver, simLinePath, watchSimLine, writeSimLine } from "../../src/gpio/simGpio.js";

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), "bts-simgpio-"));
  dirs.push(d);
  return d;
}

/** Resolves once `predicate` holds, polling every 5 ms; rejects after `timeoutMs`. */
async function until(predicate: () => boolean, timeoutMs = 2000): Promise<void> {
  const start = Date.now();
  while (!predicate()) {
    if (Date.now() - start > timeoutMs) throw new Error("condition not met in time");
    await delay(5);
  }
}

// A reader in another process, reading the line file in a tight loop until `stop` appears, then
// printing how many reads it made and every content that was not exactly "0" or "1".
const READER = `
const fs = require("node:fs");
const [file, stop] = process.argv.slice(1);
let reads = 0;
const bad = [];
process.stdout.write("ready\\n");
while (!fs.existsSync(stop)) {
  let text;
  try { text = fs.readFileSync(file, "utf8"); } catch (e) { text = "<" + e.code + ">"; }
  reads += 1;
  if (text !== "0" && text !== "1" && bad.length < 20) bad.push(text);
}
process.stdout.write(JSON.stringify({ reads, bad }) + "\\n");
`;

describe("sim GPIO driver", () => {
  test("creates the folder on the first output and writes the initial level without a newline", async () => {
    const simDir = join(tempDir(), "nested", "gpio");
    const driver = new SimGpioDriver({ simDir });
    assert.equal(existsSync(simDir), false);
    const line = await driver.output(17, 1);
    assert.equal(line.line, 17);
    assert.equal(readFileSync(join(simDir, "gpio17"), "utf8"), "1");
    await line.write(0);
    assert.equal(readFileSync(join(simDir, "gpio17"), "utf8"), "0");
    await driver.close();
  });

  test("leaves no temporary files behind after many writes", async () => {
    const simDir = tempDir();
    const driver = new SimGpioDriver({ simDir });
    const line = await driver.output(4, 0);
    await Promise.all(Array.from({ length: 50 }, (_, i) => line.write((i % 2) as GpioValue)));
    assert.deepEqual(readdirSync(simDir), ["gpio4"]);
    assert.equal(readFileSync(join(simDir, "gpio4"), "utf8"), "1", "the last write wins");
    await driver.close();
  });

  test("never lets a concurrent reader in another process see an empty or partial file", async () => {
    const simDir = tempDir();
    const stop = join(tempDir(), "stop");
    const driver = new SimGpioDriver({ simDir });
    const line = await driver.output(22, 0);
    const child = spawn(process.execPath, ["-e", READER, simLinePath(simDir, 22), stop], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    let out = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      out += chunk;
    });
    await until(() => out.includes("ready"), 10_000);
    for (let i = 1; i <= 400; i++) {
      await line.write((i % 2) as GpioValue);
      if (i % 50 === 0) await delay(1);
    }
    writeFileSync(stop, "");
    const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
    assert.equal(code, 0);
    const result = JSON.parse(out.trim().split("\n").at(-1)!) as { reads: number; bad: string[] };
    assert.deepEqual(result.bad, []);
    assert.ok(result.reads > 100, `the reader only read ${result.reads} times`);
    await driver.close();
  });

  test("reads a level written by another process, with or without a newline", async () => {
    const simDir = tempDir();
    const driver = new SimGpioDriver({ simDir });
    const line = await driver.output(5, 0);
    writeFileSync(join(simDir, "gpio5"), "1\n");
    assert.equal(await line.read(), 1);
    writeFileSync(join(simDir, "gpio5"), "0");
    assert.equal(await line.read(), 0);
    await driver.close();
  });

  test("rejects a read of garbage or of a deleted file with gpio.unavailable", async () => {
    const simDir = tempDir();
    const driver = new SimGpioDriver({ simDir });
    const line = await driver.output(6, 0);
    writeFileSync(join(simDir, "gpio6"), "high");
    await assert.rejects(line.read(), (err: unknown) => isSiteError(err, "gpio.unavailable"));
    unlinkSync(join(simDir, "gpio6"));
    await assert.rejects(line.read(), (err: unknown) => isSiteError(err, "gpio.unavailable"));
    await driver.close();
  });

  test("refuses a line claimed twice and writes to a closed line", async () => {
    const driver = new SimGpioDriver({ simDir: tempDir() });
    const line = await driver.output(17, 0);
    await assert.rejects(driver.output(17, 1), (err: unknown) => isSiteError(err, "gpio.unavailable"));
    await line.close();
    await assert.rejects(line.write(1), (err: unknown) => isSiteError(err, "gpio.write"));
    const again = await driver.output(17, 1);
    assert.equal(await again.read(), 1);
    await driver.close();
  });

  test("refuses an invalid line number", async () => {
    const driver = new SimGpioDriver({ simDir: tempDir() });
    await assert.rejects(driver.output(-1, 0), /not a valid line number/);
    await assert.rejects(driver.output(1.5, 0), /not a valid line number/);
  });

  test("reports gpio.unavailable when the folder cannot be created", async () => {
    const file = join(tempDir(), "a-file");
    writeFileSync(file, "");
    const driver = new SimGpioDriver({ simDir: join(file, "gpio") });
    await assert.rejects(driver.output(1, 0), (err: unknown) => isSiteError(err, "gpio.unavailable"));
  });

  test("is what createGpioDriver builds for driver sim", async () => {
    const simDir = tempDir();
    const driver = createGpioDriver({ driver: "sim", sim_dir: simDir });
    assert.equal(driver.name, "sim");
    await driver.start();
    const line = await driver.output(3, 1);
    assert.equal(readFileSync(join(simDir, "gpio3"), "utf8"), "1");
    await line.close();
  });
});

describe("watchSimLine", () => {
  test("sees 1, 0, 1 in order, each within a few polling periods of the write", async () => {
    const simDir = tempDir();
    const seen: { value: GpioValue; at: number }[] = [];
    const watch = watchSimLine(simDir, 17, (value) => seen.push({ value, at: Date.now() }), {
      intervalMs: 20,
    });
    try {
      assert.equal(watch.current(), undefined, "no file yet: no value");
      const writes: number[] = [];
      for (const value of [1, 0, 1] as const) {
        writes.push(Date.now());
        await writeSimLine(simDir, 17, value);
        await delay(150);
      }
      assert.deepEqual(
        seen.map((s) => s.value),
        [1, 0, 1],
      );
      seen.forEach((s, i) => {
        const latency = s.at - writes[i]!;
        assert.ok(latency >= 0 && latency < 120, `change ${i} seen after ${latency} ms`);
      });
      assert.equal(watch.current(), 1);
    } finally {
      watch.stop();
    }
  });

  test("reports the level found at start through current() only, not as a change", async () => {
    const simDir = tempDir();
    await writeSimLine(simDir, 9, 1);
    const seen: GpioValue[] = [];
    const watch = watchSimLine(simDir, 9, (v) => seen.push(v), { intervalMs: 10 });
    try {
      assert.equal(watch.current(), 1);
      await delay(60);
      assert.deepEqual(seen, []);
      await writeSimLine(simDir, 9, 0);
      await until(() => seen.length === 1);
      assert.deepEqual(seen, [0]);
    } finally {
      watch.stop();
    }
  });

  test("tolerates a missing folder and reports the line once it appears", async () => {
    const simDir = join(tempDir(), "not-yet");
    const seen: GpioValue[] = [];
    const watch = watchSimLine(simDir, 2, (v) => seen.push(v), { intervalMs: 10 });
    try {
      await delay(50);
      assert.equal(watch.current(), undefined);
      const driver = new SimGpioDriver({ simDir });
      await driver.output(2, 0);
      await until(() => seen.length === 1);
      assert.deepEqual(seen, [0]);
    } finally {
      watch.stop();
    }
  });

  test("ignores garbage and empty content without a callback", async () => {
    const simDir = tempDir();
    await writeSimLine(simDir, 8, 0);
    const seen: GpioValue[] = [];
    const watch = watchSimLine(simDir, 8, (v) => seen.push(v), { intervalMs: 10 });
    try {
      writeFileSync(join(simDir, "gpio8"), "banana");
      await delay(50);
      writeFileSync(join(simDir, "gpio8"), "");
      await delay(50);
      assert.deepEqual(seen, []);
      assert.equal(watch.current(), 0, "garbage keeps the last valid level");
      writeFileSync(join(simDir, "gpio8"), "1\n");
      await until(() => seen.length === 1);
      assert.deepEqual(seen, [1]);
    } finally {
      watch.stop();
    }
  });

  test("goes back to no value when the file is deleted", async () => {
    const simDir = tempDir();
    await writeSimLine(simDir, 7, 1);
    const seen: GpioValue[] = [];
    const watch = watchSimLine(simDir, 7, (v) => seen.push(v), { intervalMs: 10 });
    try {
      unlinkSync(join(simDir, "gpio7"));
      await until(() => watch.current() === undefined);
      await writeSimLine(simDir, 7, 1);
      await until(() => seen.length === 1);
      assert.deepEqual(seen, [1], "a line that comes back is reported again");
    } finally {
      watch.stop();
    }
  });

  test("makes no callback after stop()", async () => {
    const simDir = tempDir();
    const seen: GpioValue[] = [];
    const watch = watchSimLine(simDir, 1, (v) => seen.push(v), { intervalMs: 5 });
    watch.stop();
    await writeSimLine(simDir, 1, 1);
    await delay(40);
    assert.deepEqual(seen, []);
  });
});
