import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { CME_ERRORS, CMS_ERRORS, classifyFinal } from "../../src/at/results.js";
import {
  classifySendFailure,
  type SendFailure,
  type SendFailureClass,
  sendFailureRow,
} from "../../src/sms/cmsClass.js";

const RETRY = { permanent: "never", temporary: "same_or_other_modem", modem: "other_modem" } as const;

// Every code of CMS_ERRORS, with the class the table must give it.
const CMS_EXPECTED: Record<number, SendFailureClass> = {
  1: "permanent",
  8: "modem",
  10: "modem",
  21: "permanent",
  27: "temporary",
  28: "modem",
  29: "modem",
  30: "permanent",
  38: "temporary",
  41: "temporary",
  42: "temporary",
  47: "temporary",
  50: "modem",
  69: "modem",
  81: "temporary",
  95: "permanent",
  96: "permanent",
  97: "permanent",
  98: "permanent",
  99: "permanent",
  111: "temporary",
  127: "temporary",
  300: "modem",
  301: "modem",
  302: "modem",
  303: "modem",
  304: "permanent",
  305: "permanent",
  310: "modem",
  311: "modem",
  312: "modem",
  313: "modem",
  314: "modem",
  315: "modem",
  316: "modem",
  317: "modem",
  318: "modem",
  320: "modem",
  321: "modem",
  322: "modem",
  330: "modem",
  331: "temporary",
  332: "temporary",
  340: "modem",
  500: "temporary",
  512: "temporary",
};

const OTHER_CASES: Array<[string, SendFailure, SendFailureClass]> = [
  ["CMS 0 (unlisted RP cause)", { kind: "cms", code: 0 }, "temporary"],
  ["CMS 128 (TP-FCS telematic interworking)", { kind: "cms", code: 128 }, "permanent"],
  ["CMS 255 (TP-FCS unspecified)", { kind: "cms", code: 255 }, "temporary"],
  ["CMS 195 (TP-FCS invalid SME address)", { kind: "cms", code: 195 }, "permanent"],
  ["CMS 192 (TP-FCS SC busy)", { kind: "cms", code: 192 }, "temporary"],
  ["CMS 999 (vendor)", { kind: "cms", code: 999 }, "temporary"],
  ["CMS -1 (text classifyFinal could not map)", { kind: "cms", code: -1 }, "temporary"],
  ["CME 10 SIM not inserted", { kind: "cme", code: 10 }, "modem"],
  ["CME 11 SIM PIN required", { kind: "cme", code: 11 }, "modem"],
  ["CME 13 SIM failure", { kind: "cme", code: 13 }, "modem"],
  ["CME 14 SIM busy", { kind: "cme", code: 14 }, "modem"],
  ["CME 16 incorrect password", { kind: "cme", code: 16 }, "modem"],
  ["CME 515 device busy", { kind: "cme", code: 515 }, "temporary"],
  ["CME 999 (unlisted)", { kind: "cme", code: 999 }, "temporary"],
  ["plain ERROR", { kind: "error" }, "temporary"],
  ["timeout", { kind: "timeout" }, "temporary"],
];

describe("classifySendFailure", () => {
  it("the expectation table covers exactly the codes of CMS_ERRORS", () => {
    assert.deepEqual(
      Object.keys(CMS_EXPECTED).map(Number).sort(),
      Object.keys(CMS_ERRORS).map(Number).sort(),
    );
  });

  for (const [code, cls] of Object.entries(CMS_EXPECTED)) {
    it(`+CMS ERROR: ${code} (${CMS_ERRORS[Number(code)]}) is ${cls}`, () => {
      const v = classifySendFailure({ kind: "cms", code: Number(code) });
      assert.equal(v.class, cls);
      assert.equal(v.retry, RETRY[cls]);
      assert.match(v.reason, new RegExp(`^\\+CMS ERROR ${code}: `));
    });
  }

  for (const [name, f, cls] of OTHER_CASES) {
    it(`${name} is ${cls}`, () => {
      const v = classifySendFailure(f);
      assert.equal(v.class, cls);
      assert.equal(v.retry, RETRY[cls]);
      assert.ok(v.reason.length > 0);
    });
  }

  it("every code in CMS_ERRORS and CME_ERRORS has an explicit row (no fall-through)", () => {
    for (const code of Object.keys(CMS_ERRORS).map(Number)) {
      assert.ok(sendFailureRow("cms", code), `CMS ${code} has no row`);
      assert.doesNotMatch(classifySendFailure({ kind: "cms", code }).reason, /unknown error \d/);
    }
    for (const code of Object.keys(CME_ERRORS).map(Number)) {
      assert.ok(sendFailureRow("cme", code), `CME ${code} has no row`);
    }
  });

  it("unlisted codes fall through to temporary with 'unknown error <n>'", () => {
    for (const code of [0, 2, 126, 131, 254, 400, 511]) {
      assert.equal(sendFailureRow("cms", code), undefined);
      const v = classifySendFailure({ kind: "cms", code });
      assert.equal(v.class, "temporary");
      assert.equal(v.reason, `unknown error ${code}`);
    }
    const vendor = classifySendFailure({ kind: "cms", code: 999 });
    assert.match(vendor.reason, /^unknown error 999 \(manufacturer-specific/);
    assert.equal(classifySendFailure({ kind: "cme", code: 42 }).reason, "unknown error 42");
    assert.equal(classifySendFailure({ kind: "cms" }).reason, "unknown error -1");
  });

  it("does not resolve inherited Object properties as rows", () => {
    assert.equal(sendFailureRow("cms", Number.NaN), undefined);
    assert.equal(classifySendFailure({ kind: "cms", code: Number.NaN }).class, "temporary");
  });

  it("works on what classifyFinal produces", () => {
    const fin = classifyFinal("+CMS ERROR: 42");
    assert.ok(fin && fin.kind === "cms");
    assert.equal(classifySendFailure({ kind: fin.kind, code: fin.code }).class, "temporary");
    const sim = classifyFinal("+CME ERROR: SIM not inserted");
    assert.ok(sim && sim.kind === "cme");
    assert.equal(classifySendFailure({ kind: sim.kind, code: sim.code }).class, "modem");
  });
});
