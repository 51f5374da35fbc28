/**
 * Builds a real modem fleet (real serialport on real pseudo-terminals, real SQLite file, sim GPIO files)
 * against simulators, with timings shrunk for tests.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ModemConfig, SupervisorConfig } from "../../src/config/types.js";
import { EventBus, type SiteEvents } from "../../src/core/events.js";
import { Logger, LogLevels, type LogRecord } from "../../src/core/logger.js";
import { dataPath } from "../../src/core/paths.js";
import { SimGpioDriver } from "../../src/gpio/simGpio.js";
import { ModemFleet } from "../../src/modem/fleet.js";
import { ProfileSet } from "../../src/modem/profile.js";
import { ModemRegistry, openSiteDatabase } from "../../src/storage/siteDb.js";
import { serialportOpener } from "../../src/transport/serial/serialportBinding.js";

export const FAST_SUPERVISOR: SupervisorConfig = {
  probe_interval_ms: 300,
  command_timeout_ms: 400,
  failures_before_recovery: 2,
  searching_recovery_ms: 0,
  step_timeout_ms: 8000,
  faulted_backoff_ms: 2000,
  faulted_backoff_max_ms: 4000,
};

export function tempDir(prefix: string): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), `bts-${prefix}-`));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export function modem(partial: Partial<ModemConfig> & { id: string }): ModemConfig {
  return {
    port: "auto",
    baud: 115200,
    networks: [],
    rate_per_minute: 0,
    daily_limit: 0,
    power_off_ms: 300,
    boot_wait_ms: 5000,
    profile: "auto",
    ...partial,
  };
}

export interface Harness {
  fleet: ModemFleet;
  bus: EventBus;
  events: { name: keyof SiteEvents; payload: unknown }[];
  logs: LogRecord[];
  registry: ModemRegistry;
  stop(): Promise<void>;
}

export async function startFleet(o: {
  dir: string;
  linkDir: string;
  gpioDir: string;
  modems: ModemConfig[];
  supervisor?: Partial<SupervisorConfig>;
  dbDir?: string;
  /** Runs before the fleet starts (the SMS path subscribes to the bus there). */
  beforeStart?: (ctx: { fleet: ModemFleet; bus: EventBus; logger: Logger }) => void;
  /** Runs first in stop() (the SMS path stops before the fleet). */
  beforeStop?: () => Promise<void>;
  /** Extra quirk folders. */
  quirkDirs?: string[];
}): Promise<Harness> {
  const db = openSiteDatabase(o.dbDir ?? join(o.dir, "db"));
  const registry = new ModemRegistry(db);
  const logs: LogRecord[] = [];
  const logger = new Logger("test", new LogLevels(process.env.TEST_LOG === "1" ? "debug" : "debug"), (r) => {
    logs.push(r);
    if (process.env.TEST_LOG === "1") process.stderr.write(`${r.ns} ${r.level} ${r.msg}\n`);
  });
  const bus = new EventBus();
  const events: Harness["events"] = [];
  for (const name of ["modem_state", "modem_recovery", "modem_urc"] as const)
    bus.on(name, (payload) => events.push({ name, payload }));
  const { set: profiles } = await ProfileSet.load([dataPath("modem", "quirks"), ...(o.quirkDirs ?? [])]);
  const gpio = new SimGpioDriver({ simDir: o.gpioDir });
  const fleet = new ModemFleet({
    modems: o.modems,
    supervisor: { ...FAST_SUPERVISOR, ...o.supervisor },
    discovery: { globs: [join(o.linkDir, "*")], interval_ms: 200, probe_timeout_ms: 300, baud: 115200 },
    profiles,
    opener: serialportOpener(logger.child("serial")),
    gpio,
    store: registry,
    bus,
    logger,
  });
  o.beforeStart?.({ fleet, bus, logger });
  await fleet.start();
  return {
    fleet,
    bus,
    events,
    logs,
    registry,
    async stop() {
      await o.beforeStop?.();
      await fleet.stop();
      await gpio.close();
      db.close();
    },
  };
}

export async function waitFor<T>(
  what: string,
  fn: () => T | undefined | false,
  timeoutMs = 10_000,
): Promise<T> {
  const start = Date.now();
  for (;;) {
    const v = fn();
    if (v !== undefined && v !== null && v !== false && v !== "") return v;
    if (Date.now() - start > timeoutMs)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
