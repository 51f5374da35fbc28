import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { SipNumberingConfig } from "../../src/config/types.js";
import { isSiteError } from "../../src/core/errors.js";
import { type NormalizedNumber, normalizeNumber, SHORT_CODE_MAX_DIGITS } from "../../src/sip/numbering.js";

/** The plan of a site in Uganda (+256, trunk prefix 0, international prefix 00). */
const UGANDA: SipNumberingConfig = { country_code: "256", national_prefix: "0", international_prefix: "00" };
/** The default plan: no country code, so national numbers stay as they are. */
const DEFAULT: SipNumberingConfig = { country_code: "", national_prefix: "0", international_prefix: "00" };

const e164 = (number: string): NormalizedNumber => ({ kind: "e164", number });
const short = (number: string): NormalizedNumber => ({ kind: "short", number });
const national = (number: string): NormalizedNumber => ({ kind: "national", number });
const imsi = (number: string): NormalizedNumber => ({ kind: "imsi", number });

describe("normalizeNumber with the Uganda plan", () => {
  const table: [string, NormalizedNumber, string][] = [
    ["+256772123456", e164("+256772123456"), "E.164 as is"],
    ["+256 (772) 123-456", e164("+256772123456"), "RFC 3966 §5.1.1 visual separators and a space"],
    ["+256.772.123.456", e164("+256772123456"), "dots are visual separators too"],
    ["00256772123456", e164("+256772123456"), "international prefix 00"],
    ["0044 20 7946 0958", e164("+442079460958"), "international prefix to another country"],
    ["0772123456", e164("+256772123456"), "national prefix 0 → +256"],
    ["0772-123-456", e164("+256772123456"), "national with separators"],
    ["256772123456", e164("+256772123456"), "E.164 written without + (as OpenBTS/smqueue keep numbers)"],
    ["101", short("101"), "site service (services.register)"],
    ["9189", short("9189"), "site service (services.echo)"],
    ["112", short("112"), "emergency short code"],
    ["123456", short("123456"), `${SHORT_CODE_MAX_DIGITS} digits is still short`],
    ["0044", short("0044"), "short before any prefix rule"],
    ["1234567", national("1234567"), "7 digits without a prefix: unchanged"],
    ["772123456", national("772123456"), "subscriber number without the trunk prefix: unchanged"],
    ["2561", short("2561"), "country code digits alone are a short code"],
    ["IMSI001010000000001", imsi("001010000000001"), "OpenBTS handset name (CLI/CLI.cpp sendsimple)"],
    ["imsi641100123456789", imsi("641100123456789"), "IMSI prefix in any case"],
    ["sip:IMSI460010018073482@127.0.0.1:5062", imsi("460010018073482"), "a whole OpenBTS From URI"],
    ["sip:+256772123456@example.org;user=phone", e164("+256772123456"), "sip: URI, host and params cut"],
    ["sips:0772123456@example.org", e164("+256772123456"), "sips: URI"],
    ["tel:+256-772-123-456", e164("+256772123456"), "tel: URI (RFC 3966)"],
    ["tel:0772123456;phone-context=+256", e164("+256772123456"), "phone-context ignored, plan decides"],
    ["0772123456;phone-context=example.org", e164("+256772123456"), "params of a bare user part"],
    ["%2B256772123456", e164("+256772123456"), "escaped + (RFC 3261 §25.1)"],
    ["+256%20772%20123456", e164("+256772123456"), "escaped spaces"],
    ["  0772123456  ", e164("+256772123456"), "surrounding white space"],
    ["101?subject=x", short("101"), "URI headers cut"],
  ];
  for (const [input, want, why] of table) {
    it(`${JSON.stringify(input)} → ${want.kind} ${want.number} (${why})`, () => {
      assert.deepEqual(normalizeNumber(input, UGANDA), want);
    });
  }
});

describe("normalizeNumber without a country code (the default plan)", () => {
  const table: [string, NormalizedNumber][] = [
    ["0772123456", national("0772123456")],
    ["256772123456", national("256772123456")],
    ["00256772123456", e164("+256772123456")],
    ["+256772123456", e164("+256772123456")],
    ["101", short("101")],
  ];
  for (const [input, want] of table) {
    it(`${input} → ${want.kind} ${want.number}`, () =>
      assert.deepEqual(normalizeNumber(input, DEFAULT), want));
  }

  it("other prefixes (a plan with 011 international, 1 national)", () => {
    const nanp: SipNumberingConfig = { country_code: "1", national_prefix: "1", international_prefix: "011" };
    assert.deepEqual(normalizeNumber("011256772123456", nanp), e164("+256772123456"));
    assert.deepEqual(normalizeNumber("12025550123", nanp), e164("+12025550123"));
  });
});

describe("normalizeNumber refuses what is neither (SiteError sip.number)", () => {
  const table: [unknown, string][] = [
    ["", "empty"],
    ["   ", "empty"],
    ["sip:@example.org", "empty"],
    ["()-", "empty"],
    ["alice", "not_digits"],
    ["sip:alice@example.org", "not_digits"],
    ["+", "not_digits"],
    ["+256abc", "not_digits"],
    ["12a4", "not_digits"],
    ["*100#", "not_digits"],
    ["IMSI12", "not_digits"],
    ["+12345", "length"],
    ["+1234567890123456", "length"],
    ["0012345", "length"],
    ["1".repeat(21), "length"],
    ["%ZZ12", "escape"],
    [42, "type"],
  ];
  for (const [input, reason] of table) {
    it(`${JSON.stringify(input)} (${reason})`, () => {
      assert.throws(
        () => normalizeNumber(input as string, UGANDA),
        (err) => {
          assert.ok(isSiteError(err, "sip.number"), String(err));
          assert.equal(err.detail.reason, reason, err.message);
          return true;
        },
      );
    });
  }

  it("a plan with letters is refused too", () => {
    assert.throws(
      () => normalizeNumber("0772123456", { ...UGANDA, country_code: "+256" }),
      (err) => isSiteError(err, "sip.number") && err.detail.reason === "plan",
    );
  });
});
