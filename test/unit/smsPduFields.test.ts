import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isSiteError } from "../../src/core/errors.js";
import { decodeAddress, decodeSmsc, encodeDestination, encodeSmsc } from "../../src/sms/pdu/address.js";
import { interpretDcs } from "../../src/sms/pdu/dcs.js";
import {
  fromGsm7Septets,
  GSM7_DEFAULT,
  GSM7_EXTENSION,
  gsm7SeptetsOf,
  isGsm7,
  packSeptets,
  unpackSeptets,
} from "../../src/sms/pdu/gsm7.js";
import { fromHex, toHex } from "../../src/sms/pdu/octets.js";
import { statusMeaning } from "../../src/sms/pdu/status.js";
import { decodeTimestamp } from "../../src/sms/pdu/timestamp.js";
import { ADDRESS_VECTORS, STAR_HASH_ADDRESS } from "../fixtures/pdu/publicVectors.js";

const hex = (bytes: Iterable<number>): string => toHex(Uint8Array.from(bytes));

describe("GSM 7-bit default alphabet (23.038 §6.2.1)", () => {
  // The full table, code → Unicode, as in 23.038 and unicode.org's GSM0338.TXT.
  const table =
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\u001bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";

  it("has 128 entries matching the standard table", () => {
    assert.equal(GSM7_DEFAULT.length, 128);
    assert.equal(GSM7_DEFAULT.join(""), table);
  });

  it("maps every character to its code and back, except ESC", () => {
    for (let code = 0; code < 128; code++) {
      const ch = GSM7_DEFAULT[code] ?? "";
      if (code === 0x1b) {
        assert.equal(gsm7SeptetsOf(ch), undefined, "a raw ESC is not encodable text");
        continue;
      }
      assert.deepEqual(gsm7SeptetsOf(ch), [code], `${JSON.stringify(ch)} → 0x${code.toString(16)}`);
      assert.equal(fromGsm7Septets([code]), ch);
    }
  });

  it("puts @ at 0x00, § at 0x5F, ¿ at 0x60 and à at 0x7F", () => {
    assert.deepEqual(gsm7SeptetsOf("@"), [0x00]);
    assert.deepEqual(gsm7SeptetsOf("§"), [0x5f]);
    assert.deepEqual(gsm7SeptetsOf("¿"), [0x60]);
    assert.deepEqual(gsm7SeptetsOf("à"), [0x7f]);
  });

  it("has no backtick, ç, À, â, ő or ✓: those force UCS2", () => {
    for (const ch of ["`", "ç", "À", "â", "ő", "✓"]) assert.equal(gsm7SeptetsOf(ch), undefined, ch);
    assert.equal(isGsm7("€uro {ok}"), true);
    assert.equal(isGsm7("ok ✓"), false);
  });
});

describe("GSM 7-bit extension table (23.038 §6.2.1.1)", () => {
  const table: [string, number][] = [
    ["\f", 0x0a],
    ["^", 0x14],
    ["{", 0x28],
    ["}", 0x29],
    ["\\", 0x2f],
    ["[", 0x3c],
    ["~", 0x3d],
    ["]", 0x3e],
    ["|", 0x40],
    ["€", 0x65],
  ];
  for (const [ch, code] of table) {
    it(`${JSON.stringify(ch)} is ESC 0x${code.toString(16)} both ways`, () => {
      assert.deepEqual(gsm7SeptetsOf(ch), [0x1b, code]);
      assert.equal(fromGsm7Septets([0x1b, code]), ch);
    });
  }

  it("has exactly those ten entries", () => {
    assert.equal(GSM7_EXTENSION.size, 10);
  });

  it("shows the default character for an undefined extension code, a space for ESC ESC and a final ESC", () => {
    assert.equal(fromGsm7Septets([0x1b, 0x41]), "A");
    assert.equal(fromGsm7Septets([0x1b, 0x0d]), "\r");
    assert.equal(fromGsm7Septets([0x1b, 0x1b, 0x41]), " A");
    assert.equal(fromGsm7Septets([0x41, 0x1b]), "A ");
  });
});

describe("septet packing", () => {
  // PERL t/20pdu.t encode_text7 (UDL + packed text).
  const table: [string, string][] = [
    ["hellohello", "0AE8329BFD4697D9EC37"],
    [
      "The quick fox jumps over the lazy dog",
      "2554741914AFA7C76B90F98D07A9EB6DF81CF4B697E5203ABA0C6287F57910F97D06",
    ],
    ["hola", "04E8373B0C"], // python-messaging test_encoding_validity
  ];
  for (const [text, want] of table) {
    it(`packs ${JSON.stringify(text)}`, () => {
      const septets = [...text].flatMap((ch) => [...(gsm7SeptetsOf(ch) ?? [])]);
      assert.equal(hex([septets.length, ...packSeptets(septets)]), want);
      assert.equal(fromGsm7Septets(unpackSeptets(fromHex(want).subarray(1), septets.length)), text);
    });
  }

  it("packs after one fill bit as behind a 6-octet header", () => {
    // "Hi" after 1 fill bit: H=0x48 → bits 1..7, i=0x69 → bits 8..14.
    assert.equal(hex(packSeptets([0x48, 0x69], 1)), "9069");
    assert.deepEqual(
      unpackSeptets(Uint8Array.from([0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x90, 0x69]), 9).slice(7),
      [0x48, 0x69],
    );
  });

  it("packs every septet count 0..16 reversibly", () => {
    for (let n = 0; n <= 16; n++) {
      const septets = Array.from({ length: n }, (_, i) => (i * 37 + 11) & 0x7f);
      for (const fill of [0, 1, 6]) {
        const packed = packSeptets(septets, fill);
        assert.equal(packed.length, Math.ceil((fill + 7 * n) / 8));
      }
      assert.deepEqual(unpackSeptets(packSeptets(septets), n), septets);
    }
  });
});

describe("addresses", () => {
  for (const v of ADDRESS_VECTORS) {
    it(`encodes ${v.number} as ${v.smsc ? "SMSC" : "TP-DA"} ${v.hex} (${v.source})`, () => {
      assert.equal(hex(v.smsc ? encodeSmsc(v.number) : encodeDestination(v.number)), v.hex);
    });
    it(`decodes ${v.hex} back to ${v.number}`, () => {
      const bytes = fromHex(v.hex);
      const [length = 0, toa = 0] = bytes;
      const number = v.smsc
        ? decodeSmsc(toa, bytes.subarray(2))
        : decodeAddress(length, toa, bytes.subarray(2));
      assert.equal(number, v.number);
    });
  }

  it("decodes semi-octets A..E as * # a b c (warthog618/sms address_test.go)", () => {
    const bytes = fromHex(STAR_HASH_ADDRESS.hex);
    assert.equal(decodeAddress(15, 0x91, bytes.subarray(2)), `+${STAR_HASH_ADDRESS.digits}`);
    assert.equal(decodeAddress(15, 0x81, bytes.subarray(2)), STAR_HASH_ADDRESS.digits);
  });

  it("keeps the digit that shares an octet with * (0A → *0)", () => {
    assert.equal(decodeAddress(4, 0x81, Uint8Array.from([0x0a, 0x0a])), "*0*0");
  });

  it("drops the F filler of an odd-length number and of the SMSC", () => {
    assert.equal(decodeAddress(11, 0x91, fromHex("6407281553F8")), "+46708251358");
    assert.equal(decodeSmsc(0x91, fromHex("2143658709F1")), "+12345678901");
  });

  it("encodes no SMSC as a single 00", () => {
    assert.equal(hex(encodeSmsc(undefined)), "00");
    assert.equal(hex(encodeSmsc("")), "00");
  });
});

describe("time stamps (23.040 §9.2.3.11)", () => {
  const table: [string, string, string][] = [
    ["zero offset", "11101021436500", "2011-01-01T12:34:56+00:00"],
    ["negative zero is written +00:00", "20806291731408", "2002-08-26T19:37:41+00:00"],
    ["−05:00 (ModemManager pdu1)", "1120821105050A", "2011-02-28T11:50:50-05:00"],
    ["+04:00 (ModemManager pdu2)", "11309291024061", "2011-03-29T19:20:04+04:00"],
    ["+05:30 (22 quarters)", "42102030405022", "2024-01-02T03:04:05+05:30"],
    ["−03:30 (sign bit on 14 quarters)", "42102030405049", "2024-01-02T03:04:05-03:30"],
    ["+05:45 Nepal (23 quarters)", "42102030405032", "2024-01-02T03:04:05+05:45"],
    ["+14:00 Kiribati (56 quarters)", "42102030405065", "2024-01-02T03:04:05+14:00"],
    ["leap day", "42209232959500", "2024-02-29T23:59:59+00:00"],
  ];
  for (const [name, octets, want] of table) {
    it(`${name}: ${octets} → ${want}`, () => assert.equal(decodeTimestamp(fromHex(octets), "TP-SCTS"), want));
  }

  for (const [name, octets] of [
    ["non-BCD digit", "1A101021436500"],
    ["month 13", "11311021436500"],
    ["30 February", "42200332000000"],
    ["hour 24", "11101042000000"],
    ["non-BCD time zone", "111010214365FF"],
  ]) {
    it(`refuses ${name}`, () => {
      assert.throws(
        () => decodeTimestamp(fromHex(octets ?? ""), "TP-SCTS"),
        (err) => isSiteError(err, "sms.decode") && err.detail.field === "TP-SCTS",
      );
    });
  }
});

describe("TP-DCS (23.038 §4)", () => {
  const table: [number, ReturnType<typeof interpretDcs>][] = [
    [0x00, { alphabet: "gsm7", compressed: false }],
    [0x04, { alphabet: "8bit", compressed: false }],
    [0x08, { alphabet: "ucs2", compressed: false }],
    [0x0c, { alphabet: "gsm7", compressed: false }],
    [0x10, { alphabet: "gsm7", messageClass: 0, compressed: false }],
    [0x11, { alphabet: "gsm7", messageClass: 1, compressed: false }],
    [0x12, { alphabet: "gsm7", messageClass: 2, compressed: false }],
    [0x18, { alphabet: "ucs2", messageClass: 0, compressed: false }],
    [0x20, { alphabet: "8bit", compressed: true }],
    [0x48, { alphabet: "ucs2", compressed: false }],
    [0x80, { alphabet: "gsm7", compressed: false }],
    [0xc8, { alphabet: "gsm7", compressed: false }],
    [0xd8, { alphabet: "gsm7", compressed: false }],
    [0xe0, { alphabet: "ucs2", compressed: false }],
    [0xe8, { alphabet: "ucs2", compressed: false }],
    [0xf0, { alphabet: "gsm7", messageClass: 0, compressed: false }],
    [0xf1, { alphabet: "gsm7", messageClass: 1, compressed: false }],
    [0xf4, { alphabet: "8bit", messageClass: 0, compressed: false }],
    [0xf6, { alphabet: "8bit", messageClass: 2, compressed: false }],
  ];
  for (const [dcs, want] of table) {
    it(`0x${dcs.toString(16).padStart(2, "0")} → ${want.alphabet}${want.messageClass === undefined ? "" : ` class ${want.messageClass}`}`, () =>
      assert.deepEqual(interpretDcs(dcs), want));
  }
});

describe("TP-Status (23.040 §9.2.3.15)", () => {
  const table: [number, "delivered" | "pending" | "failed", string][] = [
    [0x00, "delivered", "transaction completed: short message received by the SME"],
    [
      0x01,
      "delivered",
      "transaction completed: short message forwarded by the SC to the SME but the SC is unable to confirm delivery",
    ],
    [0x02, "delivered", "transaction completed: short message replaced by the SC"],
    [0x05, "delivered", "transaction completed (reserved value 0x05)"],
    [0x1f, "delivered", "transaction completed (SC-specific value 0x1f)"],
    [0x20, "pending", "temporary error, SC still trying: congestion"],
    [0x25, "pending", "temporary error, SC still trying: error in SME"],
    [0x30, "pending", "temporary error, SC still trying (SC-specific value 0x30)"],
    [0x40, "failed", "permanent error: remote procedure error"],
    [0x46, "failed", "permanent error: SM validity period expired"],
    [0x49, "failed", "permanent error: SM does not exist"],
    [0x4a, "failed", "permanent error (reserved value 0x4a)"],
    [0x60, "failed", "temporary error, SC stopped trying: congestion"],
    [0x65, "failed", "temporary error, SC stopped trying: error in SME"],
    [0x7f, "failed", "temporary error, SC stopped trying (SC-specific value 0x7f)"],
    [0x80, "failed", "reserved value 0x80"],
    [0xff, "failed", "reserved value 0xff"],
  ];
  for (const [status, outcome, text] of table) {
    it(`0x${status.toString(16).padStart(2, "0")} is ${outcome}`, () => {
      const m = statusMeaning(status);
      assert.equal(m.statusText, text);
      assert.deepEqual(
        [m.delivered, m.pending, m.failed],
        [outcome === "delivered", outcome === "pending", outcome === "failed"],
      );
    });
  }

  it("gives exactly one outcome for every value", () => {
    for (let s = 0; s < 256; s++) {
      const m = statusMeaning(s);
      assert.equal(Number(m.delivered) + Number(m.pending) + Number(m.failed), 1, `0x${s.toString(16)}`);
    }
  });
});
