/**
 * The SMS path: a durable queue that sends every accepted SMS once through the modems, and stores every
 * received one once. The SIP, MQTT and web layers call {@link SmsService.enqueue} and listen to the bus
 * (`sms_sent`, `sms_failed`, `sms_received`, `delivery_report`).
 *
 *   enqueue ─► checks ─► batch ─► one SQLite transaction (fsync) ─► resolves {id} ─► scheduler ─► wake
 *   sender per modem:  ready? limits? ─► scheduler.take ─► AT+CMGS=<n> ─► "> " ─► markHanded (fsync)
 *                      ─► PDU + Ctrl-Z ─► +CMGS: <mr> ─► markSent ─► sms_sent
 *   inbox per modem:   +CMTI ─► AT+CMGR ─► store (fsync) ─► AT+CMGD        (+CMT ─► store ─► AT+CNMA)
 *                      sweep: AT+CMGL=4 at ready and every sms.sweep_interval_s, and when storage is full
 *                      +CDS / +CDSI ─► status report ─► (modem, TP-MR) ─► delivered / failed
 *
 * docs/sms.md describes the states, the retry rules and the one window where an SMS could go twice.
 */
import type { AtCommandOptions, AtResponse } from "../at/channel.js";
import type { ModemConfig, NetworkConfig, SmsConfig } from "../config/types.js";
import { errorText, isSiteError, SiteError } from "../core/errors.js";
import type { EventBus, ModemStateName } from "../core/events.js";
import type { Logger } from "../core/logger.js";
import type { ModemProfile } from "../modem/profile.js";
import { Waker } from "../modem/waker.js";
import { classifySendFailure, type SendFailure } from "./cmsClass.js";
import { newMessageId } from "./ids.js";
import { type DecodedPdu, decodePdu } from "./pdu/deliver.js";
import { encodeSubmit } from "./pdu/submit.js";
import { type Job, type JobPart, routeNumber, Scheduler } from "./scheduler.js";
import type { InMessageRow, NewOutgoing, OutMessageRow, SmsStore } from "./store.js";
import { cleanNumber, NUMBER_PATTERN, truncateToParts } from "./text.js";

/** What the SMS path needs of a modem slot. */
export interface SmsModem {
  readonly id: string;
  readonly state: ModemStateName;
  readonly profile: ModemProfile | undefined;
  readonly config: ModemConfig;
  at(command: string, opts?: AtCommandOptions): Promise<AtResponse>;
}

export interface SmsModems {
  list(): SmsModem[];
  get(id: string): SmsModem | undefined;
}

export interface SmsServiceDeps {
  sms: SmsConfig;
  networks: NetworkConfig[];
  store: SmsStore;
  modems: SmsModems;
  bus: EventBus;
  logger: Logger;
  /** ms since the epoch; injectable for tests. */
  now?: () => number;
}

export interface SendRequest {
  to: string;
  text: string;
  /** Who asks: `sip`, `mqtt`, `web`, `service`... */
  source: string;
  /** Idempotency key within `source` (SIP Call-ID, MQTT transaction): a repeat returns the first id. */
  sourceRef?: string;
  /** Kept with the message for replies and delivery notices. */
  origin?: unknown;
  /** Only this modem may send it. */
  modem?: string;
}

export interface SendAccepted {
  id: string;
  parts: number;
  truncated: boolean;
  /** The request repeated an earlier one (same source and sourceRef): nothing new was queued. */
  existing: boolean;
}

export interface SmsStatus {
  id: string;
  state: OutMessageRow["state"];
  parts: number;
  modem: string | null;
  to: string;
  created_at: string;
  error?: string;
  code?: string;
}

/** A modem that refuses to send (SIM, subscription) this many times in a row is rested. */
const MODEM_FAILURES_BEFORE_PAUSE = 3;
const MODEM_PAUSE_MS = 60_000;
/** A message a modem refused for modem reasons is not offered to it again for this long. */
const MODEM_EXCLUSION_MS = 10 * 60_000;
/** Housekeeping tick: expiry, failover, reassembly timeouts. */
const TICK_MS = 1000;

interface Inflight {
  job: Job;
  part: JobPart;
  handed: boolean;
  /** Settled by a stop past its deadline: the late answer is ignored. */
  abandoned: boolean;
  done: Promise<void>;
}

export class SmsService {
  private readonly scheduler: Scheduler;
  private readonly senders = new Map<string, ModemSender>();
  private readonly inboxes = new Map<string, ModemInbox>();
  private readonly notReadySince = new Map<string, number>();
  private batch: {
    rec: NewOutgoing;
    resolve: (r: SendAccepted) => void;
    reject: (e: unknown) => void;
    truncated: boolean;
  }[] = [];
  private flushing = false;
  private reference = Math.floor(Math.random() * 256);
  private stopping = false;
  private started = false;
  private prunedAt = 0;
  private ticks = 0;
  /** The last `out_messages.seq` given out (seqs are assigned here, before the commit). */
  private nextSeq: number | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly unsubscribe: (() => void)[] = [];
  readonly now: () => number;
  readonly log: Logger;

  constructor(readonly d: SmsServiceDeps) {
    this.now = d.now ?? Date.now;
    this.log = d.logger;
    this.scheduler = new Scheduler(d.networks);
  }

  // ── lifecycle ───────────────────────────────────────────────────────────────────────────────

  /** Loads the open queue, settles what a crash left in the modem's hands, starts senders and inboxes. */
  start(): void {
    if (this.started) return;
    this.started = true;
    const now = this.now();
    const settled = this.d.store.settleHanded(
      "the controller stopped after the modem took the SMS and before it confirmed: not resent",
      now,
    );
    for (const seq of settled) {
      const m = this.d.store.messageBySeq(seq);
      if (!m) continue;
      this.log.warn(`SMS ${m.id}: outcome unknown after a restart (it may have been sent): not resent`, {
        to: m.to,
      });
      this.d.bus.emit("sms_failed", {
        id: m.id,
        to: m.to,
        code: "sms.unknown",
        error: m.error ?? "outcome unknown",
      });
    }
    for (const m of this.d.store.openMessages()) this.scheduler.add(jobOf(m));
    this.log.info(`SMS queue loaded: ${this.scheduler.size} open`, { unknown_after_restart: settled.length });
    this.unsubscribe.push(
      this.d.bus.on("modem_state", ({ modem, state }) => {
        if (state === "ready") this.notReadySince.delete(modem);
        else if (!this.notReadySince.has(modem)) this.notReadySince.set(modem, this.now());
        this.ensureModem(modem);
        this.senders.get(modem)?.wake();
        if (state === "ready") this.inboxes.get(modem)?.onReady();
      }),
      this.d.bus.on("modem_urc", ({ modem, line, extra }) => {
        this.ensureModem(modem);
        this.inboxes.get(modem)?.onUrc(line, extra);
      }),
    );
    for (const m of this.d.modems.list()) this.ensureModem(m.id);
    this.timer = setInterval(() => this.tick(), TICK_MS);
    this.timer.unref();
  }

  /**
   * Stops taking work; waits for the `AT+CMGS` in flight until `deadline` (ms since the epoch); a send
   * still unanswered then, whose PDU the modem holds, is marked `unknown` (never resent blindly).
   */
  async stop(deadline: number = Date.now() + 8000): Promise<void> {
    if (!this.started || this.stopping) return;
    this.stopping = true;
    if (this.timer) clearInterval(this.timer);
    for (const u of this.unsubscribe) u();
    await this.flush();
    for (const s of this.senders.values()) s.wake();
    const inflight = [...this.senders.values()].map((s) => s.inflight).filter((x): x is Inflight => !!x);
    if (inflight.length > 0) {
      this.log.info(`waiting for ${inflight.length} SMS in the modems' hands`);
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.all(inflight.map((i) => i.done)),
        new Promise<void>((r) => {
          timer = setTimeout(r, Math.max(0, deadline - Date.now()));
        }),
      ]);
      clearTimeout(timer);
    }
    for (const s of this.senders.values()) {
      const i = s.inflight;
      if (!i || i.abandoned) continue;
      i.abandoned = true;
      if (i.handed) {
        this.d.store.markUnknown(
          i.job.seq,
          "stopped before the modem confirmed the SMS: not resent",
          this.now(),
        );
        this.emitFailed(i.job, "sms.unknown", "stopped before the modem confirmed the SMS: not resent");
      }
    }
    await Promise.all([...this.senders.values()].map((s) => s.stopped()));
    for (const i of this.inboxes.values()) i.stop();
    // An inbox operation under way (a read, a store, a delete) ends before the fleet closes the ports.
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all([...this.inboxes.values()].map((i) => i.idle())),
      new Promise((r) => {
        timer = setTimeout(r, Math.max(0, deadline - Date.now()));
      }),
    ]);
    clearTimeout(timer);
  }

  // ── enqueue ─────────────────────────────────────────────────────────────────────────────────

  /**
   * Accepts an SMS: checks it, stores it durably (its id comes back only once it is on disk) and queues
   * it. Throws `sms.invalid`, `sms.too_long` (detail `{parts, max_parts}`), `sms.queue_full`, `sms.storage`.
   */
  enqueue(req: SendRequest): Promise<SendAccepted> {
    try {
      const { rec, truncated } = this.prepare(req);
      return new Promise<SendAccepted>((resolve, reject) => {
        this.batch.push({ rec, resolve, reject, truncated });
        if (this.batch.length === 1 && !this.flushing) setImmediate(() => void this.flush());
      });
    } catch (err) {
      return Promise.reject(err);
    }
  }

  private prepare(req: SendRequest): { rec: NewOutgoing; truncated: boolean } {
    const { sms } = this.d;
    if (this.stopping) throw new SiteError("sms.queue_full", "the site is stopping: not accepting SMS");
    if (typeof req.to !== "string" || typeof req.text !== "string")
      throw new SiteError("sms.invalid", "to and text must be strings");
    const to = cleanNumber(req.to);
    if (!NUMBER_PATTERN.test(to))
      throw new SiteError(
        "sms.invalid",
        `to: "${req.to}" is not a phone number (+ and digits, or digits, * and #)`,
      );
    if (req.text.length === 0) throw new SiteError("sms.invalid", "text: empty");
    if (req.modem !== undefined && !this.d.modems.get(req.modem))
      throw new SiteError("sms.invalid", `modem: no modem "${req.modem}" on this site`);
    const pending = this.scheduler.size + this.batch.length;
    if (pending >= sms.queue_limit)
      throw new SiteError(
        "sms.queue_full",
        `the queue holds ${pending} SMS (sms.queue_limit ${sms.queue_limit})`,
        {
          detail: { pending, queue_limit: sms.queue_limit },
        },
      );
    let text = req.text;
    let truncated = false;
    const limit = sms.max_parts;
    let encoded: ReturnType<typeof encodeSubmit>;
    const encode = (t: string) =>
      encodeSubmit({
        to,
        text: t,
        reference: this.reference,
        statusReport: sms.delivery_reports,
        maxParts: limit,
        ...(sms.validity_minutes > 0 ? { validityMinutes: sms.validity_minutes } : {}),
      });
    try {
      encoded = encode(text);
    } catch (err) {
      if (!isSiteError(err, "sms.encode") || err.detail.parts === undefined) {
        throw new SiteError("sms.invalid", errorText(err), { cause: err });
      }
      if (sms.too_long === "reject")
        throw new SiteError(
          "sms.too_long",
          `text needs ${err.detail.parts} SMS parts, more than sms.max_parts (${limit})`,
          { detail: { parts: err.detail.parts, max_parts: limit } },
        );
      text = truncateToParts(text, limit);
      truncated = true;
      encoded = encode(text);
    }
    this.reference = (this.reference + 1) % 256;
    const now = this.now();
    const rec: NewOutgoing = {
      id: newMessageId(now),
      source: req.source,
      sourceRef: req.sourceRef,
      origin: req.origin,
      to,
      text,
      network: routeNumber(to, this.d.networks, sms.default_network),
      encoding: encoded.encoding,
      truncated,
      statusReport: sms.delivery_reports,
      wantModem: req.modem,
      parts: encoded.parts,
      createdAt: now,
      expiresAt: now + sms.expiry_s * 1000,
    };
    return { rec, truncated };
  }

  /**
   * Commits the pending batch in one transaction (one fsync) and answers the callers.
   *
   * Pipelined: the new messages are offered to the senders *before* the commit, so a free modem gets
   * its `AT+CMGS=<n>` while the disk is still confirming (the serial write runs on libuv's thread pool
   * during better-sqlite3's synchronous commit). The PDU itself still waits: it is written only after
   * the prompt, whose callback runs on this thread after the commit, and refuses a message whose
   * commit is not done (`committed`), so nothing is ever typed for a message that is not on disk.
   */
  private async flush(): Promise<void> {
    if (this.flushing) return;
    this.flushing = true;
    try {
      while (this.batch.length > 0) {
        const items = this.batch;
        this.batch = [];
        const store = this.d.store;
        // Repeats (same source and sourceRef, earlier or in this batch) are not offered to the senders.
        const refs = new Set<string>();
        const fresh: Job[] = [];
        let settle: { ok: () => void; fail: (e: unknown) => void } = { ok: () => {}, fail: () => {} };
        const commit = new Promise<void>((ok, fail) => {
          settle = { ok, fail };
        });
        commit.catch(() => {});
        for (const item of items) {
          const key =
            item.rec.sourceRef === undefined ? undefined : `${item.rec.source}\u0000${item.rec.sourceRef}`;
          if (
            key !== undefined &&
            (refs.has(key) || store.hasSourceRef(item.rec.source, item.rec.sourceRef!))
          )
            continue;
          if (key !== undefined) refs.add(key);
          this.nextSeq ??= store.lastSeq();
          item.rec.seq = ++this.nextSeq;
          const job = newJob(item.rec, item.rec.seq);
          job.commit = commit;
          fresh.push(job);
          this.scheduler.add(job);
        }
        if (fresh.length > 0) {
          for (const s of this.senders.values()) s.wake();
          // The woken senders take their jobs and write AT+CMGS=<n> before the commit blocks this thread.
          await new Promise((r) => setImmediate(r));
        }
        let results: ReturnType<SmsStore["insertOutgoing"]>;
        try {
          results = store.insertOutgoing(items.map((i) => i.rec));
        } catch (err) {
          const e = new SiteError("sms.storage", `cannot store the SMS: ${errorText(err)}`, { cause: err });
          this.log.error(e.message);
          for (const job of fresh) this.scheduler.remove(job.seq);
          settle.fail(new SiteError("at.aborted", `not typed: ${e.message}`));
          for (const i of items) i.reject(e);
          continue;
        }
        for (const job of fresh) job.commit = undefined;
        settle.ok();
        for (const [k, r] of results.entries()) {
          const item = items[k]!;
          item.resolve({ id: r.id, parts: r.parts, truncated: item.truncated, existing: r.existing });
        }
        // Let the resolved callers run (and enqueue more) before the next batch.
        await new Promise((r) => setImmediate(r));
      }
    } finally {
      this.flushing = false;
    }
  }

  // ── queries ─────────────────────────────────────────────────────────────────────────────────

  status(id: string): SmsStatus | undefined {
    const m = this.d.store.message(id);
    if (!m) return undefined;
    return {
      id: m.id,
      state: m.state,
      parts: m.parts.length,
      modem: m.modem,
      to: m.to,
      created_at: new Date(m.createdAt).toISOString(),
      ...(m.error ? { error: m.error } : {}),
      ...(m.errorCode ? { code: m.errorCode } : {}),
    };
  }

  /** Queue figures for `state` and `/metrics`. */
  stats(): {
    pending: number;
    oldest_pending_s: number | null;
    by_state: Record<string, number>;
    incoming: { messages: number; waiting_parts: number; undecodable: number };
  } {
    const q = this.d.store.stats();
    const i = this.d.store.incomingStats();
    return {
      pending: q.pending,
      oldest_pending_s:
        q.oldestPendingAt === null ? null : Math.round((this.now() - q.oldestPendingAt) / 1000),
      by_state: q.byState,
      incoming: { messages: i.messages, waiting_parts: i.waitingParts, undecodable: i.undecodable },
    };
  }

  // ── internals shared with senders and inboxes ────────────────────────────────────────────────

  private ensureModem(id: string): void {
    if (this.stopping || this.senders.has(id)) return;
    const sender = new ModemSender(this, this.scheduler, id);
    this.senders.set(id, sender);
    this.inboxes.set(id, new ModemInbox(this, id));
    sender.start();
    const m = this.d.modems.get(id);
    if (m && m.state !== "ready") this.notReadySince.set(id, this.now());
  }

  get isStopping(): boolean {
    return this.stopping;
  }

  emitFailed(job: Job, code: string, error: string): void {
    this.d.bus.emit("sms_failed", { id: job.id, to: job.to, code, error });
  }

  private tick(): void {
    const now = this.now();
    const { sms } = this.d;
    try {
      if (now - this.prunedAt > 3_600_000) {
        this.prunedAt = now;
        this.d.store.pruneHandovers(now - 2 * 86_400_000);
        const gone = this.d.store.prune(now - sms.retention_days * 86_400_000);
        if (gone > 0) this.log.info(`deleted ${gone} SMS rows older than ${sms.retention_days} days`);
      }
      // Expiry: messages nothing was sent of, past their time.
      for (const job of [...this.scheduler.all()]) {
        if (job.inflight || job.expiresAt > now) continue;
        if (job.parts.some((p) => p.state !== "queued")) continue;
        this.d.store.expire(job.seq, now);
        this.scheduler.remove(job.seq);
        this.log.warn(`SMS ${job.id} expired unsent`, { to: job.to });
        this.emitFailed(job, "sms.expired", `not sent within sms.expiry_s (${sms.expiry_s} s)`);
      }
      // Failover: a half-sent message whose modem has been gone too long is sent whole elsewhere.
      for (const [modem, since] of this.notReadySince) {
        if (now - since < sms.failover_after_s * 1000) continue;
        for (const job of this.scheduler.boundBy(modem)) {
          if (job.inflight || job.wantModem === modem) continue;
          if (!job.parts.some((p) => p.state === "queued")) continue;
          this.d.store.rebind(job.seq, now);
          this.scheduler.unbind(job);
          for (const p of job.parts) p.state = "queued";
          job.nextAt = now;
          this.log.warn(
            `SMS ${job.id}: modem ${modem} stopped halfway through it; sending it whole through another modem`,
          );
          for (const s of this.senders.values()) s.wake();
        }
      }
      // Incoming parts waiting too long for the rest (a query: every 10 s is precise enough).
      if (++this.ticks % 10 !== 0) return;
      const stale = this.d.store.assembleStale(
        now - sms.reassembly_timeout_s * 1000,
        () => newMessageId(now),
        () => null,
        now,
      );
      for (const m of stale) {
        this.log.warn(
          `incoming SMS ${m.id}: ${m.missing} of ${m.parts} parts never came; delivered without them`,
        );
        this.emitReceived(m);
      }
    } catch (err) {
      this.log.error(`SMS housekeeping failed: ${errorText(err)}`);
    }
  }

  /**
   * A status report proved that a part left `unknown` by a crash did go: the message counts as sent
   * (late `sms_sent`), and a multipart message halted there resumes with its remaining parts.
   */
  onUnknownResolved(seq: number, modem: string, resumable: boolean): void {
    const m = this.d.store.messageBySeq(seq);
    if (!m) return;
    this.log.info(`SMS ${m.id}: a status report shows the part the crash left unknown did go`, { modem });
    if (resumable) {
      const job = jobOf(m);
      job.modem = modem;
      this.scheduler.add(job);
      for (const s of this.senders.values()) s.wake();
    } else if (m.state === "sent" || m.state === "delivered") {
      this.d.bus.emit("sms_sent", { id: m.id, modem, to: m.to, parts: m.parts.length });
    }
  }

  /** A message settled outside the senders (a negative report): no part of it is sent any more. */
  forget(seq: number): void {
    this.scheduler.remove(seq);
  }

  emitReceived(m: InMessageRow): void {
    this.d.bus.emit("sms_received", {
      id: m.id,
      modem: m.modem,
      from: m.from,
      to: m.to,
      text: m.text,
      parts: m.parts,
      missing_parts: m.missing,
      received_at: new Date(m.receivedAt).toISOString(),
    });
  }
}

function newJob(m: NewOutgoing, seq: number): Job {
  return {
    seq,
    id: m.id,
    to: m.to,
    network: m.network,
    wantModem: m.wantModem ?? null,
    modem: null,
    boundAt: null,
    nextAt: m.createdAt,
    expiresAt: m.expiresAt,
    parts: m.parts.map((p, i) => ({
      part: i + 1,
      pdu: p.pdu,
      tpduLength: p.tpduLength,
      state: "queued",
      attempts: 0,
    })),
    inflight: false,
    excluded: new Map(),
  };
}

function jobOf(m: OutMessageRow): Job {
  return {
    seq: m.seq,
    id: m.id,
    to: m.to,
    network: m.network,
    wantModem: m.wantModem,
    modem: m.parts.some((p) => p.state === "sent") ? m.modem : null,
    boundAt: m.boundAt,
    nextAt: m.nextAt,
    expiresAt: m.expiresAt,
    parts: m.parts.map((p) => ({
      part: p.part,
      pdu: p.pdu,
      tpduLength: p.tpduLength,
      state: p.state,
      attempts: p.attempts,
    })),
    inflight: false,
    excluded: new Map(),
  };
}

// ── sending ─────────────────────────────────────────────────────────────────────────────────────

/** One modem's sending loop: one `AT+CMGS` at a time, as fast as the modem answers. */
class ModemSender {
  private readonly waker = new Waker();
  private loop: Promise<void> | undefined;
  inflight: Inflight | undefined;
  /** Hand times of the last minute (rate limit). */
  private readonly recent: number[] = [];
  private day = { start: 0, count: 0 };
  private modemFailures = 0;
  private pausedUntil = 0;

  constructor(
    private readonly svc: SmsService,
    private readonly scheduler: Scheduler,
    readonly modem: string,
  ) {}

  start(): void {
    this.loop ??= this.run();
  }

  wake(): void {
    this.waker.wake();
  }

  async stopped(): Promise<void> {
    this.waker.wake();
    await this.loop;
  }

  private get log(): Logger {
    return this.svc.log;
  }

  private async run(): Promise<void> {
    while (!this.svc.isStopping) {
      try {
        const m = this.svc.d.modems.get(this.modem);
        if (m?.state !== "ready") {
          await this.waker.sleep(5000);
          continue;
        }
        const now = this.svc.now();
        const wait = Math.max(this.limitWait(now, m.config), this.pausedUntil - now);
        if (wait > 0) {
          await this.waker.sleep(wait);
          continue;
        }
        const r = this.scheduler.take({ modem: this.modem, networks: m.config.networks }, now);
        if (!r.job) {
          await this.waker.sleep(r.wakeAt === undefined ? 30_000 : Math.max(1, r.wakeAt - now));
          continue;
        }
        await this.send(m, r.job, r.part);
      } catch (err) {
        this.log.error(`SMS sender of modem ${this.modem} failed: ${errorText(err)}`);
        await this.waker.sleep(1000);
      }
    }
  }

  /** How long the modem's rate limit or daily cap holds it back, ms (0: free). */
  private limitWait(now: number, cfg: ModemConfig): number {
    if (cfg.daily_limit > 0) {
      const start = startOfLocalDay(now);
      if (this.day.start !== start)
        this.day = { start, count: this.svc.d.store.handedSince(this.modem, start) };
      if (this.day.count >= cfg.daily_limit) return start + 86_400_000 - now + 1000;
    }
    if (cfg.rate_per_minute > 0) {
      while (this.recent.length > 0 && this.recent[0]! <= now - 60_000) this.recent.shift();
      if (this.recent.length >= cfg.rate_per_minute) return this.recent[0]! + 60_000 - now;
    }
    return 0;
  }

  private async send(m: SmsModem, job: Job, part: JobPart): Promise<void> {
    const store = this.svc.d.store;
    let resolveDone: () => void = () => {};
    const inflight: Inflight = {
      job,
      part,
      handed: false,
      abandoned: false,
      done: new Promise<void>((r) => {
        resolveDone = r;
      }),
    };
    this.inflight = inflight;
    try {
      let response: AtResponse;
      try {
        response = await m.at(`AT+CMGS=${part.tpduLength}`, {
          payload: part.pdu,
          prefix: "+CMGS:",
          timeoutMs: m.profile?.timeouts.cmgs ?? 60_000,
          onPrompt: () => {
            const hand = () => {
              // Past the stop deadline nothing new is handed over: the prompt is left with ESC.
              if (inflight.abandoned) throw new SiteError("at.aborted", "stopping: the PDU is not typed");
              const at = this.svc.now();
              store.markHanded(job.seq, part.part, this.modem, at);
              inflight.handed = true;
              part.state = "sending";
              part.attempts++;
              this.scheduler.bind(job, this.modem, at);
              this.recent.push(at);
              this.day.count++;
            };
            // A message whose row is still being committed: the PDU waits for the commit (milliseconds).
            if (job.commit) return job.commit.then(hand);
            hand();
          },
        });
      } catch (err) {
        if (!inflight.abandoned) this.onFailure(job, part, err, inflight.handed);
        return;
      }
      if (inflight.abandoned) return;
      const line = response.lines.find((l) => l.startsWith("+CMGS:")) ?? "";
      const mr = /^\+CMGS:\s*(\d+)/.exec(line);
      const now = this.svc.now();
      const state = store.markSent(job.seq, part.part, mr ? Number(mr[1]) : -1, now);
      part.state = "sent";
      this.modemFailures = 0;
      this.log.debug(`SMS ${job.id} part ${part.part}/${job.parts.length} sent, TP-MR ${mr?.[1] ?? "?"}`);
      if (state !== "sending" && state !== "sent") {
        // Settled meanwhile (a negative status report of an earlier part failed the message).
        this.scheduler.remove(job.seq);
      } else if (state === "sent") {
        this.scheduler.remove(job.seq);
        this.log.info(`SMS ${job.id} sent through ${this.modem}`, { to: job.to, parts: job.parts.length });
        this.svc.d.bus.emit("sms_sent", {
          id: job.id,
          modem: this.modem,
          to: job.to,
          parts: job.parts.length,
        });
      }
    } finally {
      job.inflight = false;
      this.inflight = undefined;
      resolveDone();
    }
  }

  private onFailure(job: Job, part: JobPart, err: unknown, handed: boolean): void {
    const store = this.svc.d.store;
    const sms = this.svc.d.sms;
    const now = this.svc.now();
    const text = errorText(err);
    const noAnswer =
      isSiteError(err, "at.timeout") || isSiteError(err, "at.closed") || isSiteError(err, "serial.write");
    if (noAnswer && handed) {
      // The modem holds the PDU and never said what became of it: it may have gone. Never resent blindly.
      store.markUnknown(job.seq, `no answer after the PDU was handed to the modem: ${text}`, now);
      this.scheduler.remove(job.seq);
      this.log.warn(`SMS ${job.id}: modem ${this.modem} took the PDU but never answered; outcome unknown`, {
        to: job.to,
      });
      this.svc.emitFailed(job, "sms.unknown", `modem ${this.modem} took the SMS but never confirmed it`);
      return;
    }
    if (noAnswer || isSiteError(err, "at.aborted") || !isSiteError(err)) {
      // Never typed: the modem went away, or the database refused the hand-over record. Offer it again.
      part.state = "queued";
      if (!job.parts.some((p) => p.state === "sent")) this.scheduler.unbind(job);
      this.log.warn(`SMS ${job.id} not handed to modem ${this.modem} (${text}): queued again`);
      this.pausedUntil = now + 1000;
      return;
    }
    const failure = sendFailureOf(err);
    const verdict = classifySendFailure(failure);
    const anySent = job.parts.some((p) => p.state === "sent");
    if (verdict.class === "permanent") {
      store.markFailed(job.seq, `cms.${failure.code ?? failure.kind}`, text, now);
      this.scheduler.remove(job.seq);
      this.log.warn(`SMS ${job.id} failed for good: ${text}`, { to: job.to });
      this.svc.emitFailed(job, `cms.${failure.code ?? failure.kind}`, `${verdict.reason} (${text})`);
      return;
    }
    if (verdict.class === "temporary" && part.attempts >= sms.max_attempts) {
      store.markFailed(job.seq, "sms.attempts", `${part.attempts} attempts failed, the last: ${text}`, now);
      this.scheduler.remove(job.seq);
      this.log.warn(`SMS ${job.id} failed after ${part.attempts} attempts: ${text}`, { to: job.to });
      this.svc.emitFailed(job, "sms.attempts", `${part.attempts} attempts failed, the last: ${text}`);
      return;
    }
    let nextAt = now;
    if (verdict.class === "temporary") {
      const exp = Math.min(sms.retry_base_s * 2 ** Math.max(0, part.attempts - 1), sms.retry_max_s);
      nextAt = now + exp * 1000;
    } else {
      // The modem (SIM, subscription) is the problem: another modem may take it at once.
      if (!anySent) job.excluded.set(this.modem, now + MODEM_EXCLUSION_MS);
      else nextAt = now + sms.retry_base_s * 1000;
      this.modemFailures++;
      if (this.modemFailures >= MODEM_FAILURES_BEFORE_PAUSE) {
        this.pausedUntil = now + MODEM_PAUSE_MS;
        this.log.warn(`modem ${this.modem} refused ${this.modemFailures} SMS in a row: rested for a minute`);
      }
    }
    store.markRetry(job.seq, part.part, nextAt, text);
    part.state = "queued";
    job.nextAt = nextAt;
    if (!anySent) this.scheduler.unbind(job);
    this.log.info(
      `SMS ${job.id} part ${part.part}: ${text}; retry in ${Math.round((nextAt - now) / 1000)} s`,
    );
  }
}

function sendFailureOf(err: unknown): SendFailure {
  if (isSiteError(err, "at.cms")) return { kind: "cms", code: Number(err.detail.number ?? -1) };
  if (isSiteError(err, "at.cme")) return { kind: "cme", code: Number(err.detail.number ?? -1) };
  if (isSiteError(err, "at.timeout")) return { kind: "timeout" };
  return { kind: "error" };
}

function startOfLocalDay(now: number): number {
  const d = new Date(now);
  d.setHours(0, 0, 0, 0);
  return d.getTime();
}

// ── receiving ───────────────────────────────────────────────────────────────────────────────────

/** One modem's inbound side: reads, stores, then deletes; one operation at a time. */
class ModemInbox {
  private chain: Promise<void> = Promise.resolve();
  private sweepTimer: NodeJS.Timeout | undefined;
  private sweeping = false;

  constructor(
    private readonly svc: SmsService,
    readonly modem: string,
  ) {}

  private get log(): Logger {
    return this.svc.log;
  }

  private modemHandle(): SmsModem | undefined {
    const m = this.svc.d.modems.get(this.modem);
    return m && (m.state === "ready" || m.state === "searching") ? m : undefined;
  }

  /** Runs `fn` after what is already queued for this modem. */
  /** Runs `fn` after what is already queued for this modem; `always` runs even when `fn` is skipped. */
  private enqueue(what: string, fn: (m: SmsModem) => Promise<void>, always?: () => void): void {
    this.chain = this.chain.then(async () => {
      try {
        if (this.svc.isStopping) return;
        const m = this.modemHandle();
        if (!m) return;
        await fn(m);
      } catch (err) {
        this.log.warn(`modem ${this.modem}: ${what} failed: ${errorText(err)}`);
      } finally {
        always?.();
      }
    });
  }

  stop(): void {
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    this.sweepTimer = undefined;
  }

  /** Resolves once the operations queued so far are done. */
  idle(): Promise<void> {
    return this.chain;
  }

  onReady(): void {
    this.sweep("the modem is ready");
    if (!this.sweepTimer) {
      this.sweepTimer = setInterval(
        () => this.sweep("periodic sweep"),
        this.svc.d.sms.sweep_interval_s * 1000,
      );
      this.sweepTimer.unref();
    }
  }

  sweep(reason: string): void {
    if (this.sweeping || this.svc.isStopping) return;
    this.sweeping = true;
    this.enqueue(
      "storage sweep",
      async (m) => {
        this.log.debug(`sweeping SMS storage of ${this.modem}: ${reason}`);
        const r = await m.at("AT+CMGL=4", { prefix: "+CMGL:", timeoutMs: 20_000 });
        const entries = parseListing(r.lines);
        for (const e of entries) {
          if (this.svc.isStopping) return;
          if (await this.process(m, e.pdu, e.stat)) await this.remove(m, e.index);
        }
      },
      () => {
        this.sweeping = false;
      },
    );
  }

  onUrc(line: string, pdu: string | undefined): void {
    const m = this.svc.d.modems.get(this.modem);
    const cmti = /^\+CMTI:\s*"?([A-Za-z]*)"?\s*,\s*(\d+)/.exec(line);
    if (cmti) {
      const index = Number(cmti[2]);
      this.enqueue(`reading SMS ${index}`, async (h) => this.readIndex(h, index));
      return;
    }
    const cdsi = /^\+CDSI:\s*"?([A-Za-z]*)"?\s*,\s*(\d+)/.exec(line);
    if (cdsi) {
      const index = Number(cdsi[2]);
      this.enqueue(`reading status report ${index}`, async (h) => this.readIndex(h, index));
      return;
    }
    if ((line.startsWith("+CMT:") || line.startsWith("+CDS:")) && pdu !== undefined) {
      const ack = m?.profile?.smsAck === true;
      this.enqueue("direct SMS", async (h) => {
        const ok = await this.process(h, pdu, undefined);
        if (ack) {
          if (ok) await h.at("AT+CNMA", { prefix: null });
          else this.log.warn("direct SMS not stored: not acknowledged, the network will send it again");
        }
      });
      return;
    }
    if (m?.profile?.storageFullUrcs.some((r) => r.test(line))) {
      this.log.warn(`modem ${this.modem}: SMS storage full (${line}); emptying it`);
      this.sweep("storage full");
    }
  }

  private async readIndex(m: SmsModem, index: number): Promise<void> {
    const r = await m.at(`AT+CMGR=${index}`, { prefix: "+CMGR:", timeoutMs: 10_000 });
    const head = r.lines.findIndex((l) => l.startsWith("+CMGR:"));
    const pdu = head >= 0 ? r.lines[head + 1] : undefined;
    if (pdu === undefined) {
      this.log.debug(`SMS ${index} of ${this.modem} is empty`);
      return;
    }
    const stat = Number(/^\+CMGR:\s*(\d+)/.exec(r.lines[head]!)?.[1] ?? -1);
    if (await this.process(m, pdu, stat)) await this.remove(m, index);
  }

  private async remove(m: SmsModem, index: number): Promise<void> {
    await m.at(`AT+CMGD=${index}`, { prefix: null, timeoutMs: 10_000 });
  }

  /**
   * Stores or applies one PDU. True when the modem's copy may be deleted: it is stored (or was
   * before), or it is something we keep no copy of (a type-0 SMS, a report for nothing we know).
   * False: leave it on the SIM (a stored SMS-SUBMIT, or the database refused the write).
   */
  private async process(m: SmsModem, pduLine: string, stat: number | undefined): Promise<boolean> {
    const pdu = pduLine.trim().toUpperCase();
    const now = this.svc.now();
    let decoded: DecodedPdu | undefined;
    let error: string | undefined;
    try {
      decoded = decodePdu(pdu);
    } catch (err) {
      error = errorText(err);
    }
    const store = this.svc.d.store;
    if (decoded?.kind === "submit") {
      // 27.005 stat 2/3: an SMS-SUBMIT kept on the SIM by someone else. Not ours to delete.
      this.log.debug(`modem ${this.modem}: stored SMS-SUBMIT (stat ${stat}) left on the SIM`);
      return false;
    }
    if (decoded?.kind === "status_report") {
      const since = now - this.svc.d.sms.report_window_s * 1000;
      const r = store.applyReport(
        this.modem,
        decoded.mr,
        since,
        {
          delivered: decoded.delivered,
          failed: decoded.failed,
          status: decoded.status,
          text: decoded.statusText,
          recipient: decoded.recipient,
          scts: Date.parse(decoded.scts) || now,
        },
        now,
      );
      if (!r) {
        this.log.info(`status report for TP-MR ${decoded.mr} on ${this.modem} matches no SMS sent: dropped`);
        return true;
      }
      if (r.resolvedUnknown) this.svc.onUnknownResolved(r.seq, this.modem, r.resumable);
      if (r.messageState === "failed") this.svc.forget(r.seq);
      if (r.changed && (r.messageState === "delivered" || r.messageState === "failed")) {
        const msg = store.messageBySeq(r.seq);
        if (msg) {
          this.svc.d.bus.emit("delivery_report", {
            id: msg.id,
            to: msg.to,
            status: r.messageState,
            detail: decoded.statusText,
          });
        }
      }
      return true;
    }
    if (decoded?.kind === "deliver" && decoded.pid === 0x40) {
      this.log.debug(`modem ${this.modem}: type-0 SMS discarded (TS 23.040 §9.2.3.9)`);
      return true;
    }
    const part =
      decoded?.kind === "deliver"
        ? {
            modem: this.modem,
            pdu,
            receivedAt: now,
            decoded: {
              from: decoded.from,
              scts: decoded.timestamp,
              text: decoded.text,
              // 8- and 16-bit references are different numbering spaces: 16-bit ones are kept above 0xFFFF.
              ref: decoded.concat ? decoded.concat.ref + (decoded.concat.refBits === 16 ? 0x10000 : 0) : -1,
              total: decoded.concat ? decoded.concat.total : 1,
              seq: decoded.concat ? decoded.concat.seq : 1,
            },
          }
        : { modem: this.modem, pdu, receivedAt: now, error: error ?? "not an SMS-DELIVER" };
    let result: ReturnType<SmsStore["storeIncoming"]>;
    try {
      result = store.storeIncoming(part, () => newMessageId(now), null);
    } catch (err) {
      this.log.error(`modem ${this.modem}: cannot store a received SMS, left on the SIM: ${errorText(err)}`);
      return false;
    }
    switch (result.kind) {
      case "duplicate":
        this.log.debug(`modem ${this.modem}: duplicate SMS part dropped`);
        break;
      case "undecodable":
        this.log.warn(`modem ${this.modem}: undecodable PDU kept raw in the database: ${error}`);
        break;
      case "part":
        this.log.debug(`modem ${this.modem}: SMS part stored, ${result.waiting} still to come`);
        break;
      case "message":
        this.log.info(`SMS ${result.message.id} received on ${this.modem}`, {
          from: result.message.from,
          parts: result.message.parts,
        });
        this.svc.emitReceived(result.message);
        break;
    }
    void m;
    return true;
  }
}

/** `+CMGL: <index>,<stat>,[<alpha>],<length>` followed by the PDU line, for each message. */
export function parseListing(lines: readonly string[]): { index: number; stat: number; pdu: string }[] {
  const out: { index: number; stat: number; pdu: string }[] = [];
  for (let i = 0; i < lines.length; i++) {
    const m = /^\+CMGL:\s*(\d+)\s*,\s*(\d+)/.exec(lines[i]!);
    if (!m) continue;
    const pdu = lines[i + 1];
    if (pdu === undefined || pdu.startsWith("+CMGL:")) continue;
    out.push({ index: Number(m[1]), stat: Number(m[2]), pdu });
    i++;
  }
  return out;
}
