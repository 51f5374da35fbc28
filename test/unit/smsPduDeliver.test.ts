import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isSiteError } from "../../src/core/errors.js";
import {
  type DecodedDeliver,
  type DecodedPdu,
  type DecodedStatusReport,
  decodePdu,
} from "../../src/sms/pdu/deliver.js";
import { encodeSubmit } from "../../src/sms/pdu/submit.js";
import { DELIVER_VECTORS, STAR_HASH_ADDRESS, STATUS_REPORT_VECTORS } from "../fixtures/pdu/publicVectors.js";

function deliver(pdu: string): DecodedDeliver {
  const d = decodePdu(pdu);
  assert.equal(d.kind, "deliver");
  return d as DecodedDeliver;
}

function refused(pdu: string, reason?: string): void {
  assert.throws(
    () => decodePdu(pdu),
    (err) => {
      assert.ok(isSiteError(err, "sms.decode"), `expected SiteError sms.decode, got ${String(err)}`);
      if (reason !== undefined) assert.equal(err.detail.reason, reason, err.message);
      return true;
    },
  );
}

/** ModemManager test_pdu3 ("hellohello" from +18005551212, 2011-01-01 12:34:56, TZ 00). */
const PDU3 = "07912143658709F1040B918100551512F20000111010214365000AE8329BFD4697D9EC37";
/** PDU3 with its OA, TZ octet or user data replaced (derived vectors; the rest is public). */
function pdu3With(parts: { oa?: string; tz?: string; dcs?: string; ud?: string; fo?: string }): string {
  return (
    "07912143658709F1" +
    (parts.fo ?? "04") +
    (parts.oa ?? "0B918100551512F2") +
    "00" +
    (parts.dcs ?? "00") +
    "111010214365" +
    (parts.tz ?? "00") +
    (parts.ud ?? "0AE8329BFD4697D9EC37")
  );
}

describe("decodePdu: SMS-DELIVER public vectors", () => {
  for (const v of DELIVER_VECTORS) {
    it(`${v.name} (${v.source})`, () => {
      const d = deliver(v.pdu);
      if (v.from !== undefined) assert.equal(d.from, v.from);
      if (v.smsc !== undefined) assert.equal(d.smsc, v.smsc);
      if (v.timestamp !== undefined) assert.equal(d.timestamp, v.timestamp);
      if (v.text !== undefined) assert.equal(d.text, v.text);
      if (v.encoding !== undefined) assert.equal(d.encoding, v.encoding);
      assert.deepEqual(d.concat, v.concat);
      if (v.dcsClass !== undefined) assert.equal(d.dcsClass, v.dcsClass);
      if (v.pid !== undefined) assert.equal(d.pid, v.pid);
      assert.equal(d.raw, v.pdu.toUpperCase());
    });
  }
});

describe("decodePdu: SMS-STATUS-REPORT vectors", () => {
  for (const v of STATUS_REPORT_VECTORS) {
    it(`${v.name} (${v.source})`, () => {
      const d = decodePdu(v.pdu) as DecodedStatusReport;
      assert.equal(d.kind, "status_report");
      const { statusText, raw, ...rest } = d;
      assert.deepEqual(rest, {
        kind: "status_report",
        smsc: v.smsc,
        mr: v.mr,
        recipient: v.recipient,
        scts: v.scts,
        dischargeTime: v.dischargeTime,
        status: v.status,
        delivered: v.delivered,
        failed: v.failed,
        pending: v.pending,
      });
      assert.ok(statusText.length > 0);
      assert.equal(raw, v.pdu);
    });
  }

  it("reads a delivered report (the +CDS example with TP-ST 00; derived)", () => {
    const d = decodePdu("07914356060013F10659098136395339F6219011707193802190117071938000");
    assert.equal(d.kind, "status_report");
    assert.deepEqual([d.delivered, d.failed, d.pending], [true, false, false]);
    assert.equal(d.statusText, "transaction completed: short message received by the SME");
  });

  it("ignores the optional TP-PI/PID/DCS/UD after TP-ST", () => {
    const d = decodePdu("07914356060013F10659098136395339F6219011707193802190117071938000" + "07000000");
    assert.equal(d.kind, "status_report");
    assert.equal(d.mr, 0x59);
  });
});

describe("decodePdu: repairs on derived vectors", () => {
  it("reads * # a b c in a sender number (address bytes from warthog618/sms)", () => {
    assert.equal(deliver(pdu3With({ oa: STAR_HASH_ADDRESS.hex })).from, `+${STAR_HASH_ADDRESS.digits}`);
    assert.equal(deliver(pdu3With({ oa: "0581" + "1A00FB" })).from, "*100#");
    assert.equal(deliver(pdu3With({ oa: "04810A0A" })).from, "*0*0");
  });

  it("writes half-hour and negative offsets as ISO 8601", () => {
    assert.equal(deliver(pdu3With({ tz: "22" })).timestamp, "2011-01-01T12:34:56+05:30");
    assert.equal(deliver(pdu3With({ tz: "49" })).timestamp, "2011-01-01T12:34:56-03:30");
    assert.equal(deliver(pdu3With({ tz: "32" })).timestamp, "2011-01-01T12:34:56+05:45");
  });

  it("decodes 0x5F as § and ESC 0x0A as form feed", () => {
    assert.equal(deliver(pdu3With({ ud: "015F" })).text, "§");
    assert.equal(deliver(pdu3With({ ud: "021B05" })).text, "\f");
  });

  it("decodes DCS 0xE0 (message waiting, store, UCS2) as UCS2", () => {
    const d = deliver(pdu3With({ dcs: "E0", ud: "04043F0440" }));
    assert.deepEqual([d.encoding, d.text], ["ucs2", "пр"]);
  });

  it("drops an odd trailing octet of UCS2 user data", () => {
    assert.equal(deliver(pdu3With({ dcs: "08", ud: "03004100" })).text, "A");
  });

  it("voids a concatenation IE with sequence 0 or past the count (23.040 §9.2.3.24.1)", () => {
    // UDL 9 septets: UDH 05 00 03 2E 02 <seq>, one fill bit, then "Hi" (90 69).
    assert.equal(deliver(pdu3With({ fo: "44", ud: "090500032E02009069" })).concat, undefined);
    assert.equal(deliver(pdu3With({ fo: "44", ud: "090500032E02039069" })).concat, undefined);
    const ok = deliver(pdu3With({ fo: "44", ud: "090500032E02029069" }));
    assert.deepEqual([ok.text, ok.concat], ["Hi", { ref: 0x2e, refBits: 8, total: 2, seq: 2 }]);
  });

  it("reads a concatenated part whose header also holds other IEs", () => {
    // UDL 15 septets; UDHL 0A: IE 0x0A (text formatting, 00 04 10) then IE 0x00 (ref 0x2E, part 1 of 2);
    // 11 header octets take 13 septets (3 fill bits), then "Hi" packed from bit 91: 40 A6 01.
    const d = deliver(pdu3With({ fo: "44", ud: "0F0A0A03000410" + "00032E0201" + "40A601" }));
    assert.deepEqual([d.text, d.concat], ["Hi", { ref: 0x2e, refBits: 8, total: 2, seq: 1 }]);
  });

  it("decodes SMS-SUBMIT read back from the SIM (ModemManager test_pdu_stored_by_us)", () => {
    const d = decodePdu(
      "002100098136397339F70008224F60597D4F60597D4F60597D4F60597D4F60597D4F60597D4F60597D4F60597D4F60",
    );
    assert.equal(d.kind, "submit");
    assert.equal(d.to, "639337937");
    assert.equal(d.text, "你好你好你好你好你好你好你好你好你");
    assert.equal(d.statusReport, true);
    assert.equal(d.validityMinutes, undefined);
  });

  it("accepts lower case and surrounding white space", () => {
    assert.equal(deliver(`\r\n ${PDU3.toLowerCase()}\r\n`).text, "hellohello");
  });
});

describe("decodePdu: malformed input is SiteError sms.decode", () => {
  const table: [string, string, string][] = [
    ["empty", "", "empty"],
    ["non-hex", "0791ZZ", "not_hex"],
    ["odd length (python-messaging strict test)", PDU3.slice(0, -1), "odd_length"],
    [
      "UDL one septet past the data (ModemManager test_pdu_insufficient_data)",
      PDU3.replace("000A", "000B"),
      "truncated",
    ],
    ["cut inside the SMSC", "0791214365", "truncated"],
    ["cut inside the time stamp", PDU3.slice(0, 44), "truncated"],
    ["only an SMSC", "07912143658709F1", "truncated"],
    ["SMSC length over 11 octets", `0C91${"11".repeat(11)}04`, "invalid"],
    ["address over 20 digits", `0004159100000000000000000000${"00".repeat(20)}`, "invalid"],
    ["reserved message type 11", "0003", "invalid"],
    ["UDL over 140 octets", `${PDU3.slice(0, 52)}A1${"00".repeat(141)}`, "invalid"],
    ["UDH longer than the user data", pdu3With({ fo: "44", ud: "0306000000" }), "invalid"],
    ["UDH IE overrunning the header", pdu3With({ fo: "44", ud: "0A0400050003" + "00000000" }), "invalid"],
    ["impossible time stamp", PDU3.replace("11101021436500", "11101021766500"), "invalid"],
  ];
  for (const [name, pdu, reason] of table) it(`refuses ${name}`, () => refused(pdu, reason));
});

describe("decodePdu fuzzing", () => {
  // A small deterministic PRNG (mulberry32) so a failure is reproducible.
  function rng(seed: number): () => number {
    let a = seed >>> 0;
    return () => {
      a = (a + 0x6d2b79f5) >>> 0;
      let t = a;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
  }

  const seeds = [
    ...DELIVER_VECTORS.map((v) => v.pdu),
    ...STATUS_REPORT_VECTORS.map((v) => v.pdu),
    ...encodeSubmit({ to: "+15555551234", text: `${"€".repeat(90)}😀`, reference: 9 }).parts.map(
      (p) => p.pdu,
    ),
    ...encodeSubmit({ to: "123", text: "a".repeat(300), reference: 1, validityMinutes: 60 }).parts.map(
      (p) => p.pdu,
    ),
  ];

  function mustOnlyThrowSiteError(pdu: string, outcomes: { ok: number; refused: number }): void {
    let result: DecodedPdu | undefined;
    try {
      result = decodePdu(pdu);
    } catch (err) {
      assert.ok(isSiteError(err, "sms.decode"), `${pdu} threw ${String(err)}`);
      // A PDU our framing accepted must not be one node-pdu then chokes on.
      assert.notEqual(err.detail.reason, "library", `${pdu}: ${err.message}`);
      outcomes.refused++;
      return;
    }
    assert.ok(["deliver", "status_report", "submit"].includes(result.kind));
    outcomes.ok++;
  }

  it("only ever throws SiteError on 2,000+ truncated, mutated and random PDUs", () => {
    const random = rng(0x5eed);
    const outcomes = { ok: 0, refused: 0 };
    let runs = 0;
    // Every truncation of every seed vector.
    for (const pdu of seeds) {
      for (let cut = 0; cut < pdu.length; cut += 2) {
        mustOnlyThrowSiteError(pdu.slice(0, cut), outcomes);
        runs++;
      }
    }
    // Random octet mutations of the seeds (lengths, flags, DCS, UDH all get hit).
    for (let i = 0; i < 1500; i++) {
      const bytes = (seeds[Math.floor(random() * seeds.length)] ?? "").match(/../g) ?? [];
      const flips = 1 + Math.floor(random() * 4);
      for (let f = 0; f < flips; f++) {
        const at = Math.floor(random() * bytes.length);
        bytes[at] = Math.floor(random() * 256)
          .toString(16)
          .padStart(2, "0");
      }
      mustOnlyThrowSiteError(bytes.join(""), outcomes);
      runs++;
    }
    // Pure noise, sometimes with odd length or non-hex characters.
    const alphabet = "0123456789ABCDEFabcdef";
    for (let i = 0; i < 500; i++) {
      const length = Math.floor(random() * 120);
      let pdu = "";
      for (let k = 0; k < length; k++) pdu += alphabet[Math.floor(random() * alphabet.length)];
      if (random() < 0.05) pdu += "G";
      mustOnlyThrowSiteError(pdu, outcomes);
      runs++;
    }
    assert.ok(runs >= 2000, `only ${runs} runs`);
    assert.ok(outcomes.ok > 100 && outcomes.refused > 100, JSON.stringify(outcomes));
  });
});
