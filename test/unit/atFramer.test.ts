import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { AtFramer, type AtToken } from "../../src/at/framer.js";
import { classifyFinal } from "../../src/at/results.js";

function frame(chunks: (string | Buffer)[]): AtToken[] {
  const f = new AtFramer();
  return chunks.flatMap((c) => f.push(c));
}
const line = (text: string, garbage = false): AtToken => ({ kind: "line", text, garbage });

describe("the AT framer", () => {
  const table: [string, (string | Buffer)[], AtToken[]][] = [
    ["splits CRLF-framed replies", ["\r\n+CSQ: 20,99\r\n\r\nOK\r\n"], [line("+CSQ: 20,99"), line("OK")]],
    [
      "joins a line split across chunks",
      ["\r\n+CS", "Q: 2", "0,99\r", "\n\r\nOK\r\n"],
      [line("+CSQ: 20,99"), line("OK")],
    ],
    [
      "accepts python-gsmmodem style lines with no leading CRLF",
      ["+CPIN: READY\r\nOK\r\n"],
      [line("+CPIN: READY"), line("OK")],
    ],
    ["accepts Huawei E1752's \\r\\r\\n endings", ["+CLAC: A\r\r\nOK\r\r\n"], [line("+CLAC: A"), line("OK")]],
    ["accepts bare LF endings", ["OK\n"], [line("OK")]],
    [
      "keeps the echo as a line",
      ["AT+CSQ\r\r\n+CSQ: 5,99\r\n\r\nOK\r\n"],
      [line("AT+CSQ"), line("+CSQ: 5,99"), line("OK")],
    ],
    ["yields the CMGS prompt after CRLF (ModemManager's form)", ["\r\n> "], [{ kind: "prompt" }]],
    ["yields the prompt with no CRLF before it (u-blox LARA-L6)", ["> "], [{ kind: "prompt" }]],
    [
      "yields the prompt as a whole line (SIMCom SIM7670G \\r\\n>\\r\\n)",
      ["\r\n>\r\n"],
      [{ kind: "prompt" }],
    ],
    ["skips leading NUL bytes", ["\x00\x00OK\r\n"], [line("OK")]],
    [
      "flags control bytes as garbage",
      [Buffer.from([0xff, 0x01, 0x41, 0x0d, 0x0a])],
      [line("\xff\x01A", true)],
    ],
    [
      "decodes a UTF-8 operator name",
      [Buffer.from('+COPS: 0,0,"Télécel",0\r\n', "utf8")],
      [line('+COPS: 0,0,"Télécel",0')],
    ],
    [
      "flags high bytes that are not UTF-8 as garbage",
      [Buffer.from([0x41, 0x9c, 0x42, 0x0d, 0x0a])],
      [line("A\x9cB", true)],
    ],
    ["flags a PDU echo ending in Ctrl-Z as garbage", ["0011000B91\x1a\r\n"], [line("0011000B91\x1a", true)]],
    [
      "interleaves a URC with a reply",
      ['\r\n+CMTI: "SM",3\r\n\r\n+CSQ: 9,99\r\nOK\r\n'],
      [line('+CMTI: "SM",3'), line("+CSQ: 9,99"), line("OK")],
    ],
  ];
  for (const [name, chunks, expected] of table) it(name, () => assert.deepEqual(frame(chunks), expected));

  it("cuts an endless line instead of growing without bound", () => {
    const tokens = frame(["A".repeat(5000)]);
    assert.equal(tokens.length, 1);
    assert.equal((tokens[0] as { garbage: boolean }).garbage, true);
  });
});

describe("final result classification", () => {
  const table: [string, unknown][] = [
    ["OK", { kind: "ok" }],
    ["ERROR", { kind: "error", text: "ERROR" }],
    ["COMMAND NOT SUPPORT", { kind: "error", text: "COMMAND NOT SUPPORT" }], // Huawei E1752 (PGM fake)
    ["+CME ERROR: 10", { kind: "cme", code: 10, text: "SIM not inserted" }],
    ["+CME ERROR: SIM not inserted", { kind: "cme", code: 10, text: "SIM not inserted" }], // SIM800C with CMEE=2
    [
      "+CME ERROR: 515",
      { kind: "cme", code: 515, text: "device busy (please wait, init or command processing in progress)" },
    ], // Wavecom
    ["+CMS ERROR: 332", { kind: "cms", code: 332, text: "network timeout" }],
    ["+CMS ERROR:500", { kind: "cms", code: 500, text: "unknown error" }],
    ["+CME ERROR: something odd", { kind: "cme", code: -1, text: "something odd" }],
    ["NO CARRIER", { kind: "error", text: "NO CARRIER" }],
    ["+CSQ: 1,2", undefined],
    ["OKAY", undefined],
  ];
  for (const [l, expected] of table)
    it(`classifies ${JSON.stringify(l)}`, () => assert.deepEqual(classifyFinal(l), expected));
});
