import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  hashPassword,
  LOGIN_ATTEMPTS,
  LOGIN_WINDOW_MS,
  SESSION_IDLE_MS,
  Sessions,
  verifyPassword,
} from "../../src/web/auth.js";

describe("web password hashes (scrypt)", () => {
  it("verifies the password it was made from, and nothing else", async () => {
    const hash = await hashPassword("field-staff-2026", { logN: 12 });
    assert.match(hash, /^scrypt\$12\$8\$1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
    assert.equal(await verifyPassword("field-staff-2026", hash), true);
    assert.equal(await verifyPassword("field-staff-2027", hash), false);
    assert.equal(await verifyPassword("", hash), false);
    assert.notEqual(await hashPassword("field-staff-2026", { logN: 12 }), hash, "a new salt each time");
  });

  const unreadable: [string, string][] = [
    ["another algorithm", "argon2$v=19$m=65536$abc$def"],
    ["a cost too low", "scrypt$4$8$1$c2FsdA$a2V5"],
    ["a cost too high", "scrypt$30$8$1$c2FsdA$a2V5"],
    ["a key of the wrong length", "scrypt$12$8$1$c2FsdA$a2V5"],
    ["garbage", "scrypt$"],
  ];
  for (const [what, hash] of unreadable)
    it(`refuses, without throwing, a hash with ${what}`, async () =>
      assert.equal(await verifyPassword("x", hash), false));
});

describe("web sessions and login attempts", () => {
  it("keeps a session alive while used, ends it after 30 idle minutes or on logout", () => {
    let now = 0;
    const s = new Sessions(() => now);
    const id = s.open();
    assert.match(id, /^[A-Za-z0-9_-]{43}$/);
    now += SESSION_IDLE_MS - 1;
    assert.equal(s.valid(id), true);
    now += SESSION_IDLE_MS - 1;
    assert.equal(s.valid(id), true, "kept alive by the last use");
    now += SESSION_IDLE_MS + 1;
    assert.equal(s.valid(id), false);
    const other = s.open();
    s.close(other);
    assert.equal(s.valid(other), false);
    assert.equal(s.valid(undefined), false);
    assert.equal(s.valid("made-up"), false);
  });

  it(`allows ${LOGIN_ATTEMPTS} attempts a minute per address, then says how long to wait`, () => {
    let now = 1_000_000;
    const s = new Sessions(() => now);
    const waits = Array.from({ length: LOGIN_ATTEMPTS + 1 }, () => s.attempt("10.0.0.9"));
    assert.deepEqual(waits.slice(0, LOGIN_ATTEMPTS), Array(LOGIN_ATTEMPTS).fill(0));
    assert.equal(waits[LOGIN_ATTEMPTS], LOGIN_WINDOW_MS);
    assert.equal(s.attempt("10.0.0.10"), 0, "another address is counted apart");
    now += LOGIN_WINDOW_MS;
    assert.equal(s.attempt("10.0.0.9"), 0, "a minute later");
    s.succeeded("10.0.0.9");
    for (let i = 0; i < LOGIN_ATTEMPTS; i++)
      assert.equal(s.attempt("10.0.0.9"), 0, "a good login clears the count");
  });
});
