#!/usr/bin/env node
// Benchmarks of the built code (npm run bench builds first). Prints one JSON document and a table.
//   at_round_trip   AT → OK through the engine vs. the same exchange with raw serialport I/O,
//                   against one simulator process on a real pseudo-terminal
//   fleet_8         `bts-site run` with 8 simulated modems (8 simulator processes): resident memory
//                   once all are ready, and CPU while idle at the default probe interval
// Options: --only NAME, --idle-seconds N (default 60), --iterations N (default 2000)
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { SerialPort } from "serialport";
import { AtChannel } from "../dist/at/channel.js";
import { UrcRegistry } from "../dist/at/urc.js";
import { silentLogger } from "../dist/core/logger.js";
import { serialportOpener } from "../dist/transport/serial/serialportBinding.js";

const { values } = parseArgs({
  options: {
    only: { type: "string" },
    "idle-seconds": { type: "string", default: "60" },
    iterations: { type: "string", default: "2000" },
  },
});
const BIN = process.env.BTS_SITE_BIN ?? new URL("../bin/bts-site.js", import.meta.url).pathname;
// The same V8 flags and malloc setting the systemd unit uses (docs/performance.md).
const NODE_FLAGS = ["--lite-mode", "--max-semi-space-size=1"];
const NODE_ENV = { MALLOC_ARENA_MAX: "2" };
const children = [];
process.on("exit", () => {
  for (const c of children) c.kill("SIGTERM");
});

function startSim(dir, name, extra = []) {
  const link = join(dir, name);
  const child = spawn(process.execPath, [BIN, "modem-sim", "--link", link, ...extra], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  children.push(child);
  return new Promise((resolve, reject) => {
    let buf = "";
    child.stdout.on("data", (d) => {
      buf += d;
      const nl = buf.indexOf("\n");
      if (nl >= 0) resolve({ child, info: JSON.parse(buf.slice(0, nl)) });
    });
    child.on("exit", (code) => reject(new Error(`simulator exited ${code}`)));
  });
}

function pct(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}
function summary(samples) {
  const s = [...samples].sort((a, b) => a - b);
  return {
    n: s.length,
    median_ms: +pct(s, 50).toFixed(4),
    p99_ms: +pct(s, 99).toFixed(4),
    max_ms: +s[s.length - 1].toFixed(4),
  };
}

async function rawRoundTrips(path, n) {
  const port = new SerialPort({ path, baudRate: 115200, autoOpen: false });
  await new Promise((r, j) => port.open((e) => (e ? j(e) : r())));
  let buf = "";
  let waiter;
  port.on("data", (d) => {
    buf += d.toString("latin1");
    if (waiter && buf.includes("OK\r\n")) {
      buf = "";
      const w = waiter;
      waiter = undefined;
      w();
    }
  });
  const once = (cmd) =>
    new Promise((resolve) => {
      waiter = resolve;
      port.write(cmd);
    });
  await once("ATE0\r");
  const samples = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await once("AT\r");
    samples.push(performance.now() - t);
  }
  await new Promise((r) => port.close(r));
  return samples;
}

async function engineRoundTrips(path, n) {
  const conn = await serialportOpener(silentLogger())({ path, baudRate: 115200 });
  const ch = new AtChannel({ conn, logger: silentLogger(), urcs: new UrcRegistry(), defaultTimeoutMs: 5000 });
  ch.start();
  await ch.send("ATE0");
  const samples = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await ch.send("AT");
    samples.push(performance.now() - t);
  }
  await ch.close();
  return samples;
}

async function benchRoundTrip(dir) {
  const n = Number(values.iterations);
  const { info } = await startSim(dir, "rt");
  // Alternate raw and engine runs so drift hits both alike.
  const raw = [];
  const engine = [];
  for (let round = 0; round < 4; round++) {
    raw.push(...(await rawRoundTrips(info.link, n / 4)));
    engine.push(...(await engineRoundTrips(info.link, n / 4)));
  }
  const r = summary(raw);
  const e = summary(engine);
  return {
    raw,
    result: {
      raw_serialport: r,
      engine: e,
      added_by_engine_median_ms: +(e.median_ms - r.median_ms).toFixed(4),
      added_by_engine_p99_ms: +(e.p99_ms - r.p99_ms).toFixed(4),
    },
  };
}

function procStat(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return { ticks: Number(f[11]) + Number(f[12]) };
}
function rssMb(pid) {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) / 1024 : Number.NaN;
}

async function benchFleet(dir) {
  const linkDir = join(dir, "links");
  const gpioDir = join(dir, "gpio");
  const modems = [];
  const profiles = ["generic", "sim800", "ec25", "huawei_e3531", "generic", "sim800", "ec25", "huawei_e3531"];
  for (let i = 0; i < 8; i++) {
    const imei = `35693803564${String(3800 + i).padStart(4, "0")}`;
    await startSim(linkDir, `modem${i}`, [
      "--profile",
      profiles[i],
      "--imei",
      imei,
      "--power-gpio",
      String(10 + i),
      "--gpio-dir",
      gpioDir,
    ]);
    modems.push({ id: `m${i}`, port: "auto", imei, power_gpio: 10 + i });
  }
  const config = {
    site: { id: "bench" },
    storage: { dir: join(dir, "data") },
    gpio: { driver: "sim", sim_dir: gpioDir },
    discovery: { globs: [join(linkDir, "*")] },
    modems,
  };
  const cfg = join(dir, "config.yaml");
  writeFileSync(cfg, JSON.stringify(config));
  const site = spawn(process.execPath, [...NODE_FLAGS, BIN, "run", "--config", cfg], {
    stdio: ["ignore", "pipe", "inherit"],
    env: { ...process.env, ...NODE_ENV, BTS_SITE_BOOT_CONFIG: join(dir, "no-boot.yaml") },
  });
  children.push(site);
  const ready = new Set();
  const t0 = performance.now();
  await new Promise((resolve, reject) => {
    let buf = "";
    site.stdout.on("data", (d) => {
      buf += d;
      let nl = buf.indexOf("\n");
      while (nl >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        nl = buf.indexOf("\n");
        try {
          const rec = JSON.parse(line);
          if (/→ ready/.test(rec.msg)) ready.add(rec.ns);
          if (ready.size === 8) resolve();
        } catch {}
      }
    });
    site.on("exit", (c) => reject(new Error(`site exited ${c}`)));
    setTimeout(() => reject(new Error(`only ${ready.size}/8 ready after 120 s`)), 120_000);
  });
  const readyAfterS = (performance.now() - t0) / 1000;
  await new Promise((r) => setTimeout(r, 5000));
  const rss0 = rssMb(site.pid);
  const idle = Number(values["idle-seconds"]);
  const hz = 100; // USER_HZ
  const a = procStat(site.pid);
  const ta = performance.now();
  await new Promise((r) => setTimeout(r, idle * 1000));
  const b = procStat(site.pid);
  const wall = (performance.now() - ta) / 1000;
  const cpuPct = ((b.ticks - a.ticks) / hz / wall) * 100;
  const rss1 = rssMb(site.pid);
  site.kill("SIGTERM");
  return {
    modems: 8,
    all_ready_after_s: +readyAfterS.toFixed(2),
    rss_mb_when_ready: +rss0.toFixed(1),
    rss_mb_after_idle: +rss1.toFixed(1),
    idle_window_s: +wall.toFixed(1),
    idle_cpu_percent_of_one_core: +cpuPct.toFixed(3),
    node_flags: NODE_FLAGS.join(" "),
    env: NODE_ENV,
  };
}

const dir = mkdtempSync(join(tmpdir(), "bts-bench-"));
const out = {
  machine: { node: process.version, cpus: (await import("node:os")).cpus()[0]?.model, arch: process.arch },
};
try {
  if (!values.only || values.only === "at_round_trip") out.at_round_trip = (await benchRoundTrip(dir)).result;
  if (!values.only || values.only === "fleet_8") out.fleet_8 = await benchFleet(dir);
} finally {
  for (const c of children) c.kill("SIGTERM");
  await new Promise((r) => setTimeout(r, 500));
  rmSync(dir, { recursive: true, force: true });
}
console.log(JSON.stringify(out, null, 2));
process.exit(0);
