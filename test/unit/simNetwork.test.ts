import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isSiteError } from "../../src/core/errors.js";
import {
  type DeliverRequest,
  encodeDeliver,
  encodeStatusReport,
  fillBits,
  splitDeliverText,
  submitWantingReport,
} from "../../src/sim/network.js";
import { type DecodedDeliver, type DecodedStatusReport, decodePdu } from "../../src/sms/pdu/deliver.js";
import { segmentText } from "../../src/sms/pdu/segment.js";
import { encodeSubmit } from "../../src/sms/pdu/submit.js";
import { DELIVER_VECTORS, STATUS_REPORT_VECTORS } from "../fixtures/pdu/publicVectors.js";

function deliver(hex: string): DecodedDeliver {
  const d = decodePdu(hex);
  assert.equal(d.kind, "deliver");
  return d as DecodedDeliver;
}

function report(hex: string): DecodedStatusReport {
  const d = decodePdu(hex);
  assert.equal(d.kind, "status_report");
  return d as DecodedStatusReport;
}

/** The fixture's PDU by name (sources are cited in test/fixtures/pdu/publicVectors.ts). */
function publicPdu(name: string): string {
  const v = DELIVER_VECTORS.find((x) => x.name === name);
  assert.ok(v, `no public vector ${name}`);
  return v.pdu;
}

function vectorText(name: string): string {
  const text = DELIVER_VECTORS.find((x) => x.name === name)?.text;
  assert.ok(text !== undefined, `public vector ${name} has no text`);
  return text;
}

function throwsEncode(fn: () => unknown, message: RegExp): void {
  assert.throws(fn, (err: unknown) => isSiteError(err, "sms.encode") && message.test(err.message));
}

/**
 * Byte-for-byte against published SMS-DELIVER PDUs: ModemManager's test-sms-part-3gpp.c (MM-TEST),
 * python-messaging's test_sms.py (PM-SMS) and node-pdu's parser tests (NP-TEST); see the fixture's
 * header for the exact files. "hellohello" (MM-TEST test_pdu3) is the dreamfabric.com example's user
 * data `0AE8329BFD4697D9EC37` behind a +1 800 555 1212 originator.
 */
const PUBLIC: [string, DeliverRequest][] = [
  [
    "hellohello with a UTC offset of zero",
    {
      from: "+18005551212",
      text: "hellohello",
      timestamp: "2011-01-01T12:34:56+00:00",
      smsc: "+12345678901",
    },
  ],
  [
    "national number keeps no plus",
    {
      from: "18005551212",
      text: "hellohello",
      timestamp: new Date("2011-01-01T12:34:56Z"),
      smsc: "+12345678901",
    },
  ],
  [
    "GSM 7-bit with extension characters, £, ΩΠΨ and §¿",
    {
      from: "+16175927198",
      text: vectorText("GSM 7-bit with extension characters, £, ΩΠΨ and §¿"),
      timestamp: new Date("2011-02-28T16:50:50Z"),
      tzQuarterHours: -20,
      smsc: "+12404492164",
    },
  ],
  [
    "alphanumeric sender and UCS2 text",
    { from: "InternetSMS", text: "тест", timestamp: "2011-03-29T19:20:04+04:00", smsc: "+79037011111" },
  ],
  [
    "UCS2 中兴通讯",
    { from: "+34610789702", text: "中兴通讯", timestamp: "2008-06-24T09:22:04+02:00", smsc: "+34607003110" },
  ],
  [
    "GMT+1 time stamp",
    {
      from: "+447917267410",
      text: "  1741 bst",
      timestamp: "2009-09-01T17:41:32+01:00",
      smsc: "+447785016005",
    },
  ],
  [
    "alphanumeric sender of odd length (FONIC)",
    {
      from: "FONIC",
      text: vectorText("alphanumeric sender of odd length (FONIC)"),
      timestamp: "2009-06-29T10:37:10+02:00",
      smsc: "+491760000443",
    },
  ],
  [
    "alphanumeric sender of even length (www.tim.it)",
    {
      from: "www.tim.it",
      text: "Maxxi Alice 100 ATTIVATA FINO AL 19/04/2009",
      timestamp: "2009-03-20T08:11:35+01:00",
      smsc: "+393358824000",
    },
  ],
  [
    "alphanumeric sender Telfort",
    {
      from: "Telfort",
      text: "Welcome to Telfort",
      timestamp: "2011-12-13T13:12:11+01:00",
      smsc: "+31626000230",
      moreMessages: true,
    },
  ],
  [
    "negative time zone −08:00",
    {
      from: "+79642161111",
      text: "Hello, world!",
      timestamp: "2018-11-07T20:21:22-08:00",
      smsc: "+79037011111",
      moreMessages: true,
    },
  ],
  [
    "extension characters [ ]",
    {
      from: "+79642161111",
      text: "[abcdef]",
      timestamp: "2018-11-07T20:21:22+08:00",
      smsc: "+79037011111",
      moreMessages: true,
    },
  ],
  [
    "extension characters { }",
    {
      from: "+79642161111",
      text: "{test}",
      timestamp: "2018-11-07T20:21:22+08:00",
      smsc: "+79037011111",
      moreMessages: true,
    },
  ],
  [
    "16-bit reference 0x1234, part 2 of 3",
    {
      from: "+79642161111",
      text: " up,",
      timestamp: "2018-11-07T20:21:23+08:00",
      smsc: "+79037011111",
      moreMessages: true,
      concat: { ref: 0x1234, total: 3, seq: 2, ref16: true },
    },
  ],
  [
    "8-bit reference 0x2E, part 2 of 2",
    {
      from: "+79642161111",
      text: " matata",
      timestamp: "2001-10-16T19:26:33+08:00",
      smsc: "+79037011111",
      moreMessages: true,
      concat: { ref: 0x2e, total: 2, seq: 2 },
    },
  ],
];

describe("encodeDeliver: published SMS-DELIVER PDUs, byte for byte", () => {
  for (const [name, request] of PUBLIC) {
    it(name, () => {
      assert.equal(encodeDeliver(request), publicPdu(name));
    });
  }
  it("the 8-bit multipart of MM-TEST differs only in its (unspecified) fill bit", () => {
    // 23.040 §9.2.3.24: fill bits carry no meaning; that sender set it to 1 (A9 vs our A8).
    const expected = publicPdu("8-bit concatenation reference, part 1 of 2");
    const text = vectorText("8-bit concatenation reference, part 1 of 2");
    const mine = encodeDeliver({
      from: "+16175046925",
      text,
      timestamp: "2012-04-25T19:56:50-04:00",
      smsc: "+12063130025",
      concat: { ref: 0x4c, total: 2, seq: 1 },
    });
    const at = expected.indexOf("0500034C0201") + 12;
    assert.equal(mine.slice(0, at), expected.slice(0, at));
    assert.equal(mine.slice(at + 2), expected.slice(at + 2));
    assert.equal(
      Number.parseInt(mine.slice(at, at + 2), 16) | 1,
      Number.parseInt(expected.slice(at, at + 2), 16),
    );
    assert.equal(deliver(mine).text, text);
  });
  it("the brief's example (node-pdu README header + dreamfabric user data, not itself published)", () => {
    assert.equal(
      encodeDeliver({
        from: "+79642161111",
        text: "hellohello",
        timestamp: "2013-01-03T16:43:34+02:00",
        smsc: "+79037011111",
        moreMessages: true,
      }),
      "07919730071111F1000B919746121611F10000311030613443800AE8329BFD4697D9EC37",
    );
  });
});

describe("encodeStatusReport: published SMS-STATUS-REPORT PDUs, byte for byte", () => {
  for (const v of STATUS_REPORT_VECTORS) {
    it(`${v.name} (${v.source})`, () => {
      const pdu = encodeStatusReport({
        mr: v.mr,
        recipient: v.recipient,
        scts: v.scts,
        discharge: v.dischargeTime,
        status: v.status,
        smsc: v.smsc,
      });
      assert.equal(pdu, v.pdu);
    });
  }
});

const T = "2024-03-05T06:07:08+03:00";

describe("encodeDeliver round trips through decodePdu", () => {
  const cases: { name: string; req: DeliverRequest; expect: Partial<DecodedDeliver> }[] = [
    {
      name: "GSM 7-bit extension characters",
      req: { from: "+256772123456", text: "€{}[]~\\^|", timestamp: T },
      expect: { text: "€{}[]~\\^|", encoding: "gsm7", from: "+256772123456" },
    },
    {
      name: "§ ¿ ¡ @ £ $ ¥ and a form feed",
      req: { from: "+256772123456", text: "§1 ¿2 ¡3 @ £ $ ¥ \f end", timestamp: T },
      expect: { text: "§1 ¿2 ¡3 @ £ $ ¥ \f end", encoding: "gsm7" },
    },
    {
      name: "UCS2 with emoji (surrogate pairs) and a flag",
      req: { from: "+256772123456", text: "Habari 👋 wörld 🇺🇬 ✓", timestamp: T },
      expect: { text: "Habari 👋 wörld 🇺🇬 ✓", encoding: "ucs2" },
    },
    {
      name: "UCS2 forced on GSM text",
      req: { from: "+256772123456", text: "plain", encoding: "ucs2", timestamp: T },
      expect: { text: "plain", encoding: "ucs2" },
    },
    {
      name: "alphanumeric sender of 11 characters",
      req: { from: "InfoService", text: "hi", timestamp: T },
      expect: { from: "InfoService", text: "hi" },
    },
    {
      name: "alphanumeric sender with an extension character",
      req: { from: "MTN€", text: "hi", timestamp: T },
      expect: { from: "MTN€" },
    },
    {
      name: "short code with * and #",
      req: { from: "*131#", text: "balance", timestamp: T },
      expect: { from: "*131#" },
    },
    {
      name: "SMSC field",
      req: { from: "0772123456", text: "x", timestamp: T, smsc: "+256700000001" },
      expect: { from: "0772123456", smsc: "+256700000001" },
    },
    {
      name: "Date in a negative half-hour zone",
      req: { from: "+1", text: "x", timestamp: new Date("2024-02-29T23:59:59Z"), tzQuarterHours: -14 },
      expect: { timestamp: "2024-02-29T20:29:59-03:30" },
    },
    {
      name: "string time stamp kept as written (+05:45)",
      req: { from: "+1", text: "x", timestamp: "2099-12-31T23:59:59+05:45" },
      expect: { timestamp: "2099-12-31T23:59:59+05:45" },
    },
    {
      name: "160 septets fill one part",
      req: { from: "+1", text: "a".repeat(160), timestamp: T },
      expect: { text: "a".repeat(160) },
    },
    {
      name: "8-bit concatenation header, GSM 7-bit (6 octets + 1 fill bit)",
      req: { from: "+1", text: "x".repeat(153), timestamp: T, concat: { ref: 200, total: 3, seq: 3 } },
      expect: { text: "x".repeat(153), concat: { ref: 200, refBits: 8, total: 3, seq: 3 } },
    },
    {
      name: "16-bit concatenation header, GSM 7-bit (7 octets, no fill)",
      req: {
        from: "+1",
        text: "€".repeat(76),
        timestamp: T,
        concat: { ref: 0xbeef, total: 2, seq: 1, ref16: true },
      },
      expect: { text: "€".repeat(76), concat: { ref: 0xbeef, refBits: 16, total: 2, seq: 1 } },
    },
    {
      name: "16-bit concatenation header, UCS2",
      req: {
        from: "+1",
        text: "ж".repeat(66),
        timestamp: T,
        concat: { ref: 1, total: 9, seq: 9, ref16: true },
      },
      expect: { text: "ж".repeat(66), encoding: "ucs2", concat: { ref: 1, refBits: 16, total: 9, seq: 9 } },
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const d = deliver(encodeDeliver(c.req));
      for (const [key, value] of Object.entries(c.expect)) {
        assert.deepEqual(d[key as keyof DecodedDeliver], value, key);
      }
      assert.equal(d.pid, 0);
      if (typeof c.req.timestamp === "string" && !c.expect.timestamp)
        assert.equal(d.timestamp, c.req.timestamp);
    });
  }

  it("sets TP-MMS, and TP-UDHI only with a concatenation header", () => {
    const single = encodeDeliver({ from: "+1", text: "x", timestamp: T });
    const part = encodeDeliver({ from: "+1", text: "x", timestamp: T, concat: { ref: 1, total: 2, seq: 1 } });
    assert.equal(single.slice(0, 4), "0004");
    assert.equal(part.slice(0, 4), "0044");
    assert.ok(part.includes("050003010201"), part);
  });

  it("computes the fill bits from the header length", () => {
    assert.deepEqual(
      [1, 2, 3, 4, 5, 6, 7, 8].map((n) => fillBits(n)),
      [6, 5, 4, 3, 2, 1, 0, 6],
    );
  });

  it("defaults the time stamp to now (UTC)", () => {
    const before = Date.now();
    const d = deliver(encodeDeliver({ from: "+1", text: "now" }));
    const at = Date.parse(d.timestamp);
    assert.ok(at >= Math.floor(before / 1000) * 1000 && at <= Date.now(), d.timestamp);
    assert.match(d.timestamp, /\+00:00$/);
  });

  const bad: [string, () => unknown, RegExp][] = [
    ["161 septets in one part", () => encodeDeliver({ from: "+1", text: "a".repeat(161) }), /160/],
    ["81 extension characters", () => encodeDeliver({ from: "+1", text: "€".repeat(81) }), /162 septets/],
    ["71 UCS2 units", () => encodeDeliver({ from: "+1", text: "ж".repeat(71) }), /70/],
    [
      "emoji forced into GSM 7-bit",
      () => encodeDeliver({ from: "+1", text: "👋", encoding: "gsm7" }),
      /GSM 7-bit/,
    ],
    ["a 12-character sender", () => encodeDeliver({ from: "InfoServices", text: "x" }), /11 septets/],
    ["a sender outside GSM 7-bit", () => encodeDeliver({ from: "Бот", text: "x" }), /GSM 7-bit/],
    ["an empty sender", () => encodeDeliver({ from: "", text: "x" }), /empty/],
    ["an 8-bit ref above 255", () => encodeDeliver(part({ ref: 256, total: 2, seq: 1 })), /concat.ref/],
    ["seq beyond total", () => encodeDeliver(part({ ref: 1, total: 2, seq: 3 })), /concat.seq/],
    ["seq 0", () => encodeDeliver(part({ ref: 1, total: 2, seq: 0 })), /concat.seq/],
    [
      "year 1999",
      () => encodeDeliver({ from: "+1", text: "x", timestamp: "1999-03-29T15:16:59+02:00" }),
      /2000/,
    ],
    [
      "a zone of 80 quarters",
      () => encodeDeliver({ from: "+1", text: "x", tzQuarterHours: 80 }),
      /tzQuarter/,
    ],
    [
      "an offset that is no quarter",
      () => encodeDeliver({ from: "+1", text: "x", timestamp: T.replace("03:00", "03:10") }),
      /quarter/,
    ],
    [
      "a contradicting offset",
      () => encodeDeliver({ from: "+1", text: "x", timestamp: T, tzQuarterHours: 0 }),
      /contradicts/,
    ],
    [
      "an impossible date",
      () => encodeDeliver({ from: "+1", text: "x", timestamp: "2023-02-29T00:00:00Z" }),
      /valid/,
    ],
    ["not ISO 8601", () => encodeDeliver({ from: "+1", text: "x", timestamp: "yesterday" }), /ISO 8601/],
  ];
  for (const [what, fn, message] of bad) it(`refuses ${what}`, () => throwsEncode(fn, message));
  function part(concat: DeliverRequest["concat"]): DeliverRequest {
    return { from: "+1", text: "x", concat };
  }
});

describe("splitDeliverText", () => {
  function decodeAll(pdus: string[]) {
    return pdus.map(deliver);
  }
  function septets(text: string): number {
    return [...text].reduce((n, ch) => n + ("€{}[]~\\^|\f".includes(ch) ? 2 : 1), 0);
  }

  it("keeps a text that fits one part in one PDU without a header", () => {
    const [only, ...rest] = splitDeliverText("+256772123456", "a".repeat(160), { ref: 9, timestamp: T });
    assert.equal(rest.length, 0);
    const d = deliver(only!);
    assert.equal(d.concat, undefined);
    assert.equal(d.text, "a".repeat(160));
  });

  const cases: {
    name: string;
    text: string;
    ref16?: boolean;
    parts: number;
    perPart: number;
    unit: "septets" | "units";
  }[] = [
    {
      name: "3-part GSM 7-bit, 8-bit ref",
      text: "The quick brown fox. ".repeat(20),
      parts: 3,
      perPart: 153,
      unit: "septets",
    },
    {
      name: "3-part GSM 7-bit, 16-bit ref",
      text: "0123456789".repeat(40),
      ref16: true,
      parts: 3,
      perPart: 152,
      unit: "septets",
    },
    {
      name: "3-part GSM 7-bit with extension characters",
      text: "a€{b}[c]~\\^|".repeat(20),
      parts: 3,
      perPart: 153,
      unit: "septets",
    },
    {
      name: "3-part UCS2 with emoji, 8-bit ref",
      text: "Habari 👋 ya leo 🇺🇬! ".repeat(8),
      parts: 3,
      perPart: 67,
      unit: "units",
    },
    {
      name: "3-part UCS2 with emoji, 16-bit ref",
      text: "жжж😀".repeat(36),
      ref16: true,
      parts: 3,
      perPart: 66,
      unit: "units",
    },
  ];
  for (const c of cases) {
    it(`${c.name}: reassembles, ≤ ${c.perPart} ${c.unit} per part, same ref and time stamp`, () => {
      const ref = c.ref16 ? 0xabcd : 0x7f;
      const decoded = decodeAll(
        splitDeliverText("+256772123456", c.text, { ref, ref16: c.ref16, timestamp: T }),
      );
      assert.equal(decoded.length, c.parts);
      assert.equal(decoded.map((d) => d.text).join(""), c.text);
      decoded.forEach((d, i) => {
        assert.deepEqual(d.concat, { ref, refBits: c.ref16 ? 16 : 8, total: c.parts, seq: i + 1 });
        assert.equal(d.timestamp, T);
        assert.equal(d.from, "+256772123456");
        const size = c.unit === "septets" ? septets(d.text) : d.text.length;
        assert.ok(size <= c.perPart, `part ${i + 1}: ${size}`);
        if (i < c.parts - 1) assert.ok(size >= c.perPart - 1, `part ${i + 1} is full: ${size}`);
      });
    });
  }

  it("cuts where the site's own segmentText cuts (8-bit ref)", () => {
    for (const text of [
      "x".repeat(400),
      "€".repeat(200),
      "a😀".repeat(100),
      "€".repeat(76) + "a".repeat(300),
    ]) {
      const mine = decodeAll(splitDeliverText("+1", text, { ref: 1, timestamp: T }));
      const theirs = segmentText(text);
      assert.equal(mine.length, theirs.parts.length, text.slice(0, 10));
      assert.deepEqual(
        mine.map((d) => (theirs.encoding === "gsm7" ? septets(d.text) : d.text.length)),
        theirs.parts.map((p) => p.length),
      );
    }
  });

  it("never splits an escape pair: 152 septets + € moves the € to part 2", () => {
    const text = "a".repeat(152) + "€" + "b".repeat(10);
    const [p1, p2] = decodeAll(splitDeliverText("+1", text, { ref: 3, timestamp: T }));
    assert.equal(p1!.text, "a".repeat(152));
    assert.equal(p2!.text, "€" + "b".repeat(10));
  });

  it("never splits a surrogate pair: 66 units + 😀 moves the emoji to part 2", () => {
    const text = "ж".repeat(66) + "😀" + "ж".repeat(10);
    const [p1, p2] = decodeAll(splitDeliverText("+1", text, { ref: 3, timestamp: T }));
    assert.equal(p1!.text, "ж".repeat(66));
    assert.equal(p2!.text, "😀" + "ж".repeat(10));
  });

  it("puts one UCS2 character in every part when the whole text needs UCS2", () => {
    const text = "a".repeat(150) + "ж";
    const decoded = decodeAll(splitDeliverText("+1", text, { ref: 3, timestamp: T }));
    assert.deepEqual(
      decoded.map((d) => d.encoding),
      ["ucs2", "ucs2", "ucs2"],
    );
    assert.equal(decoded.map((d) => d.text).join(""), text);
  });

  it("refuses a ref out of range and more than 255 parts", () => {
    throwsEncode(() => splitDeliverText("+1", "x", { ref: 256 }), /ref/);
    throwsEncode(() => splitDeliverText("+1", "x", { ref: 65536, ref16: true }), /ref/);
    throwsEncode(() => splitDeliverText("+1", "x".repeat(153 * 255 + 1), { ref: 1 }), /256 parts/);
  });
});

describe("encodeStatusReport round trips through decodePdu", () => {
  const scts = new Date("2024-05-06T07:08:09Z");
  const discharge = new Date("2024-05-06T07:08:19Z");
  const cases: [string, number, { delivered: boolean; pending: boolean; failed: boolean }][] = [
    ["delivered", 0x00, { delivered: true, pending: false, failed: false }],
    ["pending (congestion)", 0x20, { delivered: false, pending: true, failed: false }],
    ["failed (incompatible destination)", 0x41, { delivered: false, pending: false, failed: true }],
  ];
  for (const [name, status, flags] of cases) {
    it(`${name}: 0x${status.toString(16).padStart(2, "0")}`, () => {
      const r = report(encodeStatusReport({ mr: 42, recipient: "+256772123456", scts, discharge, status }));
      assert.deepEqual(
        {
          mr: r.mr,
          recipient: r.recipient,
          scts: r.scts,
          dischargeTime: r.dischargeTime,
          status: r.status,
          delivered: r.delivered,
          pending: r.pending,
          failed: r.failed,
        },
        {
          mr: 42,
          recipient: "+256772123456",
          scts: "2024-05-06T07:08:09+00:00",
          dischargeTime: "2024-05-06T07:08:19+00:00",
          status,
          ...flags,
        },
      );
      assert.equal(r.smsc, undefined);
    });
  }

  it("carries an SMSC, a national recipient and a time zone", () => {
    const r = report(
      encodeStatusReport({
        mr: 255,
        recipient: "0772123456",
        scts,
        discharge,
        status: 0,
        smsc: "+256700000001",
        tzQuarterHours: 12,
      }),
    );
    assert.deepEqual(
      [r.smsc, r.mr, r.recipient, r.scts],
      ["+256700000001", 255, "0772123456", "2024-05-06T10:08:09+03:00"],
    );
  });

  it("refuses an mr or status outside 0..255", () => {
    throwsEncode(() => encodeStatusReport({ mr: 256, recipient: "+1", scts, discharge, status: 0 }), /mr/);
    throwsEncode(() => encodeStatusReport({ mr: 1, recipient: "+1", scts, discharge, status: -1 }), /status/);
  });
});

describe("submitWantingReport", () => {
  it("reads the destination and SMSC of an SMS-SUBMIT with TP-SRR", () => {
    const [part] = encodeSubmit({ to: "+256772123456", text: "hi", reference: 0, statusReport: true }).parts;
    assert.deepEqual(submitWantingReport(part!.pdu), { recipient: "+256772123456" });
    const [withSmsc] = encodeSubmit({
      to: "0772123456",
      text: "hi",
      reference: 0,
      statusReport: true,
      smsc: "+256700000009",
    }).parts;
    assert.deepEqual(submitWantingReport(withSmsc!.pdu), { recipient: "0772123456", smsc: "+256700000009" });
  });
  it("is null without TP-SRR, for other message types and for garbage", () => {
    const [part] = encodeSubmit({ to: "+256772123456", text: "hi", reference: 0 }).parts;
    assert.equal(submitWantingReport(part!.pdu), null);
    assert.equal(submitWantingReport(encodeDeliver({ from: "+1", text: "x" })), null);
    assert.equal(submitWantingReport("0022"), null);
    assert.equal(submitWantingReport("zz"), null);
  });
});
