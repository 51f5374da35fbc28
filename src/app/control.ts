/**
 * The site as the NOC (MQTT) and the local page see it: its health, its `state`, `info` and
 * `telemetry` payloads, and the context its commands run in. Built by the Site from its running
 * parts; no I/O of its own but the storage probe and the system sampler.
 *
 *   bus ─► activity (last SMS sent/received, counters) ─┐
 *   fleet, SMS service, SIP gateway, system sample ─────┼─► health ─► state ─► Reporter ─► NocLink
 *   config, log levels, subscribers ────────────────────┴─► CommandContext ─► commands
 */
import { createHash } from "node:crypto";
import type { ConfigControl } from "../config/runtime.js";
import type { SiteConfig } from "../config/types.js";
import { errorText } from "../core/errors.js";
import type { EventBus } from "../core/events.js";
import type { Logger } from "../core/logger.js";
import { evaluateHealth, type HealthInput, type HealthReport } from "../health/checks.js";
import type { ModemFleet } from "../modem/fleet.js";
import type { CommandContext } from "../mqtt/commands.js";
import type { LinkStatus } from "../mqtt/link.js";
import type { SiteState } from "../mqtt/reporter.js";
import type { SipGateway } from "../sip/gateway.js";
import type { SmsService } from "../sms/service.js";
import type { Database } from "../storage/db.js";
import type { SubscriberStore } from "../subscribers/store.js";
import type { SystemSample, SystemSampler } from "../system/sampler.js";
import type { StaticFacts } from "../system/staticFacts.js";

export interface SiteControlDeps {
  config: SiteConfig;
  configControl: ConfigControl;
  version: string;
  bus: EventBus;
  logger: Logger;
  fleet: ModemFleet;
  sms: SmsService;
  sip?: SipGateway;
  subscribers?: SubscriberStore;
  /** Written by the storage probe (a row in its `meta` table). */
  probeDb?: Database;
  sampler?: SystemSampler;
  link?: () => LinkStatus | undefined;
  resyncNeeded: (version: number) => void;
  now?: () => number;
}

/** How often the storage probe actually writes (health is evaluated far more often), ms. */
const STORAGE_PROBE_MS = 10 * 60_000;

export class SiteControl {
  readonly startedAt: number;
  /** The LEDs, once claimed (`leds/identify`). */
  leds: { identify(seconds: number): void } | undefined;
  /** Board, OS and CPU, once read (in a child process, after start); null until then. */
  staticFacts: StaticFacts | null = null;
  private lastSentAt: number | null = null;
  private lastReceivedAt: number | null = null;
  private readonly counters = { sms_sent: 0, sms_received: 0, sms_failed: 0, delivery_reports: 0 };
  private lastSample: SystemSample | undefined;
  /** Under-voltage seen in any sample since start (the kernel's flags forget after 2 s). */
  private underVoltageSeen = false;
  private storageOk = true;
  private storageProbedAt = Number.NEGATIVE_INFINITY;
  private readonly offs: (() => void)[] = [];
  private readonly now: () => number;

  constructor(private readonly d: SiteControlDeps) {
    this.now = d.now ?? Date.now;
    this.startedAt = this.now();
  }

  start(): void {
    const bus = this.d.bus;
    this.offs.push(
      bus.on("sms_sent", () => {
        this.lastSentAt = this.now();
        this.counters.sms_sent++;
      }),
      bus.on("sms_received", () => {
        this.lastReceivedAt = this.now();
        this.counters.sms_received++;
      }),
      bus.on("sms_failed", () => {
        this.counters.sms_failed++;
      }),
      bus.on("delivery_report", () => {
        this.counters.delivery_reports++;
      }),
    );
  }

  stop(): void {
    for (const off of this.offs.splice(0)) off();
  }

  /** Writes one small row at most every 10 min (SD cards die of writes); `force` for `health_check`. */
  private probeStorage(force: boolean): boolean {
    const db = this.d.probeDb;
    if (db === undefined) return true;
    if (!force && this.now() - this.storageProbedAt < STORAGE_PROBE_MS) return this.storageOk;
    this.storageProbedAt = this.now();
    try {
      db.prepare(
        "INSERT INTO meta (key, value) VALUES ('health_probe', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
      ).run(String(this.now()));
      this.storageOk = true;
    } catch (err) {
      this.d.logger.error("storage probe failed", { error: errorText(err) });
      this.storageOk = false;
    }
    return this.storageOk;
  }

  healthInput(forceProbe = false): HealthInput {
    const c = this.d.config;
    const q = this.d.sms.stats();
    const sip = this.d.sip?.snapshot();
    const s = this.lastSample;
    const input: HealthInput = {
      now: this.now(),
      modems: this.d.fleet.snapshots().map((m) => ({
        id: m.id,
        state: m.state,
        bars: m.signal?.bars ?? null,
        last_error: m.last_error,
      })),
      configuredModems: c.modems.length,
      sms: { pending: q.pending, oldest_pending_s: q.oldest_pending_s },
      lastSentAt: this.lastSentAt,
      lastReceivedAt: this.lastReceivedAt,
      startedAt: this.startedAt,
      storageWritable: this.probeStorage(forceProbe),
      disk: s?.disk ? { free_bytes: s.disk.free_bytes, total_bytes: s.disk.total_bytes } : null,
      temperature_c: s?.temperature_c ?? null,
      power: s?.power
        ? {
            under_voltage_now: s.power.under_voltage_now === true,
            under_voltage_occurred: this.underVoltageSeen,
            throttled_now: s.power.throttled_now === true,
          }
        : null,
    };
    if (sip && sip.upstreams.length > 0) {
      const register = c.sip.upstream?.register === true;
      input.upstreams = sip.upstreams.map((u) => ({
        uri: u.uri,
        reachable: u.reachable,
        registered: u.registered,
        register,
      }));
    }
    return input;
  }

  health(forceProbe = false): HealthReport {
    return evaluateHealth(this.healthInput(forceProbe));
  }

  state(): SiteState {
    const q = this.d.sms.stats();
    const sip = this.d.sip?.snapshot();
    const link = this.d.link?.();
    const health = this.health();
    const sipOut = sip ? Object.values(sip.outbox).reduce((n, k) => n + k.pending, 0) : 0;
    return {
      modems: this.d.fleet.snapshots().map((m) => ({
        id: m.id,
        state: m.state,
        bars: m.signal?.bars ?? null,
        operator: m.operator,
      })),
      uplinks: {
        mqtt: link ? { connected: link.connected, since: link.since } : null,
        sip: sip
          ? sip.upstreams.map((u) => ({ uri: u.uri, reachable: u.reachable, registered: u.registered }))
          : null,
      },
      queues: {
        sms_out: { pending: q.pending, oldest_pending_s: q.oldest_pending_s },
        sms_in: { waiting_parts: q.incoming.waiting_parts },
        sip_out: { pending: sipOut },
        noc_events: { pending: link?.outbox_pending ?? 0 },
      },
      health: { status: health.status, checks: health.checks },
    };
  }

  /** Every modem's full snapshot (the page, /metrics). */
  modemSnapshots(): ReturnType<ModemFleet["snapshots"]> {
    return this.d.fleet.snapshots();
  }

  /** SMS counters since start. */
  get smsCounters(): Readonly<Record<string, number>> {
    return this.counters;
  }

  /** The last system sample's figures for the page and /metrics (null before the first sample). */
  systemSummary(): {
    temperature_c: number | null;
    under_voltage_now: boolean | null;
    under_voltage_seen: boolean | null;
    disk_used_percent: number | null;
    disk_free_mb: number | null;
    uptime_s: number | null;
    process_rss_mb: number | null;
  } | null {
    const s = this.lastSample;
    if (!s) return null;
    return {
      temperature_c: s.temperature_c,
      under_voltage_now: s.power?.under_voltage_now ?? null,
      under_voltage_seen: s.power ? this.underVoltageSeen : null,
      disk_used_percent: s.disk?.used_percent ?? null,
      disk_free_mb: s.disk ? Math.round(s.disk.free_bytes / 1048576) : null,
      uptime_s: s.uptime_s,
      process_rss_mb: s.process_rss_bytes === null ? null : Math.round(s.process_rss_bytes / 104857.6) / 10,
    };
  }

  /** Samples the system now (the page and /metrics without a NOC link still get fresh figures). */
  async sampleSystem(): Promise<void> {
    await this.telemetry();
  }

  info(): Record<string, unknown> {
    const c = this.d.config;
    return {
      version: this.d.version,
      site: { id: c.site.id, name: c.site.name },
      started_at: new Date(this.startedAt).toISOString(),
      config_revision: configRevision(c),
      restart_required: this.d.configControl.restartRequired,
      system: this.staticFacts,
    };
  }

  /** Samples the system (kept for health) and gives the `telemetry` payload. */
  async telemetry(): Promise<Record<string, unknown>> {
    if (this.d.sampler) {
      try {
        this.lastSample = await this.d.sampler.sample();
        const p = this.lastSample.power;
        if (p?.under_voltage_now === true || p?.under_voltage_occurred === true) this.underVoltageSeen = true;
      } catch (err) {
        this.d.logger.debug("system sample failed", { error: errorText(err) });
      }
    }
    const s = this.lastSample;
    const link = this.d.link?.();
    const mb = (b: number | null | undefined) =>
      b === null || b === undefined ? null : Math.round(b / 104857.6) / 10;
    return {
      cpu_percent: s?.cpu_percent ?? null,
      load_1m: s?.load_1m ?? null,
      memory_used_percent: s?.memory?.used_percent ?? null,
      disk_used_percent: s?.disk?.used_percent ?? null,
      disk_free_mb: mb(s?.disk?.free_bytes),
      temperature_c: s?.temperature_c ?? null,
      under_voltage_now: s?.power?.under_voltage_now ?? null,
      under_voltage_seen: s?.power ? this.underVoltageSeen : null,
      throttled_now: s?.power?.throttled_now ?? null,
      process_rss_mb: mb(s?.process_rss_bytes),
      uptime_s: s?.uptime_s ?? null,
      network_rx_bytes: s?.network?.rx_bytes ?? null,
      network_tx_bytes: s?.network?.tx_bytes ?? null,
      ...this.counters,
      noc_bytes_sent: link?.bytes_sent ?? null,
    };
  }

  /** The context the commands run in (MQTT requests, the page's actions). */
  commandContext(): CommandContext {
    const fleet = this.d.fleet;
    const ctx: CommandContext = {
      info: () => this.info(),
      health: () => this.health(true),
      sms: this.d.sms,
      modems: { get: (id) => fleet.get(id) },
      config: {
        get: () => this.d.configControl.get(),
        set: async (patch) => {
          const r = await this.d.configControl.set(patch);
          return { restart_required: r.restart_required, changed: r.changed };
        },
      },
      logLevels: this.d.logger.levelControl,
      resyncNeeded: (v) => this.d.resyncNeeded(v),
    };
    if (this.d.subscribers) ctx.subscribers = this.d.subscribers;
    const leds = () => this.leds;
    Object.defineProperty(ctx, "leds", { get: leds, enumerable: true });
    return ctx;
  }
}

/** A short, stable fingerprint of the running config (`info.config_revision`). */
export function configRevision(config: SiteConfig): string {
  return createHash("sha256").update(canonicalJson(config)).digest("hex").slice(0, 12);
}

function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(",")}]`;
  if (v !== null && typeof v === "object") {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`)
      .join(",")}}`;
  }
  return JSON.stringify(v) ?? "null";
}
