import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { inspectMessage } from "../../src/sip/stackGate.js";
import {
  contentLengthOf,
  fromWire,
  MAX_BODY_BYTES,
  MAX_HEAD_BYTES,
  StreamFramer,
  toWire,
  toWireShared,
  utf8ToWire,
  wireToUtf8,
} from "../../src/sip/stackWire.js";

const TEXT = "Привет 👋 café";

/** A message in byte form (one char per byte), as sip.js and the framer see it. */
function wire(body: string, extra = "", contentLength: number | string = Buffer.byteLength(body)): string {
  const head = [
    "MESSAGE sip:x@127.0.0.1 SIP/2.0",
    "Via: SIP/2.0/TCP 127.0.0.1:5062;branch=z9hG4bKabc",
    "From: <sip:a@127.0.0.1>;tag=1",
    "To: <sip:x@127.0.0.1>",
    "Call-ID: c1@h",
    "CSeq: 1 MESSAGE",
    `Content-Length: ${contentLength}`,
  ].join("\r\n");
  return `${head}${extra}\r\n\r\n${utf8ToWire(body)}`;
}

describe("SIP wire form (one char per byte)", () => {
  it("turns UTF-8 text into its bytes and back", () => {
    const w = utf8ToWire(TEXT);
    assert.equal(w.length, Buffer.byteLength(TEXT));
    assert.deepEqual(Buffer.from(w, "latin1"), Buffer.from(TEXT, "utf8"));
    assert.equal(wireToUtf8(w), TEXT);
    assert.equal(utf8ToWire("plain ascii"), "plain ascii");
  });

  it("reads bytes that are not UTF-8 as Latin-1", () => {
    const latin1 = Buffer.from([0x63, 0x61, 0x66, 0xe9]).toString("latin1");
    assert.equal(wireToUtf8(latin1), "café");
  });

  it("converts every string of a message, deep, on a copy", () => {
    const msg = {
      headers: { to: { name: '"Алиса"', params: { tag: "x" } }, cseq: { seq: 1 } },
      content: TEXT,
    };
    const w = toWire(msg);
    assert.notEqual(w, msg);
    assert.equal(msg.content, TEXT);
    assert.equal(w.content.length, Buffer.byteLength(TEXT));
    assert.equal(w.headers.cseq.seq, 1);
    assert.deepEqual(fromWire(w), msg);
  });
});

describe("SIP wire form of responses (shared when ASCII)", () => {
  it("returns an ASCII response itself and a copy of one with other characters", () => {
    const ascii = {
      status: 202,
      reason: "Accepted",
      headers: { to: { uri: "sip:a@h", params: { tag: "x" } } },
    };
    assert.equal(toWireShared(ascii), ascii);
    const text = { status: 400, reason: `Bad Request (${TEXT})`, headers: { via: [{ host: "h" }] } };
    const wired = toWireShared(text);
    assert.notEqual(wired, text);
    assert.equal(wired.reason, utf8ToWire(`Bad Request (${TEXT})`));
    assert.equal(text.reason, `Bad Request (${TEXT})`);
    const deep = { headers: { warning: [{ text: "é" }] } };
    assert.notEqual(toWireShared(deep), deep);
  });
});

describe("SIP Content-Length of a header section", () => {
  it("reads it, compact form and case included", () => {
    assert.equal(contentLengthOf("M sip:x SIP/2.0\r\nContent-Length: 12"), 12);
    assert.equal(contentLengthOf("M sip:x SIP/2.0\r\nl:3"), 3);
    assert.equal(contentLengthOf("M sip:x SIP/2.0\r\ncontent-length :  0 "), 0);
    assert.equal(contentLengthOf("M sip:x SIP/2.0\r\nContent-Length: 4\r\nl: 4"), 4);
  });

  it("tells missing from invalid", () => {
    assert.equal(contentLengthOf("M sip:x SIP/2.0\r\nContent-Type: a/b"), "missing");
    assert.equal(contentLengthOf("M sip:x SIP/2.0\r\nContent-Length: x"), "invalid");
    assert.equal(contentLengthOf("M sip:x SIP/2.0\r\nContent-Length: -1"), "invalid");
    assert.equal(contentLengthOf("M sip:x SIP/2.0\r\nContent-Length: 4\r\nContent-Length: 5"), "invalid");
  });
});

describe("SIP stream framer", () => {
  it("frames a message fed one byte at a time, multi-byte characters cut everywhere", () => {
    const msg = wire(TEXT);
    const framer = new StreamFramer();
    const out = [];
    for (const ch of msg) out.push(...framer.push(ch));
    assert.deepEqual(out, [{ kind: "message", text: msg }]);
    assert.equal(framer.pending, 0);
  });

  it("frames several messages in one chunk and skips CRLF keep-alives", () => {
    const a = wire("one");
    const b = wire(TEXT);
    const out = new StreamFramer().push(`\r\n\r\n${a}\r\n${b}\r\n\r\n`);
    assert.deepEqual(out, [
      { kind: "message", text: a },
      { kind: "message", text: b },
    ]);
  });

  it("waits for the rest of a body", () => {
    const msg = wire(TEXT);
    const framer = new StreamFramer();
    assert.deepEqual(framer.push(msg.slice(0, -3)), []);
    assert.equal(framer.pending, msg.length - 3);
    assert.deepEqual(framer.push(msg.slice(-3)), [{ kind: "message", text: msg }]);
  });

  it("fails on the bytes left by a too short Content-Length, and then stays silent", () => {
    const framer = new StreamFramer();
    const out = framer.push(wire("hello world", "", 5));
    assert.equal(out.length, 2);
    assert.equal(out[0]?.kind, "message");
    assert.match(out[0]?.kind === "message" ? out[0].text : "", /\r\n\r\nhello$/);
    assert.equal(out[1]?.kind, "error");
    assert.deepEqual(framer.push(wire("more")), []);
  });

  it("fails with the head on a missing, invalid or too large Content-Length", () => {
    const noLength = "OPTIONS sip:x SIP/2.0\r\nVia: SIP/2.0/TCP h;branch=z9hG4bK1\r\n\r\n";
    const missing = new StreamFramer().push(noLength)[0];
    assert.equal(missing?.kind, "error");
    assert.equal(missing?.kind === "error" && missing.head, noLength.slice(0, -4));
    assert.equal(missing?.kind === "error" && missing.status, 400);

    const invalid = new StreamFramer().push(wire("x", "", "1x"))[0];
    assert.match(invalid?.kind === "error" ? invalid.reason : "", /invalid Content-Length/);

    const large = new StreamFramer().push(wire("", "", MAX_BODY_BYTES + 1))[0];
    assert.equal(large?.kind === "error" && large.status, 513);
  });

  it("fails on a header section that never ends", () => {
    const framer = new StreamFramer();
    const out = framer.push(`OPTIONS sip:x SIP/2.0\r\nX: ${"a".repeat(MAX_HEAD_BYTES)}`);
    assert.equal(out[0]?.kind === "error" && out[0].status, 513);
  });

  it("fails at once on a first byte no start line has", () => {
    assert.equal(new StreamFramer().push(" junk")[0]?.kind, "error");
    assert.equal(new StreamFramer().push("\x16\x03\x01")[0]?.kind, "error");
  });
});

describe("SIP gate", () => {
  it("passes a good message, its body cut to the Content-Length", () => {
    assert.deepEqual(inspectMessage(wire("hi"), true), { kind: "pass", text: wire("hi"), ascii: true });
    const long = `${wire("hello", "", 2)}`;
    assert.deepEqual(inspectMessage(long, true), {
      kind: "pass",
      text: `${long.slice(0, long.indexOf("\r\n\r\n") + 4)}he`,
      ascii: true,
    });
    const zero = wire("junk", "", 0);
    assert.deepEqual(inspectMessage(zero, true), { kind: "pass", text: zero.slice(0, -4), ascii: true });
    assert.deepEqual(inspectMessage(wire(TEXT), true), { kind: "pass", text: wire(TEXT), ascii: false });
  });

  it("checks the mandatory headers in every form sip.js reads: compact, folded, repeated", () => {
    const compact = wire("hi")
      .replace("Via:", "v:")
      .replace("From:", "f:")
      .replace("To:", "t:")
      .replace("Call-ID:", "i:")
      .replace("Content-Length:", "l:");
    const folded = wire("hi").replace("From: <sip:a@127.0.0.1>;tag=1", "From:\r\n <sip:a@127.0.0.1>;tag=1");
    const secondViaBad = wire("hi").replace(
      "Via: SIP/2.0/TCP 127.0.0.1:5062;branch=z9hG4bKabc",
      "Via: SIP/2.0/TCP 127.0.0.1:5062;branch=z9hG4bKabc\r\nVia: nonsense",
    );
    const firstViaBad = wire("hi").replace("Via: SIP/2.0/TCP", "Via: nonsense\r\nVia: SIP/2.0/TCP");
    const noCseqNumber = wire("hi").replace("CSeq: 1 MESSAGE", "CSeq: MESSAGE");
    const lowerCase = wire("hi").replace("Call-ID:", "call-id:").replace("CSeq:", "cseq:");
    const table: [string, string, string, RegExp?][] = [
      ["compact forms", compact, "pass"],
      ["a folded From (the full parse runs)", folded, "pass"],
      ["header names in lower case", lowerCase, "pass"],
      ["a bad second Via (sip.js reads the first)", secondViaBad, "pass"],
      ["a bad first Via before a good one (sip.js skips it)", firstViaBad, "pass"],
      [
        "only a bad Via: no Via to answer to",
        wire("hi").replace("Via: SIP/2.0/TCP", "Via: SIP/2.0/"),
        "drop",
      ],
      ["a CSeq without its number", noCseqNumber, "reject", /missing or malformed CSeq/],
      ["no To", wire("hi").replace("To: <sip:x@127.0.0.1>\r\n", ""), "reject", /missing or malformed To/],
      ["no From", wire("hi").replace("From: <sip:a@127.0.0.1>;tag=1\r\n", ""), "reject", /From/],
    ];
    for (const [what, msg, kind, reason] of table) {
      const v = inspectMessage(msg, true);
      assert.equal(v.kind, kind, what);
      if (reason !== undefined)
        assert.match(v.kind === "reject" ? (v.reply.split("\r\n")[0] ?? "") : "", reason, what);
    }
  });

  it("ignores keep-alives and drops what is no SIP", () => {
    assert.deepEqual(inspectMessage("\r\n\r\n", true), { kind: "ignore" });
    assert.equal(inspectMessage("\x00\x01\x02", true).kind, "drop");
    assert.equal(inspectMessage("GET / HTTP/1.1\r\nHost: x\r\n\r\n", true).kind, "drop");
    assert.equal(inspectMessage("OPTIONS sip:x SIP/2.0\r\nVia: SIP/2.0/UDP h", true).kind, "drop");
  });

  it("answers a request it can answer with 400, drops a response", () => {
    const noCallId = wire("hi").replace("Call-ID: c1@h\r\n", "");
    const verdict = inspectMessage(noCallId, true);
    assert.equal(verdict.kind, "reject");
    assert.match(
      verdict.kind === "reject" ? verdict.reply : "",
      /^SIP\/2.0 400 Bad Request \(missing or malformed Call-ID\)\r\n/,
    );
    assert.match(
      verdict.kind === "reject" ? verdict.reply : "",
      /\r\nTo: +<sip:x@127.0.0.1>;tag=[0-9a-f]{16}\r\n/,
    );
    const response = "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nCSeq: 1 MESSAGE\r\n\r\n";
    assert.equal(inspectMessage(response, true).kind, "drop");
  });

  it("answers 400 to a body shorter than its Content-Length, a bad one, and a CSeq of another method", () => {
    for (const [msg, reason] of [
      [wire("hi", "", 10), /body shorter than Content-Length/],
      [wire("hi", "", "two"), /invalid Content-Length/],
      [wire("hi").replace("CSeq: 1 MESSAGE", "CSeq: 1 INVITE"), /CSeq method does not match/],
    ] as const) {
      const v = inspectMessage(msg, true);
      assert.equal(v.kind, "reject");
      assert.match(v.kind === "reject" ? (v.reply.split("\r\n")[0] ?? "") : "", reason);
    }
  });

  it("never answers an ACK", () => {
    const ack = wire("").replace("MESSAGE sip:", "ACK sip:").replace("CSeq: 1 MESSAGE", "CSeq: 1 ACK");
    assert.equal(inspectMessage(ack.replace("Call-ID: c1@h\r\n", ""), true).kind, "drop");
  });
});
