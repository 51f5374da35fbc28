import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { after, beforeEach, describe, it } from "node:test";
import { encodeDeliver, encodeStatusReport, splitDeliverText } from "../../src/sim/network.js";
import { decodePdu } from "../../src/sms/pdu/deliver.js";
import {
  type IncomingPart,
  missingPartMarker,
  type NewOutgoing,
  type OutState,
  openSmsDatabase,
  SMS_DB_FILE,
  SmsStore,
} from "../../src/sms/store.js";
import type { Database } from "../../src/storage/db.js";
import { tempDir } from "../helpers/fleetHarness.js";

const T0 = 1_700_000_000_000;
const SCTS = "2024-05-01T10:00:00+00:00";
const ALICE = "+256772000001";
const BOB = "+256772000002";

const cleanups: (() => void)[] = [];
const open: Database[] = [];
after(() => {
  for (const db of open) if (db.open) db.close();
  for (const c of cleanups) c();
});

function fresh(): { store: SmsStore; db: Database; dir: string } {
  const { dir, cleanup } = tempDir("smsstore");
  cleanups.push(cleanup);
  const db = openSmsDatabase(dir);
  open.push(db);
  return { store: new SmsStore(db), db, dir };
}

let n = 0;
function out(over: Partial<NewOutgoing> & { partCount?: number } = {}): NewOutgoing {
  n++;
  const { partCount = 1, ...rest } = over;
  return {
    id: `OUT${String(n).padStart(4, "0")}`,
    source: "sip",
    to: "+256772123456",
    text: "hello",
    network: "local",
    encoding: "gsm7",
    truncated: false,
    statusReport: true,
    parts: Array.from({ length: partCount }, (_, i) => ({ pdu: `00410${n}${i}`, tpduLength: 20 + i })),
    createdAt: T0,
    expiresAt: T0 + 3_600_000,
    ...rest,
  };
}

function insertOne(store: SmsStore, over: Partial<NewOutgoing> & { partCount?: number } = {}): number {
  const [r] = store.insertOutgoing([out(over)]);
  assert.ok(r);
  return r.seq;
}

function count(db: Database, table: string): number {
  return (db.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number }).n;
}

function msg(store: SmsStore, seq: number) {
  const m = store.messageBySeq(seq);
  assert.ok(m, `message ${seq} exists`);
  return m;
}

/** Hands and sends every listed part through `modem`, TP-MR `mr + part - 1`, at T0 + part. */
function sendParts(store: SmsStore, seq: number, parts: number[], modem: string, mr: number): OutState {
  let state: OutState = "queued";
  for (const p of parts) {
    store.markHanded(seq, p, modem, T0 + p);
    state = store.markSent(seq, p, mr + p - 1, T0 + p);
  }
  return state;
}

/** A status report as the service applies it: decoded from a real SMS-STATUS-REPORT PDU. */
function report(mr: number, status: number) {
  const d = decodePdu(
    encodeStatusReport({ mr, recipient: "+256772123456", scts: SCTS, discharge: SCTS, status }),
  );
  assert.equal(d.kind, "status_report");
  if (d.kind !== "status_report") throw new Error("unreachable");
  return { delivered: d.delivered, failed: d.failed, status: d.status, text: d.statusText };
}

/** The fields of an applyReport answer these tests are about. */
function applied(r: ReturnType<SmsStore["applyReport"]>) {
  return r && { seq: r.seq, part: r.part, messageState: r.messageState, changed: r.changed };
}

/** A received PDU as the service stores it (decoded when it decodes, else kept raw with the error). */
function incoming(pdu: string, receivedAt = T0, modem = "m1"): IncomingPart {
  try {
    const d = decodePdu(pdu);
    if (d.kind !== "deliver") return { modem, pdu, receivedAt, error: "not an SMS-DELIVER" };
    return {
      modem,
      pdu,
      receivedAt,
      decoded: {
        from: d.from,
        scts: d.timestamp,
        text: d.text,
        ref: d.concat ? d.concat.ref + (d.concat.refBits === 16 ? 0x10000 : 0) : -1,
        total: d.concat ? d.concat.total : 1,
        seq: d.concat ? d.concat.seq : 1,
      },
    };
  } catch (err) {
    return { modem, pdu, receivedAt, error: err instanceof Error ? err.message : String(err) };
  }
}

let ids = 0;
const newId = () => `IN${String(++ids).padStart(4, "0")}`;

/** A text long enough for three GSM 7-bit parts (153 + 153 + rest). */
const LONG = Array.from({ length: 16 }, (_, i) => `line ${i} of the long one;`).join(" ");

function threeParts(from: string, ref: number, text = LONG): string[] {
  const parts = splitDeliverText(from, text, { ref, timestamp: SCTS });
  assert.equal(parts.length, 3);
  return parts;
}

// ── database ────────────────────────────────────────────────────────────────────────────────────

describe("openSmsDatabase", () => {
  it("creates <dir>/sms.db in WAL mode with synchronous=FULL", () => {
    const { db, dir } = fresh();
    assert.equal(SMS_DB_FILE, "sms.db");
    assert.ok(existsSync(join(dir, "sms.db")));
    assert.equal(db.pragma("journal_mode", { simple: true }), "wal");
    assert.equal(db.pragma("synchronous", { simple: true }), 2);
  });

  it("keeps queue and inbox across a close and reopen", () => {
    const { db, store, dir } = fresh();
    const seq = insertOne(store, { partCount: 2, sourceRef: "call-1", origin: { user: "alice" } });
    sendParts(store, seq, [1], "m1", 40);
    const parts = threeParts(ALICE, 9);
    store.storeIncoming(incoming(parts[0]!), newId, "+256700000000");
    const whole = store.storeIncoming(
      incoming(encodeDeliver({ from: BOB, text: "hi", timestamp: SCTS })),
      newId,
      null,
    );
    assert.equal(whole.kind, "message");
    const before = msg(store, seq);
    db.close();

    const again = openSmsDatabase(dir);
    open.push(again);
    const store2 = new SmsStore(again);
    assert.deepEqual(msg(store2, seq), before);
    assert.deepEqual(
      store2.openMessages().map((m) => m.seq),
      [seq],
    );
    assert.deepEqual(store2.incomingStats(), { messages: 1, waitingParts: 1, undecodable: 0 });
    if (whole.kind === "message") assert.deepEqual(store2.incoming(whole.message.id), whole.message);
    // The idempotency key and the half-received message survive too.
    const repeat = store2.insertOutgoing([out({ sourceRef: "call-1" })]);
    assert.deepEqual(
      repeat.map((r) => [r.seq, r.existing]),
      [[seq, true]],
    );
    assert.equal(store2.storeIncoming(incoming(parts[1]!), newId, null).kind, "part");
    const r = store2.storeIncoming(incoming(parts[2]!), newId, null);
    assert.equal(r.kind, "message");
    if (r.kind === "message") assert.equal(r.message.text, LONG);
  });
});

// ── outgoing ────────────────────────────────────────────────────────────────────────────────────

describe("SmsStore outgoing", () => {
  let store: SmsStore;
  let db: Database;
  beforeEach(() => {
    ({ store, db } = fresh());
  });

  it("insertOutgoing gives each message its id, an increasing seq and one queued row per part", () => {
    const batch = [out({ partCount: 1 }), out({ partCount: 3, wantModem: "m2" }), out({ partCount: 2 })];
    const r = store.insertOutgoing(batch);
    assert.deepEqual(
      r.map((x) => [x.id, x.existing, x.parts]),
      batch.map((b) => [b.id, false, b.parts.length]),
    );
    assert.ok(r[0]!.seq < r[1]!.seq && r[1]!.seq < r[2]!.seq);
    assert.equal(count(db, "out_parts"), 6);
    const m = store.message(batch[1]!.id);
    assert.ok(m);
    assert.equal(m.seq, r[1]!.seq);
    assert.equal(m.state, "queued");
    assert.equal(m.wantModem, "m2");
    assert.equal(m.nextAt, T0);
    assert.deepEqual(
      m.parts.map((p) => [p.part, p.pdu, p.tpduLength, p.state, p.attempts]),
      batch[1]!.parts.map((p, i) => [i + 1, p.pdu, p.tpduLength, "queued", 0]),
    );
  });

  it("keeps origin (JSON), flags and source reference as given", () => {
    const seq = insertOne(store, {
      sourceRef: "mqtt-7",
      source: "mqtt",
      origin: { topic: "noc/sms", tx: 7 },
      truncated: true,
      statusReport: false,
    });
    const m = msg(store, seq);
    assert.deepEqual(
      [m.source, m.sourceRef, m.origin, m.truncated, m.statusReport, m.wantModem],
      ["mqtt", "mqtt-7", { topic: "noc/sms", tx: 7 }, true, false, null],
    );
  });

  it("a repeated (source, sourceRef) returns the first id and seq with existing:true and adds no row", () => {
    const first = store.insertOutgoing([out({ sourceRef: "call-1", partCount: 2 })])[0]!;
    const again = store.insertOutgoing([out({ sourceRef: "call-1", partCount: 3, text: "other" })])[0]!;
    assert.deepEqual(again, { id: first.id, seq: first.seq, existing: true, parts: 2 });
    assert.equal(count(db, "out_messages"), 1);
    assert.equal(count(db, "out_parts"), 2);
    assert.equal(msg(store, first.seq).text, "hello");
  });

  it("a repeat inside one batch is recognised too", () => {
    const r = store.insertOutgoing([out({ sourceRef: "x" }), out({ sourceRef: "x" })]);
    assert.deepEqual(
      r.map((x) => [x.seq, x.existing]),
      [
        [r[0]!.seq, false],
        [r[0]!.seq, true],
      ],
    );
    assert.equal(count(db, "out_messages"), 1);
  });

  it("the same sourceRef from another source, or no sourceRef at all, is a new message", () => {
    const r = store.insertOutgoing([
      out({ source: "sip", sourceRef: "r" }),
      out({ source: "mqtt", sourceRef: "r" }),
      out(),
      out(),
    ]);
    assert.deepEqual(
      r.map((x) => x.existing),
      [false, false, false, false],
    );
    assert.equal(count(db, "out_messages"), 4);
  });

  it("markHanded → markSent: `sending` until every part is sent, then `sent`", () => {
    const seq = insertOne(store, { partCount: 2 });
    store.markHanded(seq, 1, "m1", T0 + 10);
    let m = msg(store, seq);
    assert.deepEqual([m.state, m.modem, m.boundAt], ["sending", "m1", T0 + 10]);
    assert.deepEqual(
      [m.parts[0]!.state, m.parts[0]!.attempts, m.parts[0]!.modem, m.parts[0]!.handedAt],
      ["sending", 1, "m1", T0 + 10],
    );
    assert.equal(store.markSent(seq, 1, 77, T0 + 11), "sending");
    m = msg(store, seq);
    assert.equal(m.state, "sending");
    assert.deepEqual([m.parts[0]!.state, m.parts[0]!.mr, m.parts[0]!.sentAt], ["sent", 77, T0 + 11]);
    assert.equal(m.parts[1]!.state, "queued");
    store.markHanded(seq, 2, "m1", T0 + 12);
    assert.equal(store.markSent(seq, 2, 78, T0 + 13), "sent");
    m = msg(store, seq);
    assert.deepEqual([m.state, m.doneAt], ["sent", T0 + 13]);
    assert.deepEqual(store.openMessages(), []);
    assert.equal(store.handedSince("m1", T0), 2);
    assert.equal(store.handedSince("m1", T0 + 12), 1);
    assert.equal(store.handedSince("m2", T0), 0);
  });

  it("the message keeps the modem that handed its first part", () => {
    const seq = insertOne(store, { partCount: 2 });
    sendParts(store, seq, [1], "m1", 1);
    store.markHanded(seq, 2, "m2", T0 + 50);
    const m = msg(store, seq);
    assert.deepEqual([m.modem, m.boundAt, m.parts[1]!.modem], ["m1", T0 + 1, "m2"]);
  });

  it("settleHanded makes `sending` parts and their messages `unknown` and leaves queued work alone", () => {
    const handed = insertOne(store);
    const halfHanded = insertOne(store, { partCount: 2 });
    const untouched = insertOne(store);
    const halfSent = insertOne(store, { partCount: 2 });
    store.markHanded(handed, 1, "m1", T0 + 1);
    store.markHanded(halfHanded, 1, "m2", T0 + 1);
    sendParts(store, halfSent, [1], "m1", 5);

    const settled = store.settleHanded("restart", T0 + 100);
    assert.deepEqual(
      settled.sort((a, b) => a - b),
      [handed, halfHanded],
    );
    for (const seq of settled) {
      const m = msg(store, seq);
      assert.deepEqual(
        [m.state, m.errorCode, m.error, m.doneAt],
        ["unknown", "sms.unknown", "restart", T0 + 100],
      );
      assert.deepEqual([m.parts[0]!.state, m.parts[0]!.error], ["unknown", "restart"]);
    }
    assert.equal(msg(store, halfHanded).parts[1]!.state, "queued");
    assert.equal(msg(store, untouched).state, "queued");
    assert.deepEqual(
      msg(store, halfSent).parts.map((p) => p.state),
      ["sent", "queued"],
    );
    assert.deepEqual(
      store.openMessages().map((m) => [m.seq, m.state]),
      [
        [untouched, "queued"],
        [halfSent, "sending"],
      ],
    );
    assert.deepEqual(store.settleHanded("again", T0 + 200), []);
  });

  it("markRetry of a message nothing was sent of: part and message `queued`, unbound, next_at set", () => {
    const seq = insertOne(store);
    store.markHanded(seq, 1, "m1", T0 + 1);
    store.markRetry(seq, 1, T0 + 30_000, "+CMS ERROR: 42");
    const m = msg(store, seq);
    assert.deepEqual(
      [m.state, m.modem, m.boundAt, m.nextAt, m.error],
      ["queued", null, null, T0 + 30_000, "+CMS ERROR: 42"],
    );
    assert.deepEqual(
      [m.parts[0]!.state, m.parts[0]!.attempts, m.parts[0]!.error],
      ["queued", 1, "+CMS ERROR: 42"],
    );
    assert.deepEqual(
      store.openMessages().map((x) => x.seq),
      [seq],
    );
    // The next modem binds it afresh.
    store.markHanded(seq, 1, "m2", T0 + 30_000);
    assert.deepEqual([msg(store, seq).modem, msg(store, seq).parts[0]!.attempts], ["m2", 2]);
  });

  it("markRetry of a half-sent message keeps it `sending` and bound to its modem", () => {
    const seq = insertOne(store, { partCount: 2 });
    sendParts(store, seq, [1], "m1", 9);
    store.markHanded(seq, 2, "m1", T0 + 5);
    store.markRetry(seq, 2, T0 + 60_000, "+CMS ERROR: 38");
    const m = msg(store, seq);
    assert.deepEqual([m.state, m.modem, m.boundAt, m.nextAt], ["sending", "m1", T0 + 1, T0 + 60_000]);
    assert.deepEqual(
      m.parts.map((p) => p.state),
      ["sent", "queued"],
    );
  });

  it("markFailed: the message `failed` with code and error, its unsent parts `failed`, sent parts kept", () => {
    const seq = insertOne(store, { partCount: 3 });
    sendParts(store, seq, [1], "m1", 3);
    store.markHanded(seq, 2, "m1", T0 + 5);
    store.markFailed(seq, "cms.21", "+CMS ERROR: 21", T0 + 6);
    const m = msg(store, seq);
    assert.deepEqual(
      [m.state, m.errorCode, m.error, m.doneAt],
      ["failed", "cms.21", "+CMS ERROR: 21", T0 + 6],
    );
    assert.deepEqual(
      m.parts.map((p) => [p.state, p.error]),
      [
        ["sent", null],
        ["failed", "+CMS ERROR: 21"],
        ["failed", "+CMS ERROR: 21"],
      ],
    );
    assert.deepEqual(store.openMessages(), []);
  });

  it("markUnknown: `unknown`, never offered again", () => {
    const seq = insertOne(store);
    store.markHanded(seq, 1, "m1", T0);
    store.markUnknown(seq, "no answer", T0 + 60_000);
    const m = msg(store, seq);
    assert.deepEqual([m.state, m.errorCode, m.parts[0]!.state], ["unknown", "sms.unknown", "unknown"]);
    assert.deepEqual(store.openMessages(), []);
  });

  it("expire: `expired` with sms.expired, its parts failed, out of the open queue", () => {
    const seq = insertOne(store, { partCount: 2 });
    store.expire(seq, T0 + 3_600_000);
    const m = msg(store, seq);
    assert.deepEqual([m.state, m.errorCode, m.doneAt], ["expired", "sms.expired", T0 + 3_600_000]);
    assert.deepEqual(
      m.parts.map((p) => [p.state, p.error]),
      [
        ["failed", "expired"],
        ["failed", "expired"],
      ],
    );
    assert.deepEqual(store.openMessages(), []);
  });

  it("rebind: every part queued again and unbound, message `queued` from next_at, old TP-MR forgotten", () => {
    const seq = insertOne(store, { partCount: 3 });
    sendParts(store, seq, [1], "m1", 7);
    store.rebind(seq, T0 + 90_000);
    const m = msg(store, seq);
    assert.deepEqual([m.state, m.modem, m.boundAt, m.nextAt], ["queued", null, null, T0 + 90_000]);
    assert.deepEqual(
      m.parts.map((p) => [p.state, p.modem, p.mr, p.handedAt, p.sentAt]),
      [
        ["queued", null, null, null, null],
        ["queued", null, null, null, null],
        ["queued", null, null, null, null],
      ],
    );
    assert.equal(store.applyReport("m1", 7, T0, report(7, 0x00), T0 + 2), undefined);
    assert.deepEqual(
      store.openMessages().map((x) => x.seq),
      [seq],
    );
  });

  it("rebind keeps counting the part the old modem already sent towards its daily cap", () => {
    const seq = insertOne(store, { partCount: 2 });
    sendParts(store, seq, [1], "m1", 7);
    assert.equal(store.handedSince("m1", T0), 1);
    store.rebind(seq, T0 + 90_000);
    assert.equal(store.handedSince("m1", T0), 1);
  });

  it("stats counts messages per state, the pending ones and the oldest pending time", () => {
    assert.deepEqual(store.stats(), {
      byState: { queued: 0, sending: 0, sent: 0, delivered: 0, failed: 0, expired: 0, unknown: 0 },
      pending: 0,
      oldestPendingAt: null,
    });
    const sent = insertOne(store, { createdAt: T0 - 5000 });
    sendParts(store, sent, [1], "m1", 1);
    const failed = insertOne(store, { createdAt: T0 - 4000 });
    store.markFailed(failed, "cms.21", "x", T0);
    const sending = insertOne(store, { partCount: 2, createdAt: T0 + 300 });
    sendParts(store, sending, [1], "m1", 2);
    insertOne(store, { createdAt: T0 + 100 });
    insertOne(store, { createdAt: T0 + 200 });
    assert.deepEqual(store.stats(), {
      byState: { queued: 2, sending: 1, sent: 1, delivered: 0, failed: 1, expired: 0, unknown: 0 },
      pending: 3,
      oldestPendingAt: T0 + 100,
    });
    assert.equal(store.pendingCount(), 3);
  });
});

// ── status reports ──────────────────────────────────────────────────────────────────────────────

describe("SmsStore.applyReport", () => {
  let store: SmsStore;
  let seq: number;
  /** Two parts sent through m1 with TP-MR 10 (at T0+1) and 11 (at T0+2). */
  beforeEach(() => {
    ({ store } = fresh());
    seq = insertOne(store, { partCount: 2 });
    assert.equal(sendParts(store, seq, [1, 2], "m1", 10), "sent");
  });

  it("a pending status (SC still trying) is recorded and changes no state", () => {
    const r = applied(store.applyReport("m1", 10, T0, report(10, 0x21), T0 + 100));
    assert.deepEqual(r, { seq, part: 1, messageState: "sent", changed: false });
    const m = msg(store, seq);
    assert.deepEqual([m.parts[0]!.state, m.parts[0]!.reportStatus], ["sent", 0x21]);
  });

  it("delivered for one part leaves the message `sent`; for every part it becomes `delivered`", () => {
    assert.deepEqual(applied(store.applyReport("m1", 11, T0, report(11, 0x00), T0 + 100)), {
      seq,
      part: 2,
      messageState: "sent",
      changed: false,
    });
    assert.deepEqual(
      msg(store, seq).parts.map((p) => p.state),
      ["sent", "delivered"],
    );
    assert.deepEqual(applied(store.applyReport("m1", 10, T0, report(10, 0x00), T0 + 200)), {
      seq,
      part: 1,
      messageState: "delivered",
      changed: true,
    });
    const m = msg(store, seq);
    assert.deepEqual([m.state, m.doneAt], ["delivered", T0 + 200]);
    // The same report again changes nothing.
    assert.equal(store.applyReport("m1", 10, T0, report(10, 0x00), T0 + 300)?.changed, false);
  });

  it("a failed report fails the message with report.<status> and the SMSC's reason", () => {
    const rep = report(11, 0x41);
    const r = applied(store.applyReport("m1", 11, T0, rep, T0 + 100));
    assert.deepEqual(r, { seq, part: 2, messageState: "failed", changed: true });
    const m = msg(store, seq);
    assert.deepEqual([m.state, m.errorCode, m.error], ["failed", "report.65", rep.text]);
    assert.deepEqual(
      m.parts.map((p) => [p.state, p.reportStatus]),
      [
        ["sent", null],
        ["failed", 0x41],
      ],
    );
    // A later delivered report for the other part does not revive it.
    assert.equal(store.applyReport("m1", 10, T0, report(10, 0x00), T0 + 200)?.messageState, "failed");
    assert.equal(msg(store, seq).state, "failed");
  });

  it("no match for a TP-MR sent before the window, another modem, or an unknown TP-MR", () => {
    assert.equal(store.applyReport("m1", 10, T0 + 2, report(10, 0x00), T0 + 100), undefined);
    assert.equal(store.applyReport("m2", 10, T0, report(10, 0x00), T0 + 100), undefined);
    assert.equal(store.applyReport("m1", 12, T0, report(12, 0x00), T0 + 100), undefined);
    assert.equal(msg(store, seq).parts[0]!.state, "sent");
    // The window is inclusive of its start.
    assert.equal(store.applyReport("m1", 10, T0 + 1, report(10, 0x00), T0 + 100)?.part, 1);
  });

  it("a TP-MR used again by the modem matches the most recent part sent with it", () => {
    const later = insertOne(store);
    store.markHanded(later, 1, "m1", T0 + 5000);
    store.markSent(later, 1, 10, T0 + 5001);
    const r = applied(store.applyReport("m1", 10, T0, report(10, 0x00), T0 + 6000));
    assert.deepEqual(r, { seq: later, part: 1, messageState: "delivered", changed: true });
    assert.equal(msg(store, seq).parts[0]!.state, "sent");
  });

  it("a part delivered before the message's last part is sent counts when the last one goes", () => {
    const half = insertOne(store, { partCount: 2 });
    sendParts(store, half, [1], "m2", 50);
    assert.deepEqual(applied(store.applyReport("m2", 50, T0, report(50, 0x00), T0 + 10)), {
      seq: half,
      part: 1,
      messageState: "sending",
      changed: false,
    });
    store.markHanded(half, 2, "m2", T0 + 20);
    assert.equal(store.markSent(half, 2, 51, T0 + 21), "sent");
    assert.equal(store.applyReport("m2", 51, T0, report(51, 0x00), T0 + 30)?.messageState, "delivered");
  });
  it("a message failed by a report stays failed when its remaining part is handed and sent afterwards", () => {
    const half = insertOne(store, { partCount: 2 });
    sendParts(store, half, [1], "m2", 60);
    assert.equal(store.applyReport("m2", 60, T0, report(60, 0x41), T0 + 10)?.messageState, "failed");
    // The service leaves the job in the scheduler: its second part still goes out.
    store.markHanded(half, 2, "m2", T0 + 20);
    assert.equal(msg(store, half).state, "failed");
    store.markSent(half, 2, 61, T0 + 21);
    const m = msg(store, half);
    assert.deepEqual([m.state, m.errorCode], ["failed", "report.65"]);
    assert.ok(!store.openMessages().some((x) => x.seq === half), "not open again");
  });
});

// ── incoming ────────────────────────────────────────────────────────────────────────────────────

describe("SmsStore incoming", () => {
  let store: SmsStore;
  beforeEach(() => {
    ({ store } = fresh());
  });

  it("a single-part SMS is a message at once, with sender, recipient, SMSC time and text", () => {
    const pdu = encodeDeliver({ from: ALICE, text: "hello there", timestamp: SCTS });
    const r = store.storeIncoming(incoming(pdu, T0 + 5), newId, "+256700000000");
    assert.equal(r.kind, "message");
    if (r.kind !== "message") return;
    const { seq: _seq, id, ...rest } = r.message;
    assert.deepEqual(rest, {
      modem: "m1",
      from: ALICE,
      to: "+256700000000",
      text: "hello there",
      parts: 1,
      missing: 0,
      sentAt: SCTS,
      receivedAt: T0 + 5,
      state: "stored",
    });
    assert.deepEqual(store.incoming(id), r.message);
    assert.deepEqual(store.incomingStats(), { messages: 1, waitingParts: 0, undecodable: 0 });
  });

  it("three parts arriving 3, 1, 2 wait, then make one message with the text in order", () => {
    const [p1, p2, p3] = threeParts(ALICE, 42);
    assert.deepEqual(store.storeIncoming(incoming(p3!, T0), newId, null), { kind: "part", waiting: 2 });
    assert.deepEqual(store.storeIncoming(incoming(p1!, T0 + 1), newId, null), { kind: "part", waiting: 1 });
    assert.equal(store.incomingStats().waitingParts, 2);
    assert.deepEqual(store.incomingAfter(0), []);
    const r = store.storeIncoming(incoming(p2!, T0 + 2), newId, null);
    assert.equal(r.kind, "message");
    if (r.kind !== "message") return;
    assert.deepEqual(
      [r.message.text, r.message.parts, r.message.missing, r.message.from, r.message.receivedAt],
      [LONG, 3, 0, ALICE, T0 + 2],
    );
    assert.deepEqual(store.incomingStats(), { messages: 1, waitingParts: 0, undecodable: 0 });
    assert.deepEqual(
      store.incomingAfter(0).map((m) => m.id),
      [r.message.id],
    );
  });

  it("the same PDU twice is a duplicate, also with another SMSC field or in lower case", () => {
    const pdu = encodeDeliver({ from: ALICE, text: "once", timestamp: SCTS });
    const viaOtherSmsc = encodeDeliver({ from: ALICE, text: "once", timestamp: SCTS, smsc: "+256700000001" });
    assert.notEqual(viaOtherSmsc, pdu);
    assert.equal(store.storeIncoming(incoming(pdu), newId, null).kind, "message");
    assert.deepEqual(store.storeIncoming(incoming(pdu, T0 + 1), newId, null), { kind: "duplicate" });
    assert.deepEqual(store.storeIncoming(incoming(viaOtherSmsc, T0 + 2), newId, null), { kind: "duplicate" });
    assert.deepEqual(store.storeIncoming(incoming(pdu.toLowerCase(), T0 + 3), newId, null), {
      kind: "duplicate",
    });
    assert.equal(store.incomingStats().messages, 1);
  });

  it("a part seen again before its message is complete is a duplicate and does not count twice", () => {
    const [p1, p2, p3] = threeParts(ALICE, 43);
    assert.equal(store.storeIncoming(incoming(p1!), newId, null).kind, "part");
    assert.deepEqual(store.storeIncoming(incoming(p1!), newId, null), { kind: "duplicate" });
    assert.deepEqual(store.storeIncoming(incoming(p2!), newId, null), { kind: "part", waiting: 1 });
    const r = store.storeIncoming(incoming(p3!), newId, null);
    assert.equal(r.kind === "message" && r.message.text, LONG);
  });

  it("a different PDU with the same (originator, SMSC time, reference, total, part) is a duplicate", () => {
    const [p1] = threeParts(ALICE, 44);
    const resend = encodeDeliver({
      from: ALICE,
      text: "resent copy",
      timestamp: SCTS,
      concat: { ref: 44, total: 3, seq: 1 },
      moreMessages: true,
    });
    assert.notEqual(resend, p1);
    assert.equal(store.storeIncoming(incoming(p1!), newId, null).kind, "part");
    assert.deepEqual(store.storeIncoming(incoming(resend, T0 + 1), newId, null), { kind: "duplicate" });
    assert.equal(store.incomingStats().waitingParts, 1);
  });

  it("a late copy of a part of a message already assembled is a duplicate", () => {
    const [p1, p2, p3] = threeParts(ALICE, 45);
    for (const p of [p1!, p2!, p3!]) store.storeIncoming(incoming(p), newId, null);
    const resend = encodeDeliver({
      from: ALICE,
      text: "x",
      timestamp: SCTS,
      concat: { ref: 45, total: 3, seq: 2 },
      moreMessages: true,
    });
    assert.deepEqual(store.storeIncoming(incoming(resend, T0 + 9), newId, null), { kind: "duplicate" });
    assert.deepEqual(store.incomingStats(), { messages: 1, waitingParts: 0, undecodable: 0 });
  });

  it("two different single-part SMS from one sender in the same second are both kept", () => {
    const a = encodeDeliver({ from: ALICE, text: "first", timestamp: SCTS });
    const b = encodeDeliver({ from: ALICE, text: "second", timestamp: SCTS });
    assert.equal(store.storeIncoming(incoming(a), newId, null).kind, "message");
    assert.equal(store.storeIncoming(incoming(b), newId, null).kind, "message");
    assert.deepEqual(
      store.incomingAfter(0).map((m) => m.text),
      ["first", "second"],
    );
  });

  it("an undecodable PDU is kept raw; the same one again is a duplicate", () => {
    // A real SMS-DELIVER cut short: its user data is 2 octets shorter than TP-UDL says.
    const bad = encodeDeliver({ from: ALICE, text: "hello there", timestamp: SCTS }).slice(0, -4);
    const p = incoming(bad);
    assert.ok(p.error && !p.decoded, "the fixture must not decode");
    assert.deepEqual(store.storeIncoming(p, newId, null), { kind: "undecodable" });
    assert.deepEqual(store.storeIncoming(incoming(bad, T0 + 1), newId, null), { kind: "duplicate" });
    assert.deepEqual(store.incomingStats(), { messages: 0, waitingParts: 0, undecodable: 1 });
    const garbage = incoming("ZZ-not-hex");
    assert.deepEqual(store.storeIncoming(garbage, newId, null), { kind: "undecodable" });
    assert.deepEqual(store.storeIncoming(incoming("ZZ-not-hex"), newId, null), { kind: "duplicate" });
    assert.equal(store.incomingStats().undecodable, 2);
  });

  it("assembleStale delivers an incomplete message with a marker for the missing part", () => {
    const [p1, p2, p3] = threeParts(ALICE, 46);
    store.storeIncoming(incoming(p3!, T0 + 10), newId, null);
    store.storeIncoming(incoming(p1!, T0 + 20), newId, null);
    assert.deepEqual(
      store.assembleStale(T0 + 9, newId, () => "+256700000000", T0 + 1000),
      [],
    );
    const got = store.assembleStale(T0 + 10, newId, (modem) => `to-${modem}`, T0 + 2000);
    assert.equal(got.length, 1);
    const m = got[0]!;
    const text1 = (incoming(p1!).decoded ?? assert.fail()).text;
    const text2 = (incoming(p2!).decoded ?? assert.fail()).text;
    const text3 = (incoming(p3!).decoded ?? assert.fail()).text;
    assert.equal(text1 + text2 + text3, LONG);
    assert.deepEqual(
      [m.text, m.parts, m.missing, m.from, m.to, m.receivedAt],
      [text1 + missingPartMarker(2, 3) + text3, 3, 1, ALICE, "to-m1", T0 + 2000],
    );
    assert.equal(missingPartMarker(2, 3), "[part 2 of 3 missing]");
    assert.deepEqual(store.incomingStats(), { messages: 1, waitingParts: 0, undecodable: 0 });
    assert.deepEqual(
      store.assembleStale(T0 + 5000, newId, () => null, T0 + 3000),
      [],
    );
  });

  it("assembleStale marks every missing part, the first one included", () => {
    const [, , p3] = threeParts(ALICE, 47);
    store.storeIncoming(incoming(p3!, T0), newId, null);
    const [m] = store.assembleStale(T0, newId, () => null, T0 + 1);
    assert.ok(m);
    const text3 = (incoming(p3!).decoded ?? assert.fail()).text;
    assert.equal(m.text, missingPartMarker(1, 3) + missingPartMarker(2, 3) + text3);
    assert.equal(m.missing, 2);
  });

  it("parts of different senders with the same reference stay apart", () => {
    const alice = threeParts(ALICE, 7, LONG);
    const bobText = LONG.toUpperCase();
    const bob = threeParts(BOB, 7, bobText);
    assert.equal(store.storeIncoming(incoming(alice[0]!), newId, null).kind, "part");
    assert.equal(store.storeIncoming(incoming(bob[1]!), newId, null).kind, "part");
    assert.equal(store.storeIncoming(incoming(alice[1]!), newId, null).kind, "part");
    assert.equal(store.storeIncoming(incoming(bob[2]!), newId, null).kind, "part");
    const a = store.storeIncoming(incoming(alice[2]!), newId, null);
    assert.equal(a.kind === "message" && a.message.text, LONG);
    const b = store.storeIncoming(incoming(bob[0]!), newId, null);
    assert.equal(b.kind === "message" && `${b.message.from} ${b.message.text}`, `${BOB} ${bobText}`);
  });

  it("the same sender's parts on two modems stay apart", () => {
    const [p1, p2] = threeParts(ALICE, 8);
    store.storeIncoming(incoming(p1!, T0, "m1"), newId, null);
    assert.deepEqual(store.storeIncoming(incoming(p2!, T0, "m2"), newId, null), { kind: "part", waiting: 2 });
  });

  it("setIncomingState records what became of a received message", () => {
    const r = store.storeIncoming(
      incoming(encodeDeliver({ from: ALICE, text: "x", timestamp: SCTS })),
      newId,
      null,
    );
    assert.ok(r.kind === "message");
    store.setIncomingState(r.message.id, "forwarded");
    assert.equal(store.incoming(r.message.id)?.state, "forwarded");
  });
});

describe("SmsStore retention", () => {
  it("prune deletes settled and received SMS older than the cut, and keeps open ones and newer ones", () => {
    const { store, db } = fresh();
    const old = insertOne(store);
    sendParts(store, old, [1], "m1", 1);
    const open = insertOne(store);
    const recent = insertOne(store);
    store.markHanded(recent, 1, "m1", T0 + 50_000);
    store.markSent(recent, 1, 2, T0 + 50_000);
    const rx = store.storeIncoming(
      incoming(encodeDeliver({ from: ALICE, text: "old one", timestamp: SCTS }), T0),
      newId,
      null,
    );
    assert.equal(rx.kind, "message");
    const waiting = threeParts(BOB, 3);
    store.storeIncoming(incoming(waiting[0]!, T0), newId, null);
    const gone = store.prune(T0 + 10_000);
    assert.equal(gone, 3, "the old sent message, the old received part and the old received message");
    assert.equal(store.messageBySeq(old), undefined);
    assert.equal(count(db, "out_parts"), 2, "the parts of the old message went with it");
    assert.equal(msg(store, open).state, "queued");
    assert.equal(msg(store, recent).state, "sent");
    assert.equal(store.incomingStats().messages, 0);
    assert.equal(store.incomingStats().waitingParts, 1, "a part still waiting for the rest is kept");
  });
});
