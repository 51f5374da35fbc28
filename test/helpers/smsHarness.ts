/**
 * The SMS path against simulated modems on real pseudo-terminals: simulators, a real fleet, a real
 * SQLite file and the SmsService, with timings shrunk for tests.
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { ModemConfig, NetworkConfig, SmsConfig } from "../../src/config/types.js";
import type { SiteEvents } from "../../src/core/events.js";
import { ModemSimulator, type ModemSimulatorOptions } from "../../src/sim/simulator.js";
import { SmsService } from "../../src/sms/service.js";
import { openSmsDatabase, SmsStore } from "../../src/sms/store.js";
import type { Database } from "../../src/storage/db.js";
import { type Harness, modem, startFleet, waitFor } from "./fleetHarness.js";

export const TEST_SMS: SmsConfig = {
  max_parts: 4,
  too_long: "reject",
  delivery_reports: true,
  default_network: "",
  queue_limit: 10000,
  max_attempts: 3,
  retry_base_s: 1,
  retry_max_s: 2,
  expiry_s: 3600,
  validity_minutes: 4320,
  report_window_s: 3600,
  failover_after_s: 2,
  reassembly_timeout_s: 3600,
  sweep_interval_s: 60,
  retention_days: 30,
};

export type SmsEventName = "sms_sent" | "sms_failed" | "sms_received" | "delivery_report";

export interface SmsSite {
  h: Harness;
  sims: ModemSimulator[];
  sms: SmsService;
  store: SmsStore;
  db: Database;
  events: { name: SmsEventName; payload: SiteEvents[SmsEventName] }[];
  of<K extends SmsEventName>(name: K): SiteEvents[K][];
  waitReady(ids?: string[]): Promise<void>;
  stop(): Promise<void>;
}

export interface SimSpec {
  id: string;
  sim?: Partial<ModemSimulatorOptions>;
  modem?: Partial<ModemConfig>;
}

/** Starts simulators (one per spec, power line 17 + i), the fleet and the SMS path. */
export async function startSmsSite(o: {
  dir: string;
  modems: SimSpec[];
  sms?: Partial<SmsConfig>;
  networks?: NetworkConfig[];
  timeScale?: number;
  quirkDirs?: string[];
  /** Runs once the simulators are up, before the fleet and the SMS path start. */
  beforeSms?: (sims: ModemSimulator[]) => void;
}): Promise<SmsSite> {
  const linkDir = join(o.dir, "dev");
  const gpioDir = join(o.dir, "gpio");
  mkdirSync(linkDir, { recursive: true });
  const sims = o.modems.map(
    (m, i) =>
      new ModemSimulator({
        link: join(linkDir, `usb-${m.id}`),
        powerGpio: { dir: gpioDir, line: 17 + i },
        timeScale: o.timeScale ?? 0.05,
        ...m.sim,
      }),
  );
  for (const s of sims) await s.start();
  o.beforeSms?.(sims);
  const db = openSmsDatabase(join(o.dir, "data"));
  const store = new SmsStore(db);
  let sms!: SmsService;
  const events: SmsSite["events"] = [];
  const h = await startFleet({
    dir: o.dir,
    linkDir,
    gpioDir,
    dbDir: join(o.dir, "data"),
    ...(o.quirkDirs ? { quirkDirs: o.quirkDirs } : {}),
    modems: o.modems.map((m, i) =>
      modem({ id: m.id, imei: sims[i]!.state().imei, power_gpio: 17 + i, ...m.modem }),
    ),
    beforeStart: ({ fleet, bus, logger }) => {
      sms = new SmsService({
        sms: { ...TEST_SMS, ...o.sms },
        networks: o.networks ?? [{ name: "local", prefixes: ["+"], max_per_loop: 10 }],
        store,
        modems: { list: () => fleet.list(), get: (id) => fleet.get(id) },
        bus,
        logger: logger.child("sms"),
      });
      for (const name of ["sms_sent", "sms_failed", "sms_received", "delivery_report"] as const)
        bus.on(name, (payload) => events.push({ name, payload }));
      sms.start();
    },
    beforeStop: () => sms.stop(Date.now() + 3000),
  });
  return {
    h,
    sims,
    sms,
    store,
    db,
    events,
    of<K extends SmsEventName>(name: K) {
      return events.filter((e) => e.name === name).map((e) => e.payload as SiteEvents[K]);
    },
    async waitReady(ids = o.modems.map((m) => m.id)) {
      await waitFor(
        `modems ${ids.join(", ")} ready`,
        () => ids.every((id) => h.fleet.get(id)?.state === "ready"),
        20_000,
      );
    },
    async stop() {
      await h.stop();
      db.close();
      for (const s of sims) await s.stop().catch(() => {});
    },
  };
}
