/**
 * The NOC link: one MQTT connection to the NOC's broker (contract, section 3).
 *
 *   connect (TLS, user/password or client certificate, last will availability=offline, retained)
 *     ─► availability online ─► info, state, modem/<id> (retained, the latest of each)
 *     ─► subscribe {base}/request/# ─► overflow report ─► drain the event outbox in order (QoS 1)
 *   lost ─► a new client after a backoff with jitter (min · 2^n, capped, times a random 0.5–1)
 *
 * Each attempt is a fresh mqtt.js client without automatic reconnection: the outbox in site.db is
 * the only copy of what is owed, so nothing is sent twice from a client's own memory after a
 * reconnect; the events in flight when a connection drops are sent again (the NOC drops a repeat by
 * `event_id`). A request repeated with the same `transaction` gets the first answer (site.db, 24 h);
 * one repeated while the first still runs waits for it.
 */
import { readFileSync } from "node:fs";
import net from "node:net";
import tls from "node:tls";
import type { IClientOptions, IPublishPacket, MqttClient } from "mqtt";
import type { MqttConfig } from "../config/types.js";
import { errorText, isSiteError, SiteError } from "../core/errors.js";
import type { Logger } from "../core/logger.js";
import { newMessageId } from "../sms/ids.js";
import type { NocStore } from "./store.js";

/** Runs one command; throws a SiteError (its code goes to the NOC) or returns `data`. */
export type CommandHandler = (
  command: string,
  args: Record<string, unknown>,
  meta: { transaction?: string },
) => Promise<unknown>;

export interface NocLinkOptions {
  mqtt: MqttConfig & { url: string };
  siteId: string;
  store: NocStore;
  logger: Logger;
  onCommand: CommandHandler;
  /** Called on each (re)connection, before the outbox drains: publish the retained topics. */
  onConnected?: () => void;
  /** ms since the epoch. Default Date.now. */
  now?: () => number;
  /** 0 ≤ x < 1. Default Math.random (the reconnect jitter). */
  random?: () => number;
}

type ClientClass = new (streamBuilder: () => net.Socket, options: IClientOptions) => MqttClient;

/** Events published at once on one connection before their PUBACKs are waited for. */
const OUTBOX_WINDOW = 32;
/** How long a graceful stop waits for `availability: offline` to be acknowledged, ms. */
const STOP_PUBLISH_MS = 2000;
const HOUR_MS = 3600_000;

export interface LinkStatus {
  connected: boolean;
  /** ISO 8601 of the last change between connected and not. */
  since: string;
  broker: string;
  reconnects: number;
  last_error: string | null;
  outbox_pending: number;
  /** Bytes this link wrote to and read from its connections since start (MQTT packets; TLS included when TLS is used). */
  bytes_sent: number;
  bytes_received: number;
}

export class NocLink {
  readonly base: string;
  private client: MqttClient | undefined;
  private connected = false;
  private stopped = false;
  private since: number;
  private attempt = 0;
  private reconnects = 0;
  private lastError: string | null = null;
  private retryTimer: NodeJS.Timeout | undefined;
  private hourly: NodeJS.Timeout | undefined;
  /** Latest payload per retained topic suffix (`state`, `modem/m1`, ...): republished on connect. */
  private readonly retained = new Map<string, string>();
  /** Events waiting for the next batch commit. */
  private batch: { event_id: string; kind: string; payload: string; at: number }[] = [];
  private batchScheduled = false;
  /** Highest outbox seq handed to the current connection, and how many of those await a PUBACK. */
  private cursor = 0;
  private inflight = 0;
  private acked: number[] = [];
  private ackScheduled = false;
  private overflowInFlight = false;
  private readonly running = new Map<string, Promise<string>>();
  private bytesSent = 0;
  private bytesReceived = 0;
  private readonly now: () => number;
  private readonly random: () => number;
  private readonly log: Logger;
  private create: ((opts: IClientOptions) => MqttClient) | undefined;

  constructor(private readonly o: NocLinkOptions) {
    this.base = `${o.mqtt.base_topic}/${o.siteId}`;
    this.now = o.now ?? Date.now;
    this.random = o.random ?? Math.random;
    this.log = o.logger;
    this.since = this.now();
  }

  /**
   * Loads the MQTT client (on demand: a site without `mqtt.url` never does) and connects. For
   * mqtt:// and mqtts:// only mqtt.js's client class is loaded and the socket is opened here; the
   * package's entry point (WebSocket, SOCKS, browser builders) costs about 1.5 MB more resident, so
   * it is loaded only for ws:// and wss://.
   */
  async start(): Promise<void> {
    const url = new URL(this.o.mqtt.url);
    if (url.protocol === "ws:" || url.protocol === "wss:") {
      const lib = (await import("mqtt")).default;
      this.create = (opts) => lib.connect(this.o.mqtt.url, opts);
    } else {
      const mod = (await import("mqtt/lib/client")) as unknown as {
        default: ClientClass | { default: ClientClass };
      };
      const Client = typeof mod.default === "function" ? mod.default : mod.default.default;
      const secure = url.protocol === "mqtts:" || url.protocol === "tls:" || url.protocol === "ssl:";
      const host = url.hostname.replace(/^\[|\]$/g, "");
      const port = Number(url.port) || (secure ? 8883 : 1883);
      this.create = (opts) =>
        new Client(() => {
          if (!secure) return net.connect({ host, port });
          const socket = tls.connect({
            host,
            port,
            ...(net.isIP(host) === 0 ? { servername: host } : {}),
            ...(opts.ca ? { ca: opts.ca as Buffer } : {}),
            ...(opts.cert ? { cert: opts.cert as Buffer } : {}),
            ...(opts.key ? { key: opts.key as Buffer } : {}),
            rejectUnauthorized: true,
          });
          return socket;
        }, opts);
    }
    this.connect();
    this.hourly = setInterval(() => {
      const n = this.o.store.pruneTransactions(this.now());
      if (n > 0) this.log.debug("request answers older than 24 h pruned", { count: n });
    }, HOUR_MS);
    this.hourly.unref();
  }

  /** Publishes `availability: offline` (retained) when connected, then closes. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearTimeout(this.retryTimer);
    clearInterval(this.hourly);
    this.flushBatch();
    this.flushAcks();
    const client = this.client;
    this.client = undefined;
    if (client === undefined) return;
    if (this.connected) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, STOP_PUBLISH_MS);
        client.publish(this.topic("availability"), AVAILABILITY_OFFLINE, { qos: 1, retain: true }, () => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    this.countBytes(client);
    const wasConnected = this.connected;
    this.connected = false;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, STOP_PUBLISH_MS);
      client.end(!wasConnected, {}, () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /** Commits events queued after stop() (the rest of the site's stop still emits some). */
  async flushed(): Promise<void> {
    this.flushBatch();
    this.flushAcks();
  }

  topic(suffix: string): string {
    return `${this.base}/${suffix}`;
  }

  /**
   * Queues `event/<kind>` durably (committed before the current event-loop turn ends, one
   * transaction for all events of the turn); `event_id` and `at` are added here.
   */
  publishEvent(kind: string, payload: Record<string, unknown>): string {
    const at = this.now();
    const event_id = newMessageId(at);
    const body = JSON.stringify({ event_id, at: new Date(at).toISOString(), ...payload });
    this.batch.push({ event_id, kind, payload: body, at });
    if (!this.batchScheduled) {
      this.batchScheduled = true;
      setImmediate(() => this.flushBatch());
    }
    return event_id;
  }

  /** Sets a retained topic's payload; published now when connected and changed, else on connect. */
  setRetained(suffix: string, payload: unknown): void {
    const text = JSON.stringify(payload);
    if (this.retained.get(suffix) === text) return;
    this.retained.set(suffix, text);
    if (this.connected) this.publishRaw(suffix, text, { qos: 1, retain: true });
  }

  /** A non-retained, QoS 0 message (telemetry): dropped when not connected. */
  publishVolatile(suffix: string, payload: unknown): boolean {
    if (!this.connected) return false;
    this.publishRaw(suffix, JSON.stringify(payload), { qos: 0, retain: false });
    return true;
  }

  get isConnected(): boolean {
    return this.connected;
  }

  status(): LinkStatus {
    return {
      connected: this.connected,
      since: new Date(this.since).toISOString(),
      broker: redactUrl(this.o.mqtt.url),
      reconnects: this.reconnects,
      last_error: this.lastError,
      outbox_pending: this.o.store.pending() + this.batch.length,
      bytes_sent: this.bytesSent + (this.client ? streamBytes(this.client).sent : 0),
      bytes_received: this.bytesReceived + (this.client ? streamBytes(this.client).received : 0),
    };
  }

  // ── connection ─────────────────────────────────────────────────────────────────────────────

  private options(): IClientOptions {
    const m = this.o.mqtt;
    const opts: IClientOptions = {
      protocolVersion: m.protocol_version,
      clientId: m.client_id ?? `bts-site-${this.o.siteId}`,
      keepalive: m.keepalive_s,
      clean: true,
      reconnectPeriod: 0,
      connectTimeout: 30_000,
      // mqtt-packet otherwise pre-builds a Buffer for each of the 65,536 two-byte numbers at the first
      // packet: 6.3 MB of heap for a few nanoseconds per packet (measured, docs/performance.md).
      writeCache: false,
      will: {
        topic: this.topic("availability"),
        payload: Buffer.from(AVAILABILITY_OFFLINE),
        qos: 1,
        retain: true,
      },
    };
    if (m.username !== undefined) opts.username = m.username;
    if (m.password !== undefined) opts.password = m.password;
    try {
      if (m.ca !== undefined) opts.ca = readFileSync(m.ca);
      if (m.cert !== undefined) opts.cert = readFileSync(m.cert);
      if (m.key !== undefined) opts.key = readFileSync(m.key);
    } catch (err) {
      // A missing certificate file is an operator error: say which, and keep retrying (it may appear).
      throw new SiteError("mqtt.tls", `cannot read a TLS file: ${errorText(err)}`, { cause: err });
    }
    return opts;
  }

  private connect(): void {
    if (this.stopped || this.create === undefined) return;
    let client: MqttClient;
    try {
      client = this.create(this.options());
    } catch (err) {
      this.lastError = errorText(err);
      this.log.error(`NOC link cannot start: ${this.lastError}`);
      this.scheduleReconnect();
      return;
    }
    this.client = client;
    client.on("connect", () => this.onConnect(client));
    client.on("message", (topic, payload, packet) => this.onMessage(topic, payload, packet));
    client.on("error", (err) => {
      this.lastError = errorText(err);
      this.log.debug("NOC link error", { error: this.lastError });
    });
    client.on("close", () => this.onClose(client));
  }

  private onConnect(client: MqttClient): void {
    if (client !== this.client) return;
    // Each MQTT packet leaves at once: with Nagle's algorithm a response waits for the ACK of the
    // previous packet (delayed ACK: 40 ms and more). What it would save (a TCP/IP header when two
    // packets go within one round trip) is rare here: events are spread over the day.
    (client.stream as unknown as { setNoDelay?: (on: boolean) => void }).setNoDelay?.(true);
    this.since = this.now();
    if (this.attempt > 0) this.reconnects++;
    this.attempt = 0;
    this.lastError = null;
    this.cursor = 0;
    this.inflight = 0;
    this.overflowInFlight = false;
    this.log.info("NOC link connected", { broker: redactUrl(this.o.mqtt.url) });
    this.publishRaw("availability", AVAILABILITY_ONLINE, { qos: 1, retain: true });
    // The retained payloads brought up to date first (not sent one by one), then all sent once.
    try {
      this.o.onConnected?.();
    } catch (err) {
      this.log.warn("NOC retained topics not refreshed", { error: errorText(err) });
    }
    this.connected = true;
    for (const [suffix, text] of this.retained) this.publishRaw(suffix, text, { qos: 1, retain: true });
    // MQTT 5: "retain as published", so a retained request shows as such even when it arrives live
    // (3.1.1 marks only those delivered at subscription).
    const sub = this.o.mqtt.protocol_version === 5 ? { qos: 1 as const, rap: true } : { qos: 1 as const };
    client.subscribe(this.topic("request/#"), sub, (err) => {
      if (err) this.log.warn("NOC link cannot subscribe to requests", { error: errorText(err) });
    });
    this.drain();
  }

  private onClose(client: MqttClient): void {
    if (client !== this.client) return;
    this.countBytes(client);
    this.client = undefined;
    client.removeAllListeners();
    client.on("error", () => {});
    client.end(true);
    if (this.connected) {
      this.connected = false;
      this.since = this.now();
      this.log.warn("NOC link lost", { error: this.lastError });
    }
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (this.stopped) return;
    const m = this.o.mqtt;
    const delay = reconnectDelayMs(this.attempt, m.reconnect_min_s, m.reconnect_max_s, this.random());
    this.attempt++;
    this.log.debug("NOC link reconnect scheduled", { in_ms: delay, attempt: this.attempt });
    this.retryTimer = setTimeout(() => this.connect(), delay);
  }

  private countBytes(client: MqttClient): void {
    const b = streamBytes(client);
    this.bytesSent += b.sent;
    this.bytesReceived += b.received;
    // Counted once: the stream is gone after this.
    (client as unknown as { __counted?: boolean }).__counted = true;
  }

  private publishRaw(
    suffix: string,
    text: string,
    opts: { qos: 0 | 1; retain: boolean },
    done?: (err?: Error) => void,
  ): void {
    const client = this.client;
    if (client === undefined) return;
    client.publish(this.topic(suffix), text, opts, (err) => {
      if (err) this.log.debug("NOC publish failed", { topic: suffix, error: errorText(err) });
      done?.(err ?? undefined);
    });
  }

  // ── event outbox ──────────────────────────────────────────────────────────────────────────

  private flushBatch(): void {
    this.batchScheduled = false;
    if (this.batch.length === 0) return;
    const events = this.batch;
    this.batch = [];
    try {
      const dropped = this.o.store.add(events, this.o.mqtt.outbox_limit);
      if (dropped > 0) this.log.warn("NOC event outbox full: oldest events dropped", { dropped });
    } catch (err) {
      this.log.error("NOC events not stored", { error: errorText(err), count: events.length });
      return;
    }
    this.drain();
  }

  private drain(): void {
    if (!this.connected || this.client === undefined) return;
    const overflow = this.o.store.overflow();
    if (overflow !== undefined && !this.overflowInFlight) {
      this.overflowInFlight = true;
      const at = this.now();
      const text = JSON.stringify({
        event_id: newMessageId(at),
        at: new Date(at).toISOString(),
        ...overflowPayload(overflow),
      });
      this.publishRaw("event/outbox_overflow", text, { qos: 1, retain: false }, (err) => {
        if (!err) this.o.store.clearOverflow();
        else this.overflowInFlight = false;
      });
    }
    if (this.inflight >= OUTBOX_WINDOW) return;
    const rows = this.o.store.after(this.cursor, OUTBOX_WINDOW - this.inflight);
    const client = this.client;
    for (const row of rows) {
      this.cursor = row.seq;
      this.inflight++;
      client.publish(this.topic(`event/${row.kind}`), row.payload, { qos: 1, retain: false }, (err) => {
        if (client !== this.client) return;
        this.inflight--;
        if (err) {
          this.log.debug("NOC event not acknowledged", { kind: row.kind, error: errorText(err) });
          return;
        }
        this.acked.push(row.seq);
        if (!this.ackScheduled) {
          this.ackScheduled = true;
          setImmediate(() => {
            this.flushAcks();
            this.drain();
          });
        }
      });
    }
  }

  private flushAcks(): void {
    this.ackScheduled = false;
    if (this.acked.length === 0) return;
    const seqs = this.acked;
    this.acked = [];
    try {
      this.o.store.db.transaction(() => {
        for (const s of seqs) this.o.store.acknowledge(s);
      })();
    } catch (err) {
      this.log.error("NOC outbox acknowledgements not stored", { error: errorText(err) });
    }
  }

  // ── requests ──────────────────────────────────────────────────────────────────────────────

  private onMessage(topic: string, payload: Buffer, packet: IPublishPacket): void {
    const prefix = `${this.base}/request/`;
    if (!topic.startsWith(prefix)) return;
    const command = topic.slice(prefix.length);
    if (packet.retain) {
      // A retained request would run again at every reconnection: never acted on.
      this.log.warn("NOC request ignored: it was published retained", { command });
      return;
    }
    const props = packet.properties;
    const replyTopic =
      typeof props?.responseTopic === "string" && props.responseTopic !== ""
        ? props.responseTopic
        : this.topic(`response/${command}`);
    const correlation = props?.correlationData;
    void this.answer(command, payload)
      .catch((err: unknown) => {
        this.log.error("NOC request failed", { command, error: errorText(err) });
        return errorResponse(new SiteError("internal", `the site failed: ${errorText(err)}`), undefined);
      })
      .then((text) => {
        const client = this.client;
        if (client === undefined) return;
        const opts: { qos: 1; retain: false; properties?: { correlationData: Buffer } } = {
          qos: 1,
          retain: false,
        };
        if (correlation !== undefined && this.o.mqtt.protocol_version === 5)
          opts.properties = { correlationData: correlation };
        client.publish(replyTopic, text, opts, (err) => {
          if (err) this.log.debug("NOC response not sent", { command, error: errorText(err) });
        });
      });
  }

  /** The response text for one request: the stored first answer of a repeated transaction, or a new one. */
  private async answer(command: string, payload: Buffer): Promise<string> {
    let request: Record<string, unknown>;
    try {
      const parsed: unknown = payload.length === 0 ? {} : JSON.parse(payload.toString("utf8"));
      if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed))
        throw new Error("not a JSON object");
      request = parsed as Record<string, unknown>;
    } catch (err) {
      return errorResponse(
        new SiteError("request.invalid", `the request is not a JSON object: ${errorText(err)}`),
        undefined,
      );
    }
    const { transaction, ...args } = request;
    if (transaction !== undefined && typeof transaction !== "string" && typeof transaction !== "number") {
      return errorResponse(
        new SiteError("request.invalid", "transaction must be a string or a number"),
        undefined,
      );
    }
    if (transaction === undefined) return this.run(command, args, undefined);
    const key = `${command}\u0000${String(transaction)}`;
    const stored = this.o.store.transaction(key, this.now());
    if (stored !== undefined) {
      this.log.info("NOC request repeated: first answer sent again", { command });
      return stored;
    }
    const running = this.running.get(key);
    if (running !== undefined) return running;
    const p = this.run(command, args, transaction).then((text) => {
      try {
        this.o.store.rememberTransaction(key, text, this.now());
      } catch (err) {
        this.log.error("NOC request answer not stored", { command, error: errorText(err) });
      }
      return text;
    });
    this.running.set(key, p);
    try {
      return await p;
    } finally {
      this.running.delete(key);
    }
  }

  private async run(command: string, args: Record<string, unknown>, transaction: unknown): Promise<string> {
    const started = this.now();
    try {
      const data = await this.o.onCommand(
        command,
        args,
        transaction === undefined ? {} : { transaction: String(transaction) },
      );
      this.log.info("NOC request done", { command, ms: this.now() - started });
      return JSON.stringify(
        transaction === undefined
          ? { status: "ok", data: data ?? {} }
          : { status: "ok", data: data ?? {}, transaction },
      );
    } catch (err) {
      this.log.info("NOC request refused", { command, error: errorText(err) });
      return errorResponse(err, transaction);
    }
  }
}

const AVAILABILITY_ONLINE = '{"state":"online"}';
const AVAILABILITY_OFFLINE = '{"state":"offline"}';

function errorResponse(err: unknown, transaction: unknown): string {
  const code = isSiteError(err) ? err.code : "internal";
  const out: Record<string, unknown> = { status: "error", error: errorText(err), code };
  if (transaction !== undefined) out.transaction = transaction;
  return JSON.stringify(out);
}

function overflowPayload(o: {
  dropped: number;
  first_at: number;
  last_at: number;
  kinds: Record<string, number>;
}) {
  return {
    dropped: o.dropped,
    first_dropped_at: new Date(o.first_at).toISOString(),
    last_dropped_at: new Date(o.last_at).toISOString(),
    kinds: o.kinds,
  };
}

function streamBytes(client: MqttClient): { sent: number; received: number } {
  if ((client as unknown as { __counted?: boolean }).__counted) return { sent: 0, received: 0 };
  const s = client.stream as unknown as { bytesWritten?: number; bytesRead?: number } | undefined;
  return { sent: s?.bytesWritten ?? 0, received: s?.bytesRead ?? 0 };
}

/**
 * The wait before connection attempt `attempt + 1` (0 = the first retry), ms: `min · 2^attempt`
 * capped at `max`, times 0.5–1 from `random` (0 ≤ random < 1), so sites cut off together spread out.
 */
export function reconnectDelayMs(attempt: number, minS: number, maxS: number, random: number): number {
  const cap = Math.min(maxS, minS * 2 ** Math.min(attempt, 20));
  return Math.round(1000 * cap * (0.5 + 0.5 * random));
}

/** The broker URL without a password. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/([^:@/]+):[^@/]*@/, "//$1:***@");
}
