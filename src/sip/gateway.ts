/**
 * The SIP MESSAGE ⇄ SMS gateway (contract, section 4).
 *
 *  MESSAGE in ─► who may send (sip.trusted, else digest sip.auth, else 403) ─► body (text/plain,
 *  application/vnd.3gpp.sms RP-DATA) ─► destination (Request-URI user, else To; sip.numbering)
 *    ├─ a site short code (services) ─► echo / register, answered by MESSAGE
 *    ├─ a subscriber of this site with a contact (or an IMSI) ─► outbox (local BTS) ─► 202
 *    └─ any other number ─► SMS queue (durable) ─► 202   | 400 413 415 503 as the contract says
 *  REGISTER in (trusted: the local BTS) ─► the subscriber's contact (IMSI, ip, port, expiry)
 *  OPTIONS ─► 200
 *
 *  SMS received ─► target: a leading sip:user@host in the text (cut off), the SIP sender of the SMS
 *  this one answers, the modem's inbound_to, sip.inbound_default ─► outbox (upstream) ─► MESSAGE
 *  through the current upstream, retried until a 2xx or expiry
 *  delivery_report / sms_failed of an SMS a SIP sender sent ─► outbox (notice) ─► "Delivered to …"
 */
import { BlockList, isIP } from "node:net";
import type { ModemConfig, ServicesConfig, SipConfig, SmsConfig } from "../config/types.js";
import { errorText, isSiteError } from "../core/errors.js";
import type { EventBus, SiteEvents } from "../core/events.js";
import type { Logger } from "../core/logger.js";
import { Waker } from "../modem/waker.js";
import { newMessageId } from "../sms/ids.js";
import { splitDeliverText } from "../sms/pdu/deliverEncode.js";
import { isGsm7 } from "../sms/pdu/gsm7.js";
import type { SmsService } from "../sms/service.js";
import type { InMessageRow, SmsStore } from "../sms/store.js";
import type { SubscriberStore } from "../subscribers/store.js";
import { authHeaderObject, firstAuthHeader } from "./authHeaders.js";
import { DigestAuth } from "./digest.js";
import { normalizeNumber } from "./numbering.js";
import type { SipOutbox, SipOutRow } from "./outbox.js";
import { encodeRpDataToMs, parseRpMessage } from "./rp.js";
import { newCallId, newTag, parseUri, type SipStack } from "./stack.js";
import type { SipRemote, SipRequest } from "./types.js";
import { request, Upstreams } from "./upstream.js";

export interface GatewayDeps {
  sip: SipConfig;
  sms: SmsConfig;
  services: ServicesConfig;
  siteId: string;
  modems: () => readonly { id: string; config: ModemConfig }[];
  stack: SipStack;
  smsService: SmsService;
  smsStore: SmsStore;
  subscribers: SubscriberStore;
  outbox: SipOutbox;
  bus: EventBus;
  logger: Logger;
  now?: () => number;
}

/** Where a MESSAGE that went out as SMS came from: replies and notices go back there. */
interface SipOrigin {
  sip_from: string;
  call_id: string;
}

const RETRY_BASE_MS = 5000;
const RETRY_MAX_MS = 10 * 60_000;
/** MESSAGEs of the outbox in flight at once. */
const OUTBOX_PARALLEL = 4;
/** An SMS from a number is a reply to the SMS a SIP sender sent it within this long. */
const REPLY_WINDOW_MS = 7 * 86_400_000;

export class SipGateway {
  private trusted = new BlockList();
  /** Verdicts of {@link isTrusted} by address (emptied when `sip.trusted` changes). */
  private readonly trustedCache = new Map<string, boolean>();
  private auth: DigestAuth | undefined;
  readonly domain: string;
  readonly upstreams: Upstreams | undefined;
  private readonly waker = new Waker();
  private readonly inflight = new Set<number>();
  private stopped = false;
  private loop: Promise<void> | undefined;
  private readonly unsubscribe: (() => void)[] = [];
  private readonly log: Logger;
  private rpReference = Math.floor(Math.random() * 256);

  constructor(private readonly d: GatewayDeps) {
    this.log = d.logger;
    this.trusted = trustList(d.sip.trusted);
    this.auth = digestFor(d.sip.auth, d.siteId);
    this.domain =
      d.sip.domain ?? (d.sip.upstream ? (parseUri(d.sip.upstream.uri)?.host ?? d.siteId) : d.siteId);
    if (d.sip.upstream)
      this.upstreams = new Upstreams({
        config: d.sip.upstream,
        stack: d.stack,
        domain: this.domain,
        user: d.siteId,
        logger: d.logger.child("upstream"),
        ...(d.now ? { now: d.now } : {}),
        onChange: () => this.waker.wake(),
        onReachable: () => {
          const n = this.d.outbox.retryUpstreamNow(this.now);
          if (n > 0) this.log.info(`upstream back: ${n} waiting MESSAGEs sent now`);
          this.waker.wake();
        },
      });
  }

  private get now(): number {
    return (this.d.now ?? Date.now)();
  }

  /**
   * Keys changed at runtime (`config/set`; the config objects this gateway holds already carry the
   * new values): the trust list and the digest users are rebuilt; numbering, services and targets
   * are read at each use anyway.
   */
  reconfigure(changed: readonly string[]): void {
    if (changed.some((k) => k === "sip.trusted")) {
      this.trusted = trustList(this.d.sip.trusted);
      this.trustedCache.clear();
    }
    if (changed.some((k) => k.startsWith("sip.auth"))) this.auth = digestFor(this.d.sip.auth, this.d.siteId);
  }

  start(): void {
    const n = this.d.outbox.resetSending();
    if (n > 0) this.log.info(`${n} MESSAGEs being sent when the site stopped are queued again`);
    this.unsubscribe.push(
      this.d.bus.on("sms_received", (e) => this.onSmsReceived(e)),
      this.d.bus.on("delivery_report", (e) => this.onOutcome(e.id, e.to, e.status === "delivered", e.detail)),
      this.d.bus.on("sms_failed", (e) => this.onOutcome(e.id, e.to, false, e.error)),
    );
    // Received SMS stored before a crash and not handed over yet.
    for (let after = 0; ; ) {
      const batch = this.d.smsStore.incomingAfter(after, 500);
      if (batch.length === 0) break;
      for (const m of batch) if (m.state === "stored") this.forward(m);
      after = batch.at(-1)!.seq;
    }
    this.upstreams?.start();
    this.loop ??= this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const u of this.unsubscribe) u();
    this.waker.wake();
    await this.upstreams?.stop();
    await this.loop;
  }

  // ── requests in ───────────────────────────────────────────────────────────────────────────

  /** The stack's onRequest. */
  async onRequest(req: SipRequest, remote: SipRemote): Promise<void> {
    const stack = this.d.stack;
    switch (req.method) {
      case "OPTIONS":
        stack.respond(req, 200, "OK", { headers: { allow: "MESSAGE, OPTIONS, REGISTER" } });
        return;
      case "REGISTER":
        this.onRegister(req, remote);
        return;
      case "MESSAGE":
        await this.onMessage(req, remote);
        return;
      default:
        stack.respond(req, 405, "Method Not Allowed", { headers: { allow: "MESSAGE, OPTIONS, REGISTER" } });
    }
  }

  private isTrusted(remote: SipRemote): boolean {
    const known = this.trustedCache.get(remote.address);
    if (known !== undefined) return known;
    const type = isIP(remote.address) === 6 ? "ipv6" : "ipv4";
    const trusted = this.trusted.check(remote.address, type);
    // A site hears from a handful of addresses; the bound only stops a scan from growing it.
    if (this.trustedCache.size >= 1024) this.trustedCache.clear();
    this.trustedCache.set(remote.address, trusted);
    return trusted;
  }

  /** true: go on; false: answered (401/403). */
  private admit(req: SipRequest, remote: SipRemote): boolean {
    if (this.isTrusted(remote)) return true;
    const stack = this.d.stack;
    if (!this.auth) {
      stack.respond(req, 403, "Forbidden");
      return false;
    }
    const uri = typeof req.uri === "string" ? req.uri : String(req.uri);
    const v = this.auth.verify(req.method, uri, firstAuthHeader(req.headers.authorization));
    if (v.ok) return true;
    stack.respond(req, 401, "Unauthorized", {
      headers: { "www-authenticate": this.auth.challenges(v.stale === true).map(authHeaderObject) },
    });
    return false;
  }

  private onRegister(req: SipRequest, remote: SipRemote): void {
    const stack = this.d.stack;
    if (!this.isTrusted(remote)) {
      stack.respond(req, 403, "Forbidden");
      return;
    }
    const user = userOf(req.headers.to.uri);
    const imsi = /^(?:IMSI)?(\d{14,15})$/i.exec(user ?? "")?.[1];
    if (!imsi) {
      stack.respond(req, 400, "Bad Request (To is not an IMSI)");
      return;
    }
    const contacts = req.headers.contact;
    const first = Array.isArray(contacts) ? contacts[0] : undefined;
    const expires = Number(first?.params?.expires ?? req.headers.expires ?? 3600);
    const curi = first ? parseUri(first.uri) : undefined;
    const ip = curi?.host ?? remote.address;
    const port = curi?.port ?? remote.port;
    if (contacts === "*" || expires === 0) {
      this.d.subscribers.clearContact(imsi);
      stack.respond(req, 200, "OK");
      return;
    }
    if (!Number.isFinite(expires) || expires < 0 || isIP(ip) === 0) {
      stack.respond(req, 400, "Bad Request (Contact host must be an address, Expires a number)");
      return;
    }
    let owner: string;
    try {
      owner = this.d.subscribers.setContact(imsi, ip, port, this.now + expires * 1000);
    } catch (err) {
      this.log.info(`REGISTER for IMSI ${imsi} refused: ${errorText(err)}`);
      stack.respond(req, 400, "Bad Request");
      return;
    }
    this.log.info(`handset IMSI ${imsi} reachable at ${ip}:${port}`, { known: owner === "subscriber" });
    stack.respond(req, 200, "OK", {
      headers: {
        contact: first ? [{ uri: first.uri, params: { expires: String(expires) } }] : [],
        expires: String(expires),
      },
    });
  }

  private async onMessage(req: SipRequest, remote: SipRemote): Promise<void> {
    const stack = this.d.stack;
    if (!this.admit(req, remote)) return;
    const ctype = String(req.headers["content-type"] ?? "text/plain").toLowerCase();
    const mime = ctype.split(";")[0]!.trim();
    let text: string;
    let destUser: string | undefined;
    if (mime === "text/plain") {
      const decoded = decodeBody(req, ctype);
      if (decoded === undefined) {
        stack.respond(req, 415, "Unsupported Media Type", {
          headers: { accept: "text/plain;charset=UTF-8" },
        });
        return;
      }
      // Trailing line ends are framing some clients add (sipp, SIP phones), not part of the SMS.
      text = decoded.replace(/[\r\n]+$/, "");
      destUser = userOf(req.uri) ?? userOf(req.headers.to.uri);
    } else if (mime === "application/vnd.3gpp.sms") {
      try {
        const rp = parseRpMessage(req.content ?? "");
        if (rp.kind !== "rp-data-ms-to-net" || !rp.submit) {
          stack.respond(req, 400, "Bad Request");
          return;
        }
        text = rp.submit.text;
        destUser = rp.submit.to;
      } catch (err) {
        this.log.info(`MESSAGE with a bad RP-DATA body from ${remote.address}: ${errorText(err)}`);
        stack.respond(req, 400, "Bad Request");
        return;
      }
    } else {
      stack.respond(req, 415, "Unsupported Media Type", {
        headers: { accept: "text/plain, application/vnd.3gpp.sms" },
      });
      return;
    }
    let dest: ReturnType<typeof normalizeNumber>;
    try {
      dest = normalizeNumber(destUser ?? "", this.d.sip.numbering);
    } catch {
      stack.respond(req, 400, "Bad Request");
      return;
    }
    const fromUri = req.headers.from.uri;
    const fromUser = userOf(fromUri);
    const ref = `${req.headers["call-id"]}/${req.headers.cseq.seq}`;
    // Site services.
    if (dest.kind === "short") {
      if (await this.service(dest.number, text, fromUri, fromUser, ref)) {
        stack.respond(req, 202, "Accepted");
        return;
      }
      stack.respond(req, 404, "Not Found");
      return;
    }
    // A handset of this site: through the local BTS.
    const local =
      dest.kind === "imsi"
        ? this.d.subscribers.byImsi(dest.number)
        : dest.kind === "e164"
          ? this.d.subscribers.byMsisdn(dest.number)
          : undefined;
    if (local) {
      try {
        this.queueLocal(local.imsi, local.contact, fromUser, text, `local:${ref}`);
        stack.respond(req, 202, "Accepted");
      } catch (err) {
        this.log.error(`cannot queue a MESSAGE for IMSI ${local.imsi}: ${errorText(err)}`);
        stack.respond(req, 500, "Server Internal Error");
      }
      return;
    }
    if (dest.kind === "imsi") {
      stack.respond(req, 404, "Not Found");
      return;
    }
    try {
      const accepted = await this.d.smsService.enqueue({
        to: dest.number,
        text,
        source: "sip",
        sourceRef: ref,
        origin: { sip_from: fromUri, call_id: req.headers["call-id"] } satisfies SipOrigin,
      });
      if (accepted.truncated) {
        // sms.too_long: truncate — cut, and the sender told (a Warning on the 202 and a MESSAGE back).
        const note = `Your message to ${dest.number} was too long: only the first ${accepted.parts} SMS were sent.`;
        stack.respond(req, 202, "Accepted", {
          headers: { warning: `399 ${this.domain} "text cut to ${accepted.parts} SMS (sms.max_parts)"` },
        });
        if (!accepted.existing)
          this.notice(`truncated:${ref}`, fromUri, `sip:${dest.number}@${this.domain}`, note);
        return;
      }
      stack.respond(req, 202, "Accepted");
    } catch (err) {
      if (isSiteError(err, "sms.too_long")) stack.respond(req, 413, "Message Too Large");
      else if (isSiteError(err, "sms.invalid")) stack.respond(req, 400, "Bad Request");
      else if (isSiteError(err, "sms.queue_full"))
        stack.respond(req, 503, "Service Unavailable", { headers: { "retry-after": "60" } });
      else {
        this.log.error(`MESSAGE not stored: ${errorText(err)}`);
        stack.respond(req, 500, "Server Internal Error");
      }
    }
  }

  /** Site short codes. Returns false for a short code that is not one of ours. */
  private async service(
    code: string,
    text: string,
    fromUri: string,
    fromUser: string | undefined,
    ref: string,
  ): Promise<boolean> {
    const { echo, register } = this.d.services;
    if (echo !== "" && code === echo) {
      this.notice(`echo:${ref}`, fromUri, `sip:${echo}@${this.domain}`, text);
      return true;
    }
    if (register !== "" && code === register) {
      const imsi = /^(?:IMSI)?(\d{14,15})$/i.exec(fromUser ?? "")?.[1];
      let answer: string;
      if (!imsi) answer = "Registration needs a handset of this site (send from the phone).";
      else {
        const have = this.d.subscribers.byImsi(imsi);
        if (have) answer = `Your number is ${have.msisdn}.`;
        else {
          try {
            const wanted = normalizeNumber(text.trim(), this.d.sip.numbering);
            if (wanted.kind !== "e164") throw new Error("not a full number");
            const taken = this.d.subscribers.byMsisdn(wanted.number);
            if (taken) answer = `${wanted.number} is taken. Send another number to ${register}.`;
            else {
              this.d.subscribers.upsert({ imsi, msisdn: wanted.number });
              answer = `Your number is now ${wanted.number}.`;
            }
          } catch {
            answer = `Send the number you want (e.g. +${this.d.sip.numbering.country_code || "256"}...) to ${register}.`;
          }
        }
      }
      this.notice(`register:${ref}`, fromUri, `sip:${register}@${this.domain}`, answer);
      return true;
    }
    return false;
  }

  // ── towards SIP ───────────────────────────────────────────────────────────────────────────

  private onSmsReceived(e: SiteEvents["sms_received"]): void {
    const m = this.d.smsStore.incoming(e.id);
    if (m) this.forward(m);
  }

  /** A received SMS to the upstream core, target resolved as the contract says. */
  forward(m: InMessageRow): void {
    let text = m.text;
    let target: string | undefined;
    const lead = /^\s*(sips?:[^\s@]+@[^\s]+)\s*/i.exec(text);
    if (lead) {
      target = lead[1];
      text = text.slice(lead[0].length);
    }
    if (!target) {
      const origin = this.d.smsStore.lastOriginTo(m.from, "sip", this.now - REPLY_WINDOW_MS) as
        | SipOrigin
        | undefined;
      target = origin?.sip_from;
    }
    target ??= this.d.modems().find((x) => x.id === m.modem)?.config.inbound_to ?? this.d.sip.inbound_default;
    if (!target) {
      this.log.warn(`SMS ${m.id} from ${m.from} has nowhere to go (no inbound_to, no sip.inbound_default)`);
      return;
    }
    const from = m.from.startsWith("+") || /^\d+$/.test(m.from) ? m.from : m.from.replace(/[^\w.+-]/g, "");
    try {
      this.d.outbox.add({
        id: newMessageId(this.now),
        origin: `sms:${m.id}`,
        kind: "upstream",
        target,
        fromUri: `sip:${from}@${this.domain}`,
        body: text,
        contentType: "text/plain;charset=UTF-8",
        createdAt: this.now,
        expiresAt: this.now + (this.d.sip.upstream?.expiry_s ?? 259_200) * 1000,
        callId: newCallId(this.domain),
      });
      this.d.smsStore.setIncomingState(m.id, "queued_sip");
      this.waker.wake();
    } catch (err) {
      this.log.error(`cannot queue SMS ${m.id} for SIP: ${errorText(err)}`);
    }
  }

  private onOutcome(id: string, to: string, delivered: boolean, detail: string): void {
    if (!this.d.sms.delivery_reports) return;
    const m = this.d.smsStore.message(id);
    if (m?.source !== "sip") return;
    const origin = m.origin as SipOrigin | null;
    if (!origin?.sip_from) return;
    const body = delivered ? `Delivered to ${to}` : `Not delivered to ${to}: ${detail}`;
    this.notice(`notice:${id}`, origin.sip_from, `sip:${to}@${this.domain}`, body);
  }

  private notice(origin: string, target: string, fromUri: string, body: string): void {
    this.d.outbox.add({
      id: newMessageId(this.now),
      origin,
      kind: "notice",
      target,
      fromUri,
      body,
      contentType: "text/plain;charset=UTF-8",
      createdAt: this.now,
      expiresAt: this.now + (this.d.sip.upstream?.expiry_s ?? 259_200) * 1000,
      callId: newCallId(this.domain),
    });
    this.waker.wake();
  }

  /**
   * A MESSAGE for a handset of this site, through the local BTS. GSM 7-bit text goes as text/plain
   * (OpenBTS encodes it itself, in GSM 7-bit only); any other text goes as
   * application/vnd.3gpp.sms, an RP-DATA per SMS-DELIVER part in UCS2 (hex, as OpenBTS reads it).
   */
  private queueLocal(
    imsi: string,
    contact: { ip: string; port: number } | null,
    fromUser: string | undefined,
    text: string,
    origin: string,
  ): void {
    const target = contact ? `sip:IMSI${imsi}@${contact.ip}:${contact.port}` : `sip:IMSI${imsi}@unregistered`;
    const sender = fromUser ?? "unknown";
    const bodies: { body: string; type: string }[] = [];
    if (isGsm7(text)) bodies.push({ body: text, type: "text/plain;charset=UTF-8" });
    else {
      const smsc = `+${this.d.sip.numbering.country_code || "0"}`;
      this.rpReference = (this.rpReference + 1) % 256;
      const parts = splitDeliverText(sender, text, { ref: this.rpReference, timestamp: new Date(this.now) });
      for (const pdu of parts) {
        const smscOctets = Number.parseInt(pdu.slice(0, 2), 16);
        this.rpReference = (this.rpReference + 1) % 256;
        bodies.push({
          body: encodeRpDataToMs({
            reference: this.rpReference,
            originatorSmsc: smsc,
            deliverTpduHex: pdu.slice(2 + smscOctets * 2),
          }),
          type: "application/vnd.3gpp.sms",
        });
      }
    }
    for (const [i, b] of bodies.entries())
      this.d.outbox.add({
        id: newMessageId(this.now),
        origin: bodies.length === 1 ? origin : `${origin}#${i + 1}`,
        kind: "local",
        target,
        fromUri: `sip:${sender}@${this.domain}`,
        body: b.body,
        contentType: b.type,
        createdAt: this.now,
        expiresAt: this.now + (this.d.sip.upstream?.expiry_s ?? 259_200) * 1000,
        callId: newCallId(this.domain),
      });
    this.waker.wake();
  }

  // ── the outbox sender ─────────────────────────────────────────────────────────────────────

  private async run(): Promise<void> {
    while (!this.stopped) {
      let wait = 30_000;
      try {
        const now = this.now;
        for (const row of this.d.outbox.open()) {
          if (this.inflight.has(row.seq)) continue;
          if (row.expiresAt <= now) {
            this.d.outbox.markExpired(row.seq, now);
            this.log.warn(`MESSAGE ${row.id} to ${row.target} expired undelivered`);
            continue;
          }
          if (row.nextAt > now) {
            wait = Math.min(wait, row.nextAt - now);
            continue;
          }
          if (this.inflight.size >= OUTBOX_PARALLEL) break;
          void this.deliver(row);
        }
      } catch (err) {
        this.log.error(`SIP outbox failed: ${errorText(err)}`);
      }
      await this.waker.sleep(Math.max(10, wait));
    }
  }

  private async deliver(row: SipOutRow): Promise<void> {
    this.inflight.add(row.seq);
    const outbox = this.d.outbox;
    try {
      let target = row.target;
      if (row.kind === "local") {
        // The handset's contact may have changed since the MESSAGE was queued.
        const imsi = /IMSI(\d+)/.exec(row.target)?.[1];
        const c = imsi ? this.d.subscribers.byImsi(imsi)?.contact : null;
        if (!c) {
          outbox.markRetry(
            row.seq,
            this.now + this.backoff(row.attempts + 1),
            null,
            "handset not registered",
          );
          return;
        }
        target = `sip:IMSI${imsi}@${c.ip}:${c.port}`;
      }
      const viaUpstream = row.kind !== "local" && this.upstreams !== undefined;
      if (viaUpstream && this.upstreams!.allDown()) {
        // Held, not attempted: it goes as soon as an upstream answers again (retryUpstreamNow).
        outbox.markRetry(row.seq, this.now + 60_000, null, "no upstream reachable");
        return;
      }
      const upstream = viaUpstream ? this.upstreams!.current() : undefined;
      outbox.markSending(row.seq);
      const req: SipRequest = {
        method: "MESSAGE",
        uri: target,
        headers: {
          via: [],
          to: { uri: target, params: {} },
          from: { uri: row.fromUri, params: { tag: newTag() } },
          "call-id": row.callId,
          cseq: { seq: row.attempts + 1, method: "MESSAGE" },
          "max-forwards": 70,
          "content-type": row.contentType,
          ...(upstream ? { route: [{ uri: `${upstream};lr`, params: {} }] } : {}),
        },
        content: row.body,
      };
      const res = await request(this.d.stack, req);
      const now = this.now;
      if (res.status >= 200 && res.status < 300) {
        outbox.markDone(row.seq, res.status, now);
        if (row.origin.startsWith("sms:")) this.d.smsStore.setIncomingState(row.origin.slice(4), "forwarded");
        this.log.info(`MESSAGE ${row.id} delivered to ${row.target}`, { status: res.status });
      } else if (res.status >= 400 && res.status !== 408 && res.status !== 429 && res.status < 500) {
        outbox.markFailed(row.seq, res.status, `${res.status} ${res.reason}`, now);
        this.log.warn(`MESSAGE ${row.id} to ${row.target} refused: ${res.status} ${res.reason}`);
      } else {
        if (upstream && (res.status === 408 || res.status === 503)) this.upstreams!.suspect(upstream);
        const next = now + this.backoff(row.attempts + 1);
        outbox.markRetry(row.seq, next, res.status, `${res.status} ${res.reason}`);
        this.log.info(`MESSAGE ${row.id} to ${row.target}: ${res.status} ${res.reason}; retry later`);
      }
    } catch (err) {
      outbox.markRetry(row.seq, this.now + this.backoff(row.attempts + 1), null, errorText(err));
      this.log.warn(`MESSAGE ${row.id} not sent: ${errorText(err)}`);
    } finally {
      this.inflight.delete(row.seq);
      this.waker.wake();
    }
  }

  private backoff(attempt: number): number {
    return Math.min(RETRY_BASE_MS * 2 ** Math.max(0, attempt - 1), RETRY_MAX_MS);
  }

  /** For the site state: upstream reachability and registration, outbox figures. */
  snapshot(): {
    upstreams: ReturnType<Upstreams["states"]["slice"]>;
    outbox: ReturnType<SipOutbox["stats"]>;
  } {
    return { upstreams: this.upstreams?.states.slice() ?? [], outbox: this.d.outbox.stats() };
  }
}

function trustList(ranges: readonly string[]): BlockList {
  const list = new BlockList();
  for (const range of ranges) {
    const [addr, bits] = range.split("/");
    const type = isIP(addr!) === 6 ? "ipv6" : "ipv4";
    if (bits === undefined) list.addAddress(addr!, type);
    else list.addSubnet(addr!, Number(bits), type);
  }
  return list;
}

function digestFor(auth: GatewayDeps["sip"]["auth"], siteId: string): DigestAuth | undefined {
  if (!auth) return undefined;
  return new DigestAuth({
    realm: auth.realm ?? siteId,
    users: auth.users,
    nonceTtlMs: 5 * 60_000,
    // MD5 first: many SIP clients read only the first challenge and know no other; those that read
    // all may still pick SHA-256.
    algorithms: ["MD5", "SHA-256"],
  });
}

function userOf(uri: unknown): string | undefined {
  const u = typeof uri === "string" ? parseUri(uri) : (uri as { user?: string } | undefined);
  const user = u?.user;
  return user ? decodeURIComponent(user.split(";")[0]!) : undefined;
}

/** Charsets a text/plain body may declare, as TextDecoder names them (WHATWG Encoding labels). */
const CHARSETS = new Set([
  "utf-8",
  "utf8",
  "us-ascii",
  "ascii",
  "iso-8859-1",
  "latin1",
  "windows-1252",
  "iso-8859-15",
  "utf-16",
  "utf-16le",
  "utf-16be",
]);

/**
 * The text of a text/plain body in its declared charset (UTF-8 when none). undefined for a charset
 * we do not know (answered 415): guessing would put the wrong characters in someone's SMS.
 */
export function decodeBody(req: SipRequest, contentType: string): string | undefined {
  const charset = /;\s*charset\s*=\s*"?([^";\s]+)"?/i.exec(contentType)?.[1]?.toLowerCase();
  if (charset === undefined || charset === "utf-8" || charset === "utf8") return req.content ?? "";
  if (!CHARSETS.has(charset)) return undefined;
  const bytes = req.rawContent ?? Buffer.from(req.content ?? "", "utf8");
  if (charset === "windows-1252" || charset === "us-ascii" || charset === "ascii") {
    // Node's TextDecoder reads windows-1252 as Latin-1 (0x80 → U+0080, not €): mapped here.
    return [...bytes]
      .map((b) => String.fromCharCode(b >= 0x80 && b <= 0x9f ? (CP1252[b - 0x80] ?? b) : b))
      .join("");
  }
  try {
    return new TextDecoder(charset).decode(bytes);
  } catch {
    return undefined;
  }
}

/** windows-1252 0x80..0x9F (WHATWG index-windows-1252); where it defines none, the C1 control stays. */
const CP1252 = [
  0x20ac, 0, 0x201a, 0x0192, 0x201e, 0x2026, 0x2020, 0x2021, 0x02c6, 0x2030, 0x0160, 0x2039, 0x0152, 0,
  0x017d, 0, 0, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022, 0x2013, 0x2014, 0x02dc, 0x2122, 0x0161, 0x203a,
  0x0153, 0, 0x017e, 0x0178,
].map((c, i) => c || 0x80 + i);
