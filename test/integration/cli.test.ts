import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { tempDir } from "../helpers/fleetHarness.js";

const CLI = [process.execPath, "--import", "tsx", join(import.meta.dirname, "../../src/cli.ts")] as const;
const children: ChildProcess[] = [];
after(() => {
  for (const c of children) c.kill("SIGKILL");
});

function run(args: string[], env: Record<string, string> = {}) {
  const child = spawn(CLI[0], [...CLI.slice(1), ...args], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, BTS_SITE_BOOT_CONFIG: "/nonexistent/bts-site.yaml", ...env },
  });
  children.push(child);
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (d) => {
    stdout += d;
  });
  child.stderr!.on("data", (d) => {
    stderr += d;
  });
  const exit = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  return { child, exit, out: () => stdout, err: () => stderr };
}

async function until(what: string, fn: () => boolean, ms: number): Promise<void> {
  const start = Date.now();
  while (!fn()) {
    if (Date.now() - start > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function readyModems(stdout: string): Set<string> {
  const out = new Set<string>();
  for (const line of stdout.split("\n")) {
    try {
      const rec = JSON.parse(line) as { ns: string; msg: string };
      if (/→ ready/.test(rec.msg)) out.add(rec.ns);
    } catch {}
  }
  return out;
}

describe("the command line", () => {
  it("check-config prints each problem as path: problem and exits 2, or 0 when valid", async () => {
    const t = tempDir("cc");
    try {
      const bad = join(t.dir, "bad.yaml");
      writeFileSync(bad, "site: { id: Bad_Id }\nmodems:\n  - { port: auto, baud: 12 }\nmqtt: { urll: x }\n");
      const r = run(["check-config", bad]);
      assert.equal(await r.exit, 2);
      const text = r.out() + r.err();
      assert.match(text, /^site\.id: /m);
      assert.match(text, /^modems\[0\]\.baud: /m);
      assert.match(text, /^mqtt\.urll: unknown key \(did you mean "url"\?\)/m);
      const good = join(t.dir, "good.yaml");
      writeFileSync(good, "site: { id: site-042 }\n");
      const g = run(["check-config", good]);
      assert.equal(await g.exit, 0);
    } finally {
      t.cleanup();
    }
  });

  it("run with a config of two simulated modems brings both to ready, logs each transition, stops on SIGTERM", async () => {
    const t = tempDir("run");
    try {
      const linkDir = join(t.dir, "dev");
      const gpioDir = join(t.dir, "gpio");
      const sims = [
        run([
          "modem-sim",
          "--link",
          join(linkDir, "a"),
          "--profile",
          "sim800",
          "--imei",
          "862273045678906",
          "--power-gpio",
          "17",
          "--gpio-dir",
          gpioDir,
          "--time-scale",
          "0.1",
        ]),
        run([
          "modem-sim",
          "--link",
          join(linkDir, "b"),
          "--profile",
          "ec25",
          "--imei",
          "867698041234563",
          "--power-gpio",
          "27",
          "--gpio-dir",
          gpioDir,
          "--time-scale",
          "0.1",
        ]),
      ];
      for (const s of sims) await until("simulator up", () => s.out().includes("\n"), 15_000);
      const cfg = join(t.dir, "config.yaml");
      writeFileSync(
        cfg,
        [
          "site: { id: test-site }",
          `storage: { dir: ${join(t.dir, "data")} }`,
          `gpio: { driver: sim, sim_dir: ${gpioDir} }`,
          `discovery: { globs: ["${linkDir}/*"], interval_ms: 500 }`,
          "modems:",
          '  - { id: m1, imei: "862273045678906", power_gpio: 17 }',
          '  - { id: m2, imei: "867698041234563", power_gpio: 27 }',
        ].join("\n"),
      );
      const site = run(["run", "--config", cfg]);
      await until("both modems ready", () => readyModems(site.out()).size === 2, 30_000);
      const transitions = site
        .out()
        .split("\n")
        .filter((l) => l.includes("modem:m1") && l.includes("→"));
      assert.ok(transitions.length >= 2, "each transition is logged");
      site.child.kill("SIGTERM");
      assert.equal(await site.exit, 0);
      for (const s of sims) {
        s.child.kill("SIGTERM");
        assert.equal(await s.exit, 0);
      }
    } finally {
      t.cleanup();
    }
  });

  it("demo brings two simulated modems to ready with no config at all", async () => {
    const d = run(["demo", "--for", "60"]);
    await until("demo modems ready", () => readyModems(d.out()).size === 2, 45_000);
    const where = d
      .out()
      .split("\n")
      .find((l) => l.includes('"demo":"bts-site"'));
    assert.ok(where, "the demo prints where each part is");
    const first = JSON.parse(where) as { modems: { id: string; links: string[] }[] };
    assert.deepEqual(
      first.modems.map((m) => m.id),
      ["m1", "m2"],
    );
    // Its embedded broker, driven by `bts-site remote` as the NOC would (exit 0 on ok, 1 on error).
    const mqtt = (first as unknown as { mqtt: { broker: string; embedded: boolean } }).mqtt;
    assert.equal(mqtt.embedded, true);
    const remote = (args: string[]) => {
      const r = run(["remote", "--broker", mqtt.broker, "--site", "demo", "--protocol", "4", ...args]);
      return r.exit.then((code) => ({ code, out: r.out() }));
    };
    const health = await remote(["health_check"]);
    assert.equal(health.code, 0, health.out);
    assert.match(health.out, /"status":"ok","data":\{"healthy":true,"status":"ok"/);
    const refused = await remote(["modem/restart", '{"modem":"m9"}']);
    assert.equal(refused.code, 1);
    assert.match(refused.out, /"code":"modem.unknown"/);
    d.child.kill("SIGINT");
    assert.equal(await d.exit, 0);
  });

  it("the built entry point, as npx runs it after npm ci, answers", async () => {
    const bin = join(import.meta.dirname, "../../bin/bts-site.js");
    const child = spawn(process.execPath, [bin, "version"], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (d) => {
      out += d;
    });
    const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
    const pkg = JSON.parse(readFileSync(join(import.meta.dirname, "../../package.json"), "utf8")) as {
      version: string;
    };
    assert.equal(code, 0);
    assert.equal(out.trim(), pkg.version);
  });

  it("a malformed config file names the problem and exits 2", async () => {
    const t = tempDir("bad-run");
    try {
      const cfg = join(t.dir, "c.yaml");
      writeFileSync(cfg, "site: { id: ok }\nsupervisor: { probe_interval_ms: -5 }\n");
      const r = run(["run", "--config", cfg]);
      assert.equal(await r.exit, 2);
      assert.match(r.err(), /^supervisor\.probe_interval_ms: /m);
    } finally {
      t.cleanup();
    }
  });
});
