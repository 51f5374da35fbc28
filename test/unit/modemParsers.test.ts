import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  csqToDbm,
  parseCops,
  parseCpin,
  parseCsca,
  parseCsq,
  parseIccid,
  parseIdentityLine,
  parseImei,
  parseImsi,
  parseRegistration,
  parseStorageIndex,
} from "../../src/modem/parsers.js";

// Sources: ModemManager src/tests/test-modem-helpers.c (MM), python-gsmmodem test/fakemodems.py (PGM),
// vendor manuals and forum traces as named per row.

describe("CSQ to dBm follows 27.007", () => {
  const table: [number, number | null][] = [
    [0, -113],
    [1, -111],
    [2, -109],
    [15, -83],
    [30, -53],
    [31, -51],
    [99, null],
    [32, null],
  ];
  for (const [rssi, dbm] of table) it(`maps rssi ${rssi} to ${dbm}`, () => assert.equal(csqToDbm(rssi), dbm));

  it("parses real +CSQ replies", () => {
    assert.deepEqual(parseCsq(["+CSQ: 3,99"]), { rssi: 3, ber: 99, dbm: -107 }); // Cinterion ELS61
    assert.deepEqual(parseCsq(["+CSQ: 031,000"]), { rssi: 31, ber: 0, dbm: -51 }); // Motorola G24
    assert.deepEqual(parseCsq(["+CSQ: 16,99"]), { rssi: 16, ber: 99, dbm: -81 }); // AOSP ModelInterpreter
    assert.equal(parseCsq(["garbage"]), undefined);
  });
});

describe("registration replies in every form ModemManager accepts", () => {
  const table: [string, boolean, Record<string, unknown>][] = [
    ["+CREG: 1,3", true, { kind: "creg", mode: 1, stat: 3 }], // MM generic CREG=1 solicited
    ["+CREG: 3", false, { kind: "creg", stat: 3 }], // MM generic unsolicited
    ["+CREG: 1,1,84CD,00D30173", true, { kind: "creg", mode: 1, stat: 1, lac: "84CD", ci: "00D30173" }], // Sierra
    ["+CREG: 1,84CD,00D30156", false, { kind: "creg", stat: 1, lac: "84CD", ci: "00D30156" }], // Sierra unsol.
    ['+CREG: 2,1,"CE00","01CEAD8F"', true, { kind: "creg", mode: 2, stat: 1, lac: "CE00", ci: "01CEAD8F" }], // K850i
    ['+CREG: 1,"CE00","00005449"', false, { kind: "creg", stat: 1, lac: "CE00", ci: "00005449" }], // K850i
    ["+CREG: 2,0,00,0", true, { kind: "creg", mode: 2, stat: 0, lac: "00", ci: "0" }], // Huawei E160G
    ["+CREG: 2,1,8BE3,2BAF", true, { kind: "creg", mode: 2, stat: 1, lac: "8BE3", ci: "2BAF" }], // Huawei E160G
    ["+CREG: 1,8BE3,2BAF", false, { kind: "creg", stat: 1, lac: "8BE3", ci: "2BAF" }], // Huawei E160G unsol.
    ["+CREG: 2,,", false, { kind: "creg", stat: 2 }], // Novatel XU870 unregistered
    ['+CREG:002,001,"18d8","ffff"', true, { kind: "creg", mode: 2, stat: 1, lac: "18D8", ci: "FFFF" }], // Iridium
    ['+CREG: 001,"0001","0010",000', false, { kind: "creg", stat: 1, lac: "0001", ci: "0010", act: 0 }],
    [
      '+CREG: 2,6,"8B37","0A265185",7',
      true,
      { kind: "creg", mode: 2, stat: 6, lac: "8B37", ci: "0A265185", act: 7 },
    ],
    ['+CREG: 2,5,"0502","0404736D"', false, { kind: "creg", mode: 2, stat: 5, lac: "0502", ci: "0404736D" }], // MD400
    [
      '+CGREG: 2,1,"8BE3","00002B5D",3',
      true,
      { kind: "cgreg", mode: 2, stat: 1, lac: "8BE3", ci: "00002B5D", act: 3 },
    ],
    ["+CGREG: 2,1, 81ED, 1A9CEB", false, { kind: "cgreg", mode: 2, stat: 1, lac: "81ED", ci: "1A9CEB" }], // Alcatel
    ["+CREG: 2,1,  0 5, 2715", false, { kind: "creg", mode: 2, stat: 1, lac: "05", ci: "2715" }], // Gobi 1000
    [
      "+CEREG: 2,1, 1F00, 79D903 ,7",
      true,
      { kind: "cereg", mode: 2, stat: 1, lac: "1F00", ci: "79D903", act: 7 },
    ],
    ["+CEREG: 1, 1F00, 79D903 ,7", false, { kind: "cereg", stat: 1, lac: "1F00", ci: "79D903", act: 7 }],
    [
      "+CEREG: 2,1, 1F00, 20 ,79D903 ,7",
      false,
      { kind: "cereg", mode: 2, stat: 1, lac: "1F00", ci: "79D903", act: 7 },
    ], // Novatel E362
  ];
  for (const [line, solicited, expected] of table) {
    it(`parses ${JSON.stringify(line)}`, () =>
      assert.deepEqual({ ...parseRegistration(line, solicited) }, expected));
  }
  it("refuses a line that is not a registration", () =>
    assert.equal(parseRegistration("+CSQ: 1,2", true), undefined));
});

describe("operator, SIM and identity replies", () => {
  it("parses +COPS", () => {
    assert.deepEqual(parseCops(['+COPS: 0,0,"MTN UG",0']), { mode: 0, format: 0, name: "MTN UG", act: 0 });
    assert.deepEqual(parseCops(["+COPS: 0"]), { mode: 0 });
  });
  const cpin: [string, string][] = [
    ["+CPIN: READY", "ready"],
    ["+CPIN: SIM PIN", "pin"],
    ["+CPIN: SIM PUK", "puk"],
    ["+CPIN: PH-SIM PIN", "ph_pin"],
    ["+CPIN: NOT READY", "not_ready"], // Quectel boot (MM quectel plugin ignore list)
    ["+CPIN: NOT INSERTED", "absent"],
  ];
  for (const [line, status] of cpin)
    it(`maps ${line} to ${status}`, () => assert.equal(parseCpin([line]), status));

  it("reads identity lines with Wavecom's padding and optional prefixes", () => {
    assert.equal(parseIdentityLine([" WAVECOM MODEM"]), "WAVECOM MODEM"); // PGM Wavecom fake
    assert.equal(parseIdentityLine([" MULTIBAND  900E  1800"]), "MULTIBAND 900E 1800"); // PGM Wavecom fake
    assert.equal(parseIdentityLine(["+CGMI: Quectel"], "+CGMI:"), "Quectel");
    assert.equal(parseIdentityLine(["Revision: EC25ECGAR06A04M1G"]), "EC25ECGAR06A04M1G"); // Quectel forum
    assert.equal(parseIdentityLine([]), undefined);
  });
  it("finds IMEI and IMSI", () => {
    assert.equal(parseImei(["356938035643809"]), "356938035643809");
    assert.equal(parseImei(['+CGSN: "356938035643809"']), "356938035643809");
    assert.equal(parseImei(["ERROR-ish 12"]), undefined);
    assert.equal(parseImsi(["641100123456789"]), "641100123456789");
    assert.equal(parseImsi(["+CME ERROR: 10"]), undefined);
  });
});

describe("ICCID normalisation as ModemManager's mm_3gpp_parse_iccid", () => {
  const table: [string, string | undefined][] = [
    ['+CRSM: 144,0,"98942000008036496082"', "89490200000863940628"], // Sierra trace, networkmanager-list 2013-07
    ["+CRSM: 144,0,981062200050259429F6", "8901260200055249926"], // AOSP ModelInterpreter
    ['"984402003576012594F9"', "8944200053671052499"], // MM test vector
    ["98231420326409614067", "89324102234690160476"], // MM test vector
    ["+QCCID: 8949227002805216770F", "8949227002805216770"], // Quectel BG96, forum trace
    ["89860318760240152436", "89860318760240152436"], // SIMCom SIM800 bare AT+CCID reply
    ["+CCID: 89860318760240152436", "89860318760240152436"],
    ['^ICCID: "98684012345678901204"', "89860421436587092140"], // Huawei ^ICCID form (mailing list), digits swapped; constructed value
    ["+CRSM: 106,130", undefined], // SIM refused the READ BINARY
    ["12345", undefined],
  ];
  for (const [line, iccid] of table) it(`reads ${line}`, () => assert.equal(parseIccid([line]), iccid));
});

describe("SMSC and storage indications", () => {
  it("parses +CSCA, including the empty number ZTE leaves after AT+CSMP", () => {
    assert.equal(parseCsca(['+CSCA: "+6289644000001",145']), "+6289644000001"); // Wavecom trace, babca #13
    assert.equal(parseCsca(['+CSCA: "",129']), undefined); // PGM Qualcomm/ZTE fake after AT+CSMP
  });
  it("parses +CMTI and +CDSI", () => {
    assert.deepEqual(parseStorageIndex('+CMTI: "SM",3'), { storage: "SM", index: 3 });
    assert.deepEqual(parseStorageIndex('+CDSI: "SR",12'), { storage: "SR", index: 12 });
    assert.equal(parseStorageIndex("+CMTI: broken"), undefined);
  });
});
