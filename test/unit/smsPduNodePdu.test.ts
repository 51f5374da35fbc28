/**
 * Evidence for every node-pdu 2.1.1 defect our PDU layer works around (docs/pdu.md). Each "node-pdu
 * …" test pins node-pdu's wrong answer on a public or derived vector; if one starts failing after a
 * node-pdu upgrade, the library changed and the matching repair in src/sms/pdu may be removable.
 * Each "decodePdu …" test shows our answer on the same input.
 */
import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { Deliver, parse, Report, Submit, utils } from "node-pdu";
import { decodePdu } from "../../src/sms/pdu/deliver.js";
import { encodeSubmit } from "../../src/sms/pdu/submit.js";
import { STAR_HASH_ADDRESS } from "../fixtures/pdu/publicVectors.js";

/** ModemManager test_pdu1: "... such as £ and ΩΠΨ and §¿ as well." from +16175927198, −05:00. */
const MM_PDU1 =
  "07912104442961F4040B916171957291F800001120821105050A6AC8B2BC7C9A83C220F6DB7D2ECB41EDF27C1E3E97411B" +
  "DE06754FD3D1A0F9BB5D0695F1F4B29B5C2683C6E8B03C3CA697E5F34D6AE303D1D1F2F7DD0D4ABB59A0797D8C0685E7A0" +
  "0028EC26832A960B28EC2683BE6050780EBA97D96C17";
/** ModemManager test_pdu3 with optional replacements (derived vectors). */
function pdu3(parts: { oa?: string; tz?: string; dcs?: string; ud?: string } = {}): string {
  const oa = parts.oa ?? "0B918100551512F2";
  const ud = parts.ud ?? "0AE8329BFD4697D9EC37";
  return `07912143658709F104${oa}00${parts.dcs ?? "00"}111010214365${parts.tz ?? "00"}${ud}`;
}
const CDS = "07914356060013F10659098136395339F6219011707193802190117071938030";

function npDeliver(pdu: string): Deliver {
  const p = parse(pdu);
  assert.ok(p instanceof Deliver);
  return p;
}

function npText(pdu: string): string {
  return npDeliver(pdu).data.getText();
}

describe("node-pdu 2.1.1 parse(): confirmed defects", () => {
  it("node-pdu drops the + of international numbers (TON 1, type 0x91)", () => {
    const p = npDeliver(MM_PDU1);
    assert.equal(p.address.type.getValue(), 0x91);
    assert.equal(p.address.phone, "16175927198");
    assert.equal(p.serviceCenterAddress.phone, "12404492164");
    const r = parse("07914306073011F006270B913426565711F7012081111345400120811174054043");
    assert.ok(r instanceof Report);
    assert.equal(r.address.phone, "43626575117");
  });

  it("decodePdu adds the + for TON 1 and keeps national numbers bare", () => {
    const d = decodePdu(MM_PDU1);
    assert.ok(d.kind === "deliver");
    assert.deepEqual([d.from, d.smsc], ["+16175927198", "+12404492164"]);
    const n = decodePdu(pdu3({ oa: "0B818100551512F2" }));
    assert.ok(n.kind === "deliver");
    assert.equal(n.from, "18005551212");
  });

  describe("time zones", () => {
    const saved = process.env.TZ;
    after(() => {
      if (saved === undefined) delete process.env.TZ;
      else process.env.TZ = saved;
    });

    it("node-pdu prints a zero UTC offset as -00:00 (host in UTC)", () => {
      process.env.TZ = "UTC";
      assert.equal(npDeliver(pdu3()).serviceCenterTimeStamp.getIsoString(), "2011-01-01T12:34:56-00:00");
    });

    it("node-pdu replaces a zero offset by the host's own zone (host in Asia/Kolkata)", () => {
      // SCTS(date, tzOff) does `tzOff || -date.getTimezoneOffset()`: 0 is falsy.
      process.env.TZ = "Asia/Kolkata";
      assert.equal(npDeliver(pdu3()).serviceCenterTimeStamp.getIsoString(), "2011-01-01T18:04:56+5.5:00");
      process.env.TZ = "UTC";
    });

    it("node-pdu prints half hours as +5.5:00 and -3.5:00", () => {
      assert.equal(
        npDeliver(pdu3({ tz: "22" })).serviceCenterTimeStamp.getIsoString(),
        "2011-01-01T12:34:56+5.5:00",
      );
      assert.equal(
        npDeliver(pdu3({ tz: "49" })).serviceCenterTimeStamp.getIsoString(),
        "2011-01-01T12:34:56-3.5:00",
      );
    });

    it("decodePdu writes ISO 8601 offsets whatever the host zone", () => {
      process.env.TZ = "Asia/Kolkata";
      const ts = (tz: string) => {
        const d = decodePdu(pdu3({ tz }));
        return d.kind === "deliver" ? d.timestamp : "";
      };
      assert.deepEqual(
        [ts("00"), ts("22"), ts("49")],
        ["2011-01-01T12:34:56+00:00", "2011-01-01T12:34:56+05:30", "2011-01-01T12:34:56-03:30"],
      );
      process.env.TZ = "UTC";
    });
  });

  it("node-pdu decodes GSM 0x5F as a backtick instead of §", () => {
    assert.match(npText(MM_PDU1), / and `¿ as well\.$/);
    assert.equal(npText(pdu3({ ud: "015F" })), "`");
  });

  it("node-pdu decodes ESC 0x0A as a backtick instead of form feed, and ESC + undefined code as a backtick", () => {
    assert.equal(npText(pdu3({ ud: "021B05" })), "`");
    // ESC 0x41: 23.038 §6.2.1.1 says show the default-table character, "A".
    assert.equal(npText(pdu3({ ud: "029B20" })), "`");
  });

  it("decodePdu decodes §, form feed and ESC + undefined code per 23.038", () => {
    const text = (ud: string) => {
      const d = decodePdu(pdu3({ ud }));
      return d.kind === "deliver" ? d.text : "";
    };
    assert.deepEqual([text("015F"), text("021B05"), text("029B20")], ["§", "\f", "A"]);
    const d = decodePdu(MM_PDU1);
    assert.ok(d.kind === "deliver");
    assert.match(d.text, / and §¿ as well\.$/);
  });

  it("node-pdu returns * # a b c as the hex letters A B C D E", () => {
    assert.equal(npDeliver(pdu3({ oa: STAR_HASH_ADDRESS.hex })).address.phone, "0123456789ABCDE");
  });

  it("node-pdu loses the digit sharing an octet with * (semi-octets A,0 → '*')", () => {
    // OA 04 81 0A 0A = "*0*0"; node-pdu maps the whole octet 0x0A to "*".
    assert.equal(npDeliver(pdu3({ oa: "04810A0A" })).address.phone, "**");
  });

  it("decodePdu maps semi-octets A..E to * # a b c and keeps every digit", () => {
    const from = (oa: string) => {
      const d = decodePdu(pdu3({ oa }));
      return d.kind === "deliver" ? d.from : "";
    };
    assert.equal(from(STAR_HASH_ADDRESS.hex), `+${STAR_HASH_ADDRESS.digits}`);
    assert.equal(from("04810A0A"), "*0*0");
  });

  it("node-pdu picks the wrong alphabet for DCS groups 0xD and 0xE", () => {
    // 0xD8 (MWI store, voicemail active) is GSM 7-bit; node-pdu reads bits 3-2 = 10 as UCS2.
    assert.equal(npDeliver(pdu3({ dcs: "D8" })).dataCodingScheme.textAlphabet, utils.DCS.ALPHABET_UCS2);
    // 0xE0 (MWI store, UCS2) is UCS2; node-pdu reads bits 3-2 = 00 as GSM 7-bit.
    assert.equal(
      npDeliver(pdu3({ dcs: "E0", ud: "04043F0440" })).dataCodingScheme.textAlphabet,
      utils.DCS.ALPHABET_DEFAULT,
    );
    const d = decodePdu(pdu3({ dcs: "E0", ud: "04043F0440" }));
    assert.ok(d.kind === "deliver");
    assert.deepEqual([d.encoding, d.text], ["ucs2", "пр"]);
  });

  it("node-pdu throws on the reserved alphabet 11, which 23.038 §4 says to read as GSM 7-bit", () => {
    assert.throws(() => parse(pdu3({ dcs: "0C" })), /Unknown alpabet/);
    const d = decodePdu(pdu3({ dcs: "0C" }));
    assert.ok(d.kind === "deliver");
    assert.deepEqual([d.encoding, d.text], ["gsm7", "hellohello"]);
  });

  it("node-pdu reports no message class for DCS group 0xF, which always has one", () => {
    const dcs = npDeliver(pdu3({ dcs: "F1" })).dataCodingScheme;
    assert.deepEqual([dcs.useMessageClass, dcs.classMessage], [false, 1]);
    const d = decodePdu(pdu3({ dcs: "F1" }));
    assert.ok(d.kind === "deliver");
    assert.equal(d.dcsClass, 1);
  });

  it("node-pdu reads relative TP-VP wrongly above 12 hours", () => {
    const vpSeconds = (minutes: number): number | null => {
      const p = parse(
        encodeSubmit({ to: "+1", text: "x", reference: 0, validityMinutes: minutes }).parts[0]?.pdu ?? "",
      );
      assert.ok(p instanceof Submit);
      return p.validityPeriod.interval;
    };
    assert.equal(vpSeconds(5), 5 * 60, "0x00 = 5 minutes: right");
    assert.equal(vpSeconds(12 * 60), 12 * 3600, "0x8F = 12 hours: right");
    assert.equal(vpSeconds(12 * 60 + 30), 12 * 86400 + 1800, "0x90 = 12 h 30, node-pdu: 12 days 30 min");
    assert.equal(vpSeconds(2 * 1440), 86400, "0xA8 = 2 days, node-pdu: 1 day");
    assert.equal(vpSeconds(5 * 10080), 7 * 86400, "0xC5 = 5 weeks, node-pdu: 1 week");
  });

  it("node-pdu throws on an enhanced TP-VPF; decodePdu reads the rest of the SMS-SUBMIT", () => {
    // FO 09: SMS-SUBMIT with VPF 01 (enhanced, 7 octets), then "hola".
    const pdu = "0009000B914316565811F90000" + "00000000000000" + "04E8373B0C";
    assert.throws(() => parse(pdu), /Unknown validity period format/);
    const d = decodePdu(pdu);
    assert.ok(d.kind === "submit");
    assert.deepEqual([d.to, d.text, d.validityMinutes], ["+34616585119", "hola", undefined]);
  });
});

describe("node-pdu 2.1.1 parse(): claimed defects it does not have", () => {
  it("strips the F filler of odd-length numbers itself (OA, SMSC, recipient)", () => {
    const p = npDeliver(pdu3());
    assert.deepEqual([p.address.phone, p.serviceCenterAddress.phone], ["18005551212", "12345678901"]);
    const r = parse(CDS);
    assert.ok(r instanceof Report);
    assert.deepEqual([r.address.phone, r.serviceCenterAddress.phone], ["639335936", "34656000311"]);
  });

  it("agrees with our encoder on 500 random numbers and SMSCs of every length", () => {
    let seed = 7;
    const next = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    const digits = (count: number) => Array.from({ length: count }, () => String(next(10))).join("");
    for (let i = 0; i < 500; i++) {
      const to = (next(2) ? "+" : "") + digits(1 + next(20));
      const smsc = `+${digits(3 + next(17))}`;
      const p = parse(encodeSubmit({ to, text: "x", reference: 0, smsc }).parts[0]?.pdu ?? "");
      assert.deepEqual([p.address.phone, p.serviceCenterAddress.phone], [to.replace("+", ""), smsc.slice(1)]);
    }
  });

  it("reads TP-MR, TP-ST and 8/16-bit concatenation IEs right (we take those from node-pdu)", () => {
    const r = parse(CDS);
    assert.ok(r instanceof Report);
    assert.deepEqual([r.reference, r.status], [0x59, 0x30]);
    const kpn = npDeliver(
      "07911356131313F64004850120390011609232239180A006080400100201D7327BFD6EB340E2321BF46E83EA7790F59D1E97" +
        "DBE1341B442F83C465763D3DA797E56537C81D0ECB41AB59CC1693C16031D96C064241E5656838AF03A96230982A269BCD46" +
        "2917C8FA4E8FCBED709A0D7ABBE9F6B0FB5C7683D27350984D4FABC9A0B33C4C4FCF5D20EBFB2D079DCB62793DBD06D9C36E" +
        "50FB2D4E97D9A0B49B5E96BBCB",
    );
    const h = kpn.getParts()[0]?.header;
    assert.deepEqual([h?.getType(), h?.getPointer(), h?.getSegments(), h?.getCurrent()], [0x08, 0x10, 2, 1]);
  });
});

describe("node-pdu 2.1.1 Submit encoder: why we do not use it", () => {
  const parts = (s: Submit) => s.getPartStrings();

  it("sends § as a space", () => {
    const pdu = parts(new Submit("+15555551234", "§"))[0] ?? "";
    assert.match(pdu, /000120$/);
  });

  it("sends a GSM character it lacks but that is below U+00C0 (¢) as a space instead of switching to UCS2", () => {
    const d = decodePdu(parts(new Submit("+15555551234", "price ¢5"))[0] ?? "");
    assert.ok(d.kind === "submit");
    assert.equal(d.text, "price  5");
  });

  it("counts part capacity in characters: 150 GSM characters become 2 parts of 133 + 17", () => {
    const pdus = parts(new Submit("+15555551234", "a".repeat(150)));
    assert.equal(pdus.length, 2);
    assert.equal(encodeSubmit({ to: "+15555551234", text: "a".repeat(150), reference: 0 }).parts.length, 1);
  });

  it("sends € as UCS2 and so splits 80 × € (one 7-bit part) into two UCS2 parts", () => {
    const pdus = parts(new Submit("+15555551234", "€".repeat(80)));
    assert.equal(pdus.length, 2);
    assert.equal(pdus[0]?.slice(24, 26), "08");
  });

  it("cuts a surrogate pair across parts", () => {
    const pdus = parts(new Submit("+15555551234", "😀".repeat(40)));
    const first = decodePdu(pdus[0] ?? "");
    assert.ok(first.kind === "submit");
    assert.match(first.text, /\ud83d$/);
  });

  it("writes a relative TP-VP without setting TP-VPF, so the PDU is misframed", () => {
    const pdu = parts(
      new Submit("+15555551234", "x", { validityPeriod: new utils.VP({ interval: 2 * 86400 }) }),
    )[0];
    // First octet 01 (VPF 00) but an A8 validity octet follows the DCS: readers take A8 as TP-UDL.
    assert.equal(pdu, "0001000B915155551532F40000A80178");
  });

  it("encodes 35 days as 0xC9 (9 weeks) instead of rounding up to 0xC5 (5 weeks)", () => {
    const pdu = parts(
      new Submit("+15555551234", "x", { validityPeriod: new utils.VP({ interval: 35 * 86400 }) }),
    )[0];
    assert.equal(pdu?.slice(26, 28), "C9");
  });
});
