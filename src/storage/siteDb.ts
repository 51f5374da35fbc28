/**
 * The site's own database, `<data_dir>/site.db`: the modem registry, PIN verdicts and per-modem
 * counters. Other modules (the SMS store...) keep their own files and migrations.
 *
 * Times are milliseconds since the epoch (`Clock.now()`), stored as INTEGER.
 */
import { createHash } from "node:crypto";
import { join } from "node:path";
import { type Database, openDatabase } from "./db.js";
import type { Migration } from "./migrate.js";

/** The site database's file name inside the data folder. */
export const SITE_DB_FILE = "site.db";

/** The site database's migrations. Append only: never edit a released step, add a new one. */
export const SITE_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: "modems, pin_attempts, modem_counters",
    up: `
      -- One row per physical modem, keyed by a site-assigned id and found again by IMEI, so that a
      -- modem keeps its id when it is replugged and comes back under another tty name.
      CREATE TABLE modems (
        id TEXT NOT NULL PRIMARY KEY,
        imei TEXT UNIQUE,
        iccid TEXT,
        imsi TEXT,
        manufacturer TEXT,
        model TEXT,
        firmware TEXT,
        last_port TEXT,
        first_seen INTEGER,
        last_seen INTEGER
      );
      -- Verdicts on PINs tried, so that a rejected PIN is never tried again automatically, even
      -- across restarts: three wrong PINs lock the SIM (PUK needed).
      CREATE TABLE pin_attempts (
        imei TEXT NOT NULL,
        pin_sha256 TEXT NOT NULL,
        iccid TEXT,
        result TEXT NOT NULL CHECK (result IN ('accepted', 'rejected')),
        at INTEGER NOT NULL,
        PRIMARY KEY (imei, pin_sha256)
      );
      CREATE TABLE modem_counters (
        modem TEXT NOT NULL,
        name TEXT NOT NULL,
        value INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (modem, name)
      );
    `,
  },
  {
    version: 2,
    name: "NOC link: event outbox, request transactions, meta",
    up: `
      -- Events for the NOC (event/<kind>), kept until the broker acknowledged them (src/mqtt/store.ts).
      CREATE TABLE events (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        event_id TEXT NOT NULL UNIQUE,
        kind TEXT NOT NULL,
        payload TEXT NOT NULL,
        created_at INTEGER NOT NULL
      );
      -- The first answer to each request (command + transaction), for 24 h.
      CREATE TABLE transactions (
        key TEXT PRIMARY KEY,
        response TEXT NOT NULL,
        at INTEGER NOT NULL
      );
      CREATE INDEX transactions_at ON transactions(at);
      -- Small values that must survive a restart (the outbox overflow count, the storage probe).
      CREATE TABLE meta (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL
      );
    `,
  },
];

/** Opens (creating and migrating) `<dir>/site.db`. Throws `storage.open` / `storage.migrate`. */
export function openSiteDatabase(dir: string, opts: { readonly?: boolean } = {}): Database {
  return openDatabase(join(dir, SITE_DB_FILE), SITE_MIGRATIONS, opts);
}

/** What the registry knows about one modem. Absent fields were never reported. */
export interface ModemRecord {
  id: string;
  imei: string;
  iccid?: string;
  imsi?: string;
  manufacturer?: string;
  model?: string;
  firmware?: string;
  /** The serial port it was last seen on, e.g. `/dev/ttyUSB2`. */
  lastPort?: string;
  /** First and last sighting, ms since the epoch. */
  firstSeen?: number;
  lastSeen?: number;
}

/** One sighting of a modem, for {@link ModemRegistry.upsertSeen}. */
export interface ModemSighting {
  id: string;
  imei: string;
  /** Optional identity fields: undefined keeps the stored value, a string replaces it. */
  iccid?: string;
  imsi?: string;
  manufacturer?: string;
  model?: string;
  firmware?: string;
  /** The port it is on now. */
  port: string;
  /** When, in ms since the epoch. */
  at: number;
}

/** A PIN verdict as stored. */
export type PinResult = "accepted" | "rejected";

interface ModemRow {
  id: string;
  imei: string | null;
  iccid: string | null;
  imsi: string | null;
  manufacturer: string | null;
  model: string | null;
  firmware: string | null;
  last_port: string | null;
  first_seen: number | null;
  last_seen: number | null;
}

/** The hash stored instead of a PIN: hex sha256 of `${imei}:${pin}`. */
export function pinHash(imei: string, pin: string): string {
  return createHash("sha256").update(`${imei}:${pin}`).digest("hex");
}

/**
 * Typed access to the modem registry, PIN verdicts and counters of an open site database. The
 * constructor prepares its statements (the schema must already be migrated); methods are synchronous.
 */
export class ModemRegistry {
  private readonly upsertStmt;
  private readonly byImeiStmt;
  private readonly byIdStmt;
  private readonly allStmt;
  private readonly pinVerdictStmt;
  private readonly recordPinStmt;
  private readonly clearPinStmt;
  private readonly incrementStmt;
  private readonly countersStmt;

  constructor(db: Database) {
    this.upsertStmt = db.prepare<[ModemRow]>(`
      INSERT INTO modems (id, imei, iccid, imsi, manufacturer, model, firmware, last_port, first_seen, last_seen)
      VALUES (@id, @imei, @iccid, @imsi, @manufacturer, @model, @firmware, @last_port, @first_seen, @last_seen)
      ON CONFLICT (id) DO UPDATE SET
        imei = excluded.imei,
        iccid = coalesce(excluded.iccid, modems.iccid),
        imsi = coalesce(excluded.imsi, modems.imsi),
        manufacturer = coalesce(excluded.manufacturer, modems.manufacturer),
        model = coalesce(excluded.model, modems.model),
        firmware = coalesce(excluded.firmware, modems.firmware),
        last_port = excluded.last_port,
        first_seen = coalesce(modems.first_seen, excluded.first_seen),
        last_seen = excluded.last_seen`);
    this.byImeiStmt = db.prepare<[string], ModemRow>("SELECT * FROM modems WHERE imei = ?");
    this.byIdStmt = db.prepare<[string], ModemRow>("SELECT * FROM modems WHERE id = ?");
    this.allStmt = db.prepare<[], ModemRow>("SELECT * FROM modems ORDER BY id");
    this.pinVerdictStmt = db.prepare<[string, string], { result: PinResult }>(
      "SELECT result FROM pin_attempts WHERE imei = ? AND pin_sha256 = ?",
    );
    this.recordPinStmt = db.prepare<[string, string, string | null, PinResult, number]>(`
      INSERT INTO pin_attempts (imei, pin_sha256, iccid, result, at) VALUES (?, ?, ?, ?, ?)
      ON CONFLICT (imei, pin_sha256) DO UPDATE SET iccid = excluded.iccid, result = excluded.result, at = excluded.at`);
    this.clearPinStmt = db.prepare<[string]>("DELETE FROM pin_attempts WHERE imei = ?");
    this.incrementStmt = db.prepare<[string, string, number], { value: number }>(`
      INSERT INTO modem_counters (modem, name, value) VALUES (?, ?, ?)
      ON CONFLICT (modem, name) DO UPDATE SET value = value + excluded.value
      RETURNING value`);
    this.countersStmt = db.prepare<[string], { name: string; value: number }>(
      "SELECT name, value FROM modem_counters WHERE modem = ? ORDER BY name",
    );
  }

  /**
   * Records that modem `id` (IMEI `imei`) was seen on `port` at `at`: inserts it, or updates the
   * port, last sighting and any identity field given (first_seen is kept). Returns the stored record.
   * Throws SQLite's SQLITE_CONSTRAINT_UNIQUE if another id already has this IMEI: look the IMEI up
   * with {@link byImei} first to reuse its id.
   */
  upsertSeen(sighting: ModemSighting): ModemRecord {
    this.upsertStmt.run({
      id: sighting.id,
      imei: sighting.imei,
      iccid: sighting.iccid ?? null,
      imsi: sighting.imsi ?? null,
      manufacturer: sighting.manufacturer ?? null,
      model: sighting.model ?? null,
      firmware: sighting.firmware ?? null,
      last_port: sighting.port,
      first_seen: sighting.at,
      last_seen: sighting.at,
    });
    return this.byId(sighting.id)!;
  }

  /** The modem with this IMEI, if known. */
  byImei(imei: string): ModemRecord | undefined {
    const row = this.byImeiStmt.get(imei);
    return row ? toRecord(row) : undefined;
  }

  /** The modem with this id, if known. */
  byId(id: string): ModemRecord | undefined {
    const row = this.byIdStmt.get(id);
    return row ? toRecord(row) : undefined;
  }

  /** Every known modem, by id. */
  all(): ModemRecord[] {
    return this.allStmt.all().map(toRecord);
  }

  /** The stored verdict on `pin` for the modem with `imei`, or undefined if it was never tried. */
  pinVerdict(imei: string, pin: string): PinResult | undefined {
    return this.pinVerdictStmt.get(imei, pinHash(imei, pin))?.result;
  }

  /**
   * Stores the verdict on `pin` for `imei` (replacing an earlier one for the same PIN), durably: the
   * row is on disk when this returns. `iccid` is the SIM it was tried on, when known; `at` is ms since the epoch.
   */
  recordPin(imei: string, pin: string, iccid: string | undefined, result: PinResult, at: number): void {
    this.recordPinStmt.run(imei, pinHash(imei, pin), iccid ?? null, result, at);
  }

  /** Forgets every PIN verdict for `imei` (after a SIM swap or a PUK unlock). Returns how many were removed. */
  clearPinVerdict(imei: string): number {
    return this.clearPinStmt.run(imei).changes;
  }

  /** Adds `by` (default 1, may be negative) to counter `name` of `modem`, creating it at 0. Returns the new value. */
  incrementCounter(modem: string, name: string, by = 1): number {
    return this.incrementStmt.get(modem, name, by)!.value;
  }

  /** All counters of `modem`, by name. */
  counters(modem: string): Record<string, number> {
    const out: Record<string, number> = {};
    for (const { name, value } of this.countersStmt.all(modem)) out[name] = value;
    return out;
  }
}

function toRecord(row: ModemRow): ModemRecord {
  const record: ModemRecord = { id: row.id, imei: row.imei ?? "" };
  if (row.iccid !== null) record.iccid = row.iccid;
  if (row.imsi !== null) record.imsi = row.imsi;
  if (row.manufacturer !== null) record.manufacturer = row.manufacturer;
  if (row.model !== null) record.model = row.model;
  if (row.firmware !== null) record.firmware = row.firmware;
  if (row.last_port !== null) record.lastPort = row.last_port;
  if (row.first_seen !== null) record.firstSeen = row.first_seen;
  if (row.last_seen !== null) record.lastSeen = row.last_seen;
  return record;
}
