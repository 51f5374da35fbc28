/**
 * Control channel of a running simulator, for tests and other processes: a Unix socket speaking
 * newline-delimited JSON.
 *
 *   → {"id":1,"op":"inject_sms","args":{"pdu":"0791..."}}
 *   ← {"id":1,"ok":true,"result":{"index":3}}      or   {"id":1,"ok":false,"error":"..."}
 *
 * Ops map 1:1 to the ModemSimulator test API (see {@link CONTROL_OPS}). Bad JSON or an unknown op gets
 * an error reply (id null when there was none), never a crash.
 */

import { lstat, unlink } from "node:fs/promises";
import { createConnection, createServer, type Server, type Socket } from "node:net";
import { errorText, SiteError } from "../core/errors.js";
import type { ModemSimulator } from "./simulator.js";

type Args = Record<string, unknown>;
type Op = (sim: ModemSimulator, args: Args) => unknown;

function str(args: Args, key: string, optional = false): string | undefined {
  const v = args[key];
  if (v === undefined && optional) return undefined;
  if (typeof v !== "string") throw new SiteError("sim.control", `argument ${key} must be a string`);
  return v;
}

function num(args: Args, key: string, optional = false): number | undefined {
  const v = args[key];
  if (v === undefined && optional) return undefined;
  if (typeof v !== "number" || !Number.isFinite(v))
    throw new SiteError("sim.control", `argument ${key} must be a number`);
  return v;
}

function bool(args: Args, key: string): boolean | undefined {
  const v = args[key];
  if (v === undefined) return undefined;
  if (typeof v !== "boolean") throw new SiteError("sim.control", `argument ${key} must be a boolean`);
  return v;
}

function intList(args: Args, key: string): number[] | undefined {
  const v = args[key];
  if (v === undefined) return undefined;
  if (!Array.isArray(v) || !v.every((n) => Number.isInteger(n)))
    throw new SiteError("sim.control", `argument ${key} must be a list of integers`);
  return v as number[];
}

function smsMode(args: Args): "cmti" | "cmt" | undefined {
  const mode = str(args, "mode", true);
  if (mode !== undefined && mode !== "cmti" && mode !== "cmt")
    throw new SiteError("sim.control", "mode must be cmti or cmt");
  return mode;
}

/** Control ops by name; each returns a JSON-serialisable result. */
export const CONTROL_OPS: Readonly<Record<string, Op>> = {
  state: (sim) => sim.state(),
  hang: (sim) => sim.hang(),
  unhang: (sim) => sim.unhang(),
  unplug: (sim, a) => sim.unplug({ replugAs: str(a, "replug_as", true), afterMs: num(a, "after_ms", true) }),
  replug: (sim, a) => sim.replug(str(a, "link", true)),
  sim: (sim, a) => {
    const pin = str(a, "pin", true);
    if (pin !== undefined) return sim.setSim({ pin });
    const state = str(a, "state");
    if (state !== "absent" && state !== "ready")
      throw new SiteError("sim.control", "state must be absent or ready");
    return sim.setSim(state);
  },
  cms_errors: (sim, a) => sim.cmsErrors(num(a, "code")!, num(a, "count", true) ?? 1),
  delay: (sim, a) => sim.setDelay(num(a, "ms")!),
  signal: (sim, a) => sim.setSignal(num(a, "rssi")!),
  garbage: (sim, a) => {
    const hex = str(a, "hex", true);
    if (hex !== undefined && !/^([0-9a-fA-F]{2})*$/.test(hex))
      throw new SiteError("sim.control", "hex must be hex bytes");
    return sim.garbage(hex === undefined ? undefined : Buffer.from(hex, "hex"));
  },
  inject_sms: (sim, a) => {
    const mode = smsMode(a);
    return { index: sim.injectSms(str(a, "pdu")!, { mode, storage: str(a, "storage", true) }) };
  },
  inject_status_report: (sim, a) => ({ index: sim.injectStatusReport(str(a, "pdu")!) }),
  /** `{from, text, order?, ref?, ref16?, mode?, storage?, timestamp?}` → `{indices}` (see injectText). */
  inject_text: (sim, a) => {
    const from = str(a, "from")!;
    const text = str(a, "text")!;
    const indices = sim.injectText(from, text, {
      order: intList(a, "order"),
      ref: num(a, "ref", true),
      ref16: bool(a, "ref16"),
      mode: smsMode(a),
      storage: str(a, "storage", true),
      timestamp: str(a, "timestamp", true),
    });
    return { indices };
  },
  /** `{after_ms, status}` turns automatic status reports on, `{off: true}` off. */
  status_reports: (sim, a) => {
    if (bool(a, "off")) return sim.statusReports(null);
    return sim.statusReports({ after_ms: num(a, "after_ms")!, status: num(a, "status")! });
  },
  sent: (sim) => sim.sentPdus(),
  stored: (sim) => sim.storedMessages(),
  emit_urc: (sim, a) => sim.emitUrc(str(a, "line")!),
  power: (sim, a) => {
    if (typeof a.on !== "boolean") throw new SiteError("sim.control", "argument on must be a boolean");
    return sim.setPower(a.on);
  },
  /** A static override from another process: `{pattern, lines}`; `lines: null` removes that pattern's. */
  on: (sim, a) => {
    const pattern = str(a, "pattern")!;
    if (!/^AT/i.test(pattern)) throw new SiteError("sim.control", "pattern must start with AT");
    const lines = a.lines;
    if (lines !== null && !(Array.isArray(lines) && lines.every((l) => typeof l === "string"))) {
      throw new SiteError("sim.control", "lines must be a list of strings or null");
    }
    sim.setStaticOverride(pattern as `AT${string}`, lines as string[] | null);
  },
};

/** Serves {@link CONTROL_OPS} for one simulator on a Unix socket. */
export class SimControlServer {
  private server: Server | null = null;
  private readonly sockets = new Set<Socket>();

  constructor(
    private readonly sim: ModemSimulator,
    readonly path: string,
  ) {}

  /** Listens on the socket path (a stale socket left by a killed run is removed first; other files are not). */
  async start(): Promise<void> {
    const stale = await lstat(this.path).catch(() => null);
    if (stale?.isSocket()) await unlink(this.path).catch(() => {});
    const server = createServer((socket) => this.serve(socket));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.path, () => {
        server.off("error", reject);
        resolve();
      });
    });
  }

  /** Closes the socket and every connection; removes the socket file. */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = null;
    for (const s of this.sockets) s.destroy();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
    await unlink(this.path).catch(() => {});
  }

  private serve(socket: Socket): void {
    this.sockets.add(socket);
    socket.on("close", () => this.sockets.delete(socket));
    socket.on("error", () => {});
    let buffer = "";
    socket.on("data", (d: Buffer) => {
      buffer += d.toString("utf8");
      for (let nl = buffer.indexOf("\n"); nl >= 0; nl = buffer.indexOf("\n")) {
        const line = buffer.slice(0, nl).trim();
        buffer = buffer.slice(nl + 1);
        if (line)
          void this.handle(line).then(
            (reply) => socket.writable && socket.write(`${JSON.stringify(reply)}\n`),
          );
      }
      if (buffer.length > 1_000_000) buffer = "";
    });
  }

  /** One request line → one reply object. */
  async handle(line: string): Promise<{ id: unknown; ok: boolean; result?: unknown; error?: string }> {
    let req: { id?: unknown; op?: unknown; args?: unknown };
    try {
      req = JSON.parse(line);
    } catch {
      return { id: null, ok: false, error: "bad JSON" };
    }
    const id = req?.id ?? null;
    const op =
      typeof req?.op === "string" && Object.hasOwn(CONTROL_OPS, req.op) ? CONTROL_OPS[req.op] : undefined;
    if (!op) return { id, ok: false, error: `unknown op ${JSON.stringify(req?.op)}` };
    const args = (typeof req.args === "object" && req.args !== null ? req.args : {}) as Args;
    try {
      const result = await op(this.sim, args);
      return { id, ok: true, result: result ?? null };
    } catch (err) {
      return { id, ok: false, error: errorText(err) };
    }
  }
}

/** Client side of the control socket. Connects on the first call; `close()` when done. */
export class SimControlClient {
  private socket: Socket | null = null;
  private connecting: Promise<Socket> | null = null;
  private nextId = 1;
  private buffer = "";
  private readonly waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();

  /** `timeoutMs`: per call, real ms; default 5000. */
  constructor(
    readonly path: string,
    private readonly timeoutMs = 5000,
  ) {}

  /** Sends one op; resolves with its result, rejects with `sim.control` on an error reply or timeout. */
  async call<T = unknown>(op: string, args: Record<string, unknown> = {}): Promise<T> {
    const socket = await this.connect();
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        reject(new SiteError("sim.control", `${op}: no answer within ${this.timeoutMs} ms`));
      }, this.timeoutMs);
      this.waiting.set(id, {
        resolve: (v) => {
          clearTimeout(timer);
          resolve(v as T);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      socket.write(`${JSON.stringify({ id, op, args })}\n`);
    });
  }

  close(): void {
    this.socket?.destroy();
    this.socket = null;
  }

  private connect(): Promise<Socket> {
    if (this.socket && !this.socket.destroyed) return Promise.resolve(this.socket);
    this.connecting ??= this.open().finally(() => {
      this.connecting = null;
    });
    return this.connecting;
  }

  private async open(): Promise<Socket> {
    const socket = createConnection(this.path);
    await new Promise<void>((resolve, reject) => {
      socket.once("connect", resolve);
      socket.once("error", (err) =>
        reject(new SiteError("sim.control", `cannot connect to ${this.path}`, { cause: err })),
      );
    });
    socket.on("error", () => {});
    socket.on("close", () => {
      for (const w of this.waiting.values()) w.reject(new SiteError("sim.control", "control socket closed"));
      this.waiting.clear();
    });
    socket.on("data", (d: Buffer) => this.onData(d));
    this.socket = socket;
    return socket;
  }

  private onData(d: Buffer): void {
    this.buffer += d.toString("utf8");
    for (let nl = this.buffer.indexOf("\n"); nl >= 0; nl = this.buffer.indexOf("\n")) {
      const line = this.buffer.slice(0, nl);
      this.buffer = this.buffer.slice(nl + 1);
      let reply: { id?: number; ok?: boolean; result?: unknown; error?: string };
      try {
        reply = JSON.parse(line);
      } catch {
        continue;
      }
      const w = this.waiting.get(reply.id ?? -1);
      if (!w) continue;
      this.waiting.delete(reply.id!);
      if (reply.ok) w.resolve(reply.result);
      else w.reject(new SiteError("sim.control", reply.error ?? "error"));
    }
  }
}
