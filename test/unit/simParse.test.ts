import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  isFinalResult,
  matchPattern,
  parseAtCommand,
  parseAtLine,
  splitArgs,
} from "../../src/sim/atParse.js";

describe("parseAtCommand", () => {
  const table: [string, { name: string; kind: string; args: string[] } | null][] = [
    ["AT", { name: "", kind: "exec", args: [] }],
    ["at", { name: "", kind: "exec", args: [] }],
    ["AT+CMGS=23", { name: "+CMGS", kind: "set", args: ["23"] }],
    ["AT+CSQ", { name: "+CSQ", kind: "exec", args: [] }],
    ["AT+CPIN?", { name: "+CPIN", kind: "read", args: [] }],
    ["AT+CMGS=?", { name: "+CMGS", kind: "test", args: [] }],
    ['AT+CPIN="1234"', { name: "+CPIN", kind: "set", args: ["1234"] }],
    ['at+cpms="SM","ME"', { name: "+CPMS", kind: "set", args: ["SM", "ME"] }],
    ["AT+CNMI=2,1,,,", { name: "+CNMI", kind: "set", args: ["2", "1", "", "", ""] }],
    ['AT+CSCA=""', { name: "+CSCA", kind: "set", args: [""] }],
    ['AT+CSCA="+256 700",145', { name: "+CSCA", kind: "set", args: ["+256 700", "145"] }],
    ["AT^ICCID?", { name: "^ICCID", kind: "read", args: [] }],
    ["AT+QCCID", { name: "+QCCID", kind: "exec", args: [] }],
    ["AT+CRSM=176,12258,0,0,10", { name: "+CRSM", kind: "set", args: ["176", "12258", "0", "0", "10"] }],
    ["ATE0", { name: "E", kind: "set", args: ["0"] }],
    ["ATE", { name: "E", kind: "exec", args: [] }],
    ["ATI", { name: "I", kind: "exec", args: [] }],
    ["AT&F", { name: "&F", kind: "exec", args: [] }],
    ["ATZ", { name: "Z", kind: "exec", args: [] }],
    ["ATS0=2", { name: "S0", kind: "set", args: ["2"] }],
    ["ATS3?", { name: "S3", kind: "read", args: [] }],
    ["AT+CFUN=1,1", { name: "+CFUN", kind: "set", args: ["1", "1"] }],
    ["AT+CSQ;+CREG?", null],
    ['AT+CPIN="12', null],
    ["AT+", null],
    ["hello", null],
    ["AT+CSQ junk", null],
  ];
  for (const [line, want] of table) {
    it(`parses ${JSON.stringify(line)}`, () => {
      const got = parseAtCommand(line);
      if (want === null) assert.equal(got, null);
      else assert.deepEqual({ name: got?.name, kind: got?.kind, args: got?.args }, want);
    });
  }
});

describe("parseAtLine", () => {
  it("splits concatenated basic commands", () => {
    assert.deepEqual(
      parseAtLine("ATE0V1")?.map((c) => [c.name, c.kind, c.args]),
      [
        ["E", "set", ["0"]],
        ["V", "set", ["1"]],
      ],
    );
  });
  it("splits extended commands on semicolons outside quotes", () => {
    assert.deepEqual(
      parseAtLine('AT+CSQ;+CSCA="a;b";+CREG?')?.map((c) => [c.name, c.kind, c.args]),
      [
        ["+CSQ", "exec", []],
        ["+CSCA", "set", ["a;b"]],
        ["+CREG", "read", []],
      ],
    );
  });
  it("keeps ModemManager's spaced init line working", () => {
    assert.deepEqual(
      parseAtLine("ATZ E0 V1")?.map((c) => c.name),
      ["Z", "E", "V"],
    );
  });
  it("keeps each command's own text for pattern matching", () => {
    assert.deepEqual(
      parseAtLine("AT+CMGF=0;+CMGS=23")?.map((c) => c.text),
      ["+CMGF=0", "+CMGS=23"],
    );
  });
});

describe("splitArgs", () => {
  const table: [string, string[] | null][] = [
    ["1,2", ["1", "2"]],
    [" 1 , 2 ", ["1", "2"]],
    ['"SM","ME"', ["SM", "ME"]],
    ['"a,b",3', ["a,b", "3"]],
    ['" x "', [" x "]],
    ["", [""]],
    [",,", ["", "", ""]],
    ['"open', null],
  ];
  for (const [input, want] of table) {
    it(`splits ${JSON.stringify(input)}`, () => assert.deepEqual(splitArgs(input), want));
  }
});

describe("matchPattern", () => {
  const table: [string, string, boolean][] = [
    ["AT+CMGS=*", "AT+CMGS=23", true],
    ["AT+CMGS=*", "at+cmgs=23", true],
    ["AT+CMGS=*", "AT+CMGS?", false],
    ["AT+CSQ", "AT+CSQ", true],
    ["AT+CSQ", "AT+CSQ=?", false],
    ["AT+C*", "AT+CREG?", true],
    ['AT+CPMS="SM","SM","SR"', 'AT+CPMS="SM","SM","SR"', true],
    ["AT+CPMS=?", "AT+CPMS=?", true],
    ["AT+CPMS=?", "AT+CPMS=1", false],
  ];
  for (const [pattern, command, want] of table) {
    it(`${pattern} ${want ? "matches" : "does not match"} ${command}`, () =>
      assert.equal(matchPattern(pattern, command), want));
  }
});

describe("isFinalResult", () => {
  const table: [string, boolean][] = [
    ["OK", true],
    ["ERROR", true],
    ["COMMAND NOT SUPPORT", true],
    ["+CME ERROR: 16", true],
    ["+CMS ERROR: 304", true],
    ["+CME ERROR: SIM not inserted", true],
    ["+CPIN: READY", false],
    ["OKAY", false],
  ];
  for (const [line, want] of table) it(`${line} → ${want}`, () => assert.equal(isFinalResult(line), want));
});
