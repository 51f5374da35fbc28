import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { decodeBody } from "../../src/sip/gateway.js";
import type { SipRequest } from "../../src/sip/types.js";

function req(bytes: Buffer): SipRequest {
  // What the stack gives: content decoded as UTF-8 (Latin-1 when invalid), plus the bytes.
  const utf8 = bytes.toString("utf8");
  const valid = Buffer.from(utf8, "utf8").equals(bytes);
  return {
    method: "MESSAGE",
    uri: "sip:+256772000001@site.test",
    headers: {} as SipRequest["headers"],
    content: valid ? utf8 : bytes.toString("latin1"),
    rawContent: bytes,
  };
}

const CASES: { name: string; type: string; bytes: Buffer; text: string | undefined }[] = [
  {
    name: "no charset: UTF-8",
    type: "text/plain",
    bytes: Buffer.from("Привет 👋", "utf8"),
    text: "Привет 👋",
  },
  {
    name: "charset=UTF-8 in any case",
    type: "text/plain; charset=UTF-8",
    bytes: Buffer.from("é€", "utf8"),
    text: "é€",
  },
  {
    name: "ISO-8859-1: E9 is é, even where the bytes happen to be valid UTF-8 (C3 A9 is Ã©)",
    type: "text/plain;charset=ISO-8859-1",
    bytes: Buffer.from([0x43, 0x3d, 0xc3, 0xa9]),
    text: "C=Ã©",
  },
  {
    name: "ISO-8859-1 E9",
    type: "text/plain;charset=iso-8859-1",
    bytes: Buffer.from([0x63, 0x61, 0x66, 0xe9]),
    text: "café",
  },
  {
    name: "windows-1252: 80 is €",
    type: 'text/plain; charset="windows-1252"',
    bytes: Buffer.from([0x80, 0x35]),
    text: "€5",
  },
  {
    name: "UTF-16LE",
    type: "text/plain;charset=utf-16le",
    bytes: Buffer.from("hi ✓", "utf16le"),
    text: "hi ✓",
  },
  {
    name: "US-ASCII",
    type: "text/plain;charset=us-ascii",
    bytes: Buffer.from("plain", "ascii"),
    text: "plain",
  },
  {
    name: "an unknown charset is refused, not guessed",
    type: "text/plain;charset=klingon",
    bytes: Buffer.from("x"),
    text: undefined,
  },
];

describe("text/plain bodies in their declared charset", () => {
  for (const c of CASES)
    it(c.name, () => {
      assert.equal(decodeBody(req(c.bytes), c.type), c.text);
    });
});
