import assert from "node:assert/strict";
import { createSocket, type RemoteInfo, type Socket as UdpSocket } from "node:dgram";
import { once } from "node:events";
import { connect, createServer, type Server, type Socket } from "node:net";
import { after, describe, it } from "node:test";
import { isSiteError } from "../../src/core/errors.js";
import { type LogRecord, memoryLogger, silentLogger } from "../../src/core/logger.js";
import {
  newCallId,
  newTag,
  type SipRemote,
  type SipRequest,
  type SipResponse,
  type SipStack,
  type SipStackOptions,
  startSipStack,
} from "../../src/sip/stack.js";

const HOST = "127.0.0.1";
/** Cyrillic, an emoji (4 bytes in UTF-8) and a combining accent. */
const BODY = "Привет, мир 👋 — café ✓";
const REPLY_BODY = "Ответ получен 🎉";

const stacks: SipStack[] = [];
after(async () => {
  for (const s of stacks) await s.stop();
});

async function stack(
  onRequest: SipStackOptions["onRequest"] = () => {},
  extra: Partial<SipStackOptions> = {},
): Promise<SipStack> {
  const s = await startSipStack({ address: HOST, port: 0, logger: silentLogger(), onRequest, ...extra });
  stacks.push(s);
  return s;
}

function message(uri: string, content?: string, method = "MESSAGE"): SipRequest {
  const req: SipRequest = {
    method,
    uri,
    headers: {
      via: [],
      to: { uri: "sip:+256700000001@site.example", params: {} },
      from: { uri: "sip:alice@127.0.0.1", params: { tag: newTag() } },
      "call-id": newCallId("test"),
      cseq: { seq: 1, method },
    },
  };
  if (content !== undefined) {
    req.headers["content-type"] = "text/plain;charset=UTF-8";
    req.content = content;
  }
  return req;
}

/** Sends `req`; resolves with every response, the last one final. */
function request(from: SipStack, req: SipRequest): Promise<SipResponse[]> {
  return new Promise((resolve) => {
    const seen: SipResponse[] = [];
    from.send(req, (res) => {
      seen.push(res);
      if (res.status >= 200) resolve(seen);
    });
  });
}

function final(responses: SipResponse[]): SipResponse {
  const last = responses.at(-1);
  assert.ok(last);
  return last;
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface RawRequest {
  method?: string;
  port: number;
  transport?: "UDP" | "TCP";
  viaPort: number;
  branch?: string;
  callId?: string;
  toTag?: string;
  body?: string;
  /** Content-Length to write instead of the body's byte length; null: none. */
  contentLength?: number | string | null;
  omit?: string[];
}

/** A request as a peer would write it, in bytes. */
function rawRequest(r: RawRequest): Buffer {
  const method = r.method ?? "MESSAGE";
  const body = Buffer.from(r.body ?? "", "utf8");
  const lines = [
    `${method} sip:+256700000001@${HOST}:${r.port} SIP/2.0`,
    `Via: SIP/2.0/${r.transport ?? "UDP"} ${HOST}:${r.viaPort};branch=${r.branch ?? `z9hG4bK${newTag()}`};rport`,
    `From: "Алиса" <sip:alice@${HOST}>;tag=${newTag()}`,
    `To: <sip:+256700000001@${HOST}>${r.toTag ? `;tag=${r.toTag}` : ""}`,
    `Call-ID: ${r.callId ?? newCallId("raw")}`,
    `CSeq: 7 ${method}`,
    "Max-Forwards: 70",
    "Content-Type: text/plain;charset=UTF-8",
  ];
  const cl = r.contentLength === undefined ? body.length : r.contentLength;
  if (cl !== null) lines.push(`Content-Length: ${cl}`);
  const kept = lines.filter((l) => !(r.omit ?? []).some((name) => l.startsWith(`${name}:`)));
  return Buffer.concat([Buffer.from(`${kept.join("\r\n")}\r\n\r\n`, "utf8"), body]);
}

/** Head (as text) and body (as bytes) of one message in bytes. */
function split(data: Buffer): { head: string; body: Buffer; header: (name: string) => string | undefined } {
  const end = data.indexOf("\r\n\r\n");
  assert.ok(end > 0, "a header section");
  const head = data.subarray(0, end).toString("utf8");
  return {
    head,
    body: data.subarray(end + 4),
    header: (name) => new RegExp(`^${name}:[ \\t]*(.*)$`, "im").exec(head)?.[1]?.trim(),
  };
}

async function udpPeer(): Promise<{
  socket: UdpSocket;
  port: number;
  next: () => Promise<[Buffer, RemoteInfo]>;
}> {
  const socket = createSocket("udp4");
  socket.bind(0, HOST);
  await once(socket, "listening");
  const queue: [Buffer, RemoteInfo][] = [];
  const waiting: ((m: [Buffer, RemoteInfo]) => void)[] = [];
  socket.on("message", (msg, rinfo) => {
    const w = waiting.shift();
    if (w) w([msg, rinfo]);
    else queue.push([msg, rinfo]);
  });
  after(() => socket.close());
  return {
    socket,
    port: socket.address().port,
    next: () => {
      const m = queue.shift();
      if (m) return Promise.resolve(m);
      return withTimeout(new Promise((resolve) => waiting.push(resolve)), 3000, "a datagram");
    },
  };
}

function sendUdp(socket: UdpSocket, data: Buffer, port: number): Promise<void> {
  return new Promise((resolve, reject) =>
    socket.send(data, port, HOST, (err) => (err ? reject(err) : resolve())),
  );
}

/** A raw TCP client: what it received so far, and a wait for more. */
async function tcpClient(
  port: number,
): Promise<{ socket: Socket; received: () => Buffer; until: (re: RegExp) => Promise<void> }> {
  const socket = connect(port, HOST);
  socket.setNoDelay(true);
  await once(socket, "connect");
  let data = Buffer.alloc(0);
  const checks: (() => void)[] = [];
  socket.on("data", (chunk: Buffer) => {
    data = Buffer.concat([data, chunk]);
    for (const c of checks.splice(0)) c();
  });
  socket.on("error", () => {});
  after(() => socket.destroy());
  return {
    socket,
    received: () => data,
    until: (re) =>
      withTimeout(
        new Promise<void>((resolve) => {
          const check = () => (re.test(data.toString("utf8")) ? resolve() : checks.push(check));
          check();
        }),
        3000,
        `${re}`,
      ),
  };
}

/** Writes `data` in pieces cut at `cuts` (byte offsets), each its own TCP segment. */
async function writeInPieces(socket: Socket, data: Buffer, cuts: number[]): Promise<void> {
  let from = 0;
  for (const cut of [...cuts, data.length]) {
    socket.write(data.subarray(from, cut));
    from = cut;
    await delay(15);
  }
}

/** Byte offsets inside the multi-byte characters of the body that ends `data`. */
function cutsInsideMultibyte(data: Buffer, body: string): number[] {
  const start = data.length - Buffer.byteLength(body);
  const emoji = Buffer.from(body).indexOf(Buffer.from("👋"));
  const cyrillic = Buffer.from(body).indexOf(Buffer.from("р"));
  return [start + cyrillic + 1, start + emoji + 1, start + emoji + 3].sort((a, b) => a - b);
}

describe("SIP stack: round trips between two stacks", () => {
  for (const transport of ["udp", "tcp"] as const) {
    it(`answers an OPTIONS over ${transport.toUpperCase()}`, async () => {
      const seen: SipRemote[] = [];
      const server = await stack((req, remote) => {
        seen.push(remote);
        server.respond(req, 200, "OK", { headers: { allow: "MESSAGE, OPTIONS" } });
      });
      const client = await stack();
      const res = final(
        await request(
          client,
          message(`sip:site@${HOST}:${server.port};transport=${transport}`, undefined, "OPTIONS"),
        ),
      );
      assert.equal(res.status, 200);
      assert.equal(res.headers.allow, "MESSAGE, OPTIONS");
      assert.equal(res.headers.cseq.method, "OPTIONS");
      assert.equal(seen.length, 1);
      assert.equal(seen[0]?.protocol, transport.toUpperCase());
      assert.equal(seen[0]?.address, HOST);
    });
  }

  it("can send to its own address and port", async () => {
    const self: SipStack = await stack((req) => self.respond(req, 200, "OK"));
    const res = final(await request(self, message(`sip:me@${HOST}:${self.port}`, undefined, "OPTIONS")));
    assert.equal(res.status, 200);
  });
});

describe("SIP stack, bug 1: UTF-8 bodies arrive byte-exact", () => {
  for (const transport of ["udp", "tcp"] as const) {
    it(`stack to stack over ${transport.toUpperCase()}, both directions`, async () => {
      let got: SipRequest | undefined;
      const server = await stack((req) => {
        got = req;
        server.respond(req, 200, "OK", {
          content: REPLY_BODY,
          headers: { "content-type": "text/plain;charset=UTF-8" },
        });
      });
      const client = await stack();
      const res = final(
        await request(client, message(`sip:x@${HOST}:${server.port};transport=${transport}`, BODY)),
      );
      assert.equal(got?.content, BODY);
      assert.equal(got?.headers["content-length"], Buffer.byteLength(BODY));
      assert.equal(got?.headers.from.name, undefined);
      assert.equal(res.status, 200);
      assert.equal(res.content, REPLY_BODY);
      assert.equal(res.headers["content-length"], Buffer.byteLength(REPLY_BODY));
    });
  }

  it("writes UTF-8 bytes and their count on UDP, and reads a peer's UTF-8 reply", async () => {
    const peer = await udpPeer();
    const client = await stack();
    const responses = request(client, message(`sip:x@${HOST}:${peer.port}`, BODY));
    const [data, rinfo] = await peer.next();
    const sent = split(data);
    assert.equal(sent.header("Content-Length"), String(Buffer.byteLength(BODY)));
    assert.deepEqual(sent.body, Buffer.from(BODY, "utf8"));
    assert.equal(sent.header("Route"), undefined, "the flow Route of the stack stays off the wire");

    const reply = Buffer.from(REPLY_BODY, "utf8");
    const head = sent.head
      .split("\r\n")
      .filter((l) => /^(Via|From|To|Call-ID|CSeq):/i.test(l))
      .map((l) => (l.startsWith("To:") ? `${l};tag=peer1` : l));
    const bytes = Buffer.concat([
      Buffer.from(`SIP/2.0 200 OK\r\n${head.join("\r\n")}\r\nContent-Length: ${reply.length}\r\n\r\n`),
      reply,
    ]);
    await sendUdp(peer.socket, bytes, rinfo.port);
    const res = final(await responses);
    assert.equal(res.content, REPLY_BODY);
  });

  it("reads a UTF-8 datagram from a peer and a display name in Cyrillic", async () => {
    let got: SipRequest | undefined;
    const server = await stack((req) => {
      got = req;
      server.respond(req, 200, "OK");
    });
    const peer = await udpPeer();
    await sendUdp(
      peer.socket,
      rawRequest({ port: server.port, viaPort: peer.port, body: BODY }),
      server.port,
    );
    const [data] = await peer.next();
    assert.match(data.toString(), /^SIP\/2.0 200 OK/);
    assert.equal(got?.content, BODY);
    assert.equal(got?.headers.from.name, '"Алиса"');
  });

  it("writes UTF-8 bytes and their count on TCP, and reads a reply cut inside its characters", async () => {
    const accepted: Socket[] = [];
    const server = createServer((s) => accepted.push(s));
    server.listen(0, HOST);
    await once(server, "listening");
    after(() => server.close());
    const port = (server.address() as { port: number }).port;
    const client = await stack();
    const responses = request(client, message(`sip:x@${HOST}:${port};transport=tcp`, BODY));

    let data = Buffer.alloc(0);
    await withTimeout(
      (async () => {
        while (accepted.length === 0) await delay(5);
        const s = accepted[0]!;
        s.setNoDelay(true);
        s.on("data", (chunk: Buffer) => {
          data = Buffer.concat([data, chunk]);
        });
        for (;;) {
          const end = data.indexOf("\r\n\r\n");
          if (end > 0 && data.length >= end + 4 + Buffer.byteLength(BODY)) break;
          await delay(5);
        }
      })(),
      3000,
      "the request over TCP",
    );
    const sent = split(data);
    assert.equal(sent.header("Content-Length"), String(Buffer.byteLength(BODY)));
    assert.deepEqual(sent.body, Buffer.from(BODY, "utf8"));

    const head = sent.head
      .split("\r\n")
      .filter((l) => /^(Via|From|To|Call-ID|CSeq):/i.test(l))
      .map((l) => (l.startsWith("To:") ? `${l};tag=peer1` : l));
    const reply = Buffer.concat([
      Buffer.from(
        `SIP/2.0 200 OK\r\n${head.join("\r\n")}\r\nContent-Length: ${Buffer.byteLength(REPLY_BODY)}\r\n\r\n`,
      ),
      Buffer.from(REPLY_BODY),
    ]);
    const cuts = [reply.length - Buffer.byteLength(REPLY_BODY) + 1, reply.length - 5, reply.length - 3];
    await writeInPieces(accepted[0]!, reply, cuts);
    const res = final(await withTimeout(responses, 3000, "the response"));
    assert.equal(res.content, REPLY_BODY);
  });

  it("reads a TCP request whose characters are cut between segments", async () => {
    let got: SipRequest | undefined;
    const server = await stack((req) => {
      got = req;
      server.respond(req, 200, "OK");
    });
    const peer = await tcpClient(server.port);
    const bytes = rawRequest({
      port: server.port,
      viaPort: peer.socket.localPort!,
      transport: "TCP",
      body: BODY,
    });
    await writeInPieces(peer.socket, bytes, cutsInsideMultibyte(bytes, BODY));
    await peer.until(/SIP\/2.0 200 OK/);
    assert.equal(got?.content, BODY);
  });
});

describe("SIP stack, bug 2: strong branch ids, tags and Call-IDs", () => {
  it("puts a 96-bit random branch in the Via of every request, and new tags and Call-IDs", async () => {
    const peer = await udpPeer();
    const client = await stack();
    const branches = new Set<string>();
    const callIds = new Set<string>();
    const fromTags = new Set<string>();
    for (let i = 0; i < 40; i++) {
      const req = message(`sip:x@${HOST}:${peer.port}`, "hi");
      delete (req.headers as Partial<SipRequest["headers"]>)["call-id"];
      req.headers.from.params = {};
      client.send(req);
      const sent = split((await peer.next())[0]);
      const branch = /;branch=([^;\s]+)/.exec(sent.header("Via") ?? "")?.[1] ?? "";
      assert.match(branch, /^z9hG4bK[0-9a-f]{16,}$/);
      branches.add(branch);
      const callId = sent.header("Call-ID") ?? "";
      assert.match(callId, /^[0-9a-f]{32}@127\.0\.0\.1$/);
      callIds.add(callId);
      const tag = /;tag=([^;\s]+)/.exec(sent.header("From") ?? "")?.[1] ?? "";
      assert.match(tag, /^[0-9a-f]{16}$/);
      fromTags.add(tag);
    }
    assert.equal(branches.size, 40);
    assert.equal(callIds.size, 40);
    assert.equal(fromTags.size, 40);
    await client.stop();
  });

  it("keeps the same strong branch on the retransmissions of a request over UDP", async () => {
    const peer = await udpPeer();
    const client = await stack();
    client.send(message(`sip:x@${HOST}:${peer.port}`, "hi"));
    const first = split((await peer.next())[0]).header("Via");
    const again = split((await peer.next())[0]).header("Via");
    assert.match(first ?? "", /branch=z9hG4bK[0-9a-f]{24}/);
    assert.equal(again, first);
    await client.stop();
  });
});

describe("SIP stack, bug 3: To-tags on responses", () => {
  it("tags every response above 100, the same tag for one request and its retransmission", async () => {
    const server = await stack((req) => {
      server.respond(req, 100, "Trying");
      server.respond(req, 180, "Ringing");
      server.respond(req, 200, "OK");
    });
    const peer = await udpPeer();
    const branch = `z9hG4bK${newTag()}`;
    const callId = newCallId("raw");
    const bytes = rawRequest({ port: server.port, viaPort: peer.port, branch, callId, body: "hi" });
    await sendUdp(peer.socket, bytes, server.port);
    const toOf = async () => {
      const res = split((await peer.next())[0]);
      return { status: res.head.split("\r\n")[0], to: res.header("To") ?? "" };
    };
    const trying = await toOf();
    const ringing = await toOf();
    const ok = await toOf();
    assert.match(trying.status ?? "", / 100 /);
    assert.doesNotMatch(trying.to, /tag=/);
    const tag = /;tag=([0-9a-f]+)/.exec(ok.to)?.[1];
    assert.ok(tag, `a To-tag in ${ok.to}`);
    assert.match(ringing.to, new RegExp(`;tag=${tag}`));

    await sendUdp(peer.socket, bytes, server.port); // retransmission: the stored 200 again
    const again = await toOf();
    assert.match(again.status ?? "", / 200 /);
    assert.match(again.to, new RegExp(`;tag=${tag}`));

    await sendUdp(
      peer.socket,
      rawRequest({ port: server.port, viaPort: peer.port, body: "hi" }),
      server.port,
    );
    await toOf();
    await toOf();
    const other = /;tag=([0-9a-f]+)/.exec((await toOf()).to)?.[1];
    assert.ok(other);
    assert.notEqual(other, tag, "another request, another tag");
  });

  it("keeps a To-tag the request already has", async () => {
    const server = await stack((req) => server.respond(req, 200, "OK"));
    const peer = await udpPeer();
    await sendUdp(
      peer.socket,
      rawRequest({ port: server.port, viaPort: peer.port, toTag: "dialog1" }),
      server.port,
    );
    const to = split((await peer.next())[0]).header("To") ?? "";
    assert.match(to, /;tag=dialog1$/);
  });

  it("tags the 500 sent when the request handler fails", async () => {
    const server = await stack(async () => {
      throw new Error("boom");
    });
    const client = await stack();
    const res = final(await request(client, message(`sip:x@${HOST}:${server.port}`, "hi")));
    assert.equal(res.status, 500);
    assert.match(res.headers.to.params.tag ?? "", /^[0-9a-f]{16}$/);
  });
});

describe("SIP stack, bug 4: a port in use", () => {
  it("rejects with sip.listen when the UDP port is taken, and the process goes on", async () => {
    const taken = await udpPeer();
    await assert.rejects(
      startSipStack({ address: HOST, port: taken.port, logger: silentLogger(), onRequest: () => {} }),
      (err) => isSiteError(err, "sip.listen") && err.message.includes(`${HOST}:${taken.port} in use (UDP)`),
    );
  });

  it("rejects with sip.listen when the TCP port is taken", async () => {
    const server: Server = createServer();
    server.listen(0, HOST);
    await once(server, "listening");
    after(() => server.close());
    const port = (server.address() as { port: number }).port;
    await assert.rejects(
      startSipStack({ address: HOST, port, logger: silentLogger(), onRequest: () => {} }),
      (err) => isSiteError(err, "sip.listen") && err.message.includes(`${HOST}:${port} in use (TCP)`),
    );
    // The UDP half it had bound is closed again: a UDP-only stack gets the port.
    const udpOnly = await stack(() => {}, { port, tcp: false });
    assert.equal(udpOnly.port, port);
  });

  it("rejects a second stack on the port of a running one; the first keeps working", async () => {
    const first: SipStack = await stack((req) => first.respond(req, 200, "OK"));
    await assert.rejects(
      startSipStack({ address: HOST, port: first.port, logger: silentLogger(), onRequest: () => {} }),
      (err) => isSiteError(err, "sip.listen") && err.message.includes("in use"),
    );
    const client = await stack();
    assert.equal(final(await request(client, message(`sip:x@${HOST}:${first.port}`, "hi"))).status, 200);
  });

  it("rejects an address that is not local", async () => {
    await assert.rejects(
      startSipStack({ address: "192.0.2.1", port: 0, logger: silentLogger(), onRequest: () => {} }),
      (err) => isSiteError(err, "sip.listen"),
    );
  });
});

describe("SIP stack, bug 5: stop() closes every socket", () => {
  it("closes an accepted TCP connection: the client sees 'close'", async () => {
    const server = await startSipStack({
      address: HOST,
      port: 0,
      logger: silentLogger(),
      onRequest: (req) => server.respond(req, 200, "OK"),
    });
    const peer = await tcpClient(server.port);
    peer.socket.write(
      rawRequest({ port: server.port, viaPort: peer.socket.localPort!, transport: "TCP", body: "hi" }),
    );
    await peer.until(/SIP\/2.0 200 OK/);
    const closedSeen = once(peer.socket, "close");
    await server.stop();
    await withTimeout(closedSeen, 1000, "the client's 'close'");
  });

  it("closes a TCP connection it opened as a client", async () => {
    const accepted: Socket[] = [];
    const raw = createServer((s) => {
      accepted.push(s);
      s.on("error", () => {});
      s.resume();
    });
    raw.listen(0, HOST);
    await once(raw, "listening");
    after(() => raw.close());
    const port = (raw.address() as { port: number }).port;
    const client = await startSipStack({
      address: HOST,
      port: 0,
      logger: silentLogger(),
      onRequest: () => {},
    });
    const answered = request(client, message(`sip:x@${HOST}:${port};transport=tcp`, "hi"));
    while (accepted.length === 0) await delay(5);
    const closedSeen = once(accepted[0]!, "close");
    await client.stop();
    await withTimeout(closedSeen, 1000, "the server side's 'close'");
    assert.equal(final(await answered).status, 503, "a pending request gets a local 503");
  });

  it("frees the port: a new stack starts on it", async () => {
    const first = await startSipStack({
      address: HOST,
      port: 0,
      logger: silentLogger(),
      onRequest: () => {},
    });
    const port = first.port;
    const peer = await tcpClient(port);
    await first.stop();
    await once(peer.socket, "close");
    const second: SipStack = await stack((req) => second.respond(req, 200, "OK"), { port });
    assert.equal(second.port, port);
    const client = await stack();
    for (const t of ["udp", "tcp"]) {
      assert.equal(
        final(await request(client, message(`sip:x@${HOST}:${port};transport=${t}`, "hi"))).status,
        200,
      );
    }
  });

  it("is idempotent and refuses to send afterwards with a local 503", async () => {
    const s = await startSipStack({ address: HOST, port: 0, logger: silentLogger(), onRequest: () => {} });
    await Promise.all([s.stop(), s.stop()]);
    await s.stop();
    const res = final(await request(s, message(`sip:x@${HOST}:9`, "hi")));
    assert.equal(res.status, 503);
  });
});

describe("SIP stack: malformed input is logged and dropped, or answered 400", () => {
  function dropped(records: LogRecord[]): string[] {
    return records.filter((r) => r.msg.startsWith("SIP message dropped")).map((r) => r.msg);
  }

  it("survives garbage datagrams and still answers a good request", async () => {
    const { logger, records } = memoryLogger("debug");
    const server = await stack((req) => server.respond(req, 200, "OK"), { logger });
    const peer = await udpPeer();
    const garbage = [
      Buffer.from([0xff, 0x00, 0x13, 0x37, 0xde, 0xad, 0xbe, 0xef]),
      Buffer.from("hello there\r\n\r\n"),
      Buffer.from(`OPTIONS sip:x@${HOST} SIP/2.0\r\nVia: SIP/2.0/UDP ${HOST}:1;branch=z9hG4bKx\r\nCall-`),
      Buffer.from("SIP/2.0 200 OK\r\nVia: nonsense\r\n\r\n"),
      Buffer.from(`INVITE sip:x@${HOST} SIP/2.0\r\nVia: ;;;\r\nCSeq: abc\r\nTo: <\r\n\r\n`),
      Buffer.from("\r\n\r\n"),
      Buffer.alloc(2000, 0x41),
    ];
    for (const g of garbage) await sendUdp(peer.socket, g, server.port);
    await sendUdp(
      peer.socket,
      rawRequest({ method: "OPTIONS", port: server.port, viaPort: peer.port }),
      server.port,
    );
    const [data] = await peer.next();
    assert.match(data.toString(), /^SIP\/2.0 200 OK/, "the only answer is the one to the good request");
    assert.equal(
      dropped(records).length,
      garbage.length - 1,
      "each dropped datagram is logged (not the keep-alive)",
    );
    assert.ok(records.some((r) => r.level === "warn" && r.msg.startsWith("SIP message dropped")));
  });

  it("answers 400 to a request missing a mandatory header", async () => {
    let called = 0;
    const server = await stack(() => {
      called++;
    });
    const peer = await udpPeer();
    await sendUdp(
      peer.socket,
      rawRequest({ port: server.port, viaPort: peer.port, omit: ["Call-ID"] }),
      server.port,
    );
    const res = split((await peer.next())[0]);
    assert.match(res.head, /^SIP\/2.0 400 Bad Request \(missing or malformed Call-ID\)/);
    assert.match(res.header("To") ?? "", /;tag=[0-9a-f]{16}/);
    assert.equal(called, 0);
  });

  it("answers 400 to a datagram whose body is shorter than its Content-Length", async () => {
    let called = 0;
    const server = await stack(() => {
      called++;
    });
    const peer = await udpPeer();
    const bytes = rawRequest({ port: server.port, viaPort: peer.port, body: BODY, contentLength: 200 });
    await sendUdp(peer.socket, bytes, server.port);
    const res = split((await peer.next())[0]);
    assert.match(res.head, /^SIP\/2.0 400 Bad Request \(body shorter than Content-Length\)/);
    assert.equal(called, 0);
  });

  it("cuts a datagram body to its Content-Length (0 included)", async () => {
    const got: (string | undefined)[] = [];
    const server = await stack((req) => {
      got.push(req.content);
      server.respond(req, 200, "OK");
    });
    const peer = await udpPeer();
    await sendUdp(
      peer.socket,
      rawRequest({ port: server.port, viaPort: peer.port, body: "hello world", contentLength: 5 }),
      server.port,
    );
    await peer.next();
    await sendUdp(
      peer.socket,
      rawRequest({ port: server.port, viaPort: peer.port, body: "junk", contentLength: 0 }),
      server.port,
    );
    await peer.next();
    assert.deepEqual(got, ["hello", ""]);
  });
});

describe("SIP stack: Content-Length mismatches over TCP", () => {
  async function tcpSetup() {
    const { logger, records } = memoryLogger("debug");
    const got: SipRequest[] = [];
    const server = await stack(
      (req) => {
        got.push(req);
        server.respond(req, 200, "OK");
      },
      { logger },
    );
    const peer = await tcpClient(server.port);
    const closedSeen = once(peer.socket, "close");
    return { server, peer, got, records, closedSeen, viaPort: peer.socket.localPort! };
  }

  it("frames by a too short Content-Length, then closes the connection on the leftover bytes", async () => {
    const t = await tcpSetup();
    const bytes = rawRequest({
      port: t.server.port,
      viaPort: t.viaPort,
      transport: "TCP",
      body: "hello world",
      contentLength: 5,
    });
    t.peer.socket.write(bytes);
    await withTimeout(t.closedSeen, 2000, "the connection closed");
    assert.deepEqual(
      t.got.map((r) => r.content),
      ["hello"],
    );
    assert.ok(t.records.some((r) => /not a SIP start line.*connection closed/.test(r.msg)));
  });

  it("answers 400 and closes on a request without Content-Length", async () => {
    const t = await tcpSetup();
    t.peer.socket.write(
      rawRequest({ port: t.server.port, viaPort: t.viaPort, transport: "TCP", contentLength: null }),
    );
    await t.peer.until(/SIP\/2.0 400 Bad Request \(no Content-Length on a stream\)/);
    await withTimeout(t.closedSeen, 2000, "the connection closed");
    assert.equal(t.got.length, 0);
  });

  it("answers 400 and closes on a non-numeric Content-Length", async () => {
    const t = await tcpSetup();
    t.peer.socket.write(
      rawRequest({
        port: t.server.port,
        viaPort: t.viaPort,
        transport: "TCP",
        body: "x",
        contentLength: "x1",
      }),
    );
    await t.peer.until(/SIP\/2.0 400 Bad Request \(invalid Content-Length\)/);
    await withTimeout(t.closedSeen, 2000, "the connection closed");
    assert.equal(t.got.length, 0);
  });

  it("drops a message whose connection ends before its Content-Length is reached", async () => {
    const t = await tcpSetup();
    t.peer.socket.end(
      rawRequest({
        port: t.server.port,
        viaPort: t.viaPort,
        transport: "TCP",
        body: "short",
        contentLength: 100,
      }),
    );
    await withTimeout(t.closedSeen, 2000, "the connection closed");
    await delay(50);
    assert.equal(t.got.length, 0);
    assert.ok(t.records.some((r) => /connection ended inside a message/.test(r.msg)));
  });

  it("takes two requests in one segment and keep-alives between them", async () => {
    const t = await tcpSetup();
    const one = rawRequest({ port: t.server.port, viaPort: t.viaPort, transport: "TCP", body: "one" });
    const two = rawRequest({ port: t.server.port, viaPort: t.viaPort, transport: "TCP", body: BODY });
    t.peer.socket.write(Buffer.concat([Buffer.from("\r\n\r\n"), one, Buffer.from("\r\n\r\n"), two]));
    await t.peer.until(/SIP\/2.0 200 OK[\s\S]*SIP\/2.0 200 OK/);
    assert.deepEqual(
      t.got.map((r) => r.content),
      ["one", BODY],
    );
  });
});

describe("SIP stack: failures of the next hop", () => {
  it("gives a local 503 for a TCP peer that refuses, without writing to stdout", async () => {
    const closedPort = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, HOST, () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => resolve(p));
      });
    });
    const client = await stack();
    const printed: unknown[] = [];
    const log = console.log;
    console.log = (...args: unknown[]) => printed.push(args);
    try {
      const res = final(await request(client, message(`sip:x@${HOST}:${closedPort};transport=tcp`, "hi")));
      assert.equal(res.status, 503);
    } finally {
      console.log = log;
    }
    assert.deepEqual(printed, []);
  });

  it("throws sip.transport for a request it cannot route", async () => {
    const client = await stack();
    assert.throws(
      () => client.send(message("tel:+256700000001", "hi")),
      (err) => isSiteError(err, "sip.transport"),
    );
    assert.throws(
      () => client.send(message(`sips:x@${HOST}:5061`, "hi")),
      (err) => isSiteError(err, "sip.transport"),
    );
  });
});
