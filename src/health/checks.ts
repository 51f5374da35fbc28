/**
 * The site's health (contract: `health_check`, `state.health`, the LEDs and the page): one small
 * pure function per check over a snapshot of the site, each giving a status and a reason in plain
 * words. No I/O here: the snapshot is gathered by {@link HealthInput}'s producer.
 *
 *   overall  failed    the site cannot carry SMS: no modem ready, or the databases not writable
 *            degraded  any check not ok (an upstream unreachable, a modem faulted, a full disk...)
 *            ok        everything ok
 */
import type { ModemStateName } from "../core/events.js";

export type CheckStatus = "ok" | "degraded" | "failed";

export interface HealthCheck {
  name: string;
  status: CheckStatus;
  reason: string;
}

export interface HealthReport {
  healthy: boolean;
  status: CheckStatus;
  checks: HealthCheck[];
}

export interface HealthInput {
  /** ms since the epoch. */
  now: number;
  modems: { id: string; state: ModemStateName; bars: number | null; last_error: string | null }[];
  /** Configured modem entries (0 with discovery: every modem found is used). */
  configuredModems: number;
  sms: { pending: number; oldest_pending_s: number | null };
  /** ms since the epoch of the last SMS the network took / of the last SMS received; null: none since start. */
  lastSentAt: number | null;
  lastReceivedAt: number | null;
  /** ms since the epoch the site started (what "since start" means above). */
  startedAt: number;
  /** Absent: no SIP upstream configured. */
  upstreams?: { uri: string; reachable: boolean | null; registered: boolean; register: boolean }[];
  /** The databases accepted a write just now. */
  storageWritable: boolean;
  disk: { free_bytes: number; total_bytes: number } | null;
  temperature_c: number | null;
  /**
   * `under_voltage_occurred`: seen in any sample since the site started (the kernel's own sticky
   * bits cover only its last 2 s poll, docs/system-figures.md).
   */
  power: { under_voltage_now: boolean; under_voltage_occurred: boolean; throttled_now: boolean } | null;
}

/** Thresholds, documented in docs/noc.md ("Health checks"). */
export const HEALTH_LIMITS = {
  /** A modem with at most this many signal bars (0–5) is weak. */
  weakBars: 1,
  /** The oldest SMS waiting longer than this is late, s. */
  queueAgeS: 15 * 60,
  /** SMS waiting and nothing sent for this long: sending is stuck, ms. */
  sendSilenceMs: 30 * 60_000,
  /** No SMS received for this long with a modem ready: worth a look, ms. */
  receiveSilenceMs: 24 * 3600_000,
  /** Free disk below this share is low, below the second nearly full (both degraded). */
  diskLowShare: 0.1,
  diskFullShare: 0.02,
  /** °C at or above which the board is hot. */
  hotC: 80,
} as const;

const ago = (ms: number): string => {
  const s = Math.round(ms / 1000);
  if (s < 120) return `${s} s ago`;
  if (s < 7200) return `${Math.round(s / 60)} min ago`;
  return `${Math.round(s / 3600)} h ago`;
};

export function checkModems(i: HealthInput): HealthCheck {
  const ready = i.modems.filter((m) => m.state === "ready");
  const expected = Math.max(i.configuredModems, i.modems.length);
  if (ready.length === 0) {
    const why =
      i.modems.length === 0 ? "no modem found" : i.modems.map((m) => `${m.id} ${m.state}`).join(", ");
    return {
      name: "modems",
      status: "failed",
      reason: `no modem ready (${why}): no SMS can be sent or received`,
    };
  }
  if (ready.length < expected) {
    const down = i.modems.filter((m) => m.state !== "ready").map((m) => `${m.id} ${m.state}`);
    const missing = expected - i.modems.length;
    if (missing > 0) down.push(`${missing} not found`);
    return {
      name: "modems",
      status: "degraded",
      reason: `${ready.length} of ${expected} ready (${down.join(", ")})`,
    };
  }
  return { name: "modems", status: "ok", reason: `${ready.length} of ${expected} ready` };
}

export function checkSignal(i: HealthInput): HealthCheck {
  const weak = i.modems.filter(
    (m) => m.state === "ready" && m.bars !== null && m.bars <= HEALTH_LIMITS.weakBars,
  );
  if (weak.length > 0) {
    return {
      name: "signal",
      status: "degraded",
      reason: `weak signal: ${weak.map((m) => `${m.id} ${m.bars} bar${m.bars === 1 ? "" : "s"}`).join(", ")} (check the antenna)`,
    };
  }
  const known = i.modems.filter((m) => m.state === "ready" && m.bars !== null);
  if (known.length === 0)
    return { name: "signal", status: "ok", reason: "no ready modem has reported its signal yet" };
  return { name: "signal", status: "ok", reason: known.map((m) => `${m.id} ${m.bars}/5`).join(", ") };
}

export function checkQueue(i: HealthInput): HealthCheck {
  const age = i.sms.oldest_pending_s;
  if (i.sms.pending === 0 || age === null)
    return { name: "sms_queue", status: "ok", reason: "no SMS waiting" };
  const reason = `${i.sms.pending} SMS waiting, the oldest for ${Math.round(age / 60)} min`;
  return { name: "sms_queue", status: age > HEALTH_LIMITS.queueAgeS ? "degraded" : "ok", reason };
}

export function checkLastSend(i: HealthInput): HealthCheck {
  const last = i.lastSentAt;
  const text = last === null ? "none sent since start" : `last sent ${ago(i.now - last)}`;
  const since = last ?? i.startedAt;
  if (i.sms.pending > 0 && i.now - since > HEALTH_LIMITS.sendSilenceMs) {
    return { name: "last_send", status: "degraded", reason: `SMS waiting but ${text}` };
  }
  return { name: "last_send", status: "ok", reason: text };
}

export function checkLastReceive(i: HealthInput): HealthCheck {
  const last = i.lastReceivedAt;
  const text = last === null ? "none received since start" : `last received ${ago(i.now - last)}`;
  const since = last ?? i.startedAt;
  const anyReady = i.modems.some((m) => m.state === "ready");
  if (anyReady && i.now - since > HEALTH_LIMITS.receiveSilenceMs) {
    return {
      name: "last_receive",
      status: "degraded",
      reason: `${text}: check that the modems still receive`,
    };
  }
  return { name: "last_receive", status: "ok", reason: text };
}

export function checkUpstream(i: HealthInput): HealthCheck | undefined {
  if (i.upstreams === undefined || i.upstreams.length === 0) return undefined;
  const reachable = i.upstreams.filter((u) => u.reachable === true);
  const unregistered = i.upstreams.filter((u) => u.reachable === true && u.register && !u.registered);
  if (reachable.length === 0) {
    const unknown = i.upstreams.every((u) => u.reachable === null);
    return {
      name: "sip_upstream",
      status: unknown ? "ok" : "degraded",
      reason: unknown
        ? "not probed yet"
        : "no SIP upstream answers: SMS to the core wait on disk, local delivery goes on",
    };
  }
  if (unregistered.length > 0) {
    return {
      name: "sip_upstream",
      status: "degraded",
      reason: `not registered at ${unregistered.map((u) => u.uri).join(", ")}`,
    };
  }
  const down = i.upstreams.filter((u) => u.reachable === false);
  if (down.length > 0) {
    return {
      name: "sip_upstream",
      status: "degraded",
      reason: `${reachable[0]?.uri} answers; down: ${down.map((u) => u.uri).join(", ")}`,
    };
  }
  return {
    name: "sip_upstream",
    status: "ok",
    reason: `${reachable.map((u) => u.uri).join(", ")} answering`,
  };
}

export function checkStorage(i: HealthInput): HealthCheck {
  if (!i.storageWritable) {
    return {
      name: "storage",
      status: "failed",
      reason: "the databases cannot be written: nothing can be accepted",
    };
  }
  return { name: "storage", status: "ok", reason: "writable" };
}

export function checkDisk(i: HealthInput): HealthCheck | undefined {
  if (i.disk === null || i.disk.total_bytes === 0) return undefined;
  const share = i.disk.free_bytes / i.disk.total_bytes;
  const reason = `${(100 * share).toFixed(1)} % free (${Math.round(i.disk.free_bytes / 1048576)} MB)`;
  // Not "failed": the storage check says whether a write still works.
  if (share < HEALTH_LIMITS.diskFullShare)
    return { name: "disk", status: "degraded", reason: `${reason}: nearly full` };
  if (share < HEALTH_LIMITS.diskLowShare)
    return { name: "disk", status: "degraded", reason: `${reason}: low` };
  return { name: "disk", status: "ok", reason };
}

export function checkTemperature(i: HealthInput): HealthCheck | undefined {
  if (i.temperature_c === null) return undefined;
  const reason = `${i.temperature_c.toFixed(1)} °C`;
  if (i.temperature_c >= HEALTH_LIMITS.hotC) {
    return { name: "temperature", status: "degraded", reason: `${reason}: too hot (shade, ventilation)` };
  }
  return { name: "temperature", status: "ok", reason };
}

export function checkPower(i: HealthInput): HealthCheck | undefined {
  if (i.power === null) return undefined;
  if (i.power.under_voltage_now) {
    return {
      name: "power",
      status: "degraded",
      reason: "under-voltage now: the supply is too weak (USB modems brown out; check the power supply)",
    };
  }
  if (i.power.throttled_now) return { name: "power", status: "degraded", reason: "the CPU is throttled now" };
  if (i.power.under_voltage_occurred) {
    return { name: "power", status: "ok", reason: "under-voltage seen since the site started (not now)" };
  }
  return { name: "power", status: "ok", reason: "no under-voltage seen since the site started" };
}

const CHECKS = [
  checkModems,
  checkSignal,
  checkQueue,
  checkLastSend,
  checkLastReceive,
  checkUpstream,
  checkStorage,
  checkDisk,
  checkTemperature,
  checkPower,
];

/** Runs every check that applies; `failed` only through the modems or storage checks, as the contract says. */
export function evaluateHealth(i: HealthInput): HealthReport {
  const checks = CHECKS.map((c) => c(i)).filter((c): c is HealthCheck => c !== undefined);
  const failed = checks.some((c) => c.status === "failed" && (c.name === "modems" || c.name === "storage"));
  const status: CheckStatus = failed ? "failed" : checks.every((c) => c.status === "ok") ? "ok" : "degraded";
  return { healthy: status === "ok", status, checks };
}
