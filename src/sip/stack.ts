/**
 * The SIP transport of the gateway: UDP and TCP on one port, transactions (retransmissions,
 * timeouts) and DNS resolution of the `sip` package (0.0.6), with its known faults repaired from
 * here, without changing its files (docs/dependencies.md, section "sip"):
 *
 * - bodies and headers are UTF-8 on the wire, Content-Length counts bytes ({@link toWire} /
 *   {@link fromWire}, `stackWire.ts`);
 * - branch ids, tags and Call-IDs are drawn from node:crypto (`stackMessages.ts`): every Via that
 *   sip.js adds gets a strong branch ({@link strongVias});
 * - a response above 100 always has a To-tag, the same for every response to the same request;
 * - a port in use is a rejected start (`sip.listen`), not an uncaught 'error' that ends the process;
 * - stop() closes the UDP socket, the TCP listener and every TCP connection, accepted or opened;
 * - every datagram and every TCP byte stream passes our gate (`stackGate.ts`) before sip.js's
 *   parsers: malformed messages are logged and dropped, or answered 400, never fatal.
 *
 * sip.js keeps its sockets in closures, so the stack learns of them by wrapping `dgram.createSocket`,
 * `net.createServer` and `net.connect` only while it calls into sip.js (synchronously, nothing else
 * runs meanwhile), and it routes every request itself: it resolves the next hop with sip.js's own
 * `resolve()` and pins the address with a flow Route that sip.js removes before sending, so that a
 * TCP connection is always opened inside such a call. Each stack is a `sip.create()` instance:
 * several may run in one process (`sip.start()` keeps one per process in module variables).
 *
 * IPv4 only: sip.js writes an IPv6 Via host without brackets. TLS and WebSocket are not offered.
 */
import dgram from "node:dgram";
import net from "node:net";
import { hostname } from "node:os";
import sip, { type SipCore, type SipCoreOptions, type SipWireAddress, type SipWireMessage } from "sip";
import { errorText, isSiteError, SiteError } from "../core/errors.js";
import type { Logger } from "../core/logger.js";
import { type GateVerdict, inspectMessage, refusal } from "./stackGate.js";
import {
  makeResponse,
  newBranch,
  newCallId,
  newTag,
  type SipResponseExtra,
  withToTag,
} from "./stackMessages.js";
import { fromWire, MAX_BODY_BYTES, MAX_HEAD_BYTES, StreamFramer, toWire, toWireShared } from "./stackWire.js";
import {
  isSipResponse,
  type SipHeaders,
  type SipParams,
  type SipProtocol,
  type SipRemote,
  type SipRequest,
  type SipResponse,
  type SipRouteEntry,
  type SipUri,
  type SipVia,
} from "./types.js";

export {
  makeResponse,
  newBranch,
  newCallId,
  newTag,
  parseSipMessage,
  parseUri,
  type SipResponseExtra,
  stringifySipMessage,
  stringifyUri,
  toTagFor,
} from "./stackMessages.js";
export { MAX_BODY_BYTES, MAX_HEAD_BYTES } from "./stackWire.js";
export * from "./types.js";

export interface SipStackOptions {
  /** IPv4 address to listen on ("0.0.0.0": all). */
  address: string;
  /** UDP and TCP port; 0: one free for both, see {@link SipStack.port}. */
  port: number;
  /** Listen on UDP (default true). */
  udp?: boolean;
  /** Listen on TCP (default true). */
  tcp?: boolean;
  /** Host of our Via (sent-by). Default: `address`, or the host name when it is "0.0.0.0". */
  publicAddress?: string;
  logger: Logger;
  /**
   * Each new request (retransmissions are absorbed). Answer with {@link SipStack.respond}; a
   * throw or a rejected promise is answered 500 unless a final response went out already.
   */
  onRequest: (req: SipRequest, remote: SipRemote) => void | Promise<void>;
}

export interface SipStack {
  readonly address: string;
  /** The port actually bound (UDP and TCP). */
  readonly port: number;
  /**
   * Sends a request (new client transaction; `cb` gets every response, provisional and final,
   * local ones included: 408 on timeout, 503 when the next hop is unreachable or the stack stops)
   * or a response (through the server transaction of its request). A request without a From-tag,
   * Call-ID or Max-Forwards gets one. Throws `sip.transport` for a request that cannot be routed.
   */
  send(msg: SipRequest | SipResponse, cb?: (res: SipResponse) => void): void;
  /** `send(makeResponse(req, status, reason, extra))`. */
  respond(req: SipRequest, status: number, reason: string, extra?: SipResponseExtra): void;
  /** Closes every socket of the stack; pending requests get a local 503. Idempotent. */
  stop(): Promise<void>;
}

interface Created {
  udp: dgram.Socket[];
  servers: net.Server[];
  sockets: net.Socket[];
}

type Factory = (...args: unknown[]) => unknown;

/** What is being recorded while the stack is inside sip.js (see the module comment). */
let capturing: Created | undefined;

/**
 * Runs `fn` (a synchronous call into sip.js) and returns the sockets and servers created during it.
 * A nested call records into the outer one.
 */
function captureSockets<T>(fn: () => T): { value: T; created: Created } {
  const created: Created = { udp: [], servers: [], sockets: [] };
  if (capturing !== undefined) return { value: fn(), created };
  const dgramModule = dgram as unknown as Record<"createSocket", Factory>;
  const netModule = net as unknown as Record<"createServer" | "connect", Factory>;
  const original = {
    createSocket: dgramModule.createSocket,
    createServer: netModule.createServer,
    connect: netModule.connect,
  };
  function recording(make: Factory, into: unknown[]): Factory {
    return function (this: unknown, ...args: unknown[]) {
      const made = make.apply(this, args);
      into.push(made);
      return made;
    };
  }
  dgramModule.createSocket = recording(original.createSocket, created.udp);
  netModule.createServer = recording(original.createServer, created.servers);
  netModule.connect = recording(original.connect, created.sockets);
  capturing = created;
  try {
    return { value: fn(), created };
  } finally {
    capturing = undefined;
    dgramModule.createSocket = original.createSocket;
    netModule.createServer = original.createServer;
    netModule.connect = original.connect;
  }
}

/**
 * The Via list handed to sip.js for a request. sip.js adds our Via with `unshift` and then sets
 * its weak branch (sip.js line 1246, or line 1415 for an ACK); each Via added here carries a
 * branch property that takes a fresh {@link newBranch} whenever sip.js assigns one, before the
 * transaction id is computed from it, so the transaction, the wire and the ACK all see ours.
 */
export function strongVias(vias: SipVia[]): SipVia[] {
  const list = vias.slice();
  Object.defineProperty(list, "unshift", {
    value: (...added: SipVia[]) => Array.prototype.unshift.apply(list, added.map(strongVia)),
  });
  return list;
}

function strongVia(via: SipVia): SipVia {
  let branch = newBranch();
  const params: SipParams = {};
  for (const [key, value] of Object.entries(via.params ?? {})) if (key !== "branch") params[key] = value;
  Object.defineProperty(params, "branch", {
    enumerable: true,
    get: () => branch,
    set: () => {
      branch = newBranch();
    },
  });
  return { ...via, params };
}

/** A response made here, never sent: no To-tag. */
function localResponse(req: SipRequest, status: number, reason: string): SipResponse {
  const h = req.headers;
  return {
    status,
    reason,
    headers: { via: h.via ?? [], to: h.to, from: h.from, "call-id": h["call-id"], cseq: h.cseq },
  };
}

function hasTag(params: SipParams | undefined): boolean {
  return typeof params?.tag === "string" && params.tag !== "";
}

/** At most one warning a minute about dropped messages (a scanner must not flood the log). */
class DropLog {
  private lastWarning = Number.NEGATIVE_INFINITY;
  private count = 0;

  constructor(private readonly log: Logger) {}

  note(what: string, remote: SipRemote): void {
    this.count++;
    const now = performance.now();
    const fields = { protocol: remote.protocol, address: remote.address, port: remote.port };
    if (now - this.lastWarning >= 60_000) {
      this.log.warn(`SIP message dropped: ${what}`, { ...fields, dropped: this.count });
      this.count = 0;
      this.lastWarning = now;
    } else {
      this.log.debug(`SIP message dropped: ${what}`, fields);
    }
  }
}

interface Pending {
  request: SipRequest;
  cb: (res: SipResponse) => void;
}

function listening(target: dgram.Socket | net.Server, protocol: SipProtocol): Promise<void> {
  return new Promise((resolve, reject) => {
    const ok = () => {
      target.off("error", fail);
      resolve();
    };
    const fail = (err: Error) => {
      target.off("listening", ok);
      reject(Object.assign(err, { sipProtocol: protocol }));
    };
    target.once("listening", ok);
    target.once("error", fail);
  });
}

function closed(target: NodeJS.EventEmitter): Promise<void> {
  return new Promise((resolve) => target.once("close", () => resolve()));
}

function listenError(err: unknown, address: string, port: number): SiteError {
  const e = err as NodeJS.ErrnoException & { sipProtocol?: SipProtocol };
  const protocol = e.sipProtocol ?? "UDP";
  const inUse = e.code === "EADDRINUSE";
  const message = inUse
    ? `cannot listen for SIP: ${address}:${port} in use (${protocol})`
    : `cannot listen for SIP on ${address}:${port} (${protocol}): ${errorText(err)}`;
  return new SiteError("sip.listen", message, { cause: err, detail: { address, port, protocol, inUse } });
}

class Stack implements SipStack {
  readonly address: string;
  readonly port: number;
  private readonly log: Logger;
  private readonly publicAddress: string;
  private readonly protocols = new Set<SipProtocol>();
  private readonly drops: DropLog;
  private readonly sockets = new Set<net.Socket>();
  private readonly pending = new Set<Pending>();
  private core: SipCore | undefined;
  private udp: dgram.Socket | undefined;
  private server: net.Server | undefined;
  private stopped = false;
  /**
   * Set while the gate hands sip.js one message whose bytes are all ASCII: the request sip.js
   * delivers from inside that call needs no UTF-8 decoding. Undefined outside such a call (then the
   * request is always decoded).
   */
  private dispatchAscii: boolean | undefined;
  private stopping: Promise<void> | undefined;

  constructor(
    private readonly o: SipStackOptions,
    port: number,
  ) {
    this.address = o.address;
    this.port = port;
    this.log = o.logger;
    this.drops = new DropLog(o.logger);
    this.publicAddress = o.publicAddress ?? (o.address === "0.0.0.0" ? hostname() : o.address);
    if (o.udp ?? true) this.protocols.add("UDP");
    if (o.tcp ?? true) this.protocols.add("TCP");
  }

  /** Creates sip.js's stack on our port and waits until its sockets listen. */
  async listen(): Promise<void> {
    const options: SipCoreOptions = {
      address: this.address,
      port: this.port,
      publicAddress: this.publicAddress,
      udp: this.protocols.has("UDP"),
      tcp: this.protocols.has("TCP"),
      rport: true,
      // Above our own limits (the gate enforces those): sip.js's flood check never fires.
      maxBytesHeaders: MAX_HEAD_BYTES + MAX_BODY_BYTES + 8,
      maxContentLength: MAX_BODY_BYTES,
      logger: {
        error: (e) => {
          if (e !== undefined) this.log.warn("SIP stack error", { error: errorText(e) });
        },
        send: (m, peer) => this.trace("sent", m, peer),
        recv: (m, peer) => this.trace("received", m, peer),
      },
    };
    let created: Created;
    try {
      const call = captureSockets(() => sip.create(options, (m, remote) => this.onCoreRequest(m, remote)));
      this.core = call.value;
      created = call.created;
    } catch (err) {
      throw listenError(err, this.address, this.port);
    }
    this.udp = created.udp[0];
    this.server = created.servers[0];
    const waits: Promise<void>[] = [];
    if (this.udp !== undefined) {
      const udp = this.udp;
      udp.on("error", (err) => this.log.warn("SIP UDP socket error", { error: errorText(err) }));
      waits.push(listening(udp, "UDP"));
      this.gateDatagrams(udp);
    }
    if (this.server !== undefined) {
      const server = this.server;
      server.on("error", (err) => this.log.warn("SIP TCP listener error", { error: errorText(err) }));
      waits.push(listening(server, "TCP"));
      server.on("connection", (socket: net.Socket) => this.adopt(socket));
    }
    try {
      await Promise.all(waits);
    } catch (err) {
      this.stopped = true;
      await this.teardown();
      throw listenError(err, this.address, this.port);
    }
    if (this.udp !== undefined) this.enlargeReceiveBuffer(this.udp);
    this.log.info("SIP listening", {
      address: this.address,
      port: this.port,
      protocols: [...this.protocols],
    });
  }

  send(msg: SipRequest | SipResponse, cb?: (res: SipResponse) => void): void {
    if (isSipResponse(msg)) this.sendResponse(msg);
    else this.sendRequest(msg, cb);
  }

  respond(req: SipRequest, status: number, reason: string, extra?: SipResponseExtra): void {
    this.sendResponse(makeResponse(req, status, reason, extra));
  }

  stop(): Promise<void> {
    this.stopping ??= this.shutdown();
    return this.stopping;
  }

  private async shutdown(): Promise<void> {
    this.stopped = true;
    // Transactions created just now start on process.nextTick (sip.js lines 1164, 1219).
    await new Promise<void>((resolve) => setImmediate(resolve));
    await this.teardown();
    const pending = [...this.pending];
    this.pending.clear();
    for (const p of pending)
      this.deliver(p, localResponse(p.request, 503, "Service Unavailable (SIP stack stopped)"));
    this.log.info("SIP stopped", { address: this.address, port: this.port });
  }

  /** sip.js's destroy (transactions, listeners), then every TCP connection; waits for all to close. */
  private async teardown(): Promise<void> {
    const waits: Promise<void>[] = [];
    if (this.udp !== undefined) waits.push(closed(this.udp));
    if (this.server !== undefined) waits.push(closed(this.server));
    for (const socket of this.sockets) waits.push(closed(socket));
    try {
      this.core?.destroy();
    } catch (err) {
      this.log.debug("SIP stack destroy failed", { error: errorText(err) });
    }
    for (const socket of this.sockets) socket.destroy();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all(waits),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, 2000);
        timer.unref();
      }),
    ]);
    clearTimeout(timer);
  }

  private sendResponse(res: SipResponse): void {
    if (this.stopped) {
      this.log.debug("SIP response after stop not sent", { status: res.status });
      return;
    }
    const wire = toWireShared(withToTag(res)) as unknown as SipWireMessage;
    this.callCore(() => this.core?.send(wire));
  }

  private sendRequest(req: SipRequest, cb?: (res: SipResponse) => void): void {
    const request = this.complete(req);
    const hop = this.nextHop(request);
    const pending = cb === undefined || request.method === "ACK" ? undefined : { request, cb };
    if (this.stopped) {
      if (pending)
        this.deliver(pending, localResponse(request, 503, "Service Unavailable (SIP stack stopped)"));
      return;
    }
    if (pending) this.pending.add(pending);
    sip.resolve(toWire(hop), (found) => {
      if (this.stopped) return;
      const addresses = found.filter(
        (a) => this.protocols.has(a.protocol.toUpperCase() as SipProtocol) && net.isIPv4(a.address),
      );
      if (addresses.length === 0) {
        this.log.warn("SIP next hop not resolved", { host: hop.host, method: request.method });
        if (pending)
          this.finish(pending, localResponse(request, 503, "Service Unavailable (next hop not found)"));
        return;
      }
      this.attempt(request, addresses, 0, pending);
    });
  }

  /** One try of `request` at `addresses[index]`; a 503 moves on to the next address. */
  private attempt(request: SipRequest, addresses: SipWireAddress[], index: number, pending?: Pending): void {
    const target = addresses[index]!;
    const wire = toWire(request);
    const headers = wire.headers as SipHeaders & Record<string, unknown>;
    headers.via = strongVias(headers.via);
    const pin = this.core!.encodeFlowUri({
      protocol: target.protocol.toUpperCase(),
      address: target.address,
      port: target.port,
      local: { address: this.address, port: this.port },
    });
    headers.route = [{ uri: pin as unknown as SipUri, params: {} }, ...(headers.route ?? [])];
    const onResponse =
      pending === undefined
        ? undefined
        : (rs: SipWireMessage) => {
            if (!this.pending.has(pending) || this.stopped) return; // stop() answers it
            const res = fromWire(rs) as unknown as SipResponse;
            if (res.status === 503 && index + 1 < addresses.length) {
              this.log.info("SIP next hop answered 503; trying the next address", {
                address: target.address,
                port: target.port,
              });
              this.attempt(request, addresses, index + 1, pending);
            } else if (res.status >= 200) {
              this.finish(pending, res);
            } else {
              this.deliver(pending, res);
            }
          };
    this.callCore(() => this.core?.send(wire as unknown as SipWireMessage, onResponse));
  }

  /** A call into sip.js: the TCP connections it opens become ours; what it throws is `sip.transport`. */
  private callCore(fn: () => void): void {
    let created: Created;
    try {
      created = captureSockets(fn).created;
    } catch (err) {
      throw isSiteError(err)
        ? err
        : new SiteError("sip.transport", `sip.js failed: ${errorText(err)}`, { cause: err });
    }
    for (const socket of created.sockets) this.adopt(socket);
  }

  /** The request with From-tag, Call-ID and Max-Forwards when it lacked them. */
  private complete(req: SipRequest): SipRequest {
    const h = req.headers as Partial<SipHeaders> | undefined;
    if (!h?.to || !h.from || !h.cseq) {
      throw new SiteError("sip.transport", `a ${req.method} request needs To, From and CSeq headers`);
    }
    const headers = { ...h, via: [...(h.via ?? [])] } as SipHeaders;
    if (!hasTag(h.from.params)) headers.from = { ...h.from, params: { ...h.from.params, tag: newTag() } };
    if (!h["call-id"]) headers["call-id"] = newCallId(this.publicAddress);
    if (h["max-forwards"] === undefined) headers["max-forwards"] = 70;
    return { ...req, headers };
  }

  /** The URI the request goes to first: its first Route (loose routing), else its Request-URI. */
  private nextHop(request: SipRequest): SipUri {
    const route: SipRouteEntry | undefined = request.headers.route?.[0];
    const raw = route !== undefined ? route.uri : request.uri;
    const uri = typeof raw === "string" ? sip.parseUri(raw) : raw;
    if (uri === undefined) {
      throw new SiteError(
        "sip.transport",
        `cannot send a ${request.method} to ${String(raw)}: not a SIP URI`,
      );
    }
    if (uri.schema.toLowerCase() !== "sip") {
      throw new SiteError(
        "sip.transport",
        `cannot send a ${request.method} to a ${uri.schema}: URI (no TLS)`,
      );
    }
    return uri as SipUri;
  }

  private finish(pending: Pending, res: SipResponse): void {
    this.pending.delete(pending);
    this.deliver(pending, res);
  }

  /** Calls the response callback, never from inside sip.js's own call (see captureSockets). */
  private deliver(pending: Pending, res: SipResponse): void {
    const run = () => {
      try {
        pending.cb(res);
      } catch (err) {
        this.log.error("SIP response callback failed", { status: res.status, error: errorText(err) });
      }
    };
    if (capturing !== undefined) queueMicrotask(run);
    else run();
  }

  private onCoreRequest(m: SipWireMessage, remote: SipWireAddress): void {
    if (this.stopped) return;
    const req = (this.dispatchAscii === true ? m : fromWire(m)) as unknown as SipRequest;
    // The body's bytes as they came, for a charset other than UTF-8 (sip.js keeps one char per byte).
    const wireBody = (m as { content?: unknown }).content;
    if (typeof wireBody === "string" && wireBody.length > 0) req.rawContent = Buffer.from(wireBody, "latin1");
    const from: SipRemote = {
      protocol: remote.protocol.toUpperCase() === "TCP" ? "TCP" : "UDP",
      address: remote.address,
      port: remote.port,
    };
    let result: void | Promise<void>;
    try {
      result = this.o.onRequest(req, from);
    } catch (err) {
      this.handlerFailed(req, err);
      return;
    }
    if (result instanceof Promise) result.catch((err: unknown) => this.handlerFailed(req, err));
  }

  private handlerFailed(req: SipRequest, err: unknown): void {
    this.log.error("SIP request handler failed", { method: req.method, error: errorText(err) });
    if (req.method === "ACK" || this.stopped) return;
    try {
      // sip.js's server transaction ignores a response after the final one, so this is safe to try.
      this.respond(req, 500, "Server Internal Error");
    } catch (e) {
      this.log.debug("SIP 500 not sent", { error: errorText(e) });
    }
  }

  private trace(direction: string, m: SipWireMessage, peer: SipWireAddress): void {
    if (!this.log.enabled("trace")) return;
    this.log.trace(`SIP ${direction} ${m.method ?? m.status}`, {
      callId: m.headers["call-id"],
      protocol: peer.protocol,
      address: peer.address,
      port: peer.port,
    });
  }

  /**
   * A burst of MESSAGEs (a core flushing its queue after an outage) arrives faster than one event
   * loop turn drains it; with the kernel's default buffer (208 KiB: about 200 datagrams) the rest is
   * dropped and each sender waits 500 ms to retransmit. The kernel caps the size at
   * `net.core.rmem_max` (the image raises it); the memory is used only while datagrams wait.
   */
  private enlargeReceiveBuffer(udp: dgram.Socket): void {
    try {
      udp.setRecvBufferSize(UDP_RECEIVE_BUFFER);
      this.log.debug("SIP UDP receive buffer", { bytes: udp.getRecvBufferSize() });
    } catch (err) {
      this.log.debug("SIP UDP receive buffer not enlarged", { error: errorText(err) });
    }
  }

  /** Puts the gate in front of sip.js's datagram handler. */
  private gateDatagrams(udp: dgram.Socket): void {
    const [sipHandler, ...others] = udp.listeners("message") as ((
      msg: Buffer,
      rinfo: dgram.RemoteInfo,
    ) => void)[];
    if (sipHandler === undefined || others.length > 0) throw new Error("sip.js UDP socket not as expected");
    udp.removeListener("message", sipHandler);
    udp.on("message", (msg: Buffer, rinfo: dgram.RemoteInfo) => {
      const remote: SipRemote = { protocol: "UDP", address: rinfo.address, port: rinfo.port };
      this.admit(
        inspectMessage(msg.toString("latin1"), true),
        remote,
        (text) => sipHandler(Buffer.from(text, "latin1"), rinfo),
        (reply) =>
          udp.send(Buffer.from(reply, "latin1"), rinfo.port, rinfo.address, (err) => {
            if (err) this.log.debug("SIP UDP reply failed", { error: errorText(err) });
          }),
      );
    });
  }

  /** A TCP connection of sip.js (accepted or opened): tracked, gated, its errors logged by us. */
  private adopt(socket: net.Socket): void {
    if (this.sockets.has(socket)) return;
    this.sockets.add(socket);
    socket.once("close", () => this.sockets.delete(socket));
    if (this.stopped) {
      socket.destroy();
      return;
    }
    this.quietErrors(socket);
    this.gateStream(socket);
  }

  /**
   * sip.js prints a connection error with console.log (line 1294) when it has an error listener of
   * a request on the connection; our log lines are JSON on stdout. Errors are logged here and reach
   * sip.js's listeners (which only turn them into a 503) without the error object.
   */
  private quietErrors(socket: net.Socket): void {
    const emit = socket.emit as (this: net.Socket, event: string | symbol, ...args: unknown[]) => boolean;
    const log = this.log;
    socket.emit = function (this: net.Socket, event: string | symbol, ...args: unknown[]): boolean {
      if (event === "error") {
        log.debug("SIP TCP connection error", {
          address: this.remoteAddress,
          port: this.remotePort,
          error: errorText(args[0]),
        });
        return emit.call(this, "error");
      }
      return emit.call(this, event, ...args);
    } as typeof socket.emit;
  }

  /** Swaps sip.js's stream parser for our framer feeding it one whole message at a time. */
  private gateStream(socket: net.Socket): void {
    const [sipParser, ...others] = socket.listeners("data") as ((chunk: string) => void)[];
    if (sipParser === undefined || others.length > 0) throw new Error("sip.js TCP socket not as expected");
    socket.removeListener("data", sipParser);
    const framer = new StreamFramer();
    const remote: SipRemote = {
      protocol: "TCP",
      address: socket.remoteAddress ?? "",
      port: socket.remotePort ?? 0,
    };
    const onData = (chunk: string | Buffer) => {
      if (remote.address === "") {
        remote.address = socket.remoteAddress ?? "";
        remote.port = socket.remotePort ?? 0;
      }
      for (const item of framer.push(typeof chunk === "string" ? chunk : chunk.toString("latin1"))) {
        if (item.kind === "error") {
          socket.removeListener("data", onData);
          const reason = item.status === 513 ? "Message Too Large" : `Bad Request (${item.reason})`;
          const reply = item.head === undefined ? undefined : refusal(item.head, item.status, reason);
          this.drops.note(`${item.reason}; connection closed`, remote);
          if (reply !== undefined) socket.write(reply, "latin1");
          socket.end(() => socket.destroy());
          return;
        }
        this.admit(
          inspectMessage(item.text, false),
          remote,
          (text) => sipParser(text),
          (reply) => socket.write(reply, "latin1"),
        );
      }
    };
    socket.on("data", onData);
    socket.once("end", () => {
      if (framer.pending > 0)
        this.drops.note(`connection ended inside a message (${framer.pending} bytes)`, remote);
    });
  }

  private admit(
    verdict: GateVerdict,
    remote: SipRemote,
    pass: (text: string) => void,
    reply: (r: string) => void,
  ) {
    switch (verdict.kind) {
      case "pass":
        this.dispatchAscii = verdict.ascii;
        try {
          pass(verdict.text);
        } catch (err) {
          this.log.warn("SIP message failed in sip.js", { error: errorText(err), protocol: remote.protocol });
        } finally {
          this.dispatchAscii = undefined;
        }
        return;
      case "ignore":
        return;
      case "drop":
        this.drops.note(verdict.reason, remote);
        return;
      case "reject":
        this.drops.note(`${verdict.reason}; answered ${verdict.status}`, remote);
        try {
          reply(verdict.reply);
        } catch (err) {
          this.log.debug("SIP reply failed", { error: errorText(err) });
        }
        return;
    }
  }
}

/** Asked of the kernel for the UDP socket (it doubles it, within `net.core.rmem_max`). */
const UDP_RECEIVE_BUFFER = 2 * 1024 * 1024;

async function bindUdp(address: string, port: number): Promise<dgram.Socket> {
  const socket = dgram.createSocket("udp4");
  await new Promise<void>((resolve, reject) => {
    socket.once("error", reject);
    socket.bind(port, address, () => {
      socket.off("error", reject);
      resolve();
    });
  });
  return socket;
}

async function listenTcp(address: string, port: number): Promise<net.Server> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, address, () => {
      server.off("error", reject);
      resolve();
    });
  });
  return server;
}

/** A port free for UDP and TCP (whichever are asked for) on `address`, asked of the kernel. */
async function freePort(address: string, udp: boolean, tcp: boolean): Promise<number> {
  for (let i = 0; i < 20; i++) {
    if (!udp) {
      const server = await listenTcp(address, 0);
      const port = (server.address() as net.AddressInfo).port;
      await new Promise((resolve) => server.close(resolve));
      return port;
    }
    const socket = await bindUdp(address, 0);
    const port = socket.address().port;
    let free = true;
    if (tcp) {
      try {
        const server = await listenTcp(address, port);
        await new Promise((resolve) => server.close(resolve));
      } catch {
        free = false;
      }
    }
    await new Promise<void>((resolve) => socket.close(() => resolve()));
    if (free) return port;
  }
  throw new SiteError("sip.listen", `no port free for both UDP and TCP on ${address}`);
}

/**
 * Starts a stack listening on `o.address:o.port` (UDP and TCP unless turned off). Rejects with
 * `sip.listen` when it cannot listen (port in use, address not local); the process goes on.
 */
export async function startSipStack(o: SipStackOptions): Promise<SipStack> {
  const udp = o.udp ?? true;
  const tcp = o.tcp ?? true;
  if (!udp && !tcp) throw new SiteError("sip.listen", "SIP stack with neither UDP nor TCP");
  if (!Number.isInteger(o.port) || o.port < 0 || o.port > 65535) {
    throw new SiteError("sip.listen", `invalid SIP port ${o.port}`);
  }
  if (!net.isIPv4(o.address))
    throw new SiteError("sip.listen", `SIP needs an IPv4 address to listen on, not ${o.address}`);
  for (let attempt = 1; ; attempt++) {
    let port = o.port;
    if (port === 0) {
      try {
        port = await freePort(o.address, udp, tcp);
      } catch (err) {
        throw isSiteError(err) ? err : listenError(err, o.address, 0);
      }
    }
    const stack = new Stack(o, port);
    try {
      await stack.listen();
      return stack;
    } catch (err) {
      // Port 0: another process may take the port between the probe and the bind; try another.
      if (o.port === 0 && attempt < 5 && isSiteError(err, "sip.listen") && err.detail.inUse === true)
        continue;
      throw err;
    }
  }
}
