import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  isValidImei,
  luhnDigit,
  makeIccid,
  makeImei,
  makeImsi,
  swappedIccid,
} from "../../src/sim/identity.js";
import { checkSubmitPdu, tpduLength } from "../../src/sim/pdu.js";

// SMS-SUBMIT to +12345678901, "Hi" in GSM 7-bit, no SMSC (00): TPDU = 16 octets.
const SUBMIT_NO_SMSC = "0001000B912143658709F1000003C8341B";
// The same TPDU with an SMSC (+256700000001, 7 octets + length octet).
const SUBMIT_WITH_SMSC = "07915207000000F101000B912143658709F1000003C8341B";
// ModemManager's +CDS example (mm-modem-helpers.c): a status report with an SMSC of 7 octets.
const STATUS_REPORT = "07914356060013F10659098136395339F6219011707193802190117071938030";

describe("checkSubmitPdu", () => {
  const table: [string, string, number, string][] = [
    ["accepts a PDU without SMSC whose TPDU length matches", SUBMIT_NO_SMSC, 16, "ok"],
    ["excludes the SMSC octets from the length", SUBMIT_WITH_SMSC, 16, "ok"],
    ["accepts lower case and a trailing CR LF", `${SUBMIT_NO_SMSC.toLowerCase()}\r\n`, 16, "ok"],
    ["refuses a length that counts the SMSC octet", SUBMIT_NO_SMSC, 17, "length_mismatch"],
    ["refuses a length one short", SUBMIT_WITH_SMSC, 15, "length_mismatch"],
    ["refuses non-hex characters", "0001000B91ZZ", 5, "not_hex"],
    ["refuses an odd number of digits", "0001000", 3, "odd_length"],
    ["refuses an empty body", "", 1, "empty"],
    ["refuses an SMSC length past the end", "0F0100", 1, "smsc_length"],
    ["refuses an SMS-DELIVER (MTI 00)", "0004000B912143658709F1000003C8341B", 16, "not_submit"],
  ];
  for (const [name, body, len, want] of table) {
    it(name, () => {
      const got = checkSubmitPdu(body, len);
      assert.equal(got.ok ? "ok" : got.problem, want);
    });
  }
  it("returns the normalised hex", () => {
    const got = checkSubmitPdu(` ${SUBMIT_NO_SMSC.toLowerCase()}\r`, 16);
    assert.ok(got.ok);
    assert.equal(got.hex, SUBMIT_NO_SMSC);
  });
});

describe("tpduLength", () => {
  const table: [string, number | null][] = [
    [SUBMIT_NO_SMSC, 16],
    [SUBMIT_WITH_SMSC, 16],
    [STATUS_REPORT, 24],
    ["00", 0],
    ["0791", null],
    ["xyz", null],
  ];
  for (const [pdu, want] of table)
    it(`${pdu.slice(0, 12)}… → ${want}`, () => assert.equal(tpduLength(pdu), want));
});

describe("identities", () => {
  it("computes Luhn digits (IMEI 490154203237518)", () => {
    assert.equal(luhnDigit("49015420323751"), "8");
    assert.equal(isValidImei("490154203237518"), true);
    assert.equal(isValidImei("490154203237519"), false);
  });
  it("derives a stable valid IMEI from the TAC and the seed", () => {
    const a = makeImei("86436903", "/tmp/m1");
    assert.equal(a, makeImei("86436903", "/tmp/m1"));
    assert.notEqual(a, makeImei("86436903", "/tmp/m2"));
    assert.ok(a.startsWith("86436903"));
    assert.ok(isValidImei(a));
  });
  it("derives an IMSI on MTN Uganda and a 19-digit ICCID", () => {
    assert.match(makeImsi("x"), /^64110\d{10}$/);
    assert.match(makeIccid("x"), /^8925610\d{12}$/);
  });
  it("swaps ICCID digit pairs as EF_ICCID stores them (ModemManager test vector)", () => {
    assert.equal(swappedIccid("89324102234690160476"), "98231420326409614067");
    assert.equal(swappedIccid("8944200053671052499"), "984402003576012594F9");
  });
});
