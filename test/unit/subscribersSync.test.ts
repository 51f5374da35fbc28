import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { isSiteError, SiteError } from "../../src/core/errors.js";
import type { Database } from "../../src/storage/db.js";
import {
  type CanonicalRow,
  canonicalHashOf,
  checkSyncRequest,
  isResyncError,
  openSubscriberDatabase,
  SubscriberStore,
  type SyncRequest,
} from "../../src/subscribers/index.js";
import { tempDir } from "../helpers/fleetHarness.js";

const T0 = 1_700_000_000_000;
const HOUR = 3_600_000;

const cleanups: (() => void)[] = [];
const open: Database[] = [];
after(() => {
  for (const db of open) if (db.open) db.close();
  for (const c of cleanups) c();
});

function fresh() {
  const { dir, cleanup } = tempDir("subsync");
  cleanups.push(cleanup);
  const db = openSubscriberDatabase(dir);
  open.push(db);
  const clock = { now: T0 };
  const store = new SubscriberStore(db, { now: () => clock.now });
  return { store, db, dir, clock };
}

/** Subscriber number `n`: IMSI 6411000000000nn, number +2567720000nn. */
function sub(n: number, over: Partial<CanonicalRow> = {}): CanonicalRow {
  const d = String(n).padStart(2, "0");
  return {
    imsi: `6411000000000${d}`,
    msisdn: `+2567720000${d}`,
    name: `Subscriber ${n}`,
    status: "active",
    ...over,
  };
}

/** The table a store holds, in the four canonical fields, by IMSI. */
function table(store: SubscriberStore): CanonicalRow[] {
  return store
    .list({ limit: 1000 })
    .map(({ imsi, msisdn, name, status }) => ({ imsi, msisdn, name, status }));
}

function full(version: number, rows: CanonicalRow[], hash = canonicalHashOf(rows)): SyncRequest {
  return { mode: "full", from_version: null, version, hash, subscribers: rows, removed: [] };
}

/** A delta from `from` to `from + 1` that turns `before` into `after` (the hash is of `after`). */
function delta(
  from: number,
  upserts: CanonicalRow[],
  removed: string[],
  after: CanonicalRow[],
  hash = canonicalHashOf(after),
): SyncRequest {
  return { mode: "delta", from_version: from, version: from + 1, hash, subscribers: upserts, removed };
}

function thrown(fn: () => unknown): SiteError {
  try {
    fn();
  } catch (err) {
    assert.ok(isSiteError(err), `a SiteError, got ${String(err)}`);
    return err;
  }
  assert.fail("expected a throw");
}

/** Everything a failed sync must leave as it was. */
function snapshot(store: SubscriberStore, db: Database) {
  return {
    version: store.version(),
    state: store.syncState(),
    rows: db.prepare("SELECT * FROM subscribers ORDER BY imsi").all(),
    unknown: db.prepare("SELECT * FROM unknown_registrations ORDER BY imsi").all(),
  };
}

const S1 = sub(1);
const S2 = sub(2);
const S3 = sub(3);

// ── request checks ──────────────────────────────────────────────────────────────────────────────

describe("checkSyncRequest", () => {
  const ok = full(1, [S1, S2]);
  const bad: [string, unknown, string, Record<string, unknown>][] = [
    ["not an object", [], "request", { field: "request" }],
    ["an unknown mode", { ...ok, mode: "partial" }, "mode", { field: "mode" }],
    ["a negative version", { ...ok, version: -1 }, "version", { field: "version" }],
    ["a fractional version", { ...ok, version: 1.5 }, "version", { field: "version" }],
    ["a version as text", { ...ok, version: "2" }, "version", { field: "version" }],
    ["a delta without from_version", { ...ok, mode: "delta", from_version: undefined }, "from_version", {}],
    [
      "a delta that does not move forward",
      { ...ok, mode: "delta", from_version: 1, version: 1 },
      "version",
      {},
    ],
    ["a short hash", { ...ok, hash: "abc" }, "hash", { field: "hash" }],
    ["no subscribers list", { ...ok, subscribers: undefined }, "subscribers", { field: "subscribers" }],
    ["an entry that is not an object", { ...ok, subscribers: [S1, "x"] }, "subscribers[1]", { index: 1 }],
    ["a bad imsi", { ...ok, subscribers: [S1, { ...S2, imsi: "1" }] }, "subscribers[1].imsi", { index: 1 }],
    ["a bad msisdn", { ...ok, subscribers: [{ ...S1, msisdn: "0772" }] }, "subscribers[0].msisdn", {}],
    ["a bad name", { ...ok, subscribers: [S1, S2, { ...S3, name: "a\nb" }] }, "subscribers[2].name", {}],
    ["a bad status", { ...ok, subscribers: [{ ...S1, status: "gone" }] }, "subscribers[0].status", {}],
    ["an IMSI twice", { ...ok, subscribers: [S1, S2, { ...S3, imsi: S1.imsi }] }, "subscribers[2].imsi", {}],
    [
      "a number twice",
      { ...ok, subscribers: [S1, { ...S2, msisdn: S1.msisdn }] },
      "subscribers[1].msisdn",
      {},
    ],
    ["removed not a list", { ...ok, removed: S1.imsi }, "removed", { field: "removed" }],
    ["a bad removed IMSI", { ...ok, removed: [S1.imsi, "x"] }, "removed[1]", { list: "removed", index: 1 }],
  ];
  for (const [what, req, where, detail] of bad) {
    it(`refuses ${what} (sync.invalid at ${where})`, () => {
      const e = thrown(() => checkSyncRequest(req));
      assert.equal(e.code, "sync.invalid");
      assert.ok(e.message.startsWith(`${where}:`), e.message);
      for (const [k, v] of Object.entries(detail)) assert.equal(e.detail[k], v, k);
    });
  }

  it("names the list, index and field of a bad entry in detail", () => {
    const e = thrown(() => checkSyncRequest({ ...ok, subscribers: [S1, { ...S2, msisdn: S1.msisdn }] }));
    assert.deepEqual(e.detail, { list: "subscribers", index: 1, field: "msisdn" });
    assert.match(e.message, /also the number of subscribers\[0\] \(IMSI 641100000000001\)/);
  });

  it("fills defaults, lower-cases the hash, ignores removed in a full sync", () => {
    const c = checkSyncRequest({
      mode: "full",
      version: 3,
      hash: "A".repeat(64),
      subscribers: [{ imsi: S1.imsi, msisdn: S1.msisdn }],
      removed: [S2.imsi],
    });
    assert.deepEqual(c, {
      mode: "full",
      fromVersion: null,
      version: 3,
      hash: "a".repeat(64),
      subscribers: [{ imsi: S1.imsi, msisdn: S1.msisdn, name: "", status: "active" }],
      removed: [],
    });
  });
});

// ── full sync ───────────────────────────────────────────────────────────────────────────────────

describe("full sync", () => {
  it("fills an empty table and sets the version", () => {
    const { store } = fresh();
    assert.deepEqual(store.applySync(full(7, [S2, S1])), { version: 7, count: 2 });
    assert.deepEqual(table(store), [S1, S2]);
    assert.equal(store.version(), 7);
    assert.deepEqual(store.syncState(), { version: 7, count: 2, lastSyncAt: T0, lastFullSyncAt: T0 });
    assert.equal(store.byImsi(S1.imsi)?.version, 7);
  });

  it("replaces the subscriber data but keeps the contact of every IMSI that stays", () => {
    const { store, clock } = fresh();
    store.applySync(full(1, [S1, S2, S3]));
    store.setContact(S1.imsi, "10.0.0.2", 5062, T0 + HOUR);
    store.setContact(S2.imsi, "10.0.0.3", 5062, T0 + HOUR);
    store.setContact(S3.imsi, "10.0.0.4", 5062, T0 + HOUR);
    clock.now = T0 + 1000;
    const S2b = { ...S2, name: "Renamed", msisdn: "+256772000099", status: "suspended" as const };
    store.applySync(full(2, [S1, S2b, sub(4)]));
    assert.deepEqual(table(store), [S1, S2b, sub(4)]);
    assert.deepEqual(store.contactOf(S1.msisdn), {
      imsi: S1.imsi,
      msisdn: S1.msisdn,
      status: "active",
      ip: "10.0.0.2",
      port: 5062,
      expiresAt: T0 + HOUR,
    });
    assert.equal(store.contactOf("+256772000099")?.ip, "10.0.0.3", "kept across a new number");
    assert.equal(store.byImsi(S2.imsi)?.registeredAt, T0);
    assert.equal(store.byImsi(S3.imsi), undefined, "absent from the full sync: gone");
    // Rows the sync does not change are not rewritten.
    assert.deepEqual([store.byImsi(S1.imsi)?.version, store.byImsi(S1.imsi)?.updatedAt], [1, T0]);
    assert.deepEqual([store.byImsi(S2.imsi)?.version, store.byImsi(S2.imsi)?.updatedAt], [2, T0 + 1000]);
    assert.deepEqual(store.syncState().lastFullSyncAt, T0 + 1000);
  });

  it("moves numbers between IMSIs (swap, and a chain) in one sync", () => {
    const { store } = fresh();
    store.applySync(full(1, [S1, S2, S3]));
    const next = [
      { ...S1, msisdn: S2.msisdn },
      { ...S2, msisdn: S1.msisdn },
      { ...S3, msisdn: "+256772000050" },
      sub(4, { msisdn: S3.msisdn }),
    ];
    assert.deepEqual(store.applySync(full(2, next)), { version: 2, count: 4 });
    assert.deepEqual(table(store), next);
  });

  it("may take the site to a lower version: the core is the source of truth", () => {
    const { store } = fresh();
    store.applySync(full(9, [S1]));
    assert.deepEqual(store.applySync(full(4, [S2])), { version: 4, count: 1 });
  });

  it("to an empty table checks the empty hash", () => {
    const { store } = fresh();
    store.applySync(full(1, [S1, S2]));
    const req = full(2, []);
    assert.equal(req.hash, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    assert.deepEqual(store.applySync(req), { version: 2, count: 0 });
    assert.equal(store.canonicalHash(), req.hash);
  });

  it("with a wrong hash rolls back: table, contacts and version as before", () => {
    const { store, db } = fresh();
    store.applySync(full(1, [S1, S2]));
    store.setContact(S1.imsi, "10.0.0.2", 5062, T0 + HOUR);
    const before = snapshot(store, db);
    const e = thrown(() => store.applySync(full(2, [S3], canonicalHashOf([S1]))));
    assert.equal(e.code, "sync.hash");
    assert.deepEqual(e.detail, {
      version: 1,
      expected: canonicalHashOf([S1]),
      actual: canonicalHashOf([S3]),
    });
    assert.ok(isResyncError(e));
    assert.deepEqual(snapshot(store, db), before);
  });
});

// ── delta sync ──────────────────────────────────────────────────────────────────────────────────

describe("delta sync", () => {
  it("applies deltas in order, each from the version the site is at", () => {
    const { store, clock } = fresh();
    store.applySync(full(1, [S1, S2]));
    clock.now = T0 + 10;
    const S1b = { ...S1, name: "Nakato" };
    assert.deepEqual(store.applySync(delta(1, [S1b, S3], [], [S1b, S2, S3])), { version: 2, count: 3 });
    clock.now = T0 + 20;
    assert.deepEqual(store.applySync(delta(2, [], [S2.imsi], [S1b, S3])), { version: 3, count: 2 });
    assert.deepEqual(table(store), [S1b, S3]);
    assert.deepEqual(store.syncState(), { version: 3, count: 2, lastSyncAt: T0 + 20, lastFullSyncAt: T0 });
    assert.equal(store.byImsi(S1.imsi)?.version, 2);
    assert.equal(store.byImsi(S3.imsi)?.version, 2);
  });

  it("with a gap changes nothing and asks for a resync", () => {
    const { store, db } = fresh();
    store.applySync(full(5, [S1]));
    const before = snapshot(store, db);
    for (const from of [4, 6, 0]) {
      const e = thrown(() => store.applySync(delta(from, [S2], [], [S1, S2])));
      assert.equal(e.code, "sync.gap");
      assert.deepEqual(e.detail, { version: 5, from_version: from });
      assert.ok(isResyncError(e));
    }
    assert.deepEqual(snapshot(store, db), before);
  });

  it("from a new site (version 0) is a gap unless it starts at 0", () => {
    const { store } = fresh();
    assert.equal(thrown(() => store.applySync(delta(3, [S1], [], [S1]))).code, "sync.gap");
    assert.deepEqual(store.applySync(delta(0, [S1], [], [S1])), { version: 1, count: 1 });
  });

  it("with a wrong hash rolls back everything it did", () => {
    const { store, db } = fresh();
    store.applySync(full(1, [S1, S2]));
    store.setContact(S2.imsi, "10.0.0.3", 5062, T0 + HOUR);
    const before = snapshot(store, db);
    // The core thinks S2 is gone already, the site still has it: the hash tells.
    const e = thrown(() =>
      store.applySync(delta(1, [{ ...S1, name: "x" }, S3], [S2.imsi], [{ ...S1, name: "x" }, S2, S3])),
    );
    assert.equal(e.code, "sync.hash");
    assert.equal(e.detail.version, 1);
    assert.deepEqual(snapshot(store, db), before);
  });

  it("deletes only what removed names (a row the delta leaves out stays)", () => {
    const { store } = fresh();
    store.applySync(full(1, [S1, S2, S3]));
    store.applySync(delta(1, [S1], [], [S1, S2, S3]));
    assert.deepEqual(table(store), [S1, S2, S3]);
    store.applySync(delta(2, [], [S2.imsi, "641100000000077"], [S1, S3]));
    assert.deepEqual(table(store), [S1, S3], "an unknown removed IMSI is no error");
  });

  it("ends with an IMSI removed when it is both upserted and removed", () => {
    const { store } = fresh();
    store.applySync(full(1, [S1]));
    assert.deepEqual(store.applySync(delta(1, [S2], [S2.imsi], [S1])), { version: 2, count: 1 });
  });

  it("swaps the numbers of two IMSIs, their contacts following the IMSI", () => {
    const { store } = fresh();
    store.applySync(full(1, [S1, S2, S3]));
    store.setContact(S1.imsi, "10.0.0.1", 5062, T0 + HOUR);
    store.setContact(S2.imsi, "10.0.0.2", 5062, T0 + HOUR);
    const A = { ...S1, msisdn: S2.msisdn };
    const B = { ...S2, msisdn: S1.msisdn };
    assert.deepEqual(store.applySync(delta(1, [A, B], [], [A, B, S3])), { version: 2, count: 3 });
    assert.deepEqual(table(store), [A, B, S3]);
    assert.equal(store.contactOf(S2.msisdn)?.imsi, S1.imsi);
    assert.equal(store.contactOf(S2.msisdn)?.ip, "10.0.0.1");
    assert.equal(store.contactOf(S1.msisdn)?.ip, "10.0.0.2");
  });

  it("gives a removed IMSI's number to a new one in the same delta", () => {
    const { store } = fresh();
    store.applySync(full(1, [S1, S2]));
    const S4 = sub(4, { msisdn: S1.msisdn });
    assert.deepEqual(store.applySync(delta(1, [S4], [S1.imsi], [S2, S4])), { version: 2, count: 2 });
    assert.equal(store.byMsisdn(S1.msisdn)?.imsi, S4.imsi);
  });

  it("refuses a number still held by an IMSI the delta leaves alone (the tables differ)", () => {
    const { store, db } = fresh();
    store.applySync(full(1, [S1, S2]));
    const before = snapshot(store, db);
    const S2b = { ...S2, msisdn: S1.msisdn };
    const e = thrown(() => store.applySync(delta(1, [S2b], [], [{ ...S1, msisdn: "+256772000077" }, S2b])));
    assert.equal(e.code, "sync.hash");
    assert.deepEqual(e.detail, { version: 1, msisdn: S1.msisdn, imsi: S2.imsi, holder: S1.imsi });
    assert.ok(isResyncError(e));
    assert.deepEqual(snapshot(store, db), before);
  });

  it("refuses an invalid delta before touching anything (sync.invalid, no resync)", () => {
    const { store, db } = fresh();
    store.applySync(full(1, [S1]));
    const before = snapshot(store, db);
    const e = thrown(() => store.applySync(delta(1, [S2, { ...S3, status: "gone" as "active" }], [], [S1])));
    assert.equal(e.code, "sync.invalid");
    assert.deepEqual(e.detail, { list: "subscribers", index: 1, field: "status" });
    assert.equal(isResyncError(e), false);
    assert.deepEqual(snapshot(store, db), before);
  });

  it("hands a contact registered while unknown to the IMSI it provisions", () => {
    const { store } = fresh();
    store.applySync(full(1, [S1]));
    assert.equal(store.setContact(S2.imsi, "10.0.0.9", 5062, T0 + HOUR), "unknown");
    store.applySync(delta(1, [S2], [], [S1, S2]));
    assert.equal(store.contactOf(S2.msisdn)?.ip, "10.0.0.9");
    assert.deepEqual(store.unknownRegistrations(), []);
  });
});

// ── durability and helpers ──────────────────────────────────────────────────────────────────────

describe("persistence", () => {
  it("keeps version, rows and contacts across a close and reopen", () => {
    const { store, db, dir } = fresh();
    store.applySync(full(1, [S1, S2]));
    store.applySync(delta(1, [{ ...S2, name: "Two" }], [], [S1, { ...S2, name: "Two" }]));
    store.setContact(S1.imsi, "10.0.0.2", 5062, T0 + HOUR);
    const hash = store.canonicalHash();
    db.close();
    const db2 = openSubscriberDatabase(dir);
    open.push(db2);
    const again = new SubscriberStore(db2, { now: () => T0 });
    assert.equal(again.version(), 2);
    assert.deepEqual(table(again), [S1, { ...S2, name: "Two" }]);
    assert.equal(again.canonicalHash(), hash);
    assert.equal(again.contactOf(S1.msisdn)?.ip, "10.0.0.2");
    assert.deepEqual(again.applySync(delta(2, [S3], [], [S1, { ...S2, name: "Two" }, S3])), {
      version: 3,
      count: 3,
    });
  });
});

describe("isResyncError", () => {
  const cases: [unknown, boolean][] = [
    [new SiteError("sync.gap", "x"), true],
    [new SiteError("sync.hash", "x"), true],
    [new SiteError("sync.invalid", "x"), false],
    [new SiteError("sub.invalid", "x"), false],
    [new Error("sync.gap"), false],
    [undefined, false],
  ];
  for (const [err, expected] of cases) {
    it(`${err instanceof Error ? `${err.name} ${(err as SiteError).code ?? ""}` : String(err)} → ${expected}`, () =>
      assert.equal(isResyncError(err), expected));
  }
});
