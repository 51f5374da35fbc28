import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { randomHex, randomUint32 } from "../../src/core/random.js";

describe("random identifiers from a pool", () => {
  it("gives hex of the asked length and never repeats across pool refills", () => {
    const seen = new Set<string>();
    // 4 KiB per pool: 3,000 × 16 bytes crosses about a dozen refills.
    for (let i = 0; i < 3000; i++) {
      const h = randomHex(16);
      assert.match(h, /^[0-9a-f]{32}$/);
      assert.ok(!seen.has(h), "a 128-bit value came twice");
      seen.add(h);
    }
    for (const n of [1, 8, 12, 4096]) assert.equal(randomHex(n).length, 2 * n);
    assert.throws(() => randomHex(4097), RangeError);
  });

  it("gives unsigned 32-bit integers that cover the range", () => {
    let high = 0;
    for (let i = 0; i < 2000; i++) {
      const v = randomUint32();
      assert.ok(Number.isInteger(v) && v >= 0 && v <= 0xffffffff);
      if (v >= 0x80000000) high++;
    }
    // Half should have the top bit set: 2,000 draws land within ±10 % of 1,000 but for a broken pool.
    assert.ok(high > 800 && high < 1200, `top bit set in ${high} of 2000`);
  });
});
