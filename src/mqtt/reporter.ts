/**
 * What the site tells the NOC without being asked (contract, section 3), at a cost a satellite link
 * can carry:
 *
 *   bus events ─────────────► event/<kind>          every one, durable, in order (the link's outbox)
 *   site snapshot ─ changed? ─► state, modem/<id>   retained; only when something that matters changed
 *                                                   (not a signal wobble or a counter), at most once per
 *                                                   mqtt.state_min_interval_s
 *   system sample ─ moved? ──► telemetry            every mqtt.telemetry_interval_s when a figure moved
 *                                                   past its deadband, else at mqtt.telemetry_max_interval_s
 *
 * The retained payloads carry exact figures; what decides whether to send is a coarser "signature"
 * ({@link stateSignature}, {@link modemSignature}, {@link telemetryMoved}).
 */
import type { MqttConfig } from "../config/types.js";
import { errorText } from "../core/errors.js";
import type { EventBus, SiteEventName } from "../core/events.js";
import type { Logger } from "../core/logger.js";
import { csqToBars } from "../modem/parsers.js";
import type { ModemSnapshot } from "../modem/slot.js";

/** A modem's CSQ must move this far from the value last reported before its bars count as changed. */
export const CSQ_HYSTERESIS = 3;

/**
 * Signal bars with hysteresis: a CSQ that wobbles by ±1–2 across a bars boundary at every poll (it
 * does, on a mast at the edge of a band) would otherwise resend `state` and `modem/<id>` every 30 s.
 */
export class SignalFilter {
  private readonly accepted = new Map<string, number>();

  /** The bars to report for `modem` at CSQ `csq` (null when unknown). */
  bars(modem: string, csq: number | null | undefined): number | null {
    if (csq === null || csq === undefined || csq === 99) {
      this.accepted.delete(modem);
      return csq === 99 ? 0 : null;
    }
    const last = this.accepted.get(modem);
    if (last === undefined || Math.abs(csq - last) >= CSQ_HYSTERESIS) {
      this.accepted.set(modem, csq);
      return csqToBars(csq);
    }
    return csqToBars(last);
  }
}

/** The events published as `event/<kind>`, with the payload the contract gives. */
const EVENT_KINDS: readonly SiteEventName[] = [
  "sms_received",
  "sms_sent",
  "sms_failed",
  "delivery_report",
  "modem_state",
  "modem_recovery",
];

export interface EventSink {
  publishEvent(kind: string, payload: Record<string, unknown>): string;
  setRetained(suffix: string, payload: unknown): void;
  publishVolatile(suffix: string, payload: unknown): boolean;
}

export interface SiteState {
  modems: { id: string; state: string; bars: number | null; operator: string | null }[];
  uplinks: Record<string, unknown>;
  queues: {
    sms_out: { pending: number; oldest_pending_s: number | null };
    sms_in: { waiting_parts: number };
    sip_out: { pending: number };
    noc_events: { pending: number };
  };
  health: { status: string; checks: { name: string; status: string; reason: string }[] };
}

export interface ReporterDeps {
  sink: EventSink;
  bus: EventBus;
  mqtt: Pick<MqttConfig, "state_min_interval_s" | "telemetry_interval_s" | "telemetry_max_interval_s">;
  state(): SiteState;
  modems(): ModemSnapshot[];
  /** The telemetry figures (flat-ish JSON); the deadbands of {@link TELEMETRY_DEADBANDS} apply by key. */
  telemetry(): Promise<Record<string, unknown>>;
  logger: Logger;
  now?: () => number;
}

/** How far a telemetry figure must move to be worth sending before the maximum interval. */
export const TELEMETRY_DEADBANDS: Record<string, number> = {
  cpu_percent: 20,
  load_1m: 1,
  memory_used_percent: 5,
  disk_used_percent: 1,
  temperature_c: 3,
  process_rss_mb: 5,
};

/** Figures that are sent along but never trigger a send by themselves (they always move). */
const NEVER_TRIGGER = new Set([
  "uptime_s",
  "network_rx_bytes",
  "network_tx_bytes",
  "noc_bytes_sent",
  "at",
  // Each SMS is an event already; its counter rides along with the next telemetry that goes.
  "sms_sent",
  "sms_received",
  "sms_failed",
  "delivery_reports",
]);

/** How often the site is looked at for changes of `state` and `modem/<id>` (besides bus events), ms. */
const STATE_CHECK_MS = 5000;

/**
 * The queue figures that matter for "changed": under 10 (normal work: an SMS waits a few seconds for
 * its modem; the events tell each one), tens, hundreds, thousands...
 */
function magnitude(n: number): number {
  return n < 10 ? 0 : Math.floor(Math.log10(n));
}

/** `bars`: each modem's bars after hysteresis, by id; default the state's own. */
export function stateSignature(s: SiteState, bars?: (id: string) => number | null): string {
  return JSON.stringify([
    s.modems.map((m) => [m.id, m.state, bars ? bars(m.id) : m.bars, m.operator]),
    s.uplinks,
    magnitude(s.queues.sms_out.pending),
    magnitude(s.queues.sms_in.waiting_parts),
    magnitude(s.queues.sip_out.pending),
    magnitude(s.queues.noc_events.pending),
    s.health.status,
    s.health.checks.map((c) => [c.name, c.status]),
  ]);
}

/** `bars`: the modem's bars after hysteresis ({@link SignalFilter}); default its raw bars. */
export function modemSignature(m: ModemSnapshot, bars: number | null = m.signal?.bars ?? null): string {
  return JSON.stringify([
    m.state,
    m.port,
    m.imei,
    m.iccid,
    m.imsi,
    m.operator,
    bars,
    m.registration?.stat ?? null,
    m.last_error,
  ]);
}

/** True when a numeric figure moved past its deadband (or any other figure changed) since `last`. */
export function telemetryMoved(
  last: Record<string, unknown> | undefined,
  now: Record<string, unknown>,
): boolean {
  if (last === undefined) return true;
  for (const [k, v] of Object.entries(now)) {
    if (NEVER_TRIGGER.has(k)) continue;
    const before = last[k];
    if (typeof v === "number" && typeof before === "number") {
      const band = TELEMETRY_DEADBANDS[k];
      if (band === undefined ? v !== before : Math.abs(v - before) >= band) return true;
    } else if (JSON.stringify(v) !== JSON.stringify(before)) {
      return true;
    }
  }
  return false;
}

/** A value sent for a retained topic, with the rule of when it may next go. */
class Retained {
  sentSignature: string | undefined;
  lastSentAt = Number.NEGATIVE_INFINITY;
  timer: NodeJS.Timeout | undefined;
}

export class Reporter {
  private readonly offs: (() => void)[] = [];
  private readonly retained = new Map<string, Retained>();
  private stateTimer: NodeJS.Timeout | undefined;
  private telemetryTimer: NodeJS.Timeout | undefined;
  private lastTelemetry: Record<string, unknown> | undefined;
  private lastTelemetryAt = Number.NEGATIVE_INFINITY;
  private stopped = false;
  private readonly now: () => number;
  private readonly signal = new SignalFilter();
  /** Bars after hysteresis, by modem, as of the last look at the modems. */
  private readonly filteredBars = new Map<string, number | null>();

  constructor(private readonly d: ReporterDeps) {
    this.now = d.now ?? Date.now;
  }

  start(): void {
    for (const kind of EVENT_KINDS) {
      this.offs.push(
        this.d.bus.on(kind, (payload) => {
          this.d.sink.publishEvent(kind, payload as unknown as Record<string, unknown>);
          this.refresh();
        }),
      );
    }
    this.offs.push(this.d.bus.on("modem_info", () => this.refresh()));
    this.refresh();
    this.stateTimer = setInterval(() => this.refresh(), STATE_CHECK_MS);
    this.stateTimer.unref();
    this.scheduleTelemetry(0);
  }

  stop(): void {
    this.stopped = true;
    for (const off of this.offs.splice(0)) off();
    clearInterval(this.stateTimer);
    clearTimeout(this.telemetryTimer);
    for (const r of this.retained.values()) clearTimeout(r.timer);
  }

  /** Publishes `state` and every `modem/<id>` as they are now (on each connection). */
  publishAll(): void {
    this.offer("state", () => this.d.state(), stateSignature, true);
    for (const m of this.d.modems())
      this.offer(`modem/${m.id}`, () => this.modem(m.id) ?? m, modemSignature, true);
  }

  /** Looks for changes worth sending. */
  refresh(): void {
    if (this.stopped) return;
    try {
      this.look(false);
    } catch (err) {
      this.d.logger.warn("state not published", { error: errorText(err) });
    }
  }

  private look(force: boolean): void {
    const modems = this.d.modems();
    for (const m of modems) this.filteredBars.set(m.id, this.signal.bars(m.id, m.signal?.csq));
    const barsOf = (id: string) => this.filteredBars.get(id) ?? null;
    this.offer(
      "state",
      () => this.d.state(),
      (s) => stateSignature(s, barsOf),
      force,
    );
    for (const m of modems)
      this.offer(
        `modem/${m.id}`,
        () => this.modem(m.id) ?? m,
        (x) => modemSignature(x, barsOf(x.id)),
        force,
      );
  }

  private modem(id: string): ModemSnapshot | undefined {
    return this.d.modems().find((m) => m.id === id);
  }

  private offer<T>(suffix: string, get: () => T, signature: (v: T) => string, force: boolean): void {
    let r = this.retained.get(suffix);
    if (!r) {
      r = new Retained();
      this.retained.set(suffix, r);
    }
    const value = get();
    const sig = signature(value);
    if (!force && sig === r.sentSignature) return;
    const wait = r.lastSentAt + this.d.mqtt.state_min_interval_s * 1000 - this.now();
    if (!force && wait > 0) {
      if (r.timer === undefined) {
        const entry = r;
        entry.timer = setTimeout(() => {
          entry.timer = undefined;
          this.offer(suffix, get, signature, false);
        }, wait);
        entry.timer.unref();
      }
      return;
    }
    r.sentSignature = sig;
    r.lastSentAt = this.now();
    this.d.sink.setRetained(suffix, value);
  }

  private scheduleTelemetry(ms: number): void {
    if (this.stopped) return;
    this.telemetryTimer = setTimeout(() => void this.telemetryTick(), ms);
    this.telemetryTimer.unref();
  }

  private async telemetryTick(): Promise<void> {
    try {
      const t = await this.d.telemetry();
      const due = this.now() - this.lastTelemetryAt >= this.d.mqtt.telemetry_max_interval_s * 1000;
      if (due || telemetryMoved(this.lastTelemetry, t)) {
        if (this.d.sink.publishVolatile("telemetry", t)) {
          this.lastTelemetry = t;
          this.lastTelemetryAt = this.now();
        }
      }
    } catch (err) {
      this.d.logger.warn("telemetry not sampled", { error: errorText(err) });
    }
    this.scheduleTelemetry(this.d.mqtt.telemetry_interval_s * 1000);
  }
}
