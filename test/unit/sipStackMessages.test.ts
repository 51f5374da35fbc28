import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isSiteError } from "../../src/core/errors.js";
import {
  makeResponse,
  newBranch,
  newCallId,
  newTag,
  parseSipMessage,
  parseUri,
  type SipRequest,
  stringifySipMessage,
  stringifyUri,
  strongVias,
  toTagFor,
} from "../../src/sip/stack.js";

function request(overrides: Partial<SipRequest["headers"]> = {}): SipRequest {
  return {
    method: "MESSAGE",
    uri: "sip:+256700000001@site.example",
    version: "2.0",
    headers: {
      via: [
        {
          version: "2.0",
          protocol: "UDP",
          host: "10.0.0.2",
          port: 5060,
          params: { branch: "z9hG4bKaaa", rport: "5060" },
        },
      ],
      to: { uri: "sip:+256700000001@site.example", params: {} },
      from: { name: '"Алиса"', uri: "sip:alice@10.0.0.2", params: { tag: "f1" } },
      "call-id": "c1@10.0.0.2",
      cseq: { seq: 4, method: "MESSAGE" },
      ...overrides,
    },
    content: "Привет 👋",
  };
}

describe("SIP identifiers", () => {
  it("makes branch ids with the magic cookie and 96 random bits", () => {
    const seen = new Set<string>();
    for (let i = 0; i < 2000; i++) {
      const b = newBranch();
      assert.match(b, /^z9hG4bK[0-9a-f]{24}$/);
      seen.add(b);
    }
    assert.equal(seen.size, 2000);
  });

  it("makes 64-bit tags and 128-bit Call-IDs", () => {
    assert.match(newTag(), /^[0-9a-f]{16}$/);
    assert.notEqual(newTag(), newTag());
    assert.match(newCallId("site1"), /^[0-9a-f]{32}@site1$/);
  });
});

describe("SIP responses", () => {
  it("copies Via, From, Call-ID, CSeq and adds a To-tag to a final response", () => {
    const req = request();
    const res = makeResponse(req, 200, "OK", { headers: { "retry-after": "5" }, content: "ok ✓" });
    assert.equal(res.status, 200);
    assert.deepEqual(res.headers.via, req.headers.via);
    assert.notEqual(res.headers.via, req.headers.via, "a copy");
    assert.equal(res.headers.from, req.headers.from);
    assert.equal(res.headers["call-id"], "c1@10.0.0.2");
    assert.deepEqual(res.headers.cseq, { seq: 4, method: "MESSAGE" });
    assert.match(res.headers.to.params.tag ?? "", /^[0-9a-f]{16}$/);
    assert.equal(req.headers.to.params.tag, undefined, "the request is left alone");
    assert.equal(res.headers["retry-after"], "5");
    assert.equal(res.content, "ok ✓");
  });

  it("gives every response to one request the same tag, and another request another", () => {
    const req = request();
    const tag = makeResponse(req, 200, "OK").headers.to.params.tag;
    assert.equal(makeResponse(req, 180, "Ringing").headers.to.params.tag, tag);
    assert.equal(makeResponse(structuredClone(req), 486, "Busy Here").headers.to.params.tag, tag);
    assert.equal(toTagFor(req), tag);
    const other = request({
      via: [{ host: "10.0.0.2", port: 5060, protocol: "UDP", params: { branch: "z9hG4bKbbb" } }],
    });
    assert.notEqual(makeResponse(other, 200, "OK").headers.to.params.tag, tag);
    assert.notEqual(
      makeResponse(request({ "call-id": "c2@10.0.0.2" }), 200, "OK").headers.to.params.tag,
      tag,
    );
  });

  it("adds no tag to a 100 and keeps one the To has", () => {
    assert.equal(makeResponse(request(), 100, "Trying").headers.to.params.tag, undefined);
    const inDialog = request({ to: { uri: "sip:x@h", params: { tag: "dlg" } } });
    assert.equal(makeResponse(inDialog, 200, "OK").headers.to.params.tag, "dlg");
  });
});

describe("SIP strong Via branches handed to sip.js", () => {
  it("gives each Via added by unshift a strong branch that any assignment renews", () => {
    const vias = strongVias([]);
    vias.unshift({ params: { branch: "z9hG4bK123456" } });
    const via = vias[0]!;
    const first = via.params.branch;
    assert.match(first ?? "", /^z9hG4bK[0-9a-f]{24}$/);
    via.params.branch = "z9hG4bK42";
    assert.match(via.params.branch ?? "", /^z9hG4bK[0-9a-f]{24}$/);
    assert.notEqual(via.params.branch, first);
    assert.deepEqual(Object.keys(via.params), ["branch"]);
  });
});

describe("SIP URIs and messages", () => {
  it("parses and prints a URI, port left out when none", () => {
    const u = parseUri("sip:+256700000001@10.0.0.1:5070;transport=tcp");
    assert.deepEqual(u, {
      schema: "sip",
      user: "+256700000001",
      host: "10.0.0.1",
      port: 5070,
      params: { transport: "tcp" },
      headers: {},
    });
    assert.equal(parseUri("sip:site.example")?.port, undefined);
    assert.equal(parseUri("tel:+256700000001"), undefined);
    assert.equal(stringifyUri(u!), "sip:+256700000001@10.0.0.1:5070;transport=tcp");
  });

  it("writes UTF-8 with a byte Content-Length and parses it back", () => {
    const req = request();
    const bytes = stringifySipMessage(req);
    const length = Buffer.byteLength("Привет 👋");
    assert.equal(length, 17);
    assert.ok(bytes.toString("utf8").includes(`\r\nContent-Length: ${length}\r\n\r\n`));
    assert.ok(bytes.subarray(-length).equals(Buffer.from("Привет 👋")));
    const back = parseSipMessage(bytes) as SipRequest;
    assert.equal(back.content, "Привет 👋");
    assert.equal(back.headers.from.name, '"Алиса"');
    assert.equal(req.headers["content-length"], undefined, "the message given is left alone");
  });

  it("throws sip.parse on bytes that are no SIP message", () => {
    assert.throws(
      () => parseSipMessage(Buffer.from("GET / HTTP/1.1\r\n\r\n")),
      (err) => isSiteError(err, "sip.parse"),
    );
  });
});
