import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { isSiteError } from "../../src/core/errors.js";
import type { Database } from "../../src/storage/db.js";
import {
  type CanonicalRow,
  canonicalHashOf,
  canonicalText,
  checkSubscriberInput,
  EMPTY_HASH,
  imsiFromSipUser,
  openSubscriberDatabase,
  SUBSCRIBER_DB_FILE,
  SubscriberStore,
  UNKNOWN_MAX,
} from "../../src/subscribers/index.js";
import { tempDir } from "../helpers/fleetHarness.js";

const T0 = 1_700_000_000_000;
const HOUR = 3_600_000;
const A = { imsi: "641100000000001", msisdn: "+256772000001" };
const B = { imsi: "641100000000002", msisdn: "+256772000002" };

const cleanups: (() => void)[] = [];
const open: Database[] = [];
after(() => {
  for (const db of open) if (db.open) db.close();
  for (const c of cleanups) c();
});

/** A store on a real file in a temp folder, with a clock the test sets (`clock.now`). */
function fresh(start = T0) {
  const { dir, cleanup } = tempDir("substore");
  cleanups.push(cleanup);
  const db = openSubscriberDatabase(dir);
  open.push(db);
  const clock = { now: start };
  const store = new SubscriberStore(db, { now: () => clock.now });
  return { store, db, dir, clock };
}

/** The SiteError `fn` throws: its code and detail. */
function thrown(fn: () => unknown): { code: string; detail: Record<string, unknown>; message: string } {
  try {
    fn();
  } catch (err) {
    assert.ok(isSiteError(err), `a SiteError, got ${String(err)}`);
    return { code: err.code, detail: err.detail, message: err.message };
  }
  assert.fail("expected a throw");
}

const sha256 = (text: string) => createHash("sha256").update(text, "utf8").digest("hex");

// ── database ────────────────────────────────────────────────────────────────────────────────────

describe("openSubscriberDatabase", () => {
  it("creates <dir>/subscribers.db in WAL mode with synchronous=FULL, empty, at version 0", () => {
    const { db, dir, store } = fresh();
    assert.equal(SUBSCRIBER_DB_FILE, "subscribers.db");
    assert.ok(existsSync(join(dir, "subscribers.db")));
    assert.equal(db.pragma("journal_mode", { simple: true }), "wal");
    assert.equal(db.pragma("synchronous", { simple: true }), 2);
    assert.equal(store.count(), 0);
    assert.equal(store.version(), 0);
    assert.deepEqual(store.syncState(), { version: 0, count: 0, lastSyncAt: null, lastFullSyncAt: null });
  });

  it("refuses rows the table's checks forbid, even past the API", () => {
    const { db } = fresh();
    const insert = db.prepare(
      "INSERT INTO subscribers (imsi, msisdn, name, status, updated_at) VALUES (?, ?, '', ?, 0)",
    );
    assert.throws(() => insert.run("64110000000000x", "+256772000001", "active"), /CHECK/);
    assert.throws(() => insert.run("6411000000000", "+256772000001", "active"), /CHECK/);
    assert.throws(() => insert.run(A.imsi, A.msisdn, "barred"), /CHECK/);
    insert.run(A.imsi, A.msisdn, "active");
    assert.throws(() => insert.run(B.imsi, A.msisdn, "active"), /UNIQUE/);
  });
});

// ── validation ──────────────────────────────────────────────────────────────────────────────────

describe("checkSubscriberInput", () => {
  const bad: [string, unknown, string][] = [
    ["not an object", "641100000000001", "subscriber"],
    ["imsi missing", { msisdn: A.msisdn }, "imsi"],
    ["imsi a number", { imsi: 641100000000001, msisdn: A.msisdn }, "imsi"],
    ["imsi 13 digits", { imsi: "6411000000000", msisdn: A.msisdn }, "imsi"],
    ["imsi 16 digits", { imsi: "6411000000000011", msisdn: A.msisdn }, "imsi"],
    ["imsi with a letter", { imsi: "64110000000000a", msisdn: A.msisdn }, "imsi"],
    ["imsi with the SIP prefix", { imsi: "IMSI641100000000001", msisdn: A.msisdn }, "imsi"],
    ["msisdn without +", { imsi: A.imsi, msisdn: "256772000001" }, "msisdn"],
    ["msisdn national", { imsi: A.imsi, msisdn: "0772000001" }, "msisdn"],
    ["msisdn 5 digits", { imsi: A.imsi, msisdn: "+25677" }, "msisdn"],
    ["msisdn 16 digits", { imsi: A.imsi, msisdn: "+2567720000011111" }, "msisdn"],
    ["msisdn starting with 0", { imsi: A.imsi, msisdn: "+0772000001" }, "msisdn"],
    ["msisdn with a space", { imsi: A.imsi, msisdn: "+256 772000001" }, "msisdn"],
    ["name a number", { ...A, name: 7 }, "name"],
    ["name with a line break", { ...A, name: "Nakato\nMukasa" }, "name"],
    ["name with a tab", { ...A, name: "Nakato\tMukasa" }, "name"],
    ["name of 257 characters", { ...A, name: "x".repeat(257) }, "name"],
    ["name with a lone surrogate", { ...A, name: "bad \ud800 half" }, "name"],
    ["status unknown", { ...A, status: "barred" }, "status"],
    ["status in capitals", { ...A, status: "ACTIVE" }, "status"],
  ];
  for (const [what, input, field] of bad) {
    it(`refuses ${what} (sub.invalid, field ${field})`, () => {
      const e = thrown(() => checkSubscriberInput(input));
      assert.equal(e.code, "sub.invalid");
      assert.equal(e.detail.field, field);
      assert.ok(e.message.startsWith(`${field}:`), e.message);
    });
  }

  const good: [string, Record<string, unknown>][] = [
    ["14-digit imsi, shortest msisdn", { imsi: "64110000000001", msisdn: "+256772" }],
    ["15-digit imsi, longest msisdn", { imsi: "641100000000001", msisdn: "+256772000001234" }],
    ["a name with commas and accents", { ...A, name: "Mukasa, Ölaf (shop)" }],
    ["256 characters outside the BMP", { ...A, name: "🙂".repeat(256) }],
    ["an empty name, suspended", { ...A, name: "", status: "suspended" }],
  ];
  for (const [what, input] of good) {
    it(`accepts ${what}`, () => {
      assert.deepEqual(checkSubscriberInput(input), input);
    });
  }
});

describe("imsiFromSipUser", () => {
  const cases: [string, string | undefined][] = [
    ["IMSI641100000000001", "641100000000001"],
    ["imsi641100000000001", "641100000000001"],
    ["641100000000001", "641100000000001"],
    ["IMSI64110000000001", "64110000000001"],
    ["IMSI6411000000000", undefined],
    ["+256772000001", undefined],
    ["alice", undefined],
    ["", undefined],
  ];
  for (const [user, imsi] of cases) {
    it(`${JSON.stringify(user)} → ${String(imsi)}`, () => assert.equal(imsiFromSipUser(user), imsi));
  }
});

// ── upsert, remove, lookups ─────────────────────────────────────────────────────────────────────

describe("SubscriberStore upsert / remove / lookups", () => {
  it("adds a subscriber with defaults and finds it by IMSI and by number", () => {
    const { store } = fresh();
    const s = store.upsert(A);
    const expected = {
      ...A,
      name: "",
      status: "active",
      contact: null,
      registeredAt: null,
      updatedAt: T0,
      version: null,
    };
    assert.deepEqual(s, expected);
    assert.deepEqual(store.byImsi(A.imsi), expected);
    assert.deepEqual(store.byMsisdn(A.msisdn), expected);
    assert.equal(store.byImsi(B.imsi), undefined);
    assert.equal(store.byMsisdn(B.msisdn), undefined);
    assert.equal(store.byMsisdn("garbage"), undefined);
    assert.equal(store.count(), 1);
  });

  it("keeps the stored name and status when an upsert leaves them out", () => {
    const { store, clock } = fresh();
    store.upsert({ ...A, name: "Nakato", status: "suspended" });
    clock.now = T0 + 1000;
    const s = store.upsert({ imsi: A.imsi, msisdn: "+256772999999" });
    assert.equal(s.name, "Nakato");
    assert.equal(s.status, "suspended");
    assert.equal(s.msisdn, "+256772999999");
    assert.equal(s.updatedAt, T0 + 1000);
    assert.equal(store.byMsisdn(A.msisdn), undefined, "the old number is free");
    clock.now = T0 + 2000;
    assert.equal(store.upsert({ imsi: A.imsi, msisdn: "+256772999999" }).updatedAt, T0 + 1000, "no change");
    const nulls = { ...A, msisdn: "+256772999999", name: null, status: null } as unknown as typeof A;
    assert.equal(store.upsert(nulls).name, "Nakato", "null is 'not given'");
    assert.equal(store.upsert({ ...A, name: "" }).name, "", "an empty name is a name");
  });

  it("refuses a number that belongs to another IMSI, naming it", () => {
    const { store } = fresh();
    store.upsert(A);
    const e = thrown(() => store.upsert({ imsi: B.imsi, msisdn: A.msisdn }));
    assert.equal(e.code, "sub.invalid");
    assert.deepEqual(e.detail, { field: "msisdn", imsi: A.imsi });
    assert.equal(store.count(), 1);
  });

  it("validates upsert arguments (sub.invalid naming the field)", () => {
    const { store } = fresh();
    assert.equal(thrown(() => store.upsert({ ...A, imsi: "123" })).detail.field, "imsi");
    assert.equal(thrown(() => store.upsert({ ...A, status: "gone" as "active" })).detail.field, "status");
    assert.equal(store.count(), 0);
  });

  it("removes a subscriber, returning it; unknown and malformed IMSIs are errors", () => {
    const { store } = fresh();
    store.upsert(A);
    store.upsert(B);
    assert.equal(store.remove(A.imsi).msisdn, A.msisdn);
    assert.equal(store.byImsi(A.imsi), undefined);
    assert.equal(store.count(), 1);
    assert.equal(thrown(() => store.remove(A.imsi)).code, "sub.not_found");
    assert.equal(thrown(() => store.remove("IMSI1")).code, "sub.invalid");
  });

  it("get() by imsi or msisdn, with errors for the MQTT command", () => {
    const { store } = fresh();
    store.upsert({ ...A, name: "Nakato" });
    assert.equal(store.get({ imsi: A.imsi }).name, "Nakato");
    assert.equal(store.get({ msisdn: A.msisdn }).imsi, A.imsi);
    assert.deepEqual(
      thrown(() => store.get({ imsi: B.imsi })),
      {
        code: "sub.not_found",
        detail: { imsi: B.imsi },
        message: `no subscriber with IMSI ${B.imsi}`,
      },
    );
    assert.equal(thrown(() => store.get({ msisdn: B.msisdn })).code, "sub.not_found");
    assert.equal(thrown(() => store.get({ msisdn: "0772000001" })).code, "sub.invalid");
    assert.equal(thrown(() => store.get({})).code, "sub.invalid");
  });

  it("lists in IMSI order, page by page", () => {
    const { store } = fresh();
    const imsis = ["641100000000009", "64110000000001", "641100000000003", "641100000000005"];
    imsis.forEach((imsi, i) => {
      store.upsert({ imsi, msisdn: `+25677200010${i}` });
    });
    const all = store.list().map((s) => s.imsi);
    assert.deepEqual(all, [...imsis].sort());
    assert.deepEqual(
      store.list({ limit: 2 }).map((s) => s.imsi),
      all.slice(0, 2),
    );
    assert.deepEqual(
      store.list({ afterImsi: all[1], limit: 2 }).map((s) => s.imsi),
      all.slice(2, 4),
    );
    assert.deepEqual(store.list({ afterImsi: all[3] }), []);
    assert.equal(store.list({ limit: 0 }).length, 1, "limit is at least 1");
  });
});

// ── contacts (REGISTER) ─────────────────────────────────────────────────────────────────────────

describe("SubscriberStore contacts", () => {
  it("records a REGISTER and answers contactOf until it expires", () => {
    const { store, clock } = fresh();
    store.upsert({ ...A, status: "suspended" });
    assert.equal(store.setContact(A.imsi, "10.0.0.2", 5062, T0 + HOUR), "subscriber");
    const expected = { imsi: A.imsi, msisdn: A.msisdn, status: "suspended", ip: "10.0.0.2", port: 5062 };
    assert.deepEqual(store.contactOf(A.msisdn), { ...expected, expiresAt: T0 + HOUR });
    assert.deepEqual(store.byImsi(A.imsi)?.contact, { ip: "10.0.0.2", port: 5062, expiresAt: T0 + HOUR });
    assert.equal(store.byImsi(A.imsi)?.registeredAt, T0);
    clock.now = T0 + HOUR - 1;
    assert.ok(store.contactOf(A.msisdn));
    clock.now = T0 + HOUR;
    assert.equal(store.contactOf(A.msisdn), undefined, "expired at expiresAt");
    const s = store.byImsi(A.imsi);
    assert.equal(s?.contact, null);
    assert.equal(s?.registeredAt, T0, "the last registration stays known");
  });

  it("a new REGISTER replaces the contact; clearContact forgets it", () => {
    const { store, clock } = fresh();
    store.upsert(A);
    store.setContact(A.imsi, "10.0.0.2", 5062, T0 + HOUR);
    clock.now = T0 + 10;
    store.setContact(A.imsi, "fd00::2", 5070, T0 + 2 * HOUR);
    assert.deepEqual(store.contactOf(A.msisdn), {
      imsi: A.imsi,
      msisdn: A.msisdn,
      status: "active",
      ip: "fd00::2",
      port: 5070,
      expiresAt: T0 + 2 * HOUR,
    });
    assert.equal(store.byImsi(A.imsi)?.registeredAt, T0 + 10);
    assert.equal(store.clearContact(A.imsi), true);
    assert.equal(store.contactOf(A.msisdn), undefined);
    assert.equal(store.clearContact(A.imsi), false);
    assert.equal(store.contactOf(B.msisdn), undefined, "not a subscriber");
  });

  it("validates REGISTER data", () => {
    const { store } = fresh();
    store.upsert(A);
    assert.equal(thrown(() => store.setContact("IMSI641", "10.0.0.2", 5062, T0)).detail.field, "imsi");
    assert.equal(thrown(() => store.setContact(A.imsi, "bts.local", 5062, T0)).detail.field, "ip");
    assert.equal(thrown(() => store.setContact(A.imsi, "10.0.0.2", 0, T0)).detail.field, "port");
    assert.equal(thrown(() => store.setContact(A.imsi, "10.0.0.2", 65536, T0)).detail.field, "port");
    assert.equal(thrown(() => store.setContact(A.imsi, "10.0.0.2", 5062, 1.5)).detail.field, "expiresAt");
  });

  it("records an unknown IMSI apart, and hands its contact over when it is provisioned", () => {
    const { store, clock } = fresh();
    assert.equal(store.setContact(A.imsi, "10.0.0.2", 5062, T0 + HOUR), "unknown");
    clock.now = T0 + 5;
    assert.equal(store.setContact(A.imsi, "10.0.0.3", 5062, T0 + HOUR + 5), "unknown");
    assert.equal(store.count(), 0, "never a subscriber row: the core's table would hash differently");
    assert.deepEqual(store.unknownRegistrations(), [
      {
        imsi: A.imsi,
        contact: { ip: "10.0.0.3", port: 5062, expiresAt: T0 + HOUR + 5 },
        firstSeen: T0,
        lastSeen: T0 + 5,
        registrations: 2,
      },
    ]);
    clock.now = T0 + 60_000;
    const s = store.upsert(A);
    assert.deepEqual(s.contact, { ip: "10.0.0.3", port: 5062, expiresAt: T0 + HOUR + 5 });
    assert.equal(s.registeredAt, T0 + 5);
    assert.deepEqual(store.unknownRegistrations(), []);
  });

  it("does not hand over an expired contact, and forgets the unknown entry all the same", () => {
    const { store, clock } = fresh();
    store.setContact(A.imsi, "10.0.0.2", 5062, T0 + 1000);
    clock.now = T0 + 1000;
    assert.equal(store.upsert(A).contact, null);
    assert.deepEqual(store.unknownRegistrations(), []);
  });

  it("keeps at most UNKNOWN_MAX unknown IMSIs, dropping the least recently seen; prunes by age", () => {
    const { store, db, clock } = fresh();
    db.transaction(() => {
      for (let i = 0; i < UNKNOWN_MAX + 5; i++) {
        clock.now = T0 + i;
        store.setContact(String(641200000000000 + i), "10.0.0.2", 5062, T0 + HOUR);
      }
    })();
    const kept = store.unknownRegistrations(UNKNOWN_MAX + 10);
    assert.equal(kept.length, UNKNOWN_MAX);
    assert.equal(kept[0]?.imsi, String(641200000000000 + UNKNOWN_MAX + 4), "most recent first");
    assert.equal(kept.at(-1)?.imsi, String(641200000000000 + 5), "the five oldest went");
    assert.equal(store.pruneUnknown(T0 + 10), 5);
    assert.equal(store.unknownRegistrations(UNKNOWN_MAX).length, UNKNOWN_MAX - 5);
    assert.equal(
      store.clearContact(String(641200000000000 + 20)),
      true,
      "clearContact forgets unknown ones too",
    );
  });
});

// ── the OpenBTS views ───────────────────────────────────────────────────────────────────────────

describe("sip_buddies and dialdata_table views", () => {
  it("show active subscribers as OpenBTS names them, with the contact while it is valid", () => {
    // The views compare with SQLite's clock, not the store's: times relative to the real now.
    const now = Date.now();
    const { store, db } = fresh(now);
    store.upsert({ ...A, name: "Nakato" });
    store.upsert(B);
    store.upsert({ imsi: "641100000000003", msisdn: "+256772000003", status: "suspended" });
    store.setContact(A.imsi, "10.0.0.2", 5062, now + HOUR);
    store.setContact(B.imsi, "fd00::7", 5064, now - 1000);
    const rows = db
      .prepare(
        `SELECT id, name, username, callerid, ipaddr, port, fullcontact, regTime, type, context, host,
          allow, dtmfmode, canreinvite, ki FROM sip_buddies ORDER BY name`,
      )
      .all();
    assert.deepEqual(rows, [
      {
        id: 641100000000001,
        name: "IMSI641100000000001",
        username: "IMSI641100000000001",
        callerid: "256772000001",
        ipaddr: "10.0.0.2",
        port: 5062,
        fullcontact: "sip:IMSI641100000000001@10.0.0.2:5062",
        regTime: Math.floor(now / 1000),
        type: "friend",
        context: "phones",
        host: "dynamic",
        allow: "gsm",
        dtmfmode: "info",
        canreinvite: "no",
        ki: "",
      },
      {
        id: 641100000000002,
        name: "IMSI641100000000002",
        username: "IMSI641100000000002",
        callerid: "256772000002",
        ipaddr: null,
        port: null,
        fullcontact: null,
        regTime: Math.floor(now / 1000),
        type: "friend",
        context: "phones",
        host: "dynamic",
        allow: "gsm",
        dtmfmode: "info",
        canreinvite: "no",
        ki: "",
      },
    ]);
    assert.deepEqual(db.prepare("SELECT exten, dial FROM dialdata_table ORDER BY exten").all(), [
      { exten: "256772000001", dial: "IMSI641100000000001" },
      { exten: "256772000002", dial: "IMSI641100000000002" },
    ]);
  });

  it("brackets an IPv6 contact in fullcontact, and never registered means regTime 0", () => {
    const now = Date.now();
    const { store, db } = fresh(now);
    store.upsert(A);
    store.upsert(B);
    store.setContact(A.imsi, "fd00::2", 5062, now + HOUR);
    const q = db.prepare("SELECT fullcontact, regTime FROM sip_buddies WHERE username = ?");
    assert.deepEqual(q.get(`IMSI${A.imsi}`), {
      fullcontact: "sip:IMSI641100000000001@[fd00::2]:5062",
      regTime: Math.floor(now / 1000),
    });
    assert.deepEqual(q.get(`IMSI${B.imsi}`), { fullcontact: null, regTime: 0 });
  });

  it("looks a SIP name or a number up through an index, not a scan", () => {
    const { db } = fresh();
    const plan = (sql: string) =>
      (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all() as { detail: string }[]).map((r) => r.detail).join("; ");
    assert.match(plan("SELECT ipaddr, port FROM sip_buddies WHERE name = 'IMSI641100000000001'"), /INDEX/);
    assert.match(plan("SELECT callerid FROM sip_buddies WHERE username = 'IMSI641100000000001'"), /INDEX/);
    assert.match(plan("SELECT dial FROM dialdata_table WHERE exten = '256772000001'"), /INDEX/);
  });
});

// ── canonical hash ──────────────────────────────────────────────────────────────────────────────

describe("canonical form and hash", () => {
  const rows: CanonicalRow[] = [
    { imsi: "641100000000002", msisdn: "+256772000002", name: "Mukasa, Ölaf", status: "suspended" },
    { imsi: "64110000000001", msisdn: "+256772000009", name: "", status: "active" },
    { imsi: "641100000000001", msisdn: "+256772000001", name: "Nakato", status: "active" },
  ];
  // Byte order, not numeric: the 14-digit "64110000000001" has "1" where the others have "0" in its
  // 14th place, so it comes last.
  const TEXT =
    "641100000000001,+256772000001,Nakato,active\n" +
    "641100000000002,+256772000002,Mukasa, Ölaf,suspended\n" +
    "64110000000001,+256772000009,,active";

  it("is the lines sorted by IMSI byte order, joined by \\n, no final line break", () => {
    assert.equal(canonicalText(rows), TEXT);
  });

  it("puts an IMSI before the longer IMSIs it is a prefix of", () => {
    const pair: CanonicalRow[] = [
      { imsi: "641100123456780", msisdn: "+256772000002", name: "", status: "active" },
      { imsi: "64110012345678", msisdn: "+256772000001", name: "", status: "active" },
    ];
    assert.equal(
      canonicalText(pair),
      "64110012345678,+256772000001,,active\n641100123456780,+256772000002,,active",
    );
  });

  it("hashes the UTF-8 text with SHA-256", () => {
    assert.equal(canonicalHashOf(rows), sha256(TEXT));
  });

  it("has a fixed value for a one-subscriber table", () => {
    const one: CanonicalRow[] = [
      { imsi: "001010000000001", msisdn: "+10000001", name: "a", status: "active" },
    ];
    assert.equal(canonicalText(one), "001010000000001,+10000001,a,active");
    assert.equal(canonicalHashOf(one), "2c3a9c40055e97939cdd99649d7457b15566c6591dcb715d9dd40883e9567e19");
  });

  it("of an empty table is SHA-256 of the empty text", () => {
    assert.equal(EMPTY_HASH, sha256(""));
    assert.equal(canonicalHashOf([]), EMPTY_HASH);
    assert.equal(fresh().store.canonicalHash(), EMPTY_HASH);
  });

  it("is what the store computes from its table (contacts play no part)", () => {
    const { store } = fresh();
    for (const r of rows) store.upsert(r);
    store.setContact(rows[0]!.imsi, "10.0.0.2", 5062, T0 + HOUR);
    assert.equal(store.canonicalHash(), sha256(TEXT));
  });

  it("is the same when the store reads the table in several chunks", () => {
    const { store, db } = fresh();
    const many: CanonicalRow[] = [];
    for (let i = 0; i < 25_000; i++) {
      many.push({
        imsi: String(641100000000000 + ((i * 7919) % 25_000)),
        msisdn: `+2567${10_000_000 + i}`,
        name: `n${i}`,
        status: i % 3 ? "active" : "suspended",
      });
    }
    db.transaction(() => {
      for (const r of many) store.upsert(r);
    })();
    assert.equal(store.canonicalHash(), canonicalHashOf(many));
  });
});
