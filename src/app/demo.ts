/**
 * `bts-site demo`: a whole site on this machine, no hardware and no setup.
 *
 *   two ModemSimulators (Quectel EC25, SIMCom SIM800) on real pseudo-terminals (socat)
 *        │ power lines: sim GPIO files in <dir>/gpio
 *        ▼
 *   the real site (config built here: sim GPIO, discovery over the simulators' links)
 *
 *   an embedded MQTT broker (aedes, MQTT 3.1.1) on 127.0.0.1:1883 (a free port if that one is
 *   taken), unless --broker URL names one: the site reports there as site `demo`, and
 *   `bts-site remote --broker mqtt://127.0.0.1:1883 --site demo --protocol 4 health_check` drives it
 *
 * Prints where each part is, one JSON line, then logs as `bts-site run` does. Ctrl-C (or --for N)
 * stops it and removes the temporary folder.
 */
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { validateConfig } from "../config/load.js";
import { errorText } from "../core/errors.js";
import { SimControlServer } from "../sim/control.js";
import { ModemSimulator } from "../sim/simulator.js";
import { type EmbeddedBroker, startEmbeddedBroker } from "./broker.js";
import { createLogger } from "./logging.js";
import { onSignals } from "./signals.js";
import { Site } from "./site.js";

/** `bts-site hash-password` of "demo" (scrypt, N = 2^15). */
const DEMO_PASSWORD_HASH = "scrypt$15$8$1$k2CaLhol01JzJZ7avG_WCw$ttFDDaMi5YdExFmJT7zTe2HwtkfToyM-rJZ_Bqd_SQI";

const DEMO_MODEMS = [
  { id: "m1", profile: "ec25", imei: "867698041234563", power_gpio: 17 },
  { id: "m2", profile: "sim800", imei: "862273045678906", power_gpio: 27 },
] as const;

export async function demoCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { for: { type: "string" }, broker: { type: "string" }, web: { type: "string" } },
    strict: true,
  });
  const seconds = values.for === undefined ? undefined : Number(values.for);
  if (seconds !== undefined && !(seconds > 0)) {
    process.stderr.write("bts-site demo: --for takes a number of seconds\n");
    return 2;
  }
  const dir = mkdtempSync(join(tmpdir(), "bts-site-demo-"));
  const linkDir = join(dir, "dev");
  const gpioDir = join(dir, "gpio");
  mkdirSync(linkDir, { recursive: true });
  const sims = DEMO_MODEMS.map(
    (m) =>
      new ModemSimulator({
        link: join(linkDir, `sim-${m.profile}-${m.id}`),
        profile: m.profile,
        imei: m.imei,
        powerGpio: { dir: gpioDir, line: m.power_gpio },
      }),
  );
  let broker: EmbeddedBroker | undefined;
  let brokerUrl = values.broker;
  if (brokerUrl === undefined) {
    try {
      broker = await startEmbeddedBroker();
      brokerUrl = broker.url;
    } catch (err) {
      process.stderr.write(`bts-site demo: no embedded MQTT broker: ${errorText(err)}\n`);
    }
  }
  const checked = validateConfig({
    site: { id: "demo", name: "Demo site" },
    storage: { dir: join(dir, "data") },
    gpio: { driver: "sim", sim_dir: gpioDir },
    discovery: { globs: [join(linkDir, "*")], interval_ms: 1000 },
    // Faster than a site (30 s, 5 s): a modem made to hang shows on the page within about 15 s.
    supervisor: { probe_interval_ms: 5000, command_timeout_ms: 2000 },
    modems: DEMO_MODEMS.map((m) => ({ id: m.id, port: "auto", imei: m.imei, power_gpio: m.power_gpio })),
    sip: { listen: "127.0.0.1:5060", domain: "demo.bts.local" },
    // The page, logged-in actions included: the demo's password is "demo".
    web: { listen: `127.0.0.1:${values.web ?? "8080"}`, password_hash: DEMO_PASSWORD_HASH },
    // aedes speaks MQTT 3.1.1 only; a broker given with --broker is spoken to in MQTT 5.
    ...(brokerUrl ? { mqtt: { url: brokerUrl, protocol_version: broker ? 4 : 5, reconnect_min_s: 1 } } : {}),
  });
  if (!checked.ok) throw new Error(`demo config invalid: ${checked.problems.join("; ")}`);
  const logger = createLogger(checked.config.log);
  // The NOC's config/set writes next to the demo's databases, as on a real site.
  const site = new Site({
    config: checked.config,
    logger,
    loaded: {
      config: checked.config,
      sources: {},
      layers: [
        { source: "file", data: structuredClone(checked.config) as unknown as Record<string, unknown> },
      ],
      runtimeFile: join(checked.config.storage.dir, "config.runtime.json"),
    },
  });
  const cleanup = async () => {
    await site.stop().catch(() => {});
    for (const c of controls) await c.stop().catch(() => {});
    for (const s of sims) await s.stop().catch(() => {});
    await broker?.stop().catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  };
  // Each simulator's control socket (docs/simulator.md): make a modem hang, unplug it, send it an SMS.
  const controls = sims.map((s, i) => new SimControlServer(s, join(linkDir, `${DEMO_MODEMS[i]!.id}.ctl`)));
  try {
    for (const s of sims) await s.start();
    for (const c of controls) await c.start();
    await site.start();
  } catch (err) {
    process.stderr.write(`bts-site demo: cannot start: ${errorText(err)}\n`);
    await cleanup();
    return 1;
  }
  process.stdout.write(
    `${JSON.stringify({
      demo: "bts-site",
      folder: dir,
      gpio_dir: gpioDir,
      sip: site.sip ? "udp+tcp 127.0.0.1:5060 (MESSAGE to a number leaves as SMS)" : null,
      web: site.webAddress ? `http://127.0.0.1:${site.webAddress.port}/ (password: demo)` : null,
      mqtt: brokerUrl
        ? {
            broker: brokerUrl,
            embedded: broker !== undefined,
            base: "bts/demo",
            try: `bts-site remote --broker ${brokerUrl} --site demo${broker ? " --protocol 4" : ""} health_check`,
          }
        : null,
      modems: DEMO_MODEMS.map((m, i) => ({
        id: m.id,
        simulated: m.profile,
        imei: m.imei,
        links: sims[i]!.linkPaths(),
        control: join(linkDir, `${m.id}.ctl`),
        power_gpio_file: join(gpioDir, `gpio${m.power_gpio}`),
      })),
    })}\n`,
  );
  if (seconds !== undefined) {
    const timer = setTimeout(() => process.kill(process.pid, "SIGTERM"), seconds * 1000);
    timer.unref();
  }
  return onSignals(cleanup);
}
