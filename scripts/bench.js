#!/usr/bin/env node
// Benchmarks of the built code (npm run bench builds first). Prints one JSON document and a table.
//   at_round_trip   AT → OK through the engine vs. the same exchange with raw serialport I/O,
//                   against one simulator process on a real pseudo-terminal
//   fleet_8         `bts-site run` with 8 simulated modems (8 simulator processes): resident memory
//                   once all are ready, and CPU while idle at the default probe interval
//   sms_saturation       8 simulated modems at the real 2.5 s per +CMGS, 8 × 12 SMS queued at once:
//                        achieved SMS/s against the physical limit (modems ÷ 2.5 s)
//   sms_enqueue_to_cmgs  one idle modem (--time-scale 0.01): enqueue() → AT+CMGS= issued, 200 times
//   sms_cmti_to_stored   one idle modem: inject_text on the simulator's control socket → sms_received
//   sms_durable_enqueue  no modems, a real sms.db (WAL, synchronous=FULL): enqueues/s, 100 concurrent
//                        callers and one caller awaiting each
//   sip_message_accept   the SIP gateway on 127.0.0.1, one ready modem sending for no network (the
//                        queue only grows), a client SIP stack sending MESSAGEs over UDP: send → 202
//                        at a paced 200/s for 10 s, then 202s/s with 200 outstanding; twice, the client
//                        on the gateway's thread and then in a worker thread (each on a fresh site)
//   sip_message_to_cmgs  one idle modem (--time-scale 0.01): MESSAGE sent → AT+CMGS= issued, 200 times
//   sip_cmti_to_message  one idle modem, a SIP stack as the upstream core: inject_text on the
//                        simulator's control socket → the core receives the MESSAGE, 200 times
//   subscriber_full_sync a SubscriberStore: applySync full of 100,000 subscribers, 3 times
//   subscriber_lookup    then 100,000 random byImsi and byMsisdn lookups each
//   noc_bytes_per_day    the NOC link (NocLink and Reporter from dist/) over one simulated day (mocked
//                        timers and Date) at default settings against a real mosquitto: 2 modems whose
//                        CSQ wobbles, a daily temperature swing, --noc-sms-per-day SMS out (sent, then a
//                        delivery report) and as many in; bytes the site writes to its MQTT connection
//   noc_request_rtt      a whole site (Site from dist/, 1 simulated modem) on a real mosquitto; a NOC
//                        client sends --noc-requests requests one after another (health_check, sms/status,
//                        info): publish → response received
//   sms_kill_loop        (only with --only; needs the dev dependencies) the kill -9 test,
//                        test/integration/smsCrash.test.ts, at full length: --kill-cycles N (default 100)
// stdout: the JSON document; stderr: a figure / target / measured table of the parts that ran.
// The SMS and SIP parts run the fleet, the SmsService and the gateway in this process (dist/ modules),
// the simulators as child processes, as production does. BENCH_LOG=1 sends their logs (debug) to stderr.
// Options: --only NAME, --idle-seconds N (default 60), --iterations N (default 2000),
//          --sms-samples N (default 200, also for the SIP latency parts), --sip-messages N (5000),
//          --sip-window N (200), --sip-rate N (200), --sip-seconds N (10), --subscribers N (100000),
//          --lookups N (100000), --noc-sms-per-day N (300 out and as many in), --noc-requests N (500),
//          --sip-clients LIST (process,same_thread,worker_thread: where the
//          sip_message_accept client runs)
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createConnection, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { monitorEventLoopDelay, PerformanceObserver } from "node:perf_hooks";
import { mock } from "node:test";
import { parseArgs } from "node:util";
import { Worker } from "node:worker_threads";
import { SerialPort } from "serialport";
import { Site } from "../dist/app/site.js";
import { AtChannel } from "../dist/at/channel.js";
import { UrcRegistry } from "../dist/at/urc.js";
import { validateConfig } from "../dist/config/load.js";
import { EventBus } from "../dist/core/events.js";
import { Logger, LogLevels, silentLogger } from "../dist/core/logger.js";
import { dataPath } from "../dist/core/paths.js";
import { SimGpioDriver } from "../dist/gpio/simGpio.js";
import { ModemFleet } from "../dist/modem/fleet.js";
import { csqToBars } from "../dist/modem/parsers.js";
import { ProfileSet } from "../dist/modem/profile.js";
import { NocLink } from "../dist/mqtt/link.js";
import { Reporter } from "../dist/mqtt/reporter.js";
import { NocStore, openNocDatabase } from "../dist/mqtt/store.js";
import { ModemSimulator } from "../dist/sim/simulator.js";
import { SipGateway } from "../dist/sip/gateway.js";
import { openSipDatabase, SipOutbox } from "../dist/sip/outbox.js";
import { newCallId, startSipStack } from "../dist/sip/stack.js";
import { SmsService } from "../dist/sms/service.js";
import { openSmsDatabase, SmsStore } from "../dist/sms/store.js";
import { ModemRegistry, openSiteDatabase } from "../dist/storage/siteDb.js";
import { canonicalHashOf } from "../dist/subscribers/canonical.js";
import { openSubscriberDatabase, SubscriberStore } from "../dist/subscribers/store.js";
import { serialportOpener } from "../dist/transport/serial/serialportBinding.js";

const { values } = parseArgs({
  options: {
    only: { type: "string" },
    "idle-seconds": { type: "string", default: "60" },
    iterations: { type: "string", default: "2000" },
    "sms-samples": { type: "string", default: "200" },
    "kill-cycles": { type: "string", default: "100" },
    "sip-messages": { type: "string", default: "5000" },
    "sip-window": { type: "string", default: "200" },
    "sip-rate": { type: "string", default: "200" },
    "sip-seconds": { type: "string", default: "10" },
    subscribers: { type: "string", default: "100000" },
    lookups: { type: "string", default: "100000" },
    "sip-clients": { type: "string", default: "process,same_thread,worker_thread" },
    "noc-sms-per-day": { type: "string", default: "300" },
    "noc-requests": { type: "string", default: "500" },
    "fleet-noc": { type: "string", default: "on" },
  },
});
const BIN = process.env.BTS_SITE_BIN ?? new URL("../bin/bts-site.js", import.meta.url).pathname;
// The same V8 flags and malloc setting the systemd unit uses (docs/performance.md).
const NODE_FLAGS = ["--lite-mode", "--max-semi-space-size=1"];
const NODE_ENV = { MALLOC_ARENA_MAX: process.env.BENCH_ARENAS ?? "2" };
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
  // A site reports to its NOC: the link runs too when mosquitto is there (scripts/setup installs it).
  let broker;
  try {
    broker = values["fleet-noc"] === "off" ? undefined : await startPlainBroker(dir);
  } catch {
    broker = undefined;
  }
  const config = {
    site: { id: "bench" },
    storage: { dir: join(dir, "data") },
    gpio: { driver: "sim", sim_dir: gpioDir },
    discovery: { globs: [join(linkDir, "*")] },
    modems,
    ...(broker ? { mqtt: { url: broker.url } } : {}),
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
  broker?.stop();
  return {
    modems: 8,
    noc_link: broker !== undefined,
    all_ready_after_s: +readyAfterS.toFixed(2),
    rss_mb_when_ready: +rss0.toFixed(1),
    rss_mb_after_idle: +rss1.toFixed(1),
    idle_window_s: +wall.toFixed(1),
    idle_cpu_percent_of_one_core: +cpuPct.toFixed(3),
    node_flags: NODE_FLAGS.join(" "),
    env: NODE_ENV,
  };
}

// ── SMS path ──────────────────────────────────────────────────────────────────────────────────────

/** Production defaults (src/config/schema.json), except where a part says otherwise. */
const PROD_SUPERVISOR = {
  probe_interval_ms: 30_000,
  command_timeout_ms: 5000,
  failures_before_recovery: 2,
  searching_recovery_ms: 1_800_000,
  step_timeout_ms: 60_000,
  faulted_backoff_ms: 60_000,
  faulted_backoff_max_ms: 1_800_000,
};
const PROD_SMS = {
  max_parts: 4,
  too_long: "reject",
  delivery_reports: true,
  default_network: "",
  queue_limit: 10_000,
  max_attempts: 5,
  retry_base_s: 30,
  retry_max_s: 900,
  expiry_s: 259_200,
  validity_minutes: 4320,
  report_window_s: 259_200,
  failover_after_s: 300,
  reassembly_timeout_s: 3600,
  retention_days: 30,
  sweep_interval_s: 60,
};
const SMS_NETWORKS = [{ name: "local", prefixes: ["+"], max_per_loop: 10 }];
const SMS_TEXT = "Bench: your appointment at the health centre is tomorrow at 09:30. Reply STOP to end.";

function benchLogger(ns) {
  if (process.env.BENCH_LOG !== "1") return silentLogger();
  return new Logger(ns, new LogLevels("debug"), (r) => process.stderr.write(`${JSON.stringify(r)}\n`));
}

async function stopChildren(list) {
  await Promise.all(
    list.map(
      (c) =>
        new Promise((resolve) => {
          if (c.exitCode !== null || c.signalCode !== null) return resolve();
          c.once("exit", resolve);
          c.kill("SIGTERM");
        }),
    ),
  );
}

/**
 * Starts simulators (one per spec), the fleet and the SmsService in this process, as src/app/site.ts
 * and test/helpers/smsHarness.ts assemble them. The service sees each slot through a wrapper that
 * timestamps every `AT+CMGS=` call (`cmgs`: { modem, t } in performance.now() ms). `spec.modem`
 * overrides fields of that modem's config (e.g. `networks`).
 */
async function startSmsSite(dir, specs, o = {}) {
  const linkDir = join(dir, "dev");
  const gpioDir = join(dir, "gpio");
  mkdirSync(linkDir, { recursive: true });
  mkdirSync(gpioDir, { recursive: true });
  const sims = [];
  const imeis = specs.map((_, i) => `35693803565${String(3800 + i).padStart(4, "0")}`);
  for (const [i, spec] of specs.entries())
    sims.push(await startSim(linkDir, spec.id, ["--imei", imeis[i], ...(spec.args ?? [])]));
  const logger = benchLogger("bench");
  const dataDir = join(dir, "data");
  const siteDb = openSiteDatabase(dataDir);
  const registry = new ModemRegistry(siteDb);
  const smsDb = openSmsDatabase(dataDir);
  const store = new SmsStore(smsDb);
  const bus = new EventBus();
  const { set: profiles } = await ProfileSet.load([dataPath("modem", "quirks")]);
  const gpio = new SimGpioDriver({ simDir: gpioDir });
  const fleet = new ModemFleet({
    // Found by discovery and bound by IMEI, as on a site (a multi-port modem such as the EC25 has its
    // AT port picked by the profile). No power lines: the simulators run without one (always powered).
    modems: specs.map((spec, i) => ({
      id: spec.id,
      port: "auto",
      imei: imeis[i],
      baud: 115200,
      networks: [],
      rate_per_minute: 0,
      daily_limit: 0,
      power_off_ms: 2000,
      boot_wait_ms: 30_000,
      profile: "auto",
      ...spec.modem,
    })),
    supervisor: PROD_SUPERVISOR,
    discovery: { globs: [join(linkDir, "*")], interval_ms: 5000, probe_timeout_ms: 1000, baud: 115200 },
    profiles,
    opener: serialportOpener(logger.child("serial")),
    gpio,
    store: registry,
    bus,
    logger,
  });
  const cmgs = [];
  const wrappers = new Map();
  const wrap = (slot) => {
    if (!slot) return undefined;
    let w = wrappers.get(slot);
    if (!w) {
      w = {
        get id() {
          return slot.id;
        },
        get state() {
          return slot.state;
        },
        get profile() {
          return slot.profile;
        },
        get config() {
          return slot.config;
        },
        at(command, opts) {
          if (command.startsWith("AT+CMGS=")) cmgs.push({ modem: slot.id, t: performance.now() });
          return slot.at(command, opts);
        },
      };
      wrappers.set(slot, w);
    }
    return w;
  };
  const smsConfig = { ...PROD_SMS, ...o.sms };
  const sms = new SmsService({
    sms: smsConfig,
    networks: SMS_NETWORKS,
    store,
    modems: { list: () => fleet.list().map(wrap), get: (id) => wrap(fleet.get(id)) },
    bus,
    logger: logger.child("sms"),
  });
  const failed = [];
  bus.on("sms_failed", (e) => failed.push(e));
  sms.start();
  await fleet.start();
  const ids = specs.map((s) => s.id);
  const t0 = performance.now();
  await new Promise((resolve, reject) => {
    const check = () => {
      if (ids.every((id) => fleet.get(id)?.state === "ready")) {
        clearInterval(timer);
        resolve();
      } else if (performance.now() - t0 > 120_000) {
        clearInterval(timer);
        const states = ids.map((id) => `${id} ${fleet.get(id)?.state}`).join(", ");
        reject(new Error(`modems not ready after 120 s: ${states}`));
      }
    };
    const timer = setInterval(check, 20);
  });
  const readyAfterS = (performance.now() - t0) / 1000;
  return {
    sims,
    sms,
    smsConfig,
    store,
    smsDb,
    dataDir,
    bus,
    fleet,
    cmgs,
    failed,
    readyAfterS,
    async stop() {
      await sms.stop(Date.now() + 3000);
      await fleet.stop();
      await gpio.close();
      smsDb.close();
      siteDb.close();
      await stopChildren(sims.map((s) => s.child));
    },
  };
}

/** Resolves with the next bus event `name` matching `pred`; rejects after `ms`. */
function nextEvent(bus, name, pred = () => true, ms = 30_000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`no ${name} within ${ms} ms`));
    }, ms);
    const off = bus.on(name, (e) => {
      if (!pred(e)) return;
      clearTimeout(timer);
      off();
      resolve({ e, t: performance.now() });
    });
  });
}

async function benchSmsSaturation(dir) {
  const modems = 8;
  const perModem = 12;
  const cmgsS = 2.5;
  // The same mix of device profiles as fleet_8; every one sends in 2.5 s.
  const profiles = ["generic", "sim800", "ec25", "huawei_e3531", "generic", "sim800", "ec25", "huawei_e3531"];
  const site = await startSmsSite(
    dir,
    profiles.map((p, i) => ({ id: `m${i}`, args: ["--profile", p] })),
  );
  try {
    const total = modems * perModem;
    const sent = [];
    const offSent = site.bus.on("sms_sent", (e) => sent.push({ ...e, t: performance.now() }));
    const t0 = performance.now();
    const accepting = Promise.all(
      Array.from({ length: total }, (_, i) =>
        site.sms.enqueue({ to: `+25677200${String(i).padStart(4, "0")}`, text: SMS_TEXT, source: "bench" }),
      ),
    );
    // sms_sent times come from the listener above; this poll only notices the end.
    const allSent = new Promise((resolve, reject) => {
      const timer = setInterval(() => {
        if (sent.length + site.failed.length >= total) {
          clearInterval(timer);
          resolve();
        } else if (performance.now() - t0 > 300_000) {
          clearInterval(timer);
          reject(new Error(`only ${sent.length}/${total} sent after 300 s`));
        }
      }, 5);
    });
    const accepted = await accepting;
    const tAccepted = performance.now();
    await allSent;
    offSent();
    if (site.failed.length > 0) throw new Error(`${site.failed.length} SMS failed: ${site.failed[0].error}`);
    const elapsedS = (sent.at(-1).t - t0) / 1000;
    const limit = modems / cmgsS;
    const achieved = total / elapsedS;
    // Per modem: gap between consecutive AT+CMGS= calls, minus the simulator's 2.5 s.
    const gaps = [];
    const byModem = {};
    for (const c of site.cmgs) {
      byModem[c.modem] ??= [];
      byModem[c.modem].push(c.t);
    }
    for (const ts of Object.values(byModem)) for (let i = 1; i < ts.length; i++) gaps.push(ts[i] - ts[i - 1]);
    const perModemSent = {};
    for (const e of sent) perModemSent[e.modem] = (perModemSent[e.modem] ?? 0) + 1;
    const firstCmgs = Math.min(...site.cmgs.map((c) => c.t));
    return {
      modems,
      sms: total,
      parts_each: accepted[0].parts,
      cmgs_s: cmgsS,
      all_ready_after_s: +site.readyAfterS.toFixed(2),
      elapsed_s: +elapsedS.toFixed(3),
      ideal_s: perModem * cmgsS,
      achieved_sms_per_s: +achieved.toFixed(4),
      limit_sms_per_s: +limit.toFixed(4),
      utilisation_percent: +((achieved / limit) * 100).toFixed(2),
      all_accepted_after_ms: +(tAccepted - t0).toFixed(2),
      first_cmgs_after_ms: +(firstCmgs - t0).toFixed(2),
      cmgs_gap_over_2500_ms: summaryMinus(gaps, cmgsS * 1000),
      sent_per_modem: perModemSent,
    };
  } finally {
    await site.stop();
  }
}

/** summary() plus the five slowest samples and how many exceed `limitMs`. */
function summaryTail(samples, limitMs) {
  const slowest = [...samples].sort((a, b) => b - a).slice(0, 5);
  return {
    ...summary(samples),
    slowest_ms: slowest.map((x) => +x.toFixed(2)),
    [`over_${limitMs}_ms`]: samples.filter((x) => x > limitMs).length,
  };
}

function summaryMinus(samples, base) {
  return summary(samples.map((x) => x - base));
}

async function benchEnqueueToCmgs(dir) {
  const n = Number(values["sms-samples"]);
  const site = await startSmsSite(dir, [{ id: "m0", args: ["--time-scale", "0.01"] }]);
  try {
    // Warm-up (JIT, prepared statements), not counted.
    for (let i = 0; i < 5; i++) {
      const sent = nextEvent(site.bus, "sms_sent");
      await site.sms.enqueue({ to: "+256772000001", text: SMS_TEXT, source: "bench" });
      await sent;
    }
    await new Promise((r) => setTimeout(r, 100));
    const toCmgs = [];
    const toAccepted = [];
    const acceptedToCmgs = [];
    for (let i = 0; i < n; i++) {
      const before = site.cmgs.length;
      const sent = nextEvent(site.bus, "sms_sent");
      const t = performance.now();
      const acc = site.sms.enqueue({ to: "+256772000001", text: SMS_TEXT, source: "bench" });
      const { id } = await acc;
      const ta = performance.now();
      const { e } = await sent;
      if (e.id !== id) throw new Error(`sent ${e.id}, expected ${id}`);
      if (site.cmgs.length !== before + 1)
        throw new Error(`${site.cmgs.length - before} AT+CMGS for one SMS`);
      toCmgs.push(site.cmgs.at(-1).t - t);
      toAccepted.push(ta - t);
      acceptedToCmgs.push(site.cmgs.at(-1).t - ta);
      // An idle modem: let the sender settle back into its wait.
      await new Promise((r) => setTimeout(r, 10));
    }
    if (site.failed.length > 0) throw new Error(`${site.failed.length} SMS failed: ${site.failed[0].error}`);
    return {
      cmgs_ms_simulated: 25,
      enqueue_to_cmgs: summaryTail(toCmgs, 20),
      // The commit (one SQLite transaction, fsync) is inside enqueue(): the id comes back once on disk.
      // AT+CMGS= is written while that commit runs (the PDU waits for it), so it usually comes first:
      // accepted_to_cmgs is then negative.
      enqueue_to_accepted: summaryTail(toAccepted, 20),
      accepted_to_cmgs: summary(acceptedToCmgs),
      cmgs_before_commit_returned: acceptedToCmgs.filter((x) => x < 0).length,
    };
  } finally {
    await site.stop();
  }
}

/** One request on a simulator's control socket; `onWrite` gets the time just before the write. */
function controlClient(path) {
  const socket = createConnection(path);
  let buf = "";
  let nextId = 1;
  const waiting = new Map();
  socket.on("data", (d) => {
    buf += d.toString("utf8");
    for (let nl = buf.indexOf("\n"); nl >= 0; nl = buf.indexOf("\n")) {
      const reply = JSON.parse(buf.slice(0, nl));
      buf = buf.slice(nl + 1);
      const w = waiting.get(reply.id);
      waiting.delete(reply.id);
      if (!w) continue;
      if (reply.ok) w.resolve({ result: reply.result, t: performance.now() });
      else w.reject(new Error(`control: ${reply.error}`));
    }
  });
  const connected = new Promise((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("error", reject);
  });
  return {
    connected,
    call(op, args) {
      const id = nextId++;
      const reply = new Promise((resolve, reject) => waiting.set(id, { resolve, reject }));
      const line = `${JSON.stringify({ id, op, args })}\n`;
      const t = performance.now();
      socket.write(line);
      return { t, reply };
    },
    close: () => socket.destroy(),
  };
}

async function benchCmtiToStored(dir) {
  const n = Number(values["sms-samples"]);
  const site = await startSmsSite(dir, [{ id: "m0" }]);
  const ctl = controlClient(site.sims[0].info.control);
  try {
    await ctl.connected;
    const urcAt = [];
    const offUrc = site.bus.on("modem_urc", ({ line }) => {
      if (line.startsWith("+CMTI:")) urcAt.push(performance.now());
    });
    const one = async (i) => {
      const from = `+2567720${String(i).padStart(5, "0")}`;
      const text = `Bench incoming ${i}: meet at the market at ten.`;
      const received = nextEvent(site.bus, "sms_received", (e) => e.from === from && e.text === text);
      const before = urcAt.length;
      const { t, reply } = ctl.call("inject_text", { from, text });
      const r = await reply;
      const { t: tr } = await received;
      return { total: tr - t, reply: r.t - t, urc: urcAt.length > before ? urcAt[before] - t : undefined };
    };
    for (let i = 0; i < 5; i++) await one(100_000 + i); // warm-up
    await new Promise((r) => setTimeout(r, 100));
    const total = [];
    const toUrc = [];
    const urcToStored = [];
    for (let i = 0; i < n; i++) {
      const s = await one(i);
      total.push(s.total);
      if (s.urc !== undefined) {
        toUrc.push(s.urc);
        urcToStored.push(s.total - s.urc);
      }
      await new Promise((r) => setTimeout(r, 10));
    }
    offUrc();
    return {
      inject_to_sms_received: summaryTail(total, 50),
      inject_to_cmti_urc: summary(toUrc),
      cmti_urc_to_sms_received: summary(urcToStored),
    };
  } finally {
    ctl.close();
    await site.stop();
  }
}

async function benchDurableEnqueue(dir) {
  const run = async (name, callers, each) => {
    const dataDir = join(dir, name);
    const db = openSmsDatabase(dataDir);
    const bus = new EventBus();
    const sms = new SmsService({
      sms: { ...PROD_SMS, queue_limit: 1_000_000 },
      networks: SMS_NETWORKS,
      store: new SmsStore(db),
      modems: { list: () => [], get: () => undefined },
      bus,
      logger: benchLogger("sms"),
    });
    sms.start();
    // Warm-up, not counted.
    for (let i = 0; i < 20; i++) await sms.enqueue({ to: "+256772000001", text: SMS_TEXT, source: "warm" });
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: callers }, async (_, c) => {
        for (let i = 0; i < each; i++)
          await sms.enqueue({
            to: `+2567${String(c).padStart(3, "0")}${String(i).padStart(5, "0")}`,
            text: SMS_TEXT,
            source: "bench",
          });
      }),
    );
    const s = (performance.now() - t0) / 1000;
    const count = db.prepare("SELECT count(*) AS n FROM out_messages WHERE source = 'bench'").get().n;
    await sms.stop(Date.now());
    db.close();
    if (count !== callers * each) throw new Error(`${count} stored, expected ${callers * each}`);
    return {
      messages: callers * each,
      callers,
      elapsed_s: +s.toFixed(3),
      per_s: +((callers * each) / s).toFixed(1),
    };
  };
  return {
    concurrent_100: await run("concurrent", 100, 200),
    sequential_1: await run("sequential", 1, 2000),
  };
}

// ── SIP gateway ───────────────────────────────────────────────────────────────────────────────────

/** Schema defaults of `sip.*` (src/config/schema.json), a Ugandan numbering plan, listening on loopback. */
const BENCH_SIP = {
  listen: "127.0.0.1:0",
  numbering: { country_code: "256", national_prefix: "0", international_prefix: "00" },
  trusted: ["127.0.0.0/8", "::1/128"],
};
const SIP_TEXT = SMS_TEXT;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * The gateway on an SMS site from startSmsSite(), as src/app/site.ts assembles it: subscribers.db and
 * sip.db next to sms.db, a stack on 127.0.0.1 (UDP and TCP, a free port) whose onRequest is the
 * gateway's. With `trace`, the time each MESSAGE reaches the gateway is kept by Call-ID (`arrivals`).
 */
async function startGateway(site, o = {}) {
  const subDb = openSubscriberDatabase(site.dataDir);
  const sipDb = openSipDatabase(site.dataDir);
  const subscribers = new SubscriberStore(subDb);
  const outbox = new SipOutbox(sipDb);
  const logger = benchLogger("sip");
  const arrivals = new Map();
  let gateway;
  const stack = await startSipStack({
    address: "127.0.0.1",
    port: 0,
    logger,
    onRequest: (req, remote) => {
      if (o.trace && req.method === "MESSAGE") arrivals.set(req.headers["call-id"], performance.now());
      return gateway.onRequest(req, remote);
    },
  });
  gateway = new SipGateway({
    sip: { ...BENCH_SIP, ...o.sip },
    sms: site.smsConfig,
    services: { echo: "9189", register: "101" },
    siteId: "bench",
    modems: () => site.fleet.list(),
    stack,
    smsService: site.sms,
    smsStore: site.store,
    subscribers,
    outbox,
    bus: site.bus,
    logger,
  });
  gateway.start();
  return {
    gateway,
    stack,
    outbox,
    subscribers,
    arrivals,
    port: stack.port,
    async stop() {
      await gateway.stop();
      await stack.stop();
      subDb.close();
      sipDb.close();
    },
  };
}

/**
 * Another SIP stack in this process, on 127.0.0.1 (UDP only): the sending client, or the core. It
 * answers 200 to MESSAGE and OPTIONS (`onMessage` sees each MESSAGE first, with its arrival time).
 */
async function startSipPeer(onMessage) {
  let stack;
  stack = await startSipStack({
    address: "127.0.0.1",
    port: 0,
    tcp: false,
    logger: benchLogger("peer"),
    onRequest: (req) => {
      if (req.method === "MESSAGE") {
        onMessage?.(req, performance.now());
        stack.respond(req, 200, "OK");
      } else if (req.method === "OPTIONS") stack.respond(req, 200, "OK");
      else stack.respond(req, 405, "Method Not Allowed");
    },
  });
  const from = `sip:bench@127.0.0.1:${stack.port}`;
  return {
    stack,
    port: stack.port,
    /** One MESSAGE text/plain to `sip:<to>@127.0.0.1:<port>`: its final status, when it went, when it was answered. */
    message(port, to, text) {
      const uri = `sip:${to}@127.0.0.1:${port}`;
      const callId = newCallId("127.0.0.1");
      return new Promise((resolve) => {
        const t0 = performance.now();
        stack.send(
          {
            method: "MESSAGE",
            uri,
            headers: {
              via: [],
              to: { uri, params: {} },
              from: { uri: from, params: {} },
              "call-id": callId,
              cseq: { seq: 1, method: "MESSAGE" },
              "content-type": "text/plain",
            },
            content: text,
          },
          (res) => {
            if (res.status >= 200) resolve({ status: res.status, callId, t0, t: performance.now() });
          },
        );
      });
    },
    stop: () => stack.stop(),
  };
}

/** The kernel's UDP counters (/proc/net/snmp), e.g. RcvbufErrors. */
function udpCounters() {
  const lines = readFileSync("/proc/net/snmp", "utf8")
    .split("\n")
    .filter((l) => l.startsWith("Udp:"));
  const names = lines[0].split(/\s+/).slice(1);
  const nums = lines[1].split(/\s+/).slice(1).map(Number);
  return Object.fromEntries(names.map((k, i) => [k, nums[i]]));
}

/**
 * What else happened on this thread and machine while a phase ran: the event loop's delay, V8's
 * garbage collections, and the share of CPU time the hypervisor gave to others (steal, /proc/stat).
 */
function phaseProbe() {
  const cpuTicks = () => {
    const f = readFileSync("/proc/stat", "utf8").split("\n")[0].trim().split(/\s+/).slice(1).map(Number);
    return { total: f.slice(0, 8).reduce((a, b) => a + b, 0), steal: f[7] };
  };
  const delay = monitorEventLoopDelay({ resolution: 1 });
  delay.enable();
  const gcs = [];
  const obs = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) gcs.push(e.duration);
  });
  obs.observe({ entryTypes: ["gc"] });
  const c0 = cpuTicks();
  return async () => {
    const c1 = cpuTicks();
    delay.disable();
    await sleep(20); // gc entries arrive asynchronously
    obs.disconnect();
    return {
      event_loop_delay_ms: {
        p99: +(delay.percentile(99) / 1e6).toFixed(2),
        max: +(delay.max / 1e6).toFixed(2),
      },
      gc: {
        count: gcs.length,
        total_ms: +gcs.reduce((a, b) => a + b, 0).toFixed(1),
        max_ms: +Math.max(0, ...gcs).toFixed(2),
        over_5_ms: gcs.filter((x) => x > 5).length,
      },
      cpu_steal_percent: +((100 * (c1.steal - c0.steal)) / Math.max(1, c1.total - c0.total)).toFixed(2),
    };
  };
}

const sipNumber = (i) => `+2567720${String(i % 100_000).padStart(5, "0")}`;

function countStatuses(list) {
  const out = {};
  for (const r of list) out[r.status] = (out[r.status] ?? 0) + 1;
  return out;
}

/** `n` MESSAGEs, at most `window` unanswered at any time (each answer sends the next). */
async function sendWindowed(peer, port, n, window, first) {
  const results = [];
  let next = 0;
  const t0 = performance.now();
  await new Promise((resolve) => {
    const launch = () => {
      const i = next++;
      peer.message(port, sipNumber(first + i), SIP_TEXT).then((r) => {
        results.push(r);
        if (next < n) launch();
        else if (results.length === n) resolve();
      });
    };
    for (let k = 0; k < Math.min(window, n); k++) launch();
  });
  return { results, elapsedMs: performance.now() - t0 };
}

/** `rate` MESSAGEs a second for `seconds`, each at its due time whatever the answers do. */
async function sendPaced(peer, port, rate, seconds, first) {
  const n = rate * seconds;
  const interval = 1000 / rate;
  const results = [];
  const late = [];
  const waits = [];
  const t0 = performance.now() + 20;
  for (let i = 0; i < n; i++) {
    const due = t0 + i * interval;
    const wait = due - performance.now();
    if (wait > 0.5) await sleep(wait);
    late.push(Math.max(0, performance.now() - due));
    waits.push(peer.message(port, sipNumber(first + i), SIP_TEXT).then((r) => results.push(r)));
  }
  const sentMs = performance.now() - t0;
  await Promise.all(waits);
  return { results, late, sentMs };
}

/** The client of sip_message_accept on this thread: the peer and the two ways of sending. */
async function localClient() {
  const peer = await startSipPeer();
  return {
    warm: async (port) => {
      for (let i = 0; i < 50; i++) await peer.message(port, sipNumber(90_000 + i), SIP_TEXT);
    },
    paced: (port, rate, seconds, first) => sendPaced(peer, port, rate, seconds, first),
    burst: (port, n, window, first) => sendWindowed(peer, port, n, window, first),
    stop: () => peer.stop(),
  };
}

/**
 * The same client in a worker thread (its own event loop and heap, the other core), as a sender on
 * another host would be: what the gateway's thread does alone. Built from the functions above.
 */
async function workerClient() {
  const source = `
    const { parentPort, workerData } = require("node:worker_threads");
    (async () => {
      const { startSipStack, newCallId } = await import(workerData.stack);
      const { silentLogger } = await import(workerData.logger);
      const benchLogger = () => silentLogger();
      const SIP_TEXT = workerData.text;
      const sleep = ${sleep.toString()};
      const sipNumber = ${sipNumber.toString()};
      ${startSipPeer.toString()}
      ${sendWindowed.toString()}
      ${sendPaced.toString()}
      const peer = await startSipPeer();
      parentPort.on("message", async ({ op, args }) => {
        if (op === "warm") {
          for (let i = 0; i < 50; i++) await peer.message(args[0], sipNumber(90_000 + i), SIP_TEXT);
          parentPort.postMessage(null);
        } else if (op === "paced") parentPort.postMessage(await sendPaced(peer, ...args));
        else if (op === "burst") parentPort.postMessage(await sendWindowed(peer, ...args));
        else if (op === "stop") {
          await peer.stop();
          parentPort.postMessage(null);
        }
      });
      parentPort.postMessage("ready");
    })();`;
  const worker = new Worker(source, {
    eval: true,
    workerData: {
      stack: new URL("../dist/sip/stack.js", import.meta.url).href,
      logger: new URL("../dist/core/logger.js", import.meta.url).href,
      text: SIP_TEXT,
    },
  });
  const reply = () =>
    new Promise((resolve, reject) => {
      const off = () => {
        worker.off("message", ok);
        worker.off("error", fail);
      };
      const ok = (m) => {
        off();
        resolve(m);
      };
      const fail = (e) => {
        off();
        reject(e);
      };
      worker.on("message", ok);
      worker.on("error", fail);
    });
  await reply();
  const call = (op, ...args) => {
    const r = reply();
    worker.postMessage({ op, args });
    return r;
  };
  return {
    warm: (port) => call("warm", port),
    paced: (...a) => call("paced", ...a),
    burst: (...a) => call("burst", ...a),
    async stop() {
      await call("stop");
      await worker.terminate();
    },
  };
}

/** One sip_message_accept run: a fresh site, paced latency first (short queue), then the burst. */
/**
 * The client in its own process (scripts/bench/sipUdpClient.js: raw UDP datagrams, no SIP stack, plain
 * `node`), as a sender on another host would be: the bench process is then the gateway alone, and
 * its CPU figure is the gateway's.
 */
async function processClient() {
  const child = spawn(process.execPath, [new URL("./bench/sipUdpClient.js", import.meta.url).pathname], {
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  children.push(child);
  const reply = () =>
    new Promise((resolve, reject) => {
      const off = () => {
        child.off("message", ok);
        child.off("exit", gone);
      };
      const ok = (m) => {
        off();
        resolve(m);
      };
      const gone = (code) => {
        off();
        reject(new Error(`SIP client exited (${code})`));
      };
      child.on("message", ok);
      child.on("exit", gone);
    });
  await reply();
  const call = (op, ...args) => {
    const r = reply();
    child.send({ op, args });
    return r;
  };
  return {
    warm: (port) => call("warm", port, SIP_TEXT),
    paced: (port, rate, seconds, first) => call("paced", port, rate, seconds, first, SIP_TEXT),
    burst: (port, n, window, first) => call("burst", port, n, window, first, SIP_TEXT),
    stop: () => call("stop"),
  };
}

async function sipAcceptRun(dir, client) {
  const n = Number(values["sip-messages"]);
  const window = Number(values["sip-window"]);
  const rate = Number(values["sip-rate"]);
  const seconds = Number(values["sip-seconds"]);
  // A ready modem that sends for no configured network: nothing leaves, the queue only grows.
  const site = await startSmsSite(dir, [{ id: "m0", modem: { networks: ["none"] } }], {
    sms: { queue_limit: 1_000_000 },
  });
  const gw = await startGateway(site);
  const committed = site.smsDb.prepare("SELECT count(*) FROM out_messages WHERE source = 'sip'").pluck();
  // How long each commit of the queue takes (one transaction per batch, fsync'd), on this thread.
  const commits = [];
  const insert = site.store.insertOutgoing;
  site.store.insertOutgoing = function (...args) {
    const t = performance.now();
    try {
      return insert.apply(this, args);
    } finally {
      commits.push({ ms: performance.now() - t, rows: args[0].length });
    }
  };
  let c;
  try {
    c = await client();
    await c.warm(gw.port); // JIT, prepared statements, sockets; not counted
    await sleep(200);
    const before = committed.get();
    commits.length = 0;
    const udp0 = udpCounters();
    let probe = phaseProbe();
    const paced = await c.paced(gw.port, rate, seconds, 0);
    const pacedThread = await probe();
    const udp1 = udpCounters();
    const pacedCommits = commits.splice(0);
    const afterPaced = committed.get();
    await sleep(500);
    const udp2 = udpCounters();
    const cpu0 = process.cpuUsage();
    probe = phaseProbe();
    const burst = await c.burst(gw.port, n, window, rate * seconds);
    const cpu = process.cpuUsage(cpu0);
    const burstThread = await probe();
    const udp3 = udpCounters();
    const burstCommits = commits.splice(0);
    const afterBurst = committed.get();
    const burst202 = burst.results.filter((r) => r.status === 202).length;
    const paced202 = paced.results.filter((r) => r.status === 202).length;
    // Each 202 goes out once its row is committed: the rows are all there when the last answer is.
    if (afterPaced - before !== paced202)
      throw new Error(`${afterPaced - before} rows for ${paced202} 202s (paced)`);
    if (afterBurst - afterPaced !== burst202)
      throw new Error(`${afterBurst - afterPaced} rows for ${burst202} 202s`);
    const pacedLat = paced.results.map((r) => r.t - r.t0);
    return {
      paced: {
        rate_per_s: rate,
        seconds,
        messages: paced.results.length,
        statuses: countStatuses(paced.results),
        achieved_rate_per_s: +(paced.results.length / (paced.sentMs / 1000)).toFixed(1),
        send_late_ms: summary(paced.late),
        send_to_202: summaryTail(pacedLat, 10),
        commits: {
          ...summary(pacedCommits.map((x) => x.ms)),
          over_10_ms: pacedCommits.filter((x) => x.ms > 10).length,
        },
        // Datagrams the kernel dropped for a full socket receive buffer (counted machine-wide; each
        // costs its MESSAGE a 500 ms retransmission).
        udp_rcvbuf_drops: udp1.RcvbufErrors - udp0.RcvbufErrors,
        gateway_thread: pacedThread,
      },
      throughput: {
        messages: n,
        window,
        statuses: countStatuses(burst.results),
        elapsed_s: +(burst.elapsedMs / 1000).toFixed(3),
        accepted_per_s: +(burst202 / (burst.elapsedMs / 1000)).toFixed(1),
        send_to_202: summary(burst.results.map((r) => r.t - r.t0)),
        commits: burstCommits.length,
        rows_per_commit: +(burst202 / burstCommits.length).toFixed(1),
        commit_ms: summary(burstCommits.map((x) => x.ms)),
        // CPU of the whole process (both threads when the client has its own).
        process_cpu_ms_per_message: +((cpu.user + cpu.system) / 1000 / n).toFixed(3),
        udp_rcvbuf_drops: udp3.RcvbufErrors - udp2.RcvbufErrors,
        gateway_thread: burstThread,
      },
      queued_at_end: afterBurst,
    };
  } finally {
    await c?.stop();
    await gw.stop();
    await site.stop();
  }
}

async function benchSipMessageAccept(dir) {
  const runs = {};
  for (const [name, client] of [
    ["process", processClient],
    ["same_thread", localClient],
    ["worker_thread", workerClient],
  ].filter(([name]) => values["sip-clients"].split(",").includes(name))) {
    const d = join(dir, name);
    mkdirSync(d);
    runs[`client_${name}`] = await sipAcceptRun(d, client);
  }
  return runs;
}

async function benchSipMessageToCmgs(dir) {
  const n = Number(values["sms-samples"]);
  const site = await startSmsSite(dir, [{ id: "m0", args: ["--time-scale", "0.01"] }]);
  const gw = await startGateway(site, { trace: true });
  const peer = await startSipPeer();
  try {
    const one = async (i) => {
      const to = sipNumber(i);
      const before = site.cmgs.length;
      const sent = nextEvent(site.bus, "sms_sent", (e) => e.to === to);
      const r = await peer.message(gw.port, to, SIP_TEXT);
      if (r.status !== 202) throw new Error(`MESSAGE answered ${r.status}`);
      await sent;
      if (site.cmgs.length !== before + 1)
        throw new Error(`${site.cmgs.length - before} AT+CMGS for one MESSAGE`);
      const tIn = gw.arrivals.get(r.callId);
      gw.arrivals.delete(r.callId);
      return {
        cmgs: site.cmgs.at(-1).t - r.t0,
        ok: r.t - r.t0,
        arrive: tIn - r.t0,
        inToCmgs: site.cmgs.at(-1).t - tIn,
      };
    };
    for (let i = 0; i < 5; i++) await one(99_000 + i); // warm-up
    await sleep(100);
    const s = { cmgs: [], ok: [], arrive: [], inToCmgs: [] };
    for (let i = 0; i < n; i++) {
      const r = await one(i);
      for (const k of Object.keys(s)) s[k].push(r[k]);
      await sleep(10); // an idle modem: let the sender settle back into its wait
    }
    if (site.failed.length > 0) throw new Error(`${site.failed.length} SMS failed: ${site.failed[0].error}`);
    return {
      cmgs_ms_simulated: 25,
      message_to_cmgs: summaryTail(s.cmgs, 50),
      message_to_202: summaryTail(s.ok, 50),
      message_to_gateway: summary(s.arrive),
      gateway_to_cmgs: summary(s.inToCmgs),
      cmgs_before_202: s.cmgs.filter((x, i) => x < s.ok[i]).length,
    };
  } finally {
    await peer.stop();
    await gw.stop();
    await site.stop();
  }
}

async function benchSipCmtiToMessage(dir) {
  const n = Number(values["sms-samples"]);
  const site = await startSmsSite(dir, [{ id: "m0" }]);
  const seen = new Map(); // body → arrival time at the core
  const core = await startSipPeer((req, t) => seen.set(req.content, t));
  // Registered before the gateway's listener (which commits the hand-over synchronously): the time the
  // SMS is stored.
  const stored = new Map(); // text → time of sms_received
  const offStored = site.bus.on("sms_received", (e) => stored.set(e.text, performance.now()));
  const gw = await startGateway(site, {
    sip: {
      upstream: {
        uri: `sip:127.0.0.1:${core.port}`,
        fallback: [],
        register: false,
        register_expires_s: 3600,
        keepalive_s: 30,
        expiry_s: 259_200,
      },
      inbound_default: `sip:desk@127.0.0.1:${core.port}`,
    },
  });
  const ctl = controlClient(site.sims[0].info.control);
  try {
    await ctl.connected;
    const t0 = performance.now();
    while (gw.gateway.upstreams.states[0].reachable !== true) {
      if (performance.now() - t0 > 10_000) throw new Error("the core stack never answered OPTIONS");
      await sleep(5);
    }
    const one = async (i) => {
      const from = `+2567720${String(i).padStart(5, "0")}`;
      const text = `Bench incoming ${i}: meet at the market at ten.`;
      const { t } = ctl.call("inject_text", { from, text });
      const limit = performance.now() + 30_000;
      while (!seen.has(text)) {
        if (performance.now() > limit) throw new Error(`MESSAGE ${i} never reached the core`);
        await sleep(1);
      }
      const tc = seen.get(text);
      const tr = stored.get(text);
      seen.delete(text);
      stored.delete(text);
      if (tr === undefined) throw new Error(`MESSAGE ${i} at the core without sms_received`);
      // Idle again: the core's 200 recorded (markDone) before the next SMS.
      while (gw.outbox.stats().upstream.pending > 0) {
        if (performance.now() > limit) throw new Error(`MESSAGE ${i} never marked done`);
        await sleep(1);
      }
      return { total: tc - t, stored: tr - t, storedToCore: tc - tr };
    };
    for (let i = 0; i < 5; i++) await one(90_000 + i); // warm-up
    await sleep(100);
    const s = { total: [], stored: [], storedToCore: [] };
    for (let i = 0; i < n; i++) {
      const r = await one(i);
      for (const k of Object.keys(s)) s[k].push(r[k]);
      await sleep(10);
    }
    const stats = gw.outbox.stats().upstream;
    return {
      inject_to_core_message: summaryTail(s.total, 100),
      inject_to_sms_received: summary(s.stored),
      sms_received_to_core_message: summary(s.storedToCore),
      outbox_failed: stats.failed,
      outbox_pending: stats.pending,
    };
  } finally {
    offStored();
    ctl.close();
    await gw.stop();
    await core.stop();
    await site.stop();
  }
}

// ── subscriber cache ──────────────────────────────────────────────────────────────────────────────

/** A small deterministic PRNG (mulberry32), so every run syncs and looks up the same. */
function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `n` distinct subscribers (15-digit IMSIs, +2567… numbers, every 20th suspended), in random order. */
function subscriberRows(n) {
  const rand = prng(42);
  const rows = [];
  for (let i = 0; i < n; i++) {
    rows.push({
      imsi: `641100${String((i * 7_919 + 12_345) % 1_000_000_000).padStart(9, "0")}`,
      // 48271 is prime: i → i × 48271 mod 10^7 is one-to-one.
      msisdn: `+2567${String((i * 48_271) % 10_000_000).padStart(8, "0")}`,
      name: `Subscriber ${i}`,
      status: i % 20 === 0 ? "suspended" : "active",
    });
  }
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [rows[i], rows[j]] = [rows[j], rows[i]];
  }
  return rows;
}

const median = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];

function summaryUs(samples) {
  const s = [...samples].sort((a, b) => a - b);
  const us = (x) => +(x * 1000).toFixed(2);
  return {
    n: s.length,
    p50_us: us(pct(s, 50)),
    p99_us: us(pct(s, 99)),
    max_us: us(s[s.length - 1]),
    mean_us: us(s.reduce((a, b) => a + b, 0) / s.length),
  };
}

/** A plain mosquitto (anonymous, loopback, a free port) as a child process; needs Debian's mosquitto. */
async function startPlainBroker(dir) {
  const port = await new Promise((resolve) => {
    const srv = createServer();
    srv.listen(0, "127.0.0.1", () => {
      const p = srv.address().port;
      srv.close(() => resolve(p));
    });
  });
  const conf = join(dir, "mosquitto.conf");
  writeFileSync(
    conf,
    [
      process.getuid?.() === 0 ? "user root" : "",
      `listener ${port} 127.0.0.1`,
      "allow_anonymous true",
      "persistence false",
      // The NOC side of a real deployment should set it too (docs/examples/mosquitto/mosquitto.conf).
      "set_tcp_nodelay true",
      "",
    ].join("\n"),
  );
  const bin =
    ["/usr/sbin/mosquitto", "/usr/bin/mosquitto"].find((b) => {
      try {
        readFileSync(b);
        return true;
      } catch {
        return false;
      }
    }) ?? "mosquitto";
  const child = spawn(bin, ["-c", conf], { stdio: ["ignore", "ignore", "pipe"] });
  children.push(child);
  for (let i = 0; i < 100; i++) {
    const ok = await new Promise((resolve) => {
      const s = createConnection({ port, host: "127.0.0.1" });
      s.once("connect", () => {
        s.destroy();
        resolve(true);
      });
      s.once("error", () => resolve(false));
    });
    if (ok) return { url: `mqtt://127.0.0.1:${port}`, stop: () => child.kill("SIGTERM") };
    await sleep(50);
  }
  throw new Error("mosquitto did not start (scripts/setup installs it)");
}

/** The site's side of a day: NocLink + Reporter with mocked timers and clock, real broker and sockets. */
async function benchNocBytesPerDay(dir) {
  const broker = await startPlainBroker(dir);
  const perDay = Number(values["noc-sms-per-day"]);
  const rand = prng(42);
  const DAY_S = 86_400;
  // Real waits for the broker's answers (PINGRESP, PUBACK): every 10 simulated seconds the loop gives
  // the sockets 2 ms of real time, so no keepalive expires for lack of real time.
  const realSetTimeout = globalThis.setTimeout;
  const realSleep = (ms) => new Promise((r) => realSetTimeout(r, ms));
  mock.timers.enable({
    apis: ["setTimeout", "setInterval", "Date"],
    now: Date.parse("2026-11-23T00:00:00Z"),
  });
  const t0 = Date.now();
  const mqttConfig = validateConfig({ site: { id: "site-042" }, mqtt: { url: broker.url } }).config.mqtt;
  const bus = new EventBus();
  const db = openNocDatabase(join(dir, "noc-day"));
  const counts = {};
  const bytesOf = {};
  const note = (kind, payload) => {
    counts[kind] = (counts[kind] ?? 0) + 1;
    bytesOf[kind] = (bytesOf[kind] ?? 0) + Buffer.byteLength(JSON.stringify(payload));
  };
  const link = new NocLink({
    mqtt: { ...mqttConfig, url: broker.url },
    siteId: "site-042",
    store: new NocStore(db),
    logger: benchLogger("mqtt"),
    onCommand: async () => ({}),
    onConnected: () => reporter.publishAll(),
  });
  const sink = {
    publishEvent: (kind, p) => {
      note(`event/${kind}`, p);
      return link.publishEvent(kind, p);
    },
    setRetained: (suffix, p) => {
      note(suffix.startsWith("modem/") ? "modem/<id>" : suffix, p);
      link.setRetained(suffix, p);
    },
    publishVolatile: (suffix, p) => {
      note(suffix, p);
      return link.publishVolatile(suffix, p);
    },
  };
  // Two modems polled every 30 s: CSQ 17 ± 2 and 12 ± 2 (bars cross now and then, as on a real mast).
  const modems = [
    { id: "m1", base: 17, csq: 17 },
    { id: "m2", base: 12, csq: 12 },
  ];
  const snapshot = (m) => ({
    id: m.id,
    state: "ready",
    since: new Date(t0).toISOString(),
    port: `/dev/serial/by-id/usb-${m.id}`,
    profile: "quectel_ec2x",
    imei: "867698041234563",
    iccid: "8925610038545123210",
    imsi: "641105056446810",
    manufacturer: "Quectel",
    model: "EC25",
    firmware: "EC25ECGAR06A07M4G",
    operator: "MTN UG",
    signal: { csq: m.csq, dbm: -113 + 2 * m.csq, bars: csqToBars(m.csq) },
    registration: { stat: 1, text: "home", lac: "1F4B", ci: "A3C21" },
    smsc: "+256772999999",
    counters: { sent: 0, received: 0 },
    last_error: null,
  });
  let pending = 0;
  let sent = 0;
  let received = 0;
  const state = () => ({
    modems: modems.map((m) => ({ id: m.id, state: "ready", bars: csqToBars(m.csq), operator: "MTN UG" })),
    uplinks: {
      mqtt: { connected: link.isConnected, since: new Date(t0).toISOString() },
      sip: [{ uri: "sip:10.8.0.1:5060", reachable: true, registered: true }],
    },
    queues: {
      sms_out: { pending, oldest_pending_s: pending ? 2 : null },
      sms_in: { waiting_parts: 0 },
      sip_out: { pending: 0 },
      noc_events: { pending: 0 },
    },
    health: {
      status: "ok",
      checks: [
        { name: "modems", status: "ok", reason: "2 of 2 ready" },
        { name: "signal", status: "ok", reason: "m1 3/5, m2 2/5" },
        { name: "sms_queue", status: "ok", reason: "no SMS waiting" },
        { name: "storage", status: "ok", reason: "writable" },
      ],
    },
  });
  const telemetry = async () => {
    const s = (Date.now() - t0) / 1000;
    return {
      cpu_percent: +(3 + rand() * 4).toFixed(1),
      load_1m: +(0.1 + rand() * 0.3).toFixed(2),
      memory_used_percent: 31.2,
      disk_used_percent: 12.4,
      disk_free_mb: 12_874,
      temperature_c: +(46 + 9 * Math.sin((2 * Math.PI * (s - 6 * 3600)) / DAY_S) + (rand() - 0.5)).toFixed(1),
      under_voltage_now: false,
      under_voltage_seen: false,
      throttled_now: false,
      process_rss_mb: +(55 + rand()).toFixed(1),
      uptime_s: Math.round(s),
      network_rx_bytes: Math.round(s * 40),
      network_tx_bytes: Math.round(s * 30),
      sms_sent: sent,
      sms_received: received,
      sms_failed: 0,
      delivery_reports: sent,
      noc_bytes_sent: link.status().bytes_sent,
    };
  };
  const reporter = new Reporter({
    sink,
    bus,
    mqtt: mqttConfig,
    state,
    modems: () => modems.map(snapshot),
    telemetry,
    logger: silentLogger(),
  });
  // The day's SMS, at random seconds.
  const plan = new Map();
  const at = (sec, fn) => plan.set(sec, [...(plan.get(sec) ?? []), fn]);
  for (let i = 0; i < perDay; i++) {
    const t = Math.floor(rand() * (DAY_S - 120));
    const id = `01M83${String(i).padStart(11, "0")}`;
    const to = `+25677${String(1_000_000 + i).slice(1)}`;
    at(t, () => {
      pending++;
    });
    at(t + 3, () => {
      pending--;
      sent++;
      bus.emit("sms_sent", { id, modem: i % 2 ? "m2" : "m1", to, parts: 1 });
    });
    at(t + 40, () =>
      bus.emit("delivery_report", { id, to, status: "delivered", detail: "received by the phone" }),
    );
    const r = Math.floor(rand() * (DAY_S - 10));
    at(r, () => {
      received++;
      bus.emit("sms_received", {
        id: `01M84${String(i).padStart(11, "0")}`,
        modem: "m1",
        from: `+2567012${String(10_000 + i).slice(1)}`,
        to: null,
        text: "Habari, tafadhali tuma dawa ya malaria kwa kituo cha afya kesho asubuhi.",
        parts: 1,
        missing_parts: 0,
        received_at: new Date().toISOString(),
      });
    });
  }
  const io = async () => {
    for (let k = 0; k < 3; k++) await new Promise((r) => setImmediate(r));
  };
  reporter.start();
  await link.start();
  // Real time passes only through I/O here (setTimeout is mocked): wait for the connection that way.
  const wall = performance.now();
  while (!link.isConnected && performance.now() - wall < 10_000) await io();
  if (!link.isConnected) throw new Error("the NOC link did not connect to the bench broker");
  await io();
  const startBytes = link.status().bytes_sent;
  const wall0 = performance.now();
  for (let sec = 1; sec <= DAY_S; sec++) {
    mock.timers.tick(1000);
    for (const fn of plan.get(sec) ?? []) fn();
    if (sec % 30 === 0) for (const m of modems) m.csq = m.base + Math.round((rand() - 0.5) * 4);
    await io();
    if (sec % 10 === 0) await realSleep(2);
  }
  for (let k = 0; k < 20; k++) await io();
  const st = link.status();
  const wallS = (performance.now() - wall0) / 1000;
  reporter.stop();
  mock.timers.reset();
  await link.stop();
  db.close();
  broker.stop();
  const publishes = Object.values(counts).reduce((a, b) => a + b, 0);
  const mqttBytes = st.bytes_sent - startBytes;
  // Keepalive: mqtt.js sends PINGREQ only when nothing else went for a keepalive period.
  // Estimate of what the link adds on the wire (not measured): per MQTT packet the site writes, a TLS
  // 1.3 record (5 header + 16 tag + 1 type = 22 bytes) and TCP/IPv4 headers with timestamps (52 bytes);
  // per packet it receives (PUBACK, PINGRESP), a TCP ACK of 52 bytes.
  const pings = Math.max(0, Math.round(DAY_S / mqttConfig.keepalive_s) - 0);
  const written = publishes + pings;
  const receivedPackets =
    (counts["event/sms_sent"] ?? 0) +
    (counts["event/delivery_report"] ?? 0) +
    (counts["event/sms_received"] ?? 0) +
    (counts.state ?? 0) +
    (counts["modem/<id>"] ?? 0) +
    (counts.info ?? 0) +
    pings;
  return {
    simulated_s: DAY_S,
    wall_s: +wallS.toFixed(1),
    sms_out: perDay,
    sms_in: perDay,
    mqtt_bytes_sent: mqttBytes,
    mqtt_bytes_received: st.bytes_received,
    messages: counts,
    payload_bytes: bytesOf,
    estimated_wire_bytes_sent: mqttBytes + written * (22 + 52) + receivedPackets * 52,
    estimate_note:
      "MQTT bytes measured; TLS records and TCP/IP headers added per packet as described in docs/performance.md",
    keepalive_s: mqttConfig.keepalive_s,
    reconnects: st.reconnects,
  };
}

/** Request → response over a real mosquitto to a whole site (Site from dist/). */
async function benchNocRequestRtt(dir) {
  const broker = await startPlainBroker(dir);
  const linkDir = join(dir, "dev");
  const gpioDir = join(dir, "gpio");
  mkdirSync(linkDir, { recursive: true });
  const sim = new ModemSimulator({
    link: join(linkDir, "usb-m1"),
    imei: "867698041234563",
    powerGpio: { dir: gpioDir, line: 17 },
  });
  await sim.start();
  const checked = validateConfig({
    site: { id: "site-042" },
    storage: { dir: join(dir, "data") },
    gpio: { driver: "sim", sim_dir: gpioDir },
    discovery: { globs: [join(linkDir, "*")], interval_ms: 500 },
    modems: [{ id: "m1", port: "auto", imei: "867698041234563", power_gpio: 17 }],
    sip: { listen: "127.0.0.1:0" },
    web: { listen: "127.0.0.1:0" },
    mqtt: { url: broker.url },
  });
  const site = new Site({ config: checked.config, logger: benchLogger("site") });
  await site.start();
  const mqttLib = (await import("mqtt")).default;
  const noc = mqttLib.connect(broker.url, { protocolVersion: 5, reconnectPeriod: 0 });
  await new Promise((r) => noc.once("connect", r));
  noc.stream.setNoDelay?.(true);
  try {
    for (let i = 0; i < 200 && !(site.noc?.isConnected && site.fleet.get("m1")?.state === "ready"); i++)
      await sleep(50);
    const waiting = new Map();
    noc.on("message", (_topic, _payload, packet) => {
      const key = packet.properties?.correlationData?.toString("hex");
      const w = waiting.get(key);
      if (w) {
        waiting.delete(key);
        w(performance.now());
      }
    });
    await noc.subscribeAsync("bts/site-042/response/#", { qos: 1 });
    const commands = [
      ["health_check", {}],
      ["sms/status", { id: "0000000000000000" }],
      ["info", {}],
    ];
    const n = Number(values["noc-requests"]);
    const samples = [];
    for (let i = -20; i < n; i++) {
      const [command, args] = commands[(i + 30) % commands.length];
      const corr = Buffer.from(String(i + 1000).padStart(8, "0"));
      const t0 = performance.now();
      const done = new Promise((r) => waiting.set(corr.toString("hex"), r));
      noc.publish(`bts/site-042/request/${command}`, JSON.stringify({ ...args, transaction: `b${i}` }), {
        qos: 1,
        properties: { responseTopic: `bts/site-042/response/${command}/bench`, correlationData: corr },
      });
      const t1 = await done;
      if (i >= 0) samples.push(t1 - t0);
    }
    return { requests: n, commands: commands.map((c) => c[0]), request_to_response: summary(samples) };
  } finally {
    await noc.endAsync(true);
    await site.stop();
    await sim.stop();
    broker.stop();
  }
}

async function benchSubscribers(dir) {
  const n = Number(values.subscribers);
  const lookups = Number(values.lookups);
  const rows = subscriberRows(n);
  const sorted = [...rows].sort((a, b) => (a.imsi < b.imsi ? -1 : a.imsi > b.imsi ? 1 : 0));
  const hash = canonicalHashOf(sorted);
  // Full sync of n subscribers into an empty table, three times (a fresh subscribers.db each).
  const loads = [];
  let kept;
  for (let run = 0; run < 3; run++) {
    const d = join(dir, `load${run}`);
    mkdirSync(d);
    const db = openSubscriberDatabase(d);
    const store = new SubscriberStore(db);
    const t = performance.now();
    const r = store.applySync({ mode: "full", version: 1, hash, subscribers: rows });
    loads.push(performance.now() - t);
    if (r.count !== n) throw new Error(`${r.count} subscribers after the sync, expected ${n}`);
    if (run < 2) {
      db.close();
      rmSync(d, { recursive: true, force: true });
    } else kept = { db, store };
  }
  const { db, store } = kept;
  try {
    // The same table again (version 2): nothing to write, the pass over the table and the hash remain.
    const resyncs = [];
    for (let v = 2; v <= 4; v++) {
      const t = performance.now();
      store.applySync({ mode: "full", version: v, hash, subscribers: rows });
      resyncs.push(performance.now() - t);
    }
    const sync = {
      subscribers: n,
      into_empty_table_s: loads.map((x) => +(x / 1000).toFixed(3)),
      median_s: +(median(loads) / 1000).toFixed(3),
      same_table_again_s: resyncs.map((x) => +(x / 1000).toFixed(3)),
      same_table_again_median_s: +(median(resyncs) / 1000).toFixed(3),
    };
    if (values.only === "subscriber_full_sync") return { subscriber_full_sync: sync };
    const rand = prng(7);
    const pick = () => rows[Math.floor(rand() * n)];
    for (let i = 0; i < 2000; i++) {
      store.byImsi(pick().imsi);
      store.byMsisdn(pick().msisdn);
    }
    const time = (keys, fn) => {
      const out = new Array(keys.length);
      for (let i = 0; i < keys.length; i++) {
        const t = performance.now();
        const s = fn(keys[i]);
        out[i] = performance.now() - t;
        if (s === undefined) throw new Error(`lookup of ${keys[i]} found nothing`);
      }
      return out;
    };
    const imsis = Array.from({ length: lookups }, () => pick().imsi);
    const msisdns = Array.from({ length: lookups }, () => pick().msisdn);
    const byImsi = time(imsis, (k) => store.byImsi(k));
    const byMsisdn = time(msisdns, (k) => store.byMsisdn(k));
    return {
      subscriber_full_sync: sync,
      subscriber_lookup: {
        subscribers: n,
        by_imsi: summaryUs(byImsi),
        by_msisdn: summaryUs(byMsisdn),
      },
    };
  } finally {
    db.close();
  }
}

const PARTS = [
  "at_round_trip",
  "fleet_8",
  "sms_saturation",
  "sms_enqueue_to_cmgs",
  "sms_cmti_to_stored",
  "sms_durable_enqueue",
  "sip_message_accept",
  "sip_message_to_cmgs",
  "sip_cmti_to_message",
  "subscriber_full_sync",
  "subscriber_lookup",
  "noc_bytes_per_day",
  "noc_request_rtt",
  "sms_kill_loop",
];

/** The kill -9 test at full length (CI runs it with 8 kills): its one-line verdict and duration. */
async function benchKillLoop() {
  const cycles = Number(values["kill-cycles"]);
  const start = performance.now();
  const child = spawn(process.execPath, ["--import", "tsx", "--test", "test/integration/smsCrash.test.ts"], {
    cwd: new URL("..", import.meta.url).pathname,
    env: { ...process.env, SMS_KILL_CYCLES: String(cycles) },
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.push(child);
  let text = "";
  child.stdout.on("data", (d) => {
    text += d;
  });
  child.stderr.on("data", (d) => {
    text += d;
  });
  const code = await new Promise((r) => child.on("exit", r));
  const line = /kill -9 loop: ([^\n]*)/.exec(text)?.[1] ?? null;
  return {
    kills: cycles,
    passed: code === 0,
    verdict: line,
    minutes: +((performance.now() - start) / 60_000).toFixed(1),
  };
}
if (values.only && !PARTS.includes(values.only)) {
  console.error(`unknown part ${values.only}; parts: ${PARTS.join(", ")}`);
  process.exit(2);
}

/** figure / target / measured rows of the parts that ran (printed to stderr after the JSON). */
function tableRows(o) {
  const rows = [];
  const ms = (s) => `median ${s.median_ms} ms, p99 ${s.p99_ms} ms, max ${s.max_ms} ms (n ${s.n})`;
  if (o.at_round_trip)
    rows.push([
      "AT round trip added by the engine",
      "< 1 ms",
      `median ${o.at_round_trip.added_by_engine_median_ms} ms, p99 ${o.at_round_trip.added_by_engine_p99_ms} ms`,
    ]);
  if (o.fleet_8) {
    rows.push(["RSS, 8 modems ready", "< 60 MB", `${o.fleet_8.rss_mb_when_ready} MB`]);
    rows.push(["idle CPU, 8 modems", "< 1 %", `${o.fleet_8.idle_cpu_percent_of_one_core} %`]);
  }
  if (o.sms_saturation) {
    const r = o.sms_saturation;
    rows.push([
      `SMS/s, ${r.modems} modems × ${r.cmgs_s} s per +CMGS, ${r.sms} SMS`,
      ">= 97 % of the limit",
      `${r.achieved_sms_per_s} SMS/s of ${r.limit_sms_per_s} = ${r.utilisation_percent} % (${r.elapsed_s} s, ideal ${r.ideal_s} s)`,
    ]);
  }
  if (o.sms_enqueue_to_cmgs)
    rows.push(["enqueue() → AT+CMGS=, idle modem", "p99 < 20 ms", ms(o.sms_enqueue_to_cmgs.enqueue_to_cmgs)]);
  if (o.sms_cmti_to_stored)
    rows.push([
      "inject_text → sms_received, idle modem",
      "p99 < 50 ms",
      ms(o.sms_cmti_to_stored.inject_to_sms_received),
    ]);
  if (o.sms_durable_enqueue) {
    const r = o.sms_durable_enqueue;
    rows.push([
      `durable enqueues, ${r.concurrent_100.callers} concurrent callers`,
      "> 2000/s",
      `${r.concurrent_100.per_s}/s`,
    ]);
    rows.push(["durable enqueues, 1 caller awaiting each", "—", `${r.sequential_1.per_s}/s`]);
  }
  if (o.sip_message_accept)
    for (const [where, r] of [
      ["client in another process", o.sip_message_accept.client_process],
      ["client on the same thread", o.sip_message_accept.client_same_thread],
      ["client in a worker thread", o.sip_message_accept.client_worker_thread],
    ].filter(([, r]) => r !== undefined)) {
      rows.push([
        `MESSAGE → 202 (SMS committed), ${r.throughput.messages}, ${r.throughput.window} outstanding, ${where}`,
        "> 1500/s",
        `${r.throughput.accepted_per_s}/s (${r.throughput.elapsed_s} s; ${JSON.stringify(r.throughput.statuses)})`,
      ]);
      rows.push([
        `MESSAGE → 202, paced ${r.paced.rate_per_s}/s for ${r.paced.seconds} s, ${where}`,
        "p99 < 10 ms",
        ms(r.paced.send_to_202),
      ]);
    }
  if (o.sip_message_to_cmgs)
    rows.push(["MESSAGE → AT+CMGS=, idle modem", "p99 < 50 ms", ms(o.sip_message_to_cmgs.message_to_cmgs)]);
  if (o.sip_cmti_to_message)
    rows.push([
      "inject_text → MESSAGE at the core, idle modem",
      "p99 < 100 ms",
      ms(o.sip_cmti_to_message.inject_to_core_message),
    ]);
  if (o.noc_bytes_per_day) {
    const r = o.noc_bytes_per_day;
    rows.push([
      `NOC link bytes sent per simulated day (${r.sms_out} SMS out, ${r.sms_in} in), MQTT`,
      "< 1 MB/day",
      `${(r.mqtt_bytes_sent / 1e6).toFixed(3)} MB (with TLS and TCP/IP, estimated: ${(r.estimated_wire_bytes_sent / 1e6).toFixed(3)} MB)`,
    ]);
  }
  if (o.noc_request_rtt)
    rows.push([
      "NOC request → response, loopback mosquitto",
      "p99 < 20 ms",
      ms(o.noc_request_rtt.request_to_response),
    ]);
  if (o.subscriber_full_sync) {
    const r = o.subscriber_full_sync;
    rows.push([
      `full sync of ${r.subscribers} subscribers into an empty table`,
      "< 3 s",
      `median ${r.median_s} s of ${r.into_empty_table_s.join(", ")}`,
    ]);
  }
  if (o.subscriber_lookup) {
    const r = o.subscriber_lookup;
    const us = (x) => `p50 ${x.p50_us} µs, p99 ${x.p99_us} µs, max ${x.max_us} µs (n ${x.n})`;
    rows.push([`byImsi, ${r.subscribers} subscribers`, "p99 < 50 µs", us(r.by_imsi)]);
    rows.push([`byMsisdn, ${r.subscribers} subscribers`, "p99 < 50 µs", us(r.by_msisdn)]);
  }
  if (o.sms_kill_loop)
    rows.push([
      `kill -9 loop, ${o.sms_kill_loop.kills} kills`,
      "nothing lost or twice",
      `${o.sms_kill_loop.passed ? "passed" : "FAILED"}: ${o.sms_kill_loop.verdict} (${o.sms_kill_loop.minutes} min)`,
    ]);
  return rows;
}

const dir = mkdtempSync(join(tmpdir(), "bts-bench-"));
const out = {
  machine: { node: process.version, cpus: (await import("node:os")).cpus()[0]?.model, arch: process.arch },
};
try {
  if (!values.only || values.only === "at_round_trip") out.at_round_trip = (await benchRoundTrip(dir)).result;
  if (!values.only || values.only === "fleet_8") out.fleet_8 = await benchFleet(dir);
  const smsParts = {
    sms_saturation: benchSmsSaturation,
    sms_enqueue_to_cmgs: benchEnqueueToCmgs,
    sms_cmti_to_stored: benchCmtiToStored,
    sms_durable_enqueue: benchDurableEnqueue,
  };
  for (const [name, fn] of Object.entries(smsParts)) {
    if (values.only && values.only !== name) continue;
    const partDir = join(dir, name);
    mkdirSync(partDir);
    out[name] = await fn(partDir);
  }
  const sipParts = {
    sip_message_accept: benchSipMessageAccept,
    sip_message_to_cmgs: benchSipMessageToCmgs,
    sip_cmti_to_message: benchSipCmtiToMessage,
  };
  for (const [name, fn] of Object.entries(sipParts)) {
    if (values.only && values.only !== name) continue;
    const partDir = join(dir, name);
    mkdirSync(partDir);
    out[name] = await fn(partDir);
  }
  // One table serves both: the full sync loads it, the lookups read it.
  const subParts = ["subscriber_full_sync", "subscriber_lookup"];
  if (!values.only || subParts.includes(values.only)) {
    const partDir = join(dir, "subscribers");
    mkdirSync(partDir);
    const r = await benchSubscribers(partDir);
    for (const name of subParts) if (!values.only || values.only === name) out[name] = r[name];
  }
  const nocParts = { noc_bytes_per_day: benchNocBytesPerDay, noc_request_rtt: benchNocRequestRtt };
  for (const [name, fn] of Object.entries(nocParts)) {
    if (values.only && values.only !== name) continue;
    const partDir = join(dir, name);
    mkdirSync(partDir);
    out[name] = await fn(partDir);
  }
  if (values.only === "sms_kill_loop") out.sms_kill_loop = await benchKillLoop();
} finally {
  for (const c of children) c.kill("SIGTERM");
  await new Promise((r) => setTimeout(r, 500));
  rmSync(dir, { recursive: true, force: true });
}
console.log(JSON.stringify(out, null, 2));
const rows = [["figure", "target", "measured"], ...tableRows(out)];
const widths = [0, 1, 2].map((i) => Math.max(...rows.map((r) => r[i].length)));
for (const [k, r] of rows.entries()) {
  console.error(r.map((c, i) => c.padEnd(widths[i])).join(" | "));
  if (k === 0) console.error(widths.map((w) => "-".repeat(w)).join("-|-"));
}
process.exit(0);
