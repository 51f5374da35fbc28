import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parse, Submit } from "node-pdu";
import { isSiteError } from "../../src/core/errors.js";
import { type DecodedSubmit, decodePdu } from "../../src/sms/pdu/deliver.js";
import { countParts } from "../../src/sms/pdu/segment.js";
import { type EncodedSubmit, encodeSubmit, type SubmitRequest } from "../../src/sms/pdu/submit.js";
import { encodeRelativeValidity, relativeValidityMinutes } from "../../src/sms/pdu/validity.js";
import { SUBMIT_VECTORS } from "../fixtures/pdu/publicVectors.js";

function encode(request: Partial<SubmitRequest> & { text: string }): EncodedSubmit {
  return encodeSubmit({ to: "+15555551234", reference: 0x2a, ...request });
}

function decodeSubmit(pdu: string): DecodedSubmit {
  const decoded = decodePdu(pdu);
  assert.equal(decoded.kind, "submit");
  return decoded as DecodedSubmit;
}

function throwsEncode(fn: () => unknown, detail?: Record<string, unknown>): void {
  assert.throws(fn, (err) => {
    assert.ok(isSiteError(err, "sms.encode"), `expected SiteError sms.encode, got ${String(err)}`);
    if (detail) for (const [k, v] of Object.entries(detail)) assert.deepEqual(err.detail[k], v);
    return true;
  });
}

describe("encodeSubmit against public vectors", () => {
  for (const v of SUBMIT_VECTORS) {
    it(`${v.name} (${v.source})`, () => {
      const got = encodeSubmit({
        to: v.to,
        text: v.text,
        reference: v.reference ?? 0,
        smsc: v.smsc,
        validityMinutes: v.validityMinutes,
        statusReport: v.statusReport,
      });
      assert.deepEqual(
        got.parts.map((p) => p.pdu),
        v.pdus,
      );
      for (const part of got.parts) {
        const smscOctets = Number.parseInt(part.pdu.slice(0, 2), 16);
        assert.equal(part.tpduLength, part.pdu.length / 2 - 1 - smscOctets);
      }
      if (v.tpduLength !== undefined) assert.equal(got.parts[0]?.tpduLength, v.tpduLength);
      // And back, through our decoder and node-pdu.
      assert.equal(got.parts.map((p) => decodeSubmit(p.pdu).text).join(""), v.text);
      for (const p of got.parts) assert.ok(parse(p.pdu) instanceof Submit);
    });
  }
});

describe("part capacity", () => {
  // python-messaging test_sms.py TestSubmitPduCounts ("x", "€", "ő"), ModemManager Text-Split tests.
  const x = "x";
  const euro = "€";
  const o = "ő";
  const table: [string, string, number, "gsm7" | "ucs2"][] = [
    ["160 × x is one part", x.repeat(160), 1, "gsm7"],
    ["161 × x is two parts", x.repeat(161), 2, "gsm7"],
    ["306 × x is two parts", x.repeat(306), 2, "gsm7"],
    ["307 × x is three parts", x.repeat(307), 3, "gsm7"],
    ["459 × x is three parts", x.repeat(459), 3, "gsm7"],
    ["460 × x is four parts", x.repeat(460), 4, "gsm7"],
    ["80 × € (160 septets) is one part", euro.repeat(80), 1, "gsm7"],
    ["79 × € + x is one part", euro.repeat(79) + x, 1, "gsm7"],
    ["153 × € (306 septets) is three parts: 76 escape pairs per part", euro.repeat(153), 3, "gsm7"],
    ["229 × € + x is four parts", euro.repeat(229) + x, 4, "gsm7"],
    ["70 × ő is one part", o.repeat(70), 1, "ucs2"],
    ["71 × ő is two parts", o.repeat(71), 2, "ucs2"],
    ["134 × ő is two parts", o.repeat(134), 2, "ucs2"],
    ["135 × ő is three parts", o.repeat(135), 3, "ucs2"],
    ["201 × ő is three parts", o.repeat(201), 3, "ucs2"],
    ["202 × ő is four parts", o.repeat(202), 4, "ucs2"],
    ["😉 alone is UCS2", "😉", 1, "ucs2"],
    ["35 surrogate pairs (70 units) are one part", "𑰀".repeat(35), 1, "ucs2"],
  ];
  for (const [name, text, parts, encoding] of table) {
    it(name, () => {
      const count = countParts(text);
      assert.equal(count.parts, parts);
      assert.equal(count.encoding, encoding);
      assert.equal(encodeSubmit({ to: "+3530000000", text, reference: 1 }).parts.length, parts);
    });
  }

  it("reports capacity and totals for sms.max_parts checks", () => {
    assert.deepEqual(countParts("hello"), { parts: 1, encoding: "gsm7", perPart: 160, total: 5 });
    assert.deepEqual(countParts("a".repeat(200)), { parts: 2, encoding: "gsm7", perPart: 153, total: 200 });
    assert.deepEqual(countParts("€".repeat(3)), { parts: 1, encoding: "gsm7", perPart: 160, total: 6 });
    assert.deepEqual(countParts("ж".repeat(71)), { parts: 2, encoding: "ucs2", perPart: 67, total: 71 });
    assert.deepEqual(countParts(""), { parts: 1, encoding: "gsm7", perPart: 160, total: 0 });
  });

  it("moves a surrogate pair that would straddle a boundary into the next part (ModemManager two-pdu-utf16)", () => {
    // 35 Bhaiksuki characters + "a" = 71 units: 33 characters (66 units) in part 1, "𑰢𑰣a" in part 2.
    const text = "𑰀𑰁𑰂𑰃𑰄𑰅𑰆𑰇𑰈𑰊𑰋𑰌𑰍𑰎𑰏𑰐𑰑𑰒𑰓𑰔𑰕𑰖𑰗𑰘𑰙𑰚𑰛𑰜𑰝𑰞𑰟𑰠𑰡𑰢𑰣a";
    const parts = encodeSubmit({ to: "+1", text, reference: 0 }).parts.map((p) => decodeSubmit(p.pdu).text);
    assert.deepEqual(parts, ["𑰀𑰁𑰂𑰃𑰄𑰅𑰆𑰇𑰈𑰊𑰋𑰌𑰍𑰎𑰏𑰐𑰑𑰒𑰓𑰔𑰕𑰖𑰗𑰘𑰙𑰚𑰛𑰜𑰝𑰞𑰟𑰠𑰡", "𑰢𑰣a"]);
  });

  it("splits 161 digits 153 + 8 (ModemManager two-pdu-gsm7)", () => {
    const text = "0123456789".repeat(16) + "0";
    const parts = encodeSubmit({ to: "+1", text, reference: 0 }).parts.map((p) => decodeSubmit(p.pdu).text);
    assert.deepEqual(parts, [text.slice(0, 153), "34567890"]);
  });
});

describe("relative validity period (23.040 §9.2.3.12.1)", () => {
  const table: [string, number, number][] = [
    ["1 minute rounds up to 5 minutes", 1, 0x00],
    ["5 minutes", 5, 0x00],
    ["6 minutes rounds up to 10 (python-messaging gives 0 — it rounds down)", 6, 0x01],
    ["12 hours", 12 * 60, 0x8f],
    ["12 hours 1 minute rounds up to 12 h 30", 12 * 60 + 1, 0x90],
    ["13 hours (python-messaging: 145)", 13 * 60, 145],
    ["24 hours (python-messaging: 167)", 24 * 60, 0xa7],
    ["24 hours 1 minute rounds up to 2 days", 24 * 60 + 1, 0xa8],
    ["2 days (python-messaging: 168)", 2 * 24 * 60, 0xa8],
    ["4 days (dreamfabric: AA)", 4 * 24 * 60, 0xaa],
    ["30 days (python-messaging: 196)", 30 * 24 * 60, 0xc4],
    ["31 days rounds up to 5 weeks", 31 * 24 * 60, 0xc5],
    ["5 weeks", 5 * 7 * 24 * 60, 0xc5],
    ["63 weeks", 63 * 7 * 24 * 60, 0xff],
    ["a year and a half stays at 63 weeks", 80 * 7 * 24 * 60, 0xff],
  ];
  for (const [name, minutes, vp] of table) {
    it(name, () => {
      assert.equal(encodeRelativeValidity(minutes), vp);
      assert.ok(relativeValidityMinutes(vp) >= Math.min(minutes, 63 * 7 * 24 * 60));
    });
  }

  it("never rounds down: every octet is the smallest one covering the duration", () => {
    for (let vp = 0; vp <= 255; vp++) {
      const minutes = relativeValidityMinutes(vp);
      assert.equal(encodeRelativeValidity(minutes), vp, `vp ${vp} = ${minutes} min`);
      if (vp > 0 && minutes - 1 > relativeValidityMinutes(vp - 1)) {
        assert.equal(encodeRelativeValidity(minutes - 1), vp);
      }
    }
  });

  it("refuses a zero, negative or non-finite validity", () => {
    for (const bad of [0, -5, Number.NaN, Number.POSITIVE_INFINITY]) {
      throwsEncode(() => encode({ text: "x", validityMinutes: bad }), { field: "validityMinutes" });
    }
  });
});

describe("encodeSubmit input checks", () => {
  it("puts an international destination as TON 1 (0x91) and a national one as 0x81", () => {
    assert.match(encode({ text: "x", to: "+256700000001" }).parts[0]?.pdu ?? "", /^0001000C91527600000010/);
    assert.match(encode({ text: "x", to: "0700000001" }).parts[0]?.pdu ?? "", /^0001000A817000000010/);
  });

  it("encodes * and # of a service number as semi-octets A and B", () => {
    assert.match(encode({ text: "x", to: "*100#" }).parts[0]?.pdu ?? "", /^00010005811A00FB/);
  });

  it("refuses invalid destinations", () => {
    for (const to of [
      "",
      "+",
      "+12 34",
      "12-34",
      "abc",
      "++1",
      "+1*2",
      "1".repeat(21),
      "+".concat("1".repeat(21)),
    ]) {
      throwsEncode(() => encode({ text: "x", to }), { field: "destination" });
    }
  });

  it("refuses an invalid SMSC", () => {
    throwsEncode(() => encode({ text: "x", smsc: "SMSC" }), { field: "smsc" });
  });

  it("refuses a reference outside 0..255", () => {
    for (const reference of [-1, 256, 1.5, Number.NaN]) {
      throwsEncode(() => encode({ text: "x", reference }), { field: "reference" });
    }
    assert.equal(encode({ text: "x", reference: 255 }).parts.length, 1);
  });

  it("refuses more parts than maxParts, saying how many", () => {
    throwsEncode(() => encode({ text: "a".repeat(400), maxParts: 2 }), { parts: 3, maxParts: 2 });
    assert.equal(encode({ text: "a".repeat(400), maxParts: 3 }).parts.length, 3);
  });

  it("refuses a maxParts that is not a positive integer", () => {
    for (const maxParts of [0, -1, 1.5, Number.NaN]) {
      throwsEncode(() => encode({ text: "x", maxParts }), { field: "maxParts" });
    }
  });

  it("refuses more than 255 parts even without maxParts", () => {
    throwsEncode(() => encode({ text: "a".repeat(153 * 255 + 1) }), { parts: 256 });
  });

  it("encodes an empty text as one empty part", () => {
    assert.deepEqual(encode({ text: "" }).parts, [{ pdu: "0001000B915155551532F4000000", tpduLength: 13 }]);
  });
});

/** Round trip through our decoder and node-pdu's parser; returns the decoded parts. */
function roundTrip(request: Partial<SubmitRequest> & { text: string }): {
  encoded: EncodedSubmit;
  ours: DecodedSubmit[];
} {
  const encoded = encode(request);
  const ours = encoded.parts.map((p) => decodeSubmit(p.pdu));
  const total = encoded.parts.length;
  ours.forEach((d, i) => {
    assert.equal(d.to, request.to ?? "+15555551234");
    assert.equal(d.encoding, encoded.encoding);
    assert.equal(d.statusReport, request.statusReport ?? false);
    assert.equal(d.mr, 0);
    if (total > 1)
      assert.deepEqual(d.concat, { ref: request.reference ?? 0x2a, refBits: 8, total, seq: i + 1 });
    else assert.equal(d.concat, undefined);
  });
  assert.equal(ours.map((d) => d.text).join(""), request.text);

  // node-pdu reads the same framing: type, UDH, UDL and the text (up to its known alphabet bugs).
  encoded.parts.forEach((part, i) => {
    const p = parse(part.pdu);
    assert.ok(p instanceof Submit);
    assert.equal(p.address.phone, (request.to ?? "+15555551234").replace("+", ""));
    assert.equal(p.type.statusReportRequest, request.statusReport ? 1 : 0);
    const np = p.getParts()[0];
    assert.ok(np);
    const ourText = ours[i]?.text ?? "";
    // node-pdu maps 0x5F to "`" (not §) and ESC 0x0A to "`" (not form feed): see smsPduNodePdu.test.ts.
    assert.equal(np.text, ourText.replace(/[§\f]/g, "`"));
    if (total > 1) {
      assert.equal(np.header?.getPointer(), request.reference ?? 0x2a);
      assert.equal(np.header?.getSegments(), total);
      assert.equal(np.header?.getCurrent(), i + 1);
    }
  });
  return { encoded, ours };
}

describe("round trip through our decoder and node-pdu", () => {
  it("plain GSM text", () => {
    const { encoded } = roundTrip({
      text: "Meeting at 10:00, bring the keys! @home £5 ¥ è é ù ì ò Ç Ø ø Å å",
    });
    assert.equal(encoded.encoding, "gsm7");
    assert.equal(encoded.parts.length, 1);
  });

  it("every character of the default alphabet except ESC", async () => {
    const { GSM7_DEFAULT } = await import("../../src/sms/pdu/gsm7.js");
    const text = GSM7_DEFAULT.filter((_, code) => code !== 0x1b).join("");
    const { encoded } = roundTrip({ text });
    assert.equal(encoded.septetsOrUnits, 127);
  });

  it("every extension character, two septets each", () => {
    const text = "€{}[]~\\^|\f";
    const { encoded } = roundTrip({ text });
    assert.equal(encoded.encoding, "gsm7");
    assert.equal(encoded.septetsOrUnits, 20);
  });

  it("§ is septet 0x5F", () => {
    const { encoded } = roundTrip({ text: "§" });
    // UDL 01, 0x5F packed alone.
    assert.match(encoded.parts[0]?.pdu ?? "", /00015F$/);
  });

  it("exactly 160 septets are one part, 161 are two", () => {
    assert.equal(roundTrip({ text: "A".repeat(160) }).encoded.parts.length, 1);
    const two = roundTrip({ text: "A".repeat(161) });
    assert.equal(two.encoded.parts.length, 2);
    assert.deepEqual(
      two.ours.map((d) => d.text.length),
      [153, 8],
    );
    // TP-UDL counts the 7 header septets: 160 and 15.
    assert.deepEqual(
      two.encoded.parts.map((p) => p.pdu.slice(26, 28)),
      ["A0", "0F"],
    );
  });

  it("80 escape pairs fill one part exactly; 81 need two", () => {
    assert.equal(roundTrip({ text: "€".repeat(80) }).encoded.parts.length, 1);
    assert.equal(roundTrip({ text: "€".repeat(81) }).encoded.parts.length, 2);
  });

  it("never splits an escape pair across a boundary in a 3-part message", () => {
    const text = `${"a".repeat(152)}€${"b".repeat(150)}{${"c".repeat(10)}`;
    const { encoded, ours } = roundTrip({ text, reference: 7 });
    assert.equal(encoded.parts.length, 3);
    assert.equal(encoded.septetsOrUnits, 316);
    assert.deepEqual(
      ours.map((d) => d.text),
      ["a".repeat(152), `€${"b".repeat(150)}`, `{${"c".repeat(10)}`],
    );
    // TP-UDL: 7 + 152, 7 + 152, 7 + 12.
    assert.deepEqual(
      encoded.parts.map((p) => Number.parseInt(p.pdu.slice(26, 28), 16)),
      [159, 159, 19],
    );
  });

  it("UCS2 with emoji keeps a surrogate pair on a boundary whole", () => {
    const text = `${"x".repeat(66)}😀${"y".repeat(10)}é😀`;
    const { encoded, ours } = roundTrip({ text });
    assert.equal(encoded.encoding, "ucs2");
    assert.deepEqual(
      ours.map((d) => d.text),
      ["x".repeat(66), `😀${"y".repeat(10)}é😀`],
    );
    // TP-UDL octets: 6 + 2 × 66, 6 + 2 × 15.
    assert.deepEqual(
      encoded.parts.map((p) => Number.parseInt(p.pdu.slice(26, 28), 16)),
      [138, 36],
    );
  });

  it("exactly 70 UTF-16 code units are one part, 71 are two", () => {
    assert.equal(roundTrip({ text: "ж".repeat(70) }).encoded.parts.length, 1);
    assert.equal(roundTrip({ text: "😀".repeat(35) }).encoded.parts.length, 1);
    const two = roundTrip({ text: "ж".repeat(71) });
    assert.deepEqual(
      two.ours.map((d) => d.text.length),
      [67, 4],
    );
  });

  it("sets TP-SRR when a status report is requested", () => {
    const { encoded } = roundTrip({ text: "report please", statusReport: true });
    assert.equal(encoded.parts[0]?.pdu.slice(2, 4), "21");
    const multi = roundTrip({ text: "r".repeat(170), statusReport: true, validityMinutes: 60 });
    assert.deepEqual(
      multi.encoded.parts.map((p) => p.pdu.slice(2, 4)),
      ["71", "71"],
    );
  });

  for (const [name, minutes, octet] of [
    ["5 minutes", 5, "00"],
    ["12 hours", 12 * 60, "8F"],
    ["2 days", 2 * 24 * 60, "A8"],
    ["5 weeks", 5 * 7 * 24 * 60, "C5"],
  ] as const) {
    it(`carries a validity of ${name} as TP-VP ${octet}`, () => {
      const { encoded, ours } = roundTrip({ text: "valid", validityMinutes: minutes });
      const pdu = encoded.parts[0]?.pdu ?? "";
      assert.equal(pdu.slice(2, 4), "11");
      assert.equal(pdu.slice(26, 28), octet);
      assert.equal(ours[0]?.validityMinutes, minutes);
    });
  }

  it("puts a given SMSC in front and keeps it out of tpduLength", () => {
    const { encoded, ours } = roundTrip({ text: "via smsc", smsc: "+256700000001" });
    assert.match(encoded.parts[0]?.pdu ?? "", /^0791527600000010/);
    assert.equal(encoded.parts[0]?.tpduLength, (encoded.parts[0]?.pdu.length ?? 0) / 2 - 8);
    assert.equal(ours[0]?.smsc, "+256700000001");
  });
});
