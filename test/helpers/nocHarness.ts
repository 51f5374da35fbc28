/**
 * A whole site (the real `Site`, as `bts-site run` builds it) reporting to a real mosquitto, and the
 * NOC's side of the link: simulated modems on real ptys, sim GPIO, the config validated from a plain
 * object with a runtime layer in `<dir>/data`, MQTT over TLS with the site's client certificate.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import mqtt, { type MqttClient } from "mqtt";
import { Site } from "../../src/app/site.js";
import { validateConfig } from "../../src/config/load.js";
import type { SiteConfig } from "../../src/config/types.js";
import { Logger, LogLevels, type LogRecord } from "../../src/core/logger.js";
import { ModemSimulator } from "../../src/sim/simulator.js";
import { waitFor } from "./fleetHarness.js";
import type { Mosquitto, Pki } from "./mosquitto.js";

export const NOC_PASSWORD = "noc-password";

export interface NocSite {
  site: Site;
  sims: ModemSimulator[];
  config: SiteConfig;
  logs: LogRecord[];
  /** The config as a plain object (for `bts-site run --config` in a child process). */
  raw: Record<string, unknown>;
  stop(): Promise<void>;
}

/** The site's config: TLS to the broker with a certificate whose CN is the site id, fast timings. */
export async function nocSiteConfig(o: {
  dir: string;
  siteId: string;
  /** Absent: no NOC link. */
  broker?: Mosquitto;
  pki?: Pki;
  modems: number;
  mqtt?: Record<string, unknown>;
  linkDir: string;
  gpioDir: string;
}): Promise<Record<string, unknown>> {
  const pair = o.broker && o.pki ? await o.pki.client(o.siteId) : undefined;
  return {
    site: { id: o.siteId, name: "Test hill" },
    storage: { dir: join(o.dir, "data") },
    gpio: { driver: "sim", sim_dir: o.gpioDir },
    discovery: { globs: [join(o.linkDir, "*")], interval_ms: 500 },
    modems: Array.from({ length: o.modems }, (_, i) => ({
      id: `m${i + 1}`,
      port: "auto",
      imei: IMEIS[i],
      power_gpio: 17 + i,
      power_off_ms: 100,
      boot_wait_ms: 1000,
    })),
    sip: { listen: "127.0.0.1:0" },
    web: { listen: "127.0.0.1:0" },
    ...(o.broker && o.pki && pair
      ? {
          mqtt: {
            url: o.broker.tlsUrl,
            ca: o.pki.ca,
            cert: pair.cert,
            key: pair.key,
            keepalive_s: 5,
            reconnect_min_s: 1,
            reconnect_max_s: 2,
            state_min_interval_s: 1,
            ...o.mqtt,
          },
        }
      : {}),
  };
}

const IMEIS = ["867698041234563", "862273045678906", "352099001761481"];

export async function startNocSite(o: {
  dir: string;
  siteId: string;
  /** Absent: no NOC link. */
  broker?: Mosquitto;
  pki?: Pki;
  modems?: number;
  mqtt?: Record<string, unknown>;
  /** Extra top-level config keys (merged over the defaults here). */
  extra?: Record<string, unknown>;
}): Promise<NocSite> {
  const linkDir = join(o.dir, "dev");
  const gpioDir = join(o.dir, "gpio");
  mkdirSync(linkDir, { recursive: true });
  const n = o.modems ?? 1;
  const sims = Array.from(
    { length: n },
    (_, i) =>
      new ModemSimulator({
        link: join(linkDir, `usb-m${i + 1}`),
        imei: IMEIS[i]!,
        powerGpio: { dir: gpioDir, line: 17 + i },
        timeScale: 0.05,
      }),
  );
  for (const s of sims) await s.start();
  const raw = {
    ...(await nocSiteConfig({ ...o, modems: n, linkDir, gpioDir })),
    ...o.extra,
  };
  const checked = validateConfig(raw);
  if (!checked.ok) throw new Error(`test config invalid: ${checked.problems.join("; ")}`);
  const config = checked.config;
  const logs: LogRecord[] = [];
  const logger = new Logger("test", new LogLevels("debug"), (r) => {
    logs.push(r);
    if (process.env.TEST_LOG === "1")
      process.stderr.write(`${r.ns} ${r.level} ${r.msg} ${JSON.stringify(r)}\n`);
  });
  const runtimeFile = join(config.storage.dir, "config.runtime.json");
  const site = new Site({
    config,
    logger,
    loaded: {
      config,
      sources: {},
      layers: [{ source: "file", data: structuredClone(raw) }],
      runtimeFile,
    },
  });
  await site.start();
  return {
    site,
    sims,
    config,
    logs,
    raw,
    async stop() {
      await site.stop();
      for (const s of sims) await s.stop().catch(() => {});
    },
  };
}

export function writeConfigFile(path: string, raw: Record<string, unknown>): void {
  writeFileSync(path, `${JSON.stringify(raw, null, 2)}\n`);
}

/** The NOC: a client on the plain listener as user `noc`, recording every message under `bts/#`. */
export interface Noc {
  client: MqttClient;
  messages: { topic: string; text: string; retain: boolean; at: number }[];
  /** Messages on `topic` (exact), parsed. */
  on(topic: string): Record<string, unknown>[];
  waitFor(
    topic: string,
    pred?: (payload: Record<string, unknown>) => boolean,
    ms?: number,
  ): Promise<Record<string, unknown>>;
  close(): Promise<void>;
}

export async function connectNoc(broker: Mosquitto, protocolVersion: 4 | 5 = 5): Promise<Noc> {
  const client = mqtt.connect(broker.plainUrl, {
    username: "noc",
    password: NOC_PASSWORD,
    protocolVersion,
    clientId: `noc-${Math.random().toString(16).slice(2)}`,
    reconnectPeriod: 300,
  });
  const messages: Noc["messages"] = [];
  client.on("message", (topic, payload, packet) => {
    messages.push({ topic, text: payload.toString("utf8"), retain: packet.retain, at: Date.now() });
  });
  client.on("connect", () => {
    client.subscribe("bts/#", { qos: 1 });
  });
  await new Promise<void>((resolve, reject) => {
    client.once("connect", () => resolve());
    client.once("error", reject);
  });
  const parsed = (topic: string) =>
    messages.filter((m) => m.topic === topic).map((m) => JSON.parse(m.text) as Record<string, unknown>);
  return {
    client,
    messages,
    on: parsed,
    async waitFor(topic, pred = () => true, ms = 20_000) {
      let found: Record<string, unknown> | undefined;
      await waitFor(
        `a message on ${topic}`,
        () => {
          found = parsed(topic).find(pred);
          return found !== undefined;
        },
        ms,
      );
      return found as Record<string, unknown>;
    },
    close: () => client.endAsync(true),
  };
}
