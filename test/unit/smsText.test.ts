import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isSiteError } from "../../src/core/errors.js";
import { countParts } from "../../src/sms/pdu/segment.js";
import { encodeSubmit } from "../../src/sms/pdu/submit.js";
import { cleanNumber, NUMBER_PATTERN, truncateToParts } from "../../src/sms/text.js";

// ── cleanNumber ─────────────────────────────────────────────────────────────────────────────────

const CLEAN_CASES: { name: string; input: string; want: string }[] = [
  { name: "removes spaces between digit groups", input: "+256 772 123 456", want: "+256772123456" },
  { name: "removes brackets and dashes", input: "+1 (800) 555-1212", want: "+18005551212" },
  { name: "removes dots", input: "0772.123.456", want: "0772123456" },
  {
    name: "removes tabs, newlines and no-break spaces",
    input: " +256\t772\u00a0123\n456 ",
    want: "+256772123456",
  },
  { name: "keeps the * and # of a short code", input: "*100#", want: "*100#" },
  { name: "keeps a number that has nothing to remove", input: "+256772123456", want: "+256772123456" },
  { name: "does not rewrite an international 00 prefix to +", input: "00256 772", want: "00256772" },
  {
    name: "leaves letters and slashes for the pattern to refuse",
    input: "+256/772 abc",
    want: "+256/772abc",
  },
  { name: "an empty string stays empty", input: "", want: "" },
];

describe("cleanNumber", () => {
  for (const c of CLEAN_CASES)
    it(c.name, () => {
      assert.equal(cleanNumber(c.input), c.want);
    });
});

// ── NUMBER_PATTERN ──────────────────────────────────────────────────────────────────────────────

const NUMBER_CASES: { name: string; to: string; ok: boolean }[] = [
  { name: "an international number", to: "+256772123456", ok: true },
  { name: "+ and one digit", to: "+1", ok: true },
  { name: "+ and 20 digits (the most an address holds)", to: `+${"9".repeat(20)}`, ok: true },
  { name: "a national number", to: "0772123456", ok: true },
  { name: "20 national digits", to: "1".repeat(20), ok: true },
  { name: "a USSD-style short code with * and #", to: "*100#", ok: true },
  { name: "a three-digit short code", to: "155", ok: true },
  { name: "a lone #", to: "#", ok: true },
  { name: "empty", to: "", ok: false },
  { name: "+ alone", to: "+", ok: false },
  { name: "+ and 21 digits", to: `+${"9".repeat(21)}`, ok: false },
  { name: "21 national digits", to: "1".repeat(21), ok: false },
  { name: "two + signs", to: "++256772123456", ok: false },
  { name: "+ not at the start", to: "256+772", ok: false },
  { name: "* after + (short-code characters are national only)", to: "+256*1", ok: false },
  { name: "a space left in", to: "+256 772", ok: false },
  { name: "a dash left in", to: "0772-123", ok: false },
  { name: "letters", to: "0772abc", ok: false },
  { name: "an alphanumeric sender name", to: "InfoSMS", ok: false },
  { name: "a trailing newline", to: "+256772123456\n", ok: false },
  { name: "non-ASCII digits (Arabic-Indic)", to: "\u0660\u0667\u0667\u0662", ok: false },
  { name: "full-width digits", to: "\uff10\uff17\uff17", ok: false },
];

describe("NUMBER_PATTERN", () => {
  for (const c of NUMBER_CASES)
    it(`${c.ok ? "accepts" : "refuses"} ${c.name}`, () => {
      assert.equal(NUMBER_PATTERN.test(c.to), c.ok);
      // What the pattern lets through, the SMS-SUBMIT encoder must take.
      if (c.ok) assert.doesNotThrow(() => encodeSubmit({ to: c.to, text: "x", reference: 0 }));
    });

  it("every number cleanNumber makes of the accepted examples still matches", () => {
    for (const c of NUMBER_CASES.filter((x) => x.ok)) assert.ok(NUMBER_PATTERN.test(cleanNumber(c.to)));
  });
});

// ── truncateToParts ─────────────────────────────────────────────────────────────────────────────

const A = (n: number) => "a".repeat(n);
const ZHE = (n: number) => "ж".repeat(n);
const EMOJI = "😀"; // one code point, a surrogate pair in UTF-16

const TRUNCATE_CASES: { name: string; text: string; maxParts: number; want: string }[] = [
  { name: "a text that fits is returned as it is", text: A(160), maxParts: 1, want: A(160) },
  { name: "GSM7: one part holds 160 characters", text: A(161), maxParts: 1, want: A(160) },
  {
    name: "GSM7: an extension character (2 septets) that would end at septet 161 is left out whole",
    text: A(159) + "€b",
    maxParts: 1,
    want: A(159),
  },
  {
    name: "GSM7: an extension character ending exactly at septet 160 is kept",
    text: A(158) + "€bbb",
    maxParts: 1,
    want: A(158) + "€",
  },
  {
    name: "GSM7: two parts of 153 septets; an escape pair pushed from part 1 to part 2 costs one character",
    text: A(152) + "€" + A(200),
    maxParts: 2,
    want: A(152) + "€" + A(151),
  },
  {
    name: "GSM7: an extension character straddling the end of the last part is left out whole",
    text: A(305) + "{" + A(10),
    maxParts: 2,
    want: A(305),
  },
  { name: "GSM7: four parts hold 4 × 153 septets", text: A(1000), maxParts: 4, want: A(612) },
  { name: "UCS2: one part holds 70 code units", text: ZHE(100), maxParts: 1, want: ZHE(70) },
  {
    name: "UCS2: an emoji that would straddle unit 70 is left out whole (no lone surrogate)",
    text: ZHE(69) + EMOJI + ZHE(5),
    maxParts: 1,
    want: ZHE(69),
  },
  {
    name: "UCS2: an emoji ending exactly at unit 70 is kept",
    text: ZHE(68) + EMOJI + ZHE(5),
    maxParts: 1,
    want: ZHE(68) + EMOJI,
  },
  {
    name: "UCS2: an emoji pushed from part 1 to part 2 (67 units each) moves whole",
    text: ZHE(66) + EMOJI + ZHE(100),
    maxParts: 2,
    want: ZHE(66) + EMOJI + ZHE(65),
  },
  {
    name: "UCS2: an emoji straddling the end of the last part is left out whole",
    text: ZHE(133) + EMOJI + ZHE(3),
    maxParts: 2,
    want: ZHE(133),
  },
  {
    name: "UCS2: a text of emoji only is cut between emoji",
    text: EMOJI.repeat(100),
    maxParts: 2,
    want: EMOJI.repeat(66),
  },
  {
    name: "a non-GSM character beyond what fits is dropped and the text stays GSM7",
    text: A(400) + "ж",
    maxParts: 3,
    want: A(400),
  },
  {
    name: "one non-GSM character early makes the whole prefix UCS2",
    text: "ж" + A(300),
    maxParts: 2,
    want: "ж" + A(133),
  },
];

describe("truncateToParts", () => {
  for (const c of TRUNCATE_CASES)
    it(c.name, () => {
      const got = truncateToParts(c.text, c.maxParts);
      assert.equal(got.length, c.want.length, "length in UTF-16 code units");
      assert.equal(got, c.want);
      assert.ok(c.text.startsWith(got), "a prefix of the text");
      const last = got.charCodeAt(got.length - 1);
      assert.ok(!(last >= 0xd800 && last <= 0xdbff), "does not end in half a surrogate pair");
      assert.ok(countParts(got).parts <= c.maxParts, "fits max_parts");
      // The encoder the service calls after truncating takes it within max_parts...
      const encoded = encodeSubmit({ to: "+256772123456", text: got, reference: 1, maxParts: c.maxParts });
      assert.ok(encoded.parts.length <= c.maxParts);
      // ...and the longest: one more character (a whole code point) would not fit.
      if (got !== c.text) {
        const next = [...c.text.slice(got.length)][0]!;
        assert.ok(countParts(got + next).parts > c.maxParts, "one more character would not fit");
        assert.throws(
          () => encodeSubmit({ to: "+256772123456", text: got + next, reference: 1, maxParts: c.maxParts }),
          (err: unknown) => isSiteError(err, "sms.encode"),
        );
      }
    });
});
