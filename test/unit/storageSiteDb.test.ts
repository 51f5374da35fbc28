import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, beforeEach, describe, test } from "node:test";
import type { Database } from "../../src/storage/db.js";
import { schemaVersion } from "../../src/storage/migrate.js";
import { ModemRegistry, openSiteDatabase, pinHash, SITE_MIGRATIONS } from "../../src/storage/siteDb.js";

const dirs: string[] = [];
const open: Database[] = [];
after(() => {
  for (const db of open) if (db.open) db.close();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function freshRegistry(): { db: Database; registry: ModemRegistry; dir: string } {
  const dir = mkdtempSync(join(tmpdir(), "bts-sitedb-"));
  dirs.push(dir);
  const db = openSiteDatabase(dir);
  open.push(db);
  return { db, registry: new ModemRegistry(db), dir };
}

const IMEI = "866123456789012";
const T0 = 1_700_000_000_000;

describe("openSiteDatabase", () => {
  test("creates site.db at the newest schema version with the modem and NOC link tables", () => {
    const { db, dir } = freshRegistry();
    assert.ok(existsSync(join(dir, "site.db")));
    assert.equal(schemaVersion(db), SITE_MIGRATIONS.length);
    const names = (
      db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as {
        name: string;
      }[]
    ).map((r) => r.name);
    assert.deepEqual(
      names.filter((n) => n !== "sqlite_sequence"),
      ["events", "meta", "modem_counters", "modems", "pin_attempts", "transactions"],
    );
  });

  test("keeps its data across a reopen without migrating again", () => {
    const { db, registry, dir } = freshRegistry();
    registry.upsertSeen({ id: "m1", imei: IMEI, port: "/dev/ttyUSB2", at: T0 });
    db.close();
    const again = openSiteDatabase(dir);
    open.push(again);
    assert.equal(schemaVersion(again), SITE_MIGRATIONS.length);
    assert.equal(new ModemRegistry(again).byImei(IMEI)?.id, "m1");
  });

  test("refuses a PIN verdict other than accepted or rejected at the schema level", () => {
    const { db } = freshRegistry();
    assert.throws(
      () => db.prepare("INSERT INTO pin_attempts VALUES ('i', 'h', NULL, 'maybe', 0)").run(),
      /CHECK constraint/,
    );
  });
});

describe("ModemRegistry", () => {
  let registry: ModemRegistry;
  let db: Database;
  beforeEach(() => {
    ({ registry, db } = freshRegistry());
  });

  test("records a new modem with its identity, port and first sighting", () => {
    const record = registry.upsertSeen({
      id: "m1",
      imei: IMEI,
      iccid: "8925610000000000001",
      imsi: "641100000000001",
      manufacturer: "SIMCOM_Ltd",
      model: "SIMCOM_SIM800L",
      firmware: "1418B05SIM800L24",
      port: "/dev/ttyUSB2",
      at: T0,
    });
    assert.deepEqual(record, {
      id: "m1",
      imei: IMEI,
      iccid: "8925610000000000001",
      imsi: "641100000000001",
      manufacturer: "SIMCOM_Ltd",
      model: "SIMCOM_SIM800L",
      firmware: "1418B05SIM800L24",
      lastPort: "/dev/ttyUSB2",
      firstSeen: T0,
      lastSeen: T0,
    });
  });

  test("keeps a replugged modem's id and first sighting when it comes back on another port", () => {
    registry.upsertSeen({ id: "m1", imei: IMEI, iccid: "8925610000000000001", port: "/dev/ttyUSB2", at: T0 });
    const found = registry.byImei(IMEI);
    assert.equal(found?.id, "m1");
    const record = registry.upsertSeen({ id: found!.id, imei: IMEI, port: "/dev/ttyUSB5", at: T0 + 60_000 });
    assert.equal(record.lastPort, "/dev/ttyUSB5");
    assert.equal(record.firstSeen, T0);
    assert.equal(record.lastSeen, T0 + 60_000);
    assert.equal(record.iccid, "8925610000000000001", "an identity field not given is kept");
    assert.equal(registry.all().length, 1);
  });

  test("replaces an identity field that changed, such as the ICCID after a SIM swap", () => {
    registry.upsertSeen({ id: "m1", imei: IMEI, iccid: "8925610000000000001", port: "/dev/ttyUSB2", at: T0 });
    const record = registry.upsertSeen({
      id: "m1",
      imei: IMEI,
      iccid: "8925610000000000002",
      port: "/dev/ttyUSB2",
      at: T0 + 1,
    });
    assert.equal(record.iccid, "8925610000000000002");
  });

  test("leaves fields never reported out of the record", () => {
    const record = registry.upsertSeen({ id: "m2", imei: "1", port: "/dev/ttyACM0", at: T0 });
    assert.deepEqual(Object.keys(record).sort(), ["firstSeen", "id", "imei", "lastPort", "lastSeen"]);
  });

  test("looks modems up by id and by IMEI and lists them by id", () => {
    registry.upsertSeen({ id: "m2", imei: "222", port: "/dev/ttyUSB1", at: T0 });
    registry.upsertSeen({ id: "m1", imei: "111", port: "/dev/ttyUSB0", at: T0 });
    assert.equal(registry.byId("m2")?.imei, "222");
    assert.equal(registry.byImei("111")?.id, "m1");
    assert.equal(registry.byId("m9"), undefined);
    assert.equal(registry.byImei("999"), undefined);
    assert.deepEqual(
      registry.all().map((m) => m.id),
      ["m1", "m2"],
    );
  });

  test("refuses to give one IMEI to two ids", () => {
    registry.upsertSeen({ id: "m1", imei: IMEI, port: "/dev/ttyUSB0", at: T0 });
    assert.throws(
      () => registry.upsertSeen({ id: "m2", imei: IMEI, port: "/dev/ttyUSB1", at: T0 }),
      /UNIQUE/,
    );
  });

  test("remembers a rejected PIN so that it is not tried again", () => {
    assert.equal(registry.pinVerdict(IMEI, "1234"), undefined);
    registry.recordPin(IMEI, "1234", "8925610000000000001", "rejected", T0);
    assert.equal(registry.pinVerdict(IMEI, "1234"), "rejected");
    assert.equal(registry.pinVerdict(IMEI, "0000"), undefined, "another PIN is still untried");
    assert.equal(registry.pinVerdict("866000000000000", "1234"), undefined, "another modem is separate");
  });

  test("replaces a verdict on the same PIN and records accepted ones", () => {
    registry.recordPin(IMEI, "1234", undefined, "rejected", T0);
    registry.recordPin(IMEI, "1234", "8925610000000000001", "accepted", T0 + 1);
    assert.equal(registry.pinVerdict(IMEI, "1234"), "accepted");
    const rows = db.prepare("SELECT * FROM pin_attempts").all();
    assert.equal(rows.length, 1);
  });

  test("stores the sha256 of imei:pin, never the PIN itself", () => {
    registry.recordPin(IMEI, "4321", undefined, "rejected", T0);
    const row = db.prepare("SELECT * FROM pin_attempts").get() as Record<string, unknown>;
    const expected = createHash("sha256").update(`${IMEI}:4321`).digest("hex");
    assert.equal(row.pin_sha256, expected);
    assert.equal(pinHash(IMEI, "4321"), expected);
    assert.ok(!Object.values(row).includes("4321"));
    assert.equal(row.iccid, null);
    assert.equal(row.at, T0);
  });

  test("forgets every PIN verdict of one modem on request", () => {
    registry.recordPin(IMEI, "1111", undefined, "rejected", T0);
    registry.recordPin(IMEI, "2222", undefined, "rejected", T0);
    registry.recordPin("other", "1111", undefined, "rejected", T0);
    assert.equal(registry.clearPinVerdict(IMEI), 2);
    assert.equal(registry.pinVerdict(IMEI, "1111"), undefined);
    assert.equal(registry.pinVerdict("other", "1111"), "rejected");
    assert.equal(registry.clearPinVerdict(IMEI), 0);
  });

  test("counts per modem and returns the new value", () => {
    assert.equal(registry.incrementCounter("m1", "sms_sent"), 1);
    assert.equal(registry.incrementCounter("m1", "sms_sent"), 2);
    assert.equal(registry.incrementCounter("m1", "sms_sent", 5), 7);
    assert.equal(registry.incrementCounter("m1", "resets"), 1);
    assert.equal(registry.incrementCounter("m2", "sms_sent", 3), 3);
    assert.deepEqual(registry.counters("m1"), { resets: 1, sms_sent: 7 });
    assert.deepEqual(registry.counters("m2"), { sms_sent: 3 });
    assert.deepEqual(registry.counters("m3"), {});
  });
});
