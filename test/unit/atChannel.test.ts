import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { AtChannel, type Urc } from "../../src/at/channel.js";
import { BASE_URCS, UrcRegistry } from "../../src/at/urc.js";
import { isSiteError } from "../../src/core/errors.js";
import { silentLogger } from "../../src/core/logger.js";
import type { SerialConnection } from "../../src/transport/serial/serialTransport.js";

/** A byte-level stand-in for a serial port: `reply` decides what the "modem" sends back per write. */
class ScriptedPort implements SerialConnection {
  readonly path = "/dev/scripted";
  isOpen = true;
  written: string[] = [];
  private data: ((b: Buffer) => void)[] = [];
  private closers: ((i: { disconnected: boolean }) => void)[] = [];
  constructor(private readonly reply: (written: string, port: ScriptedPort) => void) {}
  async write(d: Buffer | string): Promise<void> {
    const s = d.toString();
    this.written.push(s);
    setImmediate(() => this.reply(s, this));
  }
  send(s: string | Buffer): void {
    for (const l of this.data) l(Buffer.isBuffer(s) ? s : Buffer.from(s, "latin1"));
  }
  async close(): Promise<void> {
    this.unplug(false);
  }
  unplug(disconnected = true): void {
    if (!this.isOpen) return;
    this.isOpen = false;
    for (const c of this.closers) c({ disconnected });
  }
  onData(l: (b: Buffer) => void): void {
    this.data.push(l);
  }
  onClose(l: (i: { disconnected: boolean }) => void): void {
    this.closers.push(l);
  }
}

function channelFor(reply: (w: string, p: ScriptedPort) => void, timeoutMs = 200) {
  const port = new ScriptedPort(reply);
  const urcs: Urc[] = [];
  const ch = new AtChannel({
    conn: port,
    logger: silentLogger(),
    urcs: new UrcRegistry(BASE_URCS),
    extraErrors: new Set(["COMMAND NOT SUPPORT"]),
    defaultTimeoutMs: timeoutMs,
  });
  ch.onUrc((u) => urcs.push(u));
  ch.start();
  return { ch, port, urcs };
}

describe("the AT channel", () => {
  it("returns the information lines of a reply and drops the echo", async () => {
    const { ch } = channelFor((w, p) => p.send(`${w}\r\n+CSQ: 20,99\r\n\r\nOK\r\n`));
    const r = await ch.send("AT+CSQ");
    assert.deepEqual(r.lines, ["+CSQ: 20,99"]);
  });

  it("routes a URC that arrives in the middle of a reply to the URC listeners", async () => {
    const { ch, urcs } = channelFor((_w, p) => p.send('\r\n+CSQ: 9,99\r\n\r\n+CMTI: "SM",4\r\n\r\nOK\r\n'));
    const r = await ch.send("AT+CSQ");
    assert.deepEqual(r.lines, ["+CSQ: 9,99"]);
    assert.equal(urcs.length, 1);
    assert.equal(urcs[0]!.line, '+CMTI: "SM",4');
  });

  it("keeps +CREG as the reply to AT+CREG? but as a URC during another command", async () => {
    const { ch, urcs } = channelFor((w, p) =>
      p.send(w.startsWith("AT+CREG?") ? '\r\n+CREG: 2,1,"00C3","1A2B"\r\nOK\r\n' : "\r\n+CREG: 5\r\nOK\r\n"),
    );
    assert.deepEqual((await ch.send("AT+CREG?")).lines, ['+CREG: 2,1,"00C3","1A2B"']);
    assert.deepEqual((await ch.send("AT+CSQ")).lines, []);
    assert.equal(urcs[0]?.line, "+CREG: 5");
  });

  it("joins +CDS with the PDU on the next line", async () => {
    const { port, urcs } = channelFor(() => {});
    port.send("\r\n+CDS: 24\r\n07914356060013F10659098136395339F6219011707193802190117071938030\r\n");
    await new Promise((r) => setImmediate(r));
    assert.equal(urcs[0]?.line, "+CDS: 24");
    assert.equal(urcs[0]?.pdu, "07914356060013F10659098136395339F6219011707193802190117071938030");
  });

  it("sends the payload after the > prompt, with Ctrl-Z, and reads +CMGS", async () => {
    const { ch, port } = channelFor((w, p) => {
      if (w.startsWith("AT+CMGS")) p.send("\r\n> ");
      else if (w.endsWith("\x1a")) p.send("\r\n+CMGS: 42\r\n\r\nOK\r\n");
    }, 1000);
    const r = await ch.send("AT+CMGS=9", { payload: "0001000B91" });
    assert.deepEqual(r.lines, ["+CMGS: 42"]);
    assert.equal(port.written[1], "0001000B91\x1a");
  });

  it("calls onPrompt when the prompt came and before the payload is written", async () => {
    const order: string[] = [];
    const { ch, port } = channelFor((w, p) => {
      order.push(`wrote ${JSON.stringify(w)}`);
      if (w.startsWith("AT+CMGS")) p.send("\r\n> ");
      else if (w.endsWith("\x1a")) p.send("\r\n+CMGS: 7\r\n\r\nOK\r\n");
    }, 1000);
    await ch.send("AT+CMGS=9", {
      payload: "0011",
      onPrompt: () => {
        order.push(`prompt; written so far: ${port.written.length}`);
      },
    });
    assert.deepEqual(order, ['wrote "AT+CMGS=9\\r"', "prompt; written so far: 1", 'wrote "0011\\u001a"']);
  });

  it("leaves the prompt with ESC and writes no payload when onPrompt throws", async () => {
    const { ch, port } = channelFor((w, p) => {
      if (w.startsWith("AT+CMGS")) p.send("\r\n> ");
    }, 1000);
    await assert.rejects(
      ch.send("AT+CMGS=9", {
        payload: "0011",
        onPrompt: () => {
          throw new Error("disk full");
        },
      }),
      (e) => isSiteError(e, "at.aborted") && /disk full/.test(e.message),
    );
    assert.deepEqual(port.written, ["AT+CMGS=9\r", "\x1b"]);
  });

  it("waits for the promise onPrompt returns before the payload, and aborts with ESC if it rejects", async () => {
    const { ch, port } = channelFor((w, p) => {
      if (w.startsWith("AT+CMGS")) p.send("\r\n> ");
      else if (w.endsWith("\x1a")) p.send("\r\n+CMGS: 8\r\n\r\nOK\r\n");
    }, 1000);
    let open: () => void = () => {};
    const gate = new Promise<void>((r) => {
      open = r;
    });
    const sent = ch.send("AT+CMGS=9", { payload: "0022", onPrompt: () => gate });
    await new Promise((r) => setTimeout(r, 30));
    assert.deepEqual(port.written, ["AT+CMGS=9\r"], "the payload waits for the gate");
    open();
    assert.deepEqual((await sent).lines, ["+CMGS: 8"]);
    assert.equal(port.written[1], "0022\x1a");

    const { ch: ch2, port: port2 } = channelFor((w, p) => {
      if (w.startsWith("AT+CMGS")) p.send("\r\n> ");
    }, 1000);
    await assert.rejects(
      ch2.send("AT+CMGS=9", { payload: "0033", onPrompt: () => Promise.reject(new Error("commit failed")) }),
      (e) => isSiteError(e, "at.aborted"),
    );
    assert.deepEqual(port2.written, ["AT+CMGS=9\r", "\x1b"]);
  });

  it("cancels a prompt that never comes with ESC and times out", async () => {
    const { ch, port } = channelFor(() => {});
    await assert.rejects(ch.send("AT+CMGS=9", { payload: "00", promptTimeoutMs: 50 }), (e) =>
      isSiteError(e, "at.timeout"),
    );
    await new Promise((r) => setImmediate(r));
    assert.ok(port.written.includes("\x1b"));
  });

  it("turns +CMS ERROR into a typed error keeping its number", async () => {
    const { ch } = channelFor((_w, p) => p.send("\r\n+CMS ERROR: 332\r\n"));
    await assert.rejects(
      ch.send("AT+CMGS=9", { payload: "00" }),
      (e) => isSiteError(e, "at.cms") && e.detail.number === 332,
    );
    const { ch: ch2 } = channelFor((_w, p) => p.send("\r\n+CMS ERROR: 332\r\n"));
    await assert.rejects(ch2.send("AT+CMGL=4"), (e) => isSiteError(e, "at.cms") && e.detail.number === 332);
  });

  it("treats Huawei's COMMAND NOT SUPPORT as a final error", async () => {
    const { ch } = channelFor((_w, p) => p.send("\r\nCOMMAND NOT SUPPORT\r\n"));
    await assert.rejects(
      ch.send("AT^FOO"),
      (e) => isSiteError(e, "at.error") && e.detail.text === "COMMAND NOT SUPPORT",
    );
  });

  it("skips garbage lines and still completes the command", async () => {
    const { ch } = channelFor((_w, p) => {
      p.send(Buffer.from([0x00, 0xff, 0x13, 0x0d, 0x0a]));
      p.send("\x07\x01junk\r\n\r\n+CSQ: 1,99\r\nOK\r\n");
    });
    assert.deepEqual((await ch.send("AT+CSQ")).lines, ["+CSQ: 1,99"]);
    assert.equal(ch.stats.garbage, 2);
  });

  it("runs one command at a time, in order", async () => {
    const order: string[] = [];
    const { ch } = channelFor((w, p) => {
      order.push(w.trim());
      setTimeout(() => p.send("\r\nOK\r\n"), 5);
    });
    await Promise.all([ch.send("AT+A"), ch.send("AT+B"), ch.send("AT+C")]);
    assert.deepEqual(order, ["AT+A", "AT+B", "AT+C"]);
  });

  it("completes at the +CPIN line for modems that never send OK after it (Wavecom)", async () => {
    const { ch } = channelFor((_w, p) => p.send("+CPIN: READY\r\n"));
    const r = await ch.send("AT+CPIN?", { completeOnPrefix: true });
    assert.deepEqual(r.lines, ["+CPIN: READY"]);
  });

  it("does not give a late reply to the command after a timeout", async () => {
    let n = 0;
    const { ch } = channelFor((w, p) => {
      n++;
      // The first command is answered only after its timeout; the second gets its own reply.
      if (n === 1) setTimeout(() => p.send("\r\n+CSQ: 1,99\r\nOK\r\n"), 120);
      else setTimeout(() => p.send(`\r\n${w.trim() === "AT+CGMI" ? "Quectel" : "?"}\r\nOK\r\n`), 100);
    }, 80);
    await assert.rejects(ch.send("AT+CSQ"), (e) => isSiteError(e, "at.timeout"));
    const r = await ch.send("AT+CGMI", { prefix: null, timeoutMs: 1000 });
    assert.deepEqual(r.lines, ["Quectel"]);
  });

  it("drops a stale OK that arrives while waiting for the > prompt", async () => {
    const { ch } = channelFor((w, p) => {
      if (w.startsWith("AT+CMGS")) p.send("\r\nOK\r\n\r\n> ");
      else if (w.endsWith("\x1a")) p.send("\r\n+CMGS: 7\r\n\r\nOK\r\n");
    }, 1000);
    const r = await ch.send("AT+CMGS=9", { payload: "00" });
    assert.deepEqual(r.lines, ["+CMGS: 7"]);
  });

  it("rejects what is in flight and what is queued when the device vanishes", async () => {
    const { ch, port } = channelFor(() => {});
    const a = ch.send("AT+A");
    const b = ch.send("AT+B");
    port.unplug();
    await assert.rejects(a, (e) => isSiteError(e, "at.closed"));
    await assert.rejects(b, (e) => isSiteError(e, "at.closed"));
    await assert.rejects(ch.send("AT"), (e) => isSiteError(e, "at.closed"));
  });
});
