import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isValidImei, makeImei } from "../../src/sim/identity.js";
import { fillTemplate, loadProfile, profileNames, validateProfile } from "../../src/sim/profile.js";

describe("simulated device profiles", () => {
  it("ships the six profiles", async () => {
    assert.deepEqual(await profileNames(), [
      "ec25",
      "generic",
      "huawei_e3531",
      "sim800",
      "wavecom",
      "zte_mf",
    ]);
  });
  it("loads and validates every shipped profile, each citing its evidence", async () => {
    for (const name of await profileNames()) {
      const p = await loadProfile(name);
      assert.equal(p.name, name);
      assert.ok(p.notes.length > 0, `${name} has notes`);
      assert.equal(p.timing.cmgs_ms, 2500, `${name} cmgs_ms`);
      assert.ok(isValidImei(makeImei(p.identity.imei_tac, "x")), `${name} TAC gives valid IMEIs`);
    }
  });
  it("gives the EC25 four interfaces with AT on if02 (primary) and if03", async () => {
    const p = await loadProfile("ec25");
    assert.deepEqual(
      p.ports.map((x) => [x.kind, x.primary === true]),
      [
        ["dm", false],
        ["nmea", false],
        ["at", true],
        ["at", false],
      ],
    );
  });
  it("refuses an unknown profile name with config.invalid", async () => {
    await assert.rejects(loadProfile("nokia"), { code: "config.invalid" });
    await assert.rejects(loadProfile("../etc/passwd"), { code: "config.invalid" });
  });
  it("refuses a profile without a primary AT port", async () => {
    const p = structuredClone(await loadProfile("generic")) as unknown as Record<string, unknown>;
    p.ports = [{ kind: "at" }];
    assert.throws(() => validateProfile("bad", p), /primary/);
  });
  it("refuses a TAC that is not 8 digits", async () => {
    const p = structuredClone(await loadProfile("generic"));
    p.identity.imei_tac = "123";
    assert.throws(() => validateProfile("bad", p), /imei_tac/);
  });
  it("fills template placeholders and leaves unknown ones", () => {
    assert.equal(fillTemplate("IMEI: {imei} {nope}", { imei: "1" }), "IMEI: 1 {nope}");
  });
});
