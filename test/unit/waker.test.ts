import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Waker } from "../../src/modem/waker.js";

describe("the slot's waker", () => {
  it("ends a sleep early on wake", async () => {
    const w = new Waker();
    const t = performance.now();
    const p = w.sleep(5000);
    setTimeout(() => w.wake(), 20);
    await p;
    assert.ok(performance.now() - t < 1000);
  });

  it("leaves no listener behind when a wait ends by its timer, however often it runs", async () => {
    const a = new Waker();
    const b = new Waker();
    for (let i = 0; i < 200; i++) await Waker.any([a, b], 1);
    assert.equal(a.pending, 0);
    assert.equal(b.pending, 0);
  });

  it("wakes a wait on either of two wakers and cleans up both", async () => {
    const a = new Waker();
    const b = new Waker();
    const p = Waker.any([a, b]);
    b.wake();
    await p;
    assert.equal(a.pending, 0);
  });

  it("does not cut an uninterruptible sleep short", async () => {
    const w = new Waker();
    const t = performance.now();
    const p = w.sleep(80, true);
    w.wake();
    await p;
    assert.ok(performance.now() - t >= 75);
  });
});
