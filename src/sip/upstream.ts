/**
 * The upstream core: `sip.upstream.uri`, then each of `sip.upstream.fallback`, in that order.
 *
 *   every keepalive_s: OPTIONS to each upstream ─► reachable (any answer) / unreachable (timeout, 503
 *   from our own stack) ─► current = the first reachable in order (back to the first when it returns)
 *   register on: REGISTER sip:<user>@<domain> to the current upstream, digest on 401/407, refreshed
 *   before expiry, and again at once when the current upstream changes or comes back from unreachable
 *   (it may have restarted and lost its registrations).
 */
import type { SipUpstreamConfig } from "../config/types.js";
import { errorText } from "../core/errors.js";
import type { Logger } from "../core/logger.js";
import { Waker } from "../modem/waker.js";
import { authHeaderObject, firstAuthHeader } from "./authHeaders.js";
import { authorize } from "./digest.js";
import { newCallId, newTag, parseUri, type SipStack } from "./stack.js";
import type { SipRequest, SipResponse } from "./types.js";

export interface UpstreamState {
  uri: string;
  reachable: boolean | null;
  /** ms since the epoch of the last answer. */
  lastSeen: number | null;
  registered: boolean;
  registeredUntil: number | null;
  lastError: string | null;
}

/**
 * Sends a request and resolves with its final response (a local 408/503 when none came). With
 * `timeoutMs`, a local 408 comes after that long instead of the transaction's own 32 s (for probes;
 * the transaction itself runs on and its late answer is ignored).
 */
export function request(stack: SipStack, req: SipRequest, timeoutMs?: number): Promise<SipResponse> {
  return new Promise((resolve) => {
    let timer: NodeJS.Timeout | undefined;
    if (timeoutMs !== undefined)
      timer = setTimeout(
        () =>
          resolve({
            status: 408,
            reason: "Request Timeout (no answer)",
            headers: req.headers,
          } as SipResponse),
        timeoutMs,
      );
    try {
      stack.send(req, (res) => {
        if (res.status >= 200) {
          clearTimeout(timer);
          resolve(res);
        }
      });
    } catch (err) {
      resolve({
        status: 503,
        reason: errorText(err),
        headers: req.headers,
      } as SipResponse);
    }
  });
}

export class Upstreams {
  readonly states: UpstreamState[];
  private readonly waker = new Waker();
  private stopped = false;
  private loop: Promise<void> | undefined;
  private registeredTo: string | null = null;
  private registerCseq = 1;
  private readonly registerCallId: string;
  private readonly registerTag = newTag();
  private lastCurrent: string | null = null;

  constructor(
    private readonly o: {
      config: SipUpstreamConfig;
      stack: SipStack;
      domain: string;
      /** The user part of the site's AOR (the site id). */
      user: string;
      logger: Logger;
      now?: () => number;
      onChange?: () => void;
      /** An upstream became reachable (again). */
      onReachable?: (uri: string) => void;
    },
  ) {
    this.states = [o.config.uri, ...o.config.fallback].map((uri) => ({
      uri,
      reachable: null,
      lastSeen: null,
      registered: false,
      registeredUntil: null,
      lastError: null,
    }));
    this.registerCallId = newCallId(o.stack.address);
  }

  private get now(): number {
    return (this.o.now ?? Date.now)();
  }

  /** The upstream to send through: the first reachable, else the first not known unreachable, else the first. */
  current(): string {
    return (
      this.states.find((s) => s.reachable === true)?.uri ??
      this.states.find((s) => s.reachable !== false)?.uri ??
      this.states[0]!.uri
    );
  }

  start(): void {
    this.loop ??= this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.waker.wake();
    await this.loop;
  }

  /** Every upstream is known to be down: MESSAGEs for the core wait rather than time out one by one. */
  allDown(): boolean {
    return this.states.every((s) => s.reachable === false);
  }

  /** A MESSAGE through `uri` timed out or found it down: check it now. */
  suspect(uri: string): void {
    const s = this.states.find((x) => x.uri === uri);
    if (s && s.reachable !== false) this.waker.wake();
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      try {
        await Promise.all(this.states.map((s) => this.probe(s)));
        const cur = this.current();
        if (cur !== this.lastCurrent) {
          if (this.lastCurrent !== null) this.o.logger.warn(`upstream now ${cur} (was ${this.lastCurrent})`);
          this.lastCurrent = cur;
          this.o.onChange?.();
        }
        if (this.o.config.register) await this.maybeRegister(cur);
      } catch (err) {
        this.o.logger.error(`upstream supervision failed: ${errorText(err)}`);
      }
      await this.waker.sleep(this.o.config.keepalive_s * 1000);
    }
    // Leave the registrar cleanly is not attempted: a stop may be a power cut, the binding expires.
  }

  private async probe(s: UpstreamState): Promise<void> {
    const target = parseUri(s.uri);
    if (!target) {
      s.reachable = false;
      s.lastError = "not a SIP URI";
      return;
    }
    const res = await request(
      this.o.stack,
      {
        method: "OPTIONS",
        uri: s.uri,
        headers: {
          via: [],
          to: { uri: s.uri, params: {} },
          from: { uri: `sip:${this.o.user}@${this.o.domain}`, params: { tag: newTag() } },
          "call-id": newCallId(this.o.stack.address),
          cseq: { seq: 1, method: "OPTIONS" },
          "max-forwards": 70,
        },
      },
      Math.min(5000, this.o.config.keepalive_s * 1000),
    );
    // Any answer but our stack's own timeout/unreachable means the peer is alive.
    const local = res.status === 408 || res.status === 503;
    const was = s.reachable;
    s.reachable = !local;
    if (s.reachable) s.lastSeen = this.now;
    s.lastError = local ? `${res.status} ${res.reason}` : null;
    if (was !== s.reachable) {
      this.o.logger[s.reachable ? "info" : "warn"](
        `upstream ${s.uri} ${s.reachable ? "reachable" : `unreachable (${res.status} ${res.reason})`}`,
      );
      if (!s.reachable) {
        s.registered = false;
        if (this.registeredTo === s.uri) this.registeredTo = null;
      } else this.o.onReachable?.(s.uri);
      this.o.onChange?.();
    }
  }

  private async maybeRegister(uri: string): Promise<void> {
    const s = this.states.find((x) => x.uri === uri)!;
    if (s.reachable === false) return;
    const expires = this.o.config.register_expires_s;
    const due =
      !s.registered || this.registeredTo !== uri || (s.registeredUntil ?? 0) - this.now < expires * 200;
    if (!due) return;
    const ok = await this.register(s);
    if (ok) {
      for (const other of this.states) if (other !== s) other.registered = false;
      this.registeredTo = uri;
    }
    this.o.onChange?.();
  }

  /** REGISTER of the site's AOR at `s`, answering one digest challenge. */
  async register(s: UpstreamState, expires = this.o.config.register_expires_s): Promise<boolean> {
    const aor = `sip:${this.o.user}@${this.o.domain}`;
    const registrar = parseUri(s.uri)!;
    const ruri = `sip:${registrar.host}${registrar.port ? `:${registrar.port}` : ""}`;
    const contact = `sip:${this.o.user}@${this.o.stack.address}:${this.o.stack.port}`;
    const make = (authorization?: { header: string; value: string }): SipRequest => ({
      method: "REGISTER",
      uri: ruri,
      headers: {
        via: [],
        to: { uri: aor, params: {} },
        from: { uri: aor, params: { tag: this.registerTag } },
        "call-id": this.registerCallId,
        cseq: { seq: this.registerCseq++, method: "REGISTER" },
        contact: [{ uri: contact, params: {} }],
        expires: String(expires),
        "max-forwards": 70,
        ...(authorization ? { [authorization.header]: [authHeaderObject(authorization.value)] } : {}),
      },
    });
    let res = await request(this.o.stack, make());
    if (res.status === 401 || res.status === 407) {
      const header = res.status === 401 ? "www-authenticate" : "proxy-authenticate";
      const challenge = firstAuthHeader(res.headers[header]) ?? "";
      try {
        const value = authorize(challenge, {
          username: this.o.config.username ?? this.o.user,
          password: this.o.config.password ?? "",
          method: "REGISTER",
          uri: ruri,
          nc: 1,
        });
        res = await request(
          this.o.stack,
          make({ header: res.status === 401 ? "authorization" : "proxy-authorization", value }),
        );
      } catch (err) {
        s.lastError = `cannot answer the registrar's challenge: ${errorText(err)}`;
        this.o.logger.warn(s.lastError);
        return false;
      }
    }
    if (res.status >= 200 && res.status < 300) {
      const granted = Number(res.headers.expires ?? expires) || expires;
      s.registered = true;
      s.registeredUntil = this.now + granted * 1000;
      s.lastError = null;
      this.o.logger.info(`registered ${aor} at ${s.uri} for ${granted} s`);
      return true;
    }
    s.registered = false;
    s.lastError = `REGISTER: ${res.status} ${res.reason}`;
    this.o.logger.warn(`REGISTER at ${s.uri} refused: ${res.status} ${res.reason}`);
    return false;
  }
}
