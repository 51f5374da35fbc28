/**
 * The AT channel: one command in flight per port, URCs interleaved with replies, typed errors.
 *
 *   send() ─► queue ─► write "AT...\r" ─► tokens from the framer:
 *                                          echo of the command ........ dropped
 *                                          garbage line ............... logged, dropped
 *                                          URC (not the reply prefix) . onUrc listeners (+ its PDU line)
 *                                          "> " prompt ................ write payload + Ctrl-Z
 *                                          info line .................. collected
 *                                          final result ............... resolve / reject (SiteError)
 *
 * Timeouts are per command (`AT+CMGS` legitimately takes up to 60 s). A command that times out while
 * waiting for the prompt is cancelled with ESC (27.005 §3.5.1) so the modem leaves PDU entry.
 */
import { isSiteError, SiteError } from "../core/errors.js";
import type { Logger } from "../core/logger.js";
import type { SerialConnection } from "../transport/serial/serialTransport.js";
import { AtFramer, type AtToken } from "./framer.js";
import { classifyFinal, type FinalResult } from "./results.js";
import { responsePrefix, type UrcRegistry, type UrcSpec } from "./urc.js";

/** After a timeout, the line must be quiet this long before the next command goes out, ms. */
export const RESYNC_QUIET_MS = 300;
/** ...but no longer than this, ms (a chatty modem never goes quiet). */
export const RESYNC_MAX_MS = 2000;
/** Bound on closing a port, ms. */
export const CLOSE_TIMEOUT_MS = 3000;

export interface AtCommandOptions {
  /** Bound on the whole exchange, ms. Default: the channel's `defaultTimeoutMs`. */
  timeoutMs?: number;
  /** Prefix of the reply's information lines. Default: derived from the command (`AT+CSQ` → `+CSQ:`). */
  prefix?: string | null;
  /** Complete at the first line with `prefix`, without waiting for OK (Wavecom `+CPIN?`, see quirks). */
  completeOnPrefix?: boolean;
  /** Sent after the `> ` prompt, followed by Ctrl-Z (`AT+CMGS`). */
  payload?: string;
  /** How long to wait for the prompt, ms (default 10000). */
  promptTimeoutMs?: number;
  /**
   * Called when the prompt came, just before the payload is written: the SMS queue records there,
   * durably, that the modem is about to hold the PDU. If it throws (or its promise rejects), the payload
   * is not written, the prompt is left with ESC and the command rejects with that error. If it returns a
   * promise, the payload waits for it (within the command's timeout).
   */
  onPrompt?: () => void | Promise<void>;
}

export interface AtResponse {
  command: string;
  lines: string[];
  final: FinalResult;
  /** Time from write to final result, ms. */
  durationMs: number;
}

export interface Urc {
  spec: UrcSpec | undefined;
  line: string;
  /** The PDU line that followed (`+CMT`, `+CDS`). */
  pdu?: string;
}

interface Pending {
  command: string;
  opts: AtCommandOptions;
  prefix: string | undefined;
  lines: string[];
  state: "queued" | "await_prompt" | "await_gate" | "await_final";
  echoSeen: boolean;
  startedAt: number;
  timer?: NodeJS.Timeout;
  resolve: (r: AtResponse) => void;
  reject: (e: SiteError) => void;
}

export interface AtChannelOptions {
  conn: SerialConnection;
  logger: Logger;
  urcs: UrcRegistry;
  /** Extra lines that end a command as an error (from quirk files). */
  extraErrors?: ReadonlySet<string>;
  /** ms; default 5000. */
  defaultTimeoutMs?: number;
}

export class AtChannel {
  private readonly framer = new AtFramer();
  private readonly queue: Pending[] = [];
  private current: Pending | undefined;
  private pduUrc: { spec: UrcSpec; line: string } | undefined;
  private readonly urcListeners: ((urc: Urc) => void)[] = [];
  private readonly closeListeners: ((info: { disconnected: boolean }) => void)[] = [];
  private closedReason: string | undefined;
  /** After a timeout: the next command waits for the line to go quiet (a late reply must not be taken for its own). */
  private resyncSince: number | undefined;
  private resyncTimer: NodeJS.Timeout | undefined;
  /** Monotonic ms of the last byte received. */
  lastRxAt = 0;
  readonly stats = { commands: 0, timeouts: 0, errors: 0, garbage: 0, urcs: 0 };

  constructor(private readonly o: AtChannelOptions) {}

  get path(): string {
    return this.o.conn.path;
  }

  get closed(): boolean {
    return this.closedReason !== undefined;
  }

  /** Attaches to the connection. Call once. */
  start(): void {
    this.o.conn.onData((chunk) => this.onData(chunk));
    this.o.conn.onClose((info) => {
      this.fail(info.disconnected ? "device disconnected" : "port closed");
      for (const l of this.closeListeners) l({ disconnected: info.disconnected });
    });
  }

  onUrc(listener: (urc: Urc) => void): void {
    this.urcListeners.push(listener);
  }

  onClose(listener: (info: { disconnected: boolean }) => void): void {
    this.closeListeners.push(listener);
  }

  /** Queues a command; resolves on OK, rejects with a {@link SiteError} (`at.*`). */
  send(command: string, opts: AtCommandOptions = {}): Promise<AtResponse> {
    return new Promise<AtResponse>((resolve, reject) => {
      if (this.closedReason !== undefined) {
        reject(new SiteError("at.closed", `${this.path}: ${this.closedReason}`, { detail: { command } }));
        return;
      }
      const prefix = opts.prefix === null ? undefined : (opts.prefix ?? responsePrefix(command));
      this.queue.push({
        command,
        opts,
        prefix,
        lines: [],
        state: "queued",
        echoSeen: false,
        startedAt: 0,
        resolve,
        reject,
      });
      this.pump();
    });
  }

  /** Writes raw bytes outside any command (ESC to leave a stuck prompt). */
  async writeRaw(data: string): Promise<void> {
    await this.o.conn.write(data);
  }

  /** Closes the port; bounded, because closing a hung USB tty can block for a long time. */
  async close(): Promise<void> {
    this.fail("port closed");
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.o.conn.close().catch(() => {}),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, CLOSE_TIMEOUT_MS);
      }),
    ]);
    clearTimeout(timer);
  }

  private fail(reason: string): void {
    if (this.closedReason !== undefined) return;
    this.closedReason = reason;
    if (this.resyncTimer) clearTimeout(this.resyncTimer);
    this.resyncTimer = undefined;
    const all = this.current ? [this.current, ...this.queue] : [...this.queue];
    this.current = undefined;
    this.queue.length = 0;
    for (const p of all) {
      if (p.timer) clearTimeout(p.timer);
      p.reject(new SiteError("at.closed", `${this.path}: ${reason}`, { detail: { command: p.command } }));
    }
  }

  private pump(): void {
    if (this.current || this.closedReason !== undefined || this.resyncTimer) return;
    if (this.resyncSince !== undefined) {
      const now = performance.now();
      const quietFor = now - Math.max(this.lastRxAt, this.resyncSince);
      if (quietFor < RESYNC_QUIET_MS && now - this.resyncSince < RESYNC_MAX_MS) {
        this.resyncTimer = setTimeout(() => {
          this.resyncTimer = undefined;
          this.pump();
        }, RESYNC_QUIET_MS - quietFor);
        return;
      }
      this.resyncSince = undefined;
    }
    const next = this.queue.shift();
    if (!next) return;
    this.current = next;
    next.state = next.opts.payload === undefined ? "await_final" : "await_prompt";
    next.startedAt = performance.now();
    this.stats.commands++;
    const timeoutMs = next.opts.timeoutMs ?? this.o.defaultTimeoutMs ?? 5000;
    const promptMs = next.opts.promptTimeoutMs ?? 10_000;
    next.timer = setTimeout(
      () => this.onTimeout(next),
      next.state === "await_prompt" ? Math.min(promptMs, timeoutMs) : timeoutMs,
    );
    this.o.logger.debug(() => `» ${next.command}`);
    this.o.conn.write(`${next.command}\r`).catch((err: unknown) => {
      this.finish(
        next,
        undefined,
        new SiteError("serial.write", `${this.path}: write failed`, { cause: err }),
      );
    });
  }

  private writePayload(p: Pending): void {
    p.state = "await_final";
    if (p.timer) clearTimeout(p.timer);
    const left = (p.opts.timeoutMs ?? this.o.defaultTimeoutMs ?? 5000) - (performance.now() - p.startedAt);
    p.timer = setTimeout(() => this.onTimeout(p), Math.max(1, left));
    this.o.conn.write(`${p.opts.payload}\x1a`).catch(() => {});
  }

  /** Leaves the prompt with ESC (27.005 §3.5.1: nothing is sent) and rejects the command. */
  private abortAtPrompt(p: Pending, err: unknown): void {
    this.o.conn.write("\x1b").catch(() => {});
    this.resyncSince = performance.now();
    this.finish(
      p,
      undefined,
      isSiteError(err)
        ? err
        : new SiteError("at.aborted", `${p.command}: ${err instanceof Error ? err.message : err}`),
    );
  }

  private onTimeout(p: Pending): void {
    if (this.current !== p) return;
    this.stats.timeouts++;
    this.resyncSince = performance.now();
    const waitingPrompt = p.state === "await_prompt" || p.state === "await_gate";
    if (waitingPrompt) this.o.conn.write("\x1b").catch(() => {});
    this.finish(
      p,
      undefined,
      new SiteError(
        "at.timeout",
        `${this.path}: no ${waitingPrompt ? "prompt" : "final result"} for ${p.command} within ${Math.round(performance.now() - p.startedAt)} ms`,
        { detail: { command: p.command, lines: p.lines } },
      ),
    );
  }

  private finish(p: Pending, final: FinalResult | undefined, error?: SiteError): void {
    if (this.current !== p) return;
    if (p.timer) clearTimeout(p.timer);
    this.current = undefined;
    const durationMs = performance.now() - p.startedAt;
    if (error) {
      p.reject(error);
    } else if (final && (final.kind === "ok" || final.kind === "connect")) {
      p.resolve({ command: p.command, lines: p.lines, final, durationMs });
    } else if (final) {
      this.stats.errors++;
      p.reject(finalToError(this.path, p.command, final, p.lines));
    }
    this.pump();
  }

  private onData(chunk: Buffer): void {
    this.lastRxAt = performance.now();
    for (const token of this.framer.push(chunk)) this.onToken(token);
  }

  private onToken(token: AtToken): void {
    const p = this.current;
    if (token.kind === "prompt") {
      if (p && p.state === "await_prompt" && p.opts.payload !== undefined) {
        this.o.logger.debug(() => "« >");
        let gate: void | Promise<void>;
        try {
          gate = p.opts.onPrompt?.();
        } catch (err) {
          this.abortAtPrompt(p, err);
          return;
        }
        if (gate instanceof Promise) {
          // The payload waits for the gate (the SMS row's commit); the command's timer keeps running.
          p.state = "await_gate";
          gate.then(
            () => {
              if (this.current === p && p.state === "await_gate") this.writePayload(p);
            },
            (err: unknown) => {
              if (this.current === p && p.state === "await_gate") this.abortAtPrompt(p, err);
            },
          );
          return;
        }
        this.writePayload(p);
      } else {
        this.o.logger.debug("« > (prompt nobody asked for)");
      }
      return;
    }
    const line = token.text;
    if (token.garbage) {
      // Echo of a PDU ends in Ctrl-Z and lands here too.
      this.stats.garbage++;
      this.o.logger.debug(() => `skipped garbage line: ${JSON.stringify(line.slice(0, 80))}`);
      if (this.pduUrc) {
        this.o.logger.warn(`the PDU after ${this.pduUrc.line} was garbled: dropped`);
        this.pduUrc = undefined;
      }
      return;
    }
    this.o.logger.debug(() => `« ${line}`);
    if (this.pduUrc) {
      const { spec, line: header } = this.pduUrc;
      this.pduUrc = undefined;
      this.emitUrc({ spec, line: header, pdu: line });
      return;
    }
    if (p) {
      if (!p.echoSeen && line.toUpperCase() === p.command.toUpperCase()) {
        p.echoSeen = true;
        return;
      }
      if (p.opts.payload !== undefined && line === p.opts.payload) return;
      const final = classifyFinal(line, this.o.extraErrors);
      if (final) {
        // An OK before the prompt belongs to an earlier command, not to this one.
        if (p.state === "await_prompt" && final.kind === "ok") {
          this.o.logger.debug("stale OK while waiting for the prompt: dropped");
          return;
        }
        this.finish(p, final);
        return;
      }
      const isReply = p.prefix !== undefined && line.startsWith(p.prefix);
      const spec = isReply ? undefined : this.o.urcs.match(line);
      if (spec) {
        this.handleUrcLine(spec, line);
        return;
      }
      p.lines.push(line);
      if (isReply && p.opts.completeOnPrefix) this.finish(p, { kind: "ok" });
      return;
    }
    const spec = this.o.urcs.match(line);
    if (spec) {
      this.handleUrcLine(spec, line);
      return;
    }
    if (classifyFinal(line, this.o.extraErrors)) {
      this.o.logger.debug(() => `late final result with no command in flight: ${line}`);
      return;
    }
    this.emitUrc({ spec: undefined, line });
  }

  private handleUrcLine(spec: UrcSpec, line: string): void {
    if (spec.pduFollows) {
      this.pduUrc = { spec, line };
      return;
    }
    this.emitUrc({ spec, line });
  }

  private emitUrc(urc: Urc): void {
    this.stats.urcs++;
    for (const l of this.urcListeners) {
      try {
        l(urc);
      } catch (err) {
        this.o.logger.warn(`URC handler failed on ${urc.line}: ${String(err)}`);
      }
    }
  }
}

/** Turns a final error result into the typed error the rest of the code sees. */
export function finalToError(path: string, command: string, final: FinalResult, lines: string[]): SiteError {
  switch (final.kind) {
    case "cme":
      return new SiteError("at.cme", `${path}: ${command}: +CME ERROR: ${final.code} (${final.text})`, {
        detail: { command, number: final.code, text: final.text, lines },
      });
    case "cms":
      return new SiteError("at.cms", `${path}: ${command}: +CMS ERROR: ${final.code} (${final.text})`, {
        detail: { command, number: final.code, text: final.text, lines },
      });
    case "error":
      return new SiteError("at.error", `${path}: ${command}: ${final.text}`, {
        detail: { command, text: final.text, lines },
      });
    default:
      return new SiteError("at.error", `${path}: ${command}: unexpected ${final.kind}`, {
        detail: { command },
      });
  }
}
