import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { describe, it } from "node:test";
import { isSiteError } from "../../src/core/errors.js";
import {
  encodeRpAck,
  encodeRpDataToMs,
  encodeRpDataToNet,
  encodeRpError,
  parseRpMessage,
  RP_CAUSE,
  type RpMessage,
  rpCauseText,
} from "../../src/sip/rp.js";
import { type DecodedDeliver, decodePdu } from "../../src/sms/pdu/deliver.js";
import { encodeSubmit } from "../../src/sms/pdu/submit.js";
import { DELIVER_VECTORS } from "../fixtures/pdu/publicVectors.js";

/** "39 01 2a 00 01 …" → "0001…": matan1008's vectors are CP-DATA (TI/PD, type 01, length) + RPDU. */
function withoutCpData(cp: string): string {
  const hex = cp.replace(/\s+/g, "");
  assert.equal(hex.slice(2, 4), "01", "CP-DATA message type");
  assert.equal(Number.parseInt(hex.slice(4, 6), 16), hex.length / 2 - 3, "CP-User-Data length");
  return hex.slice(6);
}

function refused(body: string | Uint8Array, reason?: string): void {
  assert.throws(
    () => parseRpMessage(body),
    (err) => {
      assert.ok(isSiteError(err, "sip.rp"), `expected SiteError sip.rp, got ${String(err)}`);
      if (reason !== undefined) assert.equal(err.detail.reason, reason, err.message);
      return true;
    },
  );
}

interface RpVector {
  name: string;
  source: string;
  body: string | Uint8Array;
  expect: Partial<Omit<RpMessage, "submit">>;
  /** Fields of the decoded SMS-SUBMIT (RP-DATA ms→n). */
  submit?: Record<string, unknown>;
  /** Fields of decodePdu("00" + tpdu) for RP-DATA n→ms. */
  deliver?: Partial<DecodedDeliver>;
}

const VECTORS: readonly RpVector[] = [
  {
    name: "OpenBTS P2.8 handset → smqueue: 'Test' to short code 555, SMSC +8613010911500",
    source:
      "kheimerl/libvbts libvbts/YateMessenger.py (xsip_body of a MESSAGE from 'OpenBTS P2.8TRUNK', base64 of this hex text)",
    body: "0054000891683110901105f00e1154038155f50000ff04d4f29c0e",
    expect: {
      mti: 0,
      kind: "rp-data-ms-to-net",
      toMs: false,
      reference: 0x54,
      originator: undefined,
      destination: "+8613010911500",
      tpdu: "1154038155F50000FF04D4F29C0E",
      format: "hex",
      raw: "0054000891683110901105F00E1154038155F50000FF04D4F29C0E",
    },
    submit: { kind: "submit", to: "555", mr: 0x54, text: "Test", encoding: "gsm7", validityMinutes: 635040 },
  },
  {
    name: "RP-DATA ms→n, SMS-SUBMIT with concatenation UDH and absolute TP-VP to *3639",
    source:
      "matan1008/gsm-layer3-protocol tests/test_sms/test_sms_submit.py test_parsing_sms_submit_with_data_header (CP-DATA header removed)",
    body: withoutCpData(
      "39 01 2a 00 01 00 04 90 3a 36 f9 21 59 cc 05 90 3a 36 f9 00 00 81 90 10 32 60 00 80 12 05 00 03 03 02 01 88 65 76 da 5e 96 83 ea f3 10",
    ),
    expect: { mti: 0, kind: "rp-data-ms-to-net", reference: 1, destination: "+*3639", format: "hex" },
    submit: { to: "+*3639", mr: 0xcc, text: "Deliver us!", concat: { ref: 3, refBits: 8, total: 2, seq: 1 } },
  },
  {
    name: "RP-DATA ms→n, SMS-SUBMIT with enhanced TP-VP",
    source:
      "matan1008/gsm-layer3-protocol tests/test_sms/test_sms_submit.py test_parsing_sms_submit_without_data_header",
    body: withoutCpData(
      "39 01 24 00 01 00 04 90 21 43 65 1b 09 cc 06 90 21 43 65 00 00 03 30 40 50 00 00 00 0b c4 32 3b 6d 2f cb 41 f5 79 08",
    ),
    expect: { kind: "rp-data-ms-to-net", reference: 1, destination: "+123456" },
    submit: { to: "+123456", mr: 0xcc, text: "Deliver us!", concat: undefined },
  },
  {
    name: "RP-DATA n→ms carrying an SMS-DELIVER, as raw octets (IMS form)",
    source:
      "matan1008/gsm-layer3-protocol tests/test_sms/test_sms_deliver.py test_parsing_sms_deliver_without_data_header",
    body: Buffer.from(
      withoutCpData(
        "39 01 23 01 01 04 90 21 43 65 00 1a 24 06 90 21 43 65 00 00 81 90 10 32 60 00 80 0b c4 32 3b 6d 2f cb 41 f5 79 08",
      ),
      "hex",
    ),
    expect: {
      mti: 1,
      kind: "rp-data-net-to-ms",
      toMs: true,
      reference: 1,
      originator: "+123456",
      destination: undefined,
      tpdu: "2406902143650000819010326000800BC4323B6D2FCB41F57908",
      format: "binary",
    },
    deliver: { from: "+123456", text: "Deliver us!", timestamp: "2018-09-01T23:06:00+02:00" },
  },
  {
    name: "RP-DATA n→ms carrying an SMS-DELIVER with concatenation UDH",
    source:
      "matan1008/gsm-layer3-protocol tests/test_sms/test_sms_deliver.py test_parsing_sms_deliver_with_data_header",
    body: withoutCpData(
      "39 01 29 01 01 04 90 21 43 65 00 20 64 06 90 21 43 65 00 00 81 90 10 32 60 00 80 12 05 00 03 03 02 01 88 65 76 da 5e 96 83 ea f3 10",
    ),
    expect: { kind: "rp-data-net-to-ms", reference: 1, originator: "+123456" },
    deliver: { text: "Deliver us!", concat: { ref: 3, refBits: 8, total: 2, seq: 1 } },
  },
  {
    name: "RP-ACK ms→n",
    source: "matan1008/gsm-layer3-protocol tests/test_sms/test_rp_ack.py test_parsing_rp_ack_to_n",
    body: withoutCpData("29 01 02 02 04"),
    expect: { mti: 2, kind: "rp-ack", toMs: false, reference: 4, tpdu: undefined, cause: undefined },
  },
  {
    name: "RP-SMMA",
    source: "matan1008/gsm-layer3-protocol tests/test_sms/test_rp_smma.py test_parsing_rp_smma",
    body: withoutCpData("29 01 02 06 04"),
    expect: { mti: 6, kind: "rp-smma", toMs: false, reference: 4 },
  },
  {
    name: "RP-ERROR n→ms, cause 41 (temporary failure)",
    source: "matan1008/gsm-layer3-protocol tests/test_sms/test_rp_error.py test_parsing_minimal_rp_error",
    body: withoutCpData("29 01 04 05 04 01 29"),
    expect: { mti: 5, kind: "rp-error", toMs: true, reference: 4, cause: 41, diagnostic: undefined },
  },
  {
    name: "RP-ERROR n→ms, cause 1 with diagnostic 0x80",
    source:
      "matan1008/gsm-layer3-protocol tests/test_sms/test_rp_error.py test_parsing_rp_error_with_diagnostic_field",
    body: withoutCpData("29 01 05 05 04 02 01 80"),
    expect: { kind: "rp-error", reference: 4, cause: 1, diagnostic: 0x80 },
  },
  {
    name: "RP-ERROR ms→n with an SMS-DELIVER-REPORT in IE 0x41",
    source:
      "matan1008/gsm-layer3-protocol tests/test_sms/test_rp_error.py test_parsing_rp_error_with_short_rp_user_data_deliver",
    body: withoutCpData("29 01 09 04 04 01 01 41 03 00 d2 00"),
    expect: { mti: 4, kind: "rp-error", toMs: false, cause: 1, tpdu: "00D200" },
  },
  {
    name: "RP-ERROR n→ms with an SMS-SUBMIT-REPORT (TP-SCTS) in IE 0x41",
    source:
      "matan1008/gsm-layer3-protocol tests/test_sms/test_rp_error.py test_parsing_rp_error_with_short_rp_user_data_submit",
    body: withoutCpData("29 01 10 05 04 01 01 41 0a 01 d2 00 81 90 10 32 60 00 8a"),
    expect: { mti: 5, kind: "rp-error", cause: 1, tpdu: "01D2008190103260008A" },
  },
  {
    name: "RP-ERROR ms→n, diagnostic and a 21-octet report with UDH",
    source: "matan1008/gsm-layer3-protocol tests/test_sms/test_rp_error.py test_parsing_rp_error_full",
    body: withoutCpData(
      "29 01 1c 04 04 02 01 81 41 15 40 c3 07 20 80 0f 03 01 01 ff 01 02 03 04 05 06 07 08 09 0a 0b",
    ),
    expect: {
      kind: "rp-error",
      cause: 1,
      diagnostic: 0x81,
      tpdu: "40C30720800F030101FF0102030405060708090A0B",
    },
  },
  {
    name: "RP-ACK n→ms with an SMS-SUBMIT-REPORT, as Kamailio smsops builds it ($smsack)",
    source:
      "derived from kamailio/kamailio src/modules/smsops/smsops_impl.c pv_sms_ack (03, ref, 41, 09, 01, 00, 7-octet SCTS)",
    body: Buffer.from("032A4109010052101021000000", "hex"),
    expect: { mti: 3, kind: "rp-ack", toMs: true, reference: 0x2a, tpdu: "010052101021000000" },
  },
];

describe("parseRpMessage: public vectors", () => {
  for (const v of VECTORS) {
    it(`${v.name} (${v.source})`, () => {
      const m = parseRpMessage(v.body);
      for (const [key, value] of Object.entries(v.expect)) {
        assert.deepEqual(m[key as keyof RpMessage], value, key);
      }
      if (v.submit !== undefined) {
        assert.ok(m.submit !== undefined, "submit decoded");
        for (const [key, value] of Object.entries(v.submit)) {
          assert.deepEqual((m.submit as unknown as Record<string, unknown>)[key], value, `submit.${key}`);
        }
      } else {
        assert.equal(m.submit, undefined);
      }
      if (v.deliver !== undefined) {
        const d = decodePdu(`00${m.tpdu}`) as DecodedDeliver;
        assert.equal(d.kind, "deliver");
        for (const [key, value] of Object.entries(v.deliver)) {
          assert.deepEqual(d[key as keyof DecodedDeliver], value, `deliver.${key}`);
        }
      }
    });
  }

  it("reads the same octets as hex text (either case, CR LF after it), as a Buffer of that text, or raw", () => {
    const hex = "0054000891683110901105f00e1154038155f50000ff04d4f29c0e";
    const forms: (string | Uint8Array)[] = [
      hex,
      hex.toUpperCase(),
      `${hex}\r\n`,
      Buffer.from(hex, "latin1"),
      Buffer.from(hex, "hex"),
      Buffer.from(hex, "hex").toString("latin1"),
      new Uint8Array(Buffer.from(hex, "hex")),
    ];
    const results = forms.map((f) => parseRpMessage(f));
    for (const r of results) {
      assert.equal(r.raw, hex.toUpperCase());
      assert.equal(r.submit?.text, "Test");
    }
    assert.deepEqual(
      results.map((r) => r.format),
      ["hex", "hex", "hex", "hex", "binary", "binary", "binary"],
    );
  });

  it("ignores the spare bits 4-8 of the MTI octet (24.011 §8.2.2)", () => {
    assert.equal(parseRpMessage("F204").kind, "rp-ack");
  });

  it("skips an unknown optional IE of an RP-ACK", () => {
    const m = parseRpMessage("0204" + "7F0100" + "4103000000");
    assert.equal(m.tpdu, "000000");
  });
});

describe("encoders: exact public vectors", () => {
  const cases: { name: string; source: string; got: () => string; want: string }[] = [
    {
      name: "RP-ACK ms→n, reference 1",
      source: "matan1008/gsm-layer3-protocol tests/test_sms/test_rp_ack.py test_building_rp_ack_to_n",
      got: () => encodeRpAck(1, false),
      want: withoutCpData("39 01 02 02 01").toUpperCase(),
    },
    {
      name: "RP-ERROR ms→n, cause 127 (interworking)",
      source: "matan1008/gsm-layer3-protocol tests/test_sms/test_rp_error.py test_building_minimal_rp_error",
      got: () => encodeRpError(1, RP_CAUSE.INTERWORKING, false),
      want: withoutCpData("39 01 04 04 01 01 7f").toUpperCase(),
    },
    {
      name: "RP-ERROR ms→n, cause 10 (call barred) with diagnostic 0xaa",
      source:
        "matan1008/gsm-layer3-protocol tests/test_sms/test_rp_error.py test_building_rp_error_with_diagnostic_field",
      got: () => encodeRpError(1, RP_CAUSE.CALL_BARRED, false, 0xaa),
      want: withoutCpData("39 01 05 04 01 02 0a aa").toUpperCase(),
    },
    {
      name: "RP-ACK n→ms (MTI 3), what OpenBTS sends a handset after a 2xx",
      source: "24.011 §7.3.3, Table 8.3; RangeNetworks/openbts SMS/SMSMessages.cpp RPMessage::write (MTI+1)",
      got: () => encodeRpAck(0x54, true),
      want: "0354",
    },
    {
      name: "RP-ERROR n→ms, cause 95, as OpenBTS answers an unparsable RP-DATA",
      source: "RangeNetworks/openbts Control/L3SMSControl.cpp (RPError(95, ref))",
      got: () => encodeRpError(0x54, RP_CAUSE.SEMANTICALLY_INCORRECT, true),
      want: "0554015F",
    },
    {
      name: "RP-DATA n→ms: matan1008's SMS-DELIVER vector with an E.164/ISDN RP-OA (TOA 91 for their 90)",
      source:
        "matan1008/gsm-layer3-protocol tests/test_sms/test_sms_deliver.py test_building_sms_deliver_without_data_header",
      got: () =>
        encodeRpDataToMs({
          reference: 1,
          originatorSmsc: "+123456",
          deliverTpduHex: "2406902143650000819010326000800bc4323b6d2fcb41f57908",
        }),
      want: withoutCpData(
        "39 01 23 01 01 04 91 21 43 65 00 1a 24 06 90 21 43 65 00 00 81 90 10 32 60 00 80 0b c4 32 3b 6d 2f cb 41 f5 79 08",
      ).toUpperCase(),
    },
    {
      name: "RP-DATA ms→n: the OpenBTS body above, rebuilt from its parts",
      source: "kheimerl/libvbts libvbts/YateMessenger.py",
      got: () =>
        encodeRpDataToNet({
          reference: 0x54,
          smsc: "+8613010911500",
          submitTpduHex: "1154038155f50000ff04d4f29c0e",
        }),
      want: "0054000891683110901105F00E1154038155F50000FF04D4F29C0E",
    },
  ];
  for (const c of cases) {
    it(`${c.name} (${c.source})`, () => assert.equal(c.got(), c.want));
  }
});

describe("round trips", () => {
  for (const v of DELIVER_VECTORS) {
    it(`RP-DATA n→ms around "${v.name}" (${v.source})`, () => {
      const smscOctets = Number.parseInt(v.pdu.slice(0, 2), 16);
      const tpdu = v.pdu.slice(2 + 2 * smscOctets).toUpperCase();
      const body = encodeRpDataToMs({
        reference: 0xa7,
        originatorSmsc: "+256700000001",
        deliverTpduHex: tpdu,
      });
      for (const form of [body, Buffer.from(body, "hex")]) {
        const m = parseRpMessage(form);
        assert.equal(m.kind, "rp-data-net-to-ms");
        assert.equal(m.reference, 0xa7);
        assert.equal(m.originator, "+256700000001");
        assert.equal(m.destination, undefined);
        assert.equal(m.tpdu, tpdu);
        const d = decodePdu(`00${m.tpdu}`) as DecodedDeliver;
        if (v.text !== undefined) assert.equal(d.text, v.text);
      }
    });
  }

  for (const text of ["hello", "Grüße, €100 — ✓", "x".repeat(160)]) {
    it(`RP-DATA ms→n around our SMS-SUBMIT of ${JSON.stringify(text.slice(0, 20))}`, () => {
      const part = encodeSubmit({ to: "+256772123456", text, reference: 0 }).parts[0];
      assert.ok(part !== undefined);
      const tpdu = part.pdu.slice(2); // without the empty SMSC field "00"
      const m = parseRpMessage(
        encodeRpDataToNet({ reference: 9, smsc: "+256700000001", submitTpduHex: tpdu }),
      );
      assert.equal(m.kind, "rp-data-ms-to-net");
      assert.equal(m.destination, "+256700000001");
      assert.equal(m.submit?.to, "+256772123456");
      assert.equal(m.submit?.text, text);
    });
  }

  it("RP-ACK and RP-ERROR, both directions, every reference and cause", () => {
    for (let reference = 0; reference <= 255; reference++) {
      for (const toMs of [true, false]) {
        const ack = parseRpMessage(encodeRpAck(reference, toMs));
        assert.deepEqual([ack.kind, ack.reference, ack.toMs], ["rp-ack", reference, toMs]);
      }
    }
    for (let cause = 0; cause <= 127; cause++) {
      const err = parseRpMessage(encodeRpError(200, cause, cause % 2 === 0, cause));
      assert.deepEqual(
        [err.kind, err.cause, err.diagnostic, err.toMs],
        ["rp-error", cause, cause, cause % 2 === 0],
      );
    }
  });
});

describe("parseRpMessage: malformed bodies are SiteError sip.rp", () => {
  const table: [string, string | Uint8Array, string][] = [
    ["empty text", "", "empty"],
    ["only white space", " \r\n", "empty"],
    ["empty Buffer", Buffer.alloc(0), "empty"],
    ["not hex", "hello", "not_hex"],
    ["odd number of digits", "00010", "odd_length"],
    ["characters above latin1 after an MTI", "\u0001\u4e2d", "not_hex"],
    ["reserved MTI 7", "0701", "invalid"],
    ["no reference", "00", "truncated"],
    ["no RP-OA length", "0001", "truncated"],
    ["no RP-DA length", "000100", "truncated"],
    ["RP-DA longer than 11 octets", "0001000C91" + "11".repeat(11) + "0100", "invalid"],
    ["RP-DA cut short", "00010008916831", "truncated"],
    ["no RP-User-Data", "00010003919999", "truncated"],
    ["empty RP-User-Data", "0001000391999900", "invalid"],
    ["RP-User-Data cut short", "000100039199990E1154", "truncated"],
    ["an octet after RP-User-Data", "0054000891683110901105f00e1154038155f50000ff04d4f29c0e00", "trailing"],
    ["SMS-DELIVER in an RP-DATA from the handset", "0001000391999903" + "040100", "tpdu"],
    ["an undecodable SMS-SUBMIT", "000100039199990211FF", "tpdu"],
    ["RP-ERROR without RP-Cause", "0501", "truncated"],
    ["RP-ERROR with an empty RP-Cause", "050100", "invalid"],
    ["RP-ERROR cause cut short", "05010229", "truncated"],
    ["RP-SMMA with an extra octet", "060100", "trailing"],
    ["RP-ACK with a cut IE 0x41", "0201410500", "truncated"],
    ["RP-ACK with an IEI and no length", "020141", "truncated"],
    ["binary RP-DATA cut short", Buffer.from([0x01, 0x02, 0x05]), "truncated"],
  ];
  for (const [name, body, reason] of table) {
    it(name, () => refused(body, reason));
  }

  it("refuses what is neither text nor octets", () => {
    refused(42 as unknown as string, "type");
    refused(undefined as unknown as string, "type");
  });

  it("random octets and random hex never throw anything but sip.rp", () => {
    for (let i = 0; i < 3000; i++) {
      const octets = randomBytes(1 + (i % 40));
      octets[0] = (octets[0] ?? 0) & 0x07;
      for (const body of [octets, octets.toString("hex")]) {
        try {
          parseRpMessage(body);
        } catch (err) {
          assert.ok(isSiteError(err, "sip.rp"), `${octets.toString("hex")}: ${String(err)}`);
        }
      }
    }
  });
});

describe("encoders refuse bad input with sip.rp", () => {
  const table: [string, () => unknown][] = [
    ["reference 256", () => encodeRpAck(256, true)],
    ["reference -1", () => encodeRpError(-1, 41, true)],
    ["reference 1.5", () => encodeRpDataToMs({ reference: 1.5, originatorSmsc: "+1", deliverTpduHex: "00" })],
    ["cause 128", () => encodeRpError(1, 128, true)],
    ["diagnostic 256", () => encodeRpError(1, 41, true, 256)],
    ["no SMSC", () => encodeRpDataToMs({ reference: 1, originatorSmsc: "", deliverTpduHex: "040100" })],
    [
      "SMSC not a number",
      () => encodeRpDataToMs({ reference: 1, originatorSmsc: "smsc", deliverTpduHex: "04" }),
    ],
    ["TPDU not hex", () => encodeRpDataToMs({ reference: 1, originatorSmsc: "+1", deliverTpduHex: "zz" })],
    ["TPDU empty", () => encodeRpDataToMs({ reference: 1, originatorSmsc: "+1", deliverTpduHex: "" })],
    [
      "TPDU of 233 octets",
      () => encodeRpDataToMs({ reference: 1, originatorSmsc: "+1", deliverTpduHex: "04".repeat(233) }),
    ],
    [
      "an SMS-SUBMIT towards the MS",
      () => encodeRpDataToMs({ reference: 1, originatorSmsc: "+1", deliverTpduHex: "11" }),
    ],
    [
      "an SMS-DELIVER towards the SMSC",
      () => encodeRpDataToNet({ reference: 1, smsc: "+1", submitTpduHex: "04" }),
    ],
  ];
  for (const [name, fn] of table) {
    it(name, () => assert.throws(fn, (err) => isSiteError(err, "sip.rp")));
  }
});

describe("rpCauseText (24.011 Table 8.4)", () => {
  it("names the causes and calls the rest reserved", () => {
    assert.equal(rpCauseText(RP_CAUSE.TEMPORARY_FAILURE), "Temporary failure");
    assert.equal(rpCauseText(95), "Semantically incorrect message");
    assert.equal(rpCauseText(3), "Reserved (3)");
  });
});
