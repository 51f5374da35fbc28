/**
 * The subscriber cache, `<storage.dir>/subscribers.db`: who is a subscriber of this site (IMSI, number,
 * name, status), where each handset is reachable (the contact the local BTS registered), and the sync
 * version of the core's provisioning side that the table is at. SQLite (WAL, synchronous=FULL: a commit
 * is on disk when `run()` returns); synchronous, like better-sqlite3. docs/subscribers.md has the rules.
 *
 *   core ── subscriber/sync {full|delta} ──► checkSyncRequest ──► one IMMEDIATE transaction:
 *             gap? ─► apply (removals, moves parked, updates, inserts) ─► canonical hash == hash? ─► version
 *             any error inside ─► ROLLBACK: nothing changed
 *   NOC ─── subscriber/upsert, remove, get ─► the same table (outside sync: the next delta's hash tells)
 *   BTS ─── REGISTER (IMSI, ip:port, expiry) ─► setContact ─► contactOf(msisdn) for MESSAGE to a handset
 *
 * The sync, the hash and the core's table only know `imsi, msisdn, name, status`; the contact columns
 * are the site's own and survive every sync of a subscriber that stays.
 */
import { createHash } from "node:crypto";
import { isIP } from "node:net";
import { join } from "node:path";
import { isSiteError, SiteError } from "../core/errors.js";
import { type Database, openDatabase } from "../storage/db.js";
import type { Migration } from "../storage/migrate.js";
import {
  type CheckedSync,
  checkImsi,
  checkMsisdn,
  checkSubscriberInput,
  checkSyncRequest,
  LIST_MAX,
  type SubscriberInput,
  type SubscriberStatus,
  type SyncEntry,
  type SyncRequest,
} from "./validate.js";

export const SUBSCRIBER_DB_FILE = "subscribers.db";

/** Most IMSIs kept in `unknown_registrations`; the least recently seen go first. */
export const UNKNOWN_MAX = 1000;

/** Rows hashed per SQL query (bounds the memory the canonical text takes at once). */
const HASH_CHUNK = 10_000;

/** Now in ms in SQL, for the views: whole seconds, with strftime (not unixepoch()) for older readers. */
const SQL_NOW_MS = "(CAST(strftime('%s','now') AS INTEGER) * 1000)";
const LIVE = `contact_expires > ${SQL_NOW_MS}`;

export const SUBSCRIBER_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: "subscribers, meta, unknown_registrations, OpenBTS views",
    up: `
      CREATE TABLE subscribers (
        imsi TEXT NOT NULL PRIMARY KEY
          CHECK (length(imsi) BETWEEN 14 AND 15 AND imsi NOT GLOB '*[^0-9]*'),
        msisdn TEXT NOT NULL UNIQUE,
        name TEXT NOT NULL DEFAULT '',
        status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active','suspended')),
        contact_ip TEXT,
        contact_port INTEGER,
        contact_expires INTEGER,
        registered_at INTEGER,
        updated_at INTEGER NOT NULL,
        version INTEGER
      ) WITHOUT ROWID;
      -- version: the sync version the table is at (0: never synced); times in ms since the epoch.
      CREATE TABLE meta (key TEXT NOT NULL PRIMARY KEY, value INTEGER);
      INSERT INTO meta (key, value) VALUES ('version', 0), ('last_sync_at', NULL), ('last_full_sync_at', NULL);
      -- Handsets the BTS registered whose IMSI is not (yet) a subscriber: shown to the operator, and
      -- their contact is taken over when the IMSI is provisioned while it is still valid.
      CREATE TABLE unknown_registrations (
        imsi TEXT NOT NULL PRIMARY KEY,
        contact_ip TEXT NOT NULL,
        contact_port INTEGER NOT NULL,
        contact_expires INTEGER NOT NULL,
        first_seen INTEGER NOT NULL,
        last_seen INTEGER NOT NULL,
        registrations INTEGER NOT NULL DEFAULT 1
      );
      CREATE INDEX unknown_last_seen ON unknown_registrations(last_seen);
      -- Read-only views in the shape of OpenBTS's subscriber registry (sqlite3 table sip_buddies and
      -- dialdata_table), for tools written against it. Columns and how they are read, from
      -- RangeNetworks/subscriberRegistry, SubscriberRegistry.cpp: createSBTable (the schema), imsiGet()
      -- and getRegistrationIP() (ipaddr, port, ... WHERE username or name = 'IMSI' || imsi),
      -- getCLIDLocal() (callerid: the number in digits), setRegTime() (regTime: Unix seconds), addUser()
      -- (type friend, context phones, host dynamic, allow gsm, dtmfmode info, canreinvite no) and
      -- getIMSI() (dialdata_table: exten -> dial). Only active subscribers appear: a suspended one looks
      -- unprovisioned to OpenBTS. ipaddr/port are NULL unless the contact is still valid. The site keeps
      -- no Ki: ki, kc, rand and sres are ''.
      -- Lookups through the views by SIP name or by number digits use these instead of a scan.
      CREATE INDEX subscribers_sip_name ON subscribers('IMSI' || imsi);
      CREATE INDEX subscribers_digits ON subscribers(substr(msisdn, 2));
      CREATE VIEW sip_buddies AS
        SELECT CAST(imsi AS INTEGER) AS id,
          'IMSI' || imsi AS name,
          'IMSI' || imsi AS username,
          substr(msisdn, 2) AS callerid,
          CASE WHEN ${LIVE} THEN contact_ip END AS ipaddr,
          CASE WHEN ${LIVE} THEN contact_port END AS port,
          CASE WHEN ${LIVE} THEN 'sip:IMSI' || imsi || '@' ||
            CASE WHEN instr(contact_ip, ':') > 0 THEN '[' || contact_ip || ']' ELSE contact_ip END ||
            ':' || contact_port END AS fullcontact,
          COALESCE(registered_at / 1000, 0) AS regTime,
          'friend' AS type,
          'phones' AS context,
          'dynamic' AS host,
          'no' AS nat,
          'gsm' AS allow,
          'all' AS disallow,
          'info' AS dtmfmode,
          'no' AS canreinvite,
          '' AS ki,
          '' AS kc,
          '' AS rand,
          '' AS sres,
          NULL AS a3_a8,
          NULL AS hardware,
          0 AS prepaid,
          0 AS account_balance,
          1 AS RRLPSupported
        FROM subscribers WHERE status = 'active';
      CREATE VIEW dialdata_table AS
        SELECT CAST(imsi AS INTEGER) AS id, substr(msisdn, 2) AS exten, 'IMSI' || imsi AS dial
        FROM subscribers WHERE status = 'active';
    `,
  },
];

/** Opens (creating and migrating) `<dir>/subscribers.db`. Throws `storage.open` / `storage.migrate`. */
export function openSubscriberDatabase(dir: string, opts: { readonly?: boolean } = {}): Database {
  return openDatabase(join(dir, SUBSCRIBER_DB_FILE), SUBSCRIBER_MIGRATIONS, opts);
}

// ── records ───────────────────────────────────────────────────────────────────────────────────

/** Where a handset is reachable: the SIP contact the local BTS registered for its IMSI. */
export interface Contact {
  ip: string;
  port: number;
  /** ms since the epoch. */
  expiresAt: number;
}

export interface Subscriber {
  imsi: string;
  /** E.164 with "+". */
  msisdn: string;
  name: string;
  status: SubscriberStatus;
  /** The registered contact while it is valid, else null. */
  contact: Contact | null;
  /** Time of the last REGISTER (kept when the contact expires or is cleared), ms; null: never. */
  registeredAt: number | null;
  /** Last change of imsi/msisdn/name/status, ms. */
  updatedAt: number;
  /** The sync version that last changed the row; null when it was last changed by `upsert` (outside sync). */
  version: number | null;
}

/** {@link SubscriberStore.contactOf}: a valid contact and whose it is. */
export interface ReachableContact extends Contact {
  imsi: string;
  msisdn: string;
  /** A suspended subscriber's handset may be registered: the caller decides what it gets. */
  status: SubscriberStatus;
}

/** {@link SubscriberStore.setContact}: whether the IMSI was a subscriber or went to `unknown_registrations`. */
export type ContactOwner = "subscriber" | "unknown";

export interface UnknownRegistration {
  imsi: string;
  contact: Contact;
  firstSeen: number;
  lastSeen: number;
  /** REGISTERs seen since `firstSeen`. */
  registrations: number;
}

export interface SyncResult {
  version: number;
  count: number;
}

export interface SyncState {
  version: number;
  count: number;
  /** ms since the epoch of the last sync applied (full or delta), null: never. */
  lastSyncAt: number | null;
  lastFullSyncAt: number | null;
}

export interface ListOptions {
  /** Only IMSIs after this one (byte order), for paging; default: from the first. */
  afterImsi?: string;
  /** Default 100, at most {@link LIST_MAX}. */
  limit?: number;
}

interface Row {
  imsi: string;
  msisdn: string;
  name: string;
  status: SubscriberStatus;
  contact_ip: string | null;
  contact_port: number | null;
  contact_expires: number | null;
  registered_at: number | null;
  updated_at: number;
  version: number | null;
}

interface UnknownRow {
  imsi: string;
  contact_ip: string;
  contact_port: number;
  contact_expires: number;
  first_seen: number;
  last_seen: number;
  registrations: number;
}

type Entry = Required<SyncEntry>;

/** The msisdn a row holds while its number moves within one transaction (never committed). */
const PARK = "'moving:' || imsi";

/** True for the errors after which the site asks the core for a full sync (`event/subscriber_resync`). */
export function isResyncError(err: unknown): err is SiteError {
  return isSiteError(err, "sync.gap") || isSiteError(err, "sync.hash");
}

function isUniqueViolation(err: unknown): boolean {
  return (err as { code?: unknown } | null)?.code === "SQLITE_CONSTRAINT_UNIQUE";
}

export class SubscriberStore {
  private readonly s;
  private readonly now: () => number;

  /** `now`: ms since the epoch, injectable for tests (contact expiry, `updated_at`). */
  constructor(
    readonly db: Database,
    opts: { now?: () => number } = {},
  ) {
    this.now = opts.now ?? Date.now;
    const p = (sql: string) => db.prepare(sql);
    this.s = {
      byImsi: p("SELECT * FROM subscribers WHERE imsi = ?"),
      byMsisdn: p("SELECT * FROM subscribers WHERE msisdn = ?"),
      contactOf: p(`SELECT imsi, msisdn, status, contact_ip, contact_port, contact_expires FROM subscribers
        WHERE msisdn = ? AND contact_expires > ?`),
      syncRow: p("SELECT msisdn, name, status FROM subscribers WHERE imsi = ?").raw(),
      allRows: p("SELECT imsi, msisdn, name, status FROM subscribers").raw(),
      insert: p(`INSERT INTO subscribers (imsi, msisdn, name, status, updated_at, version)
        VALUES (?, ?, ?, ?, ?, ?)`),
      update: p(`UPDATE subscribers SET msisdn = ?, name = ?, status = ?, updated_at = ?, version = ?
        WHERE imsi = ?`),
      park: p(`UPDATE subscribers SET msisdn = ${PARK} WHERE imsi = ?`),
      remove: p("DELETE FROM subscribers WHERE imsi = ?"),
      count: p("SELECT count(*) FROM subscribers").pluck(),
      list: p("SELECT * FROM subscribers WHERE imsi > ? ORDER BY imsi LIMIT ?"),
      hashChunk: p(`SELECT group_concat(imsi || ',' || msisdn || ',' || name || ',' || status, char(10)
          ORDER BY imsi) AS text, max(imsi) AS last, count(*) AS n
        FROM (SELECT imsi, msisdn, name, status FROM subscribers WHERE imsi > ? ORDER BY imsi LIMIT ?)`),
      meta: p("SELECT value FROM meta WHERE key = ?").pluck(),
      setMeta: p("UPDATE meta SET value = ? WHERE key = ?"),
      setContact: p(`UPDATE subscribers SET contact_ip = ?, contact_port = ?, contact_expires = ?,
        registered_at = ? WHERE imsi = ?`),
      clearContact: p(`UPDATE subscribers SET contact_ip = NULL, contact_port = NULL, contact_expires = NULL
        WHERE imsi = ? AND contact_ip IS NOT NULL`),
      unknownUpsert: p(`INSERT INTO unknown_registrations
          (imsi, contact_ip, contact_port, contact_expires, first_seen, last_seen)
        VALUES (@imsi, @ip, @port, @expires, @now, @now)
        ON CONFLICT (imsi) DO UPDATE SET contact_ip = excluded.contact_ip, contact_port = excluded.contact_port,
          contact_expires = excluded.contact_expires, last_seen = excluded.last_seen,
          registrations = registrations + 1`),
      unknownTrim: p(`DELETE FROM unknown_registrations WHERE imsi IN
        (SELECT imsi FROM unknown_registrations ORDER BY last_seen DESC LIMIT -1 OFFSET ?)`),
      unknownDelete: p("DELETE FROM unknown_registrations WHERE imsi = ?"),
      unknownList: p("SELECT * FROM unknown_registrations ORDER BY last_seen DESC, imsi LIMIT ?"),
      unknownPrune: p("DELETE FROM unknown_registrations WHERE last_seen < ?"),
      // A provisioned IMSI takes over the contact it registered while unknown, if still valid.
      adoptUnknown: p(`UPDATE subscribers SET (contact_ip, contact_port, contact_expires, registered_at) =
          (SELECT contact_ip, contact_port, contact_expires, last_seen FROM unknown_registrations u
            WHERE u.imsi = subscribers.imsi)
        WHERE imsi IN (SELECT imsi FROM unknown_registrations WHERE contact_expires > ?)`),
      forgetAdopted: p(`DELETE FROM unknown_registrations
        WHERE EXISTS (SELECT 1 FROM subscribers s WHERE s.imsi = unknown_registrations.imsi)`),
    };
  }

  // ── lookups (hot path: one prepared statement each) ──────────────────────────────────────────

  /** The subscriber with this IMSI, or undefined (no validation: anything else is simply not found). */
  byImsi(imsi: string): Subscriber | undefined {
    const r = this.s.byImsi.get(imsi) as Row | undefined;
    return r && this.toSubscriber(r);
  }

  /** The subscriber with this number (E.164 with "+"), or undefined. */
  byMsisdn(msisdn: string): Subscriber | undefined {
    const r = this.s.byMsisdn.get(msisdn) as Row | undefined;
    return r && this.toSubscriber(r);
  }

  /**
   * Where to send to `msisdn` through the local BTS: the contact registered for its IMSI, when it has
   * not expired; undefined when the number is not a subscriber's or its handset is not registered.
   */
  contactOf(msisdn: string): ReachableContact | undefined {
    const r = this.s.contactOf.get(msisdn, this.now()) as
      | Pick<Row, "imsi" | "msisdn" | "status" | "contact_ip" | "contact_port" | "contact_expires">
      | undefined;
    if (!r || r.contact_ip === null || r.contact_port === null || r.contact_expires === null)
      return undefined;
    return {
      imsi: r.imsi,
      msisdn: r.msisdn,
      status: r.status,
      ip: r.contact_ip,
      port: r.contact_port,
      expiresAt: r.contact_expires,
    };
  }

  /**
   * `subscriber/get`: by `imsi` or by `msisdn` (one of them). Throws `sub.invalid` for a malformed one,
   * `sub.not_found` when there is no such subscriber.
   */
  get(query: { imsi?: unknown; msisdn?: unknown }): Subscriber {
    if (query.imsi !== undefined) {
      const imsi = checkImsi(query.imsi);
      const found = this.byImsi(imsi);
      if (!found)
        throw new SiteError("sub.not_found", `no subscriber with IMSI ${imsi}`, { detail: { imsi } });
      return found;
    }
    if (query.msisdn !== undefined) {
      const msisdn = checkMsisdn(query.msisdn);
      const found = this.byMsisdn(msisdn);
      if (!found) {
        throw new SiteError("sub.not_found", `no subscriber with number ${msisdn}`, { detail: { msisdn } });
      }
      return found;
    }
    throw new SiteError("sub.invalid", "imsi or msisdn: give one of them", { detail: { field: "imsi" } });
  }

  /** Subscribers in IMSI order, after `afterImsi`. */
  list(opts: ListOptions = {}): Subscriber[] {
    const limit = Math.min(Math.max(Math.trunc(opts.limit ?? 100), 1), LIST_MAX);
    return (this.s.list.all(opts.afterImsi ?? "", limit) as Row[]).map((r) => this.toSubscriber(r));
  }

  count(): number {
    return this.s.count.get() as number;
  }

  /** The sync version the table is at (0: never synced). */
  version(): number {
    return this.s.meta.get("version") as number;
  }

  syncState(): SyncState {
    return {
      version: this.version(),
      count: this.count(),
      lastSyncAt: this.s.meta.get("last_sync_at") as number | null,
      lastFullSyncAt: this.s.meta.get("last_full_sync_at") as number | null,
    };
  }

  /**
   * SHA-256 (hex) of the table's canonical text (see canonical.ts): what a sync's `hash` is compared
   * with. Reads the whole table in IMSI order, {@link HASH_CHUNK} rows per query.
   */
  canonicalHash(): string {
    const h = createHash("sha256");
    let after = "";
    let first = true;
    for (;;) {
      const c = this.s.hashChunk.get(after, HASH_CHUNK) as {
        text: string | null;
        last: string | null;
        n: number;
      };
      if (c.n === 0 || c.text === null || c.last === null) break;
      if (!first) h.update("\n");
      h.update(c.text, "utf8");
      first = false;
      after = c.last;
      if (c.n < HASH_CHUNK) break;
    }
    return h.digest("hex");
  }

  // ── NOC commands ────────────────────────────────────────────────────────────────────────────

  /**
   * `subscriber/upsert`: adds or changes one subscriber; returns it as stored. An omitted `name` or
   * `status` keeps the stored one (`''` and `active` for a new IMSI). Throws `sub.invalid` naming the
   * field, also when the number belongs to another IMSI (`detail.imsi`: that one; remove or renumber it
   * first). The sync version does not move: the core is the source of truth, and if it does not make
   * the same change, the next delta's hash differs and a full sync follows.
   */
  upsert(input: SubscriberInput): Subscriber {
    const v = checkSubscriberInput(input);
    const tx = this.db.transaction((): Subscriber => {
      const now = this.now();
      const holder = this.s.byMsisdn.get(v.msisdn) as Row | undefined;
      if (holder && holder.imsi !== v.imsi) {
        throw new SiteError("sub.invalid", `msisdn: ${v.msisdn} already belongs to IMSI ${holder.imsi}`, {
          detail: { field: "msisdn", imsi: holder.imsi },
        });
      }
      const cur = this.s.byImsi.get(v.imsi) as Row | undefined;
      if (cur) {
        const name = v.name ?? cur.name;
        const status = v.status ?? cur.status;
        if (name !== cur.name || status !== cur.status || v.msisdn !== cur.msisdn) {
          this.s.update.run(v.msisdn, name, status, now, null, v.imsi);
        }
      } else {
        this.s.insert.run(v.imsi, v.msisdn, v.name ?? "", v.status ?? "active", now, null);
        this.adoptUnknown(now);
      }
      return this.toSubscriber(this.s.byImsi.get(v.imsi) as Row);
    });
    return tx.immediate();
  }

  /**
   * `subscriber/remove`: deletes the subscriber (its contact with it); returns what was removed.
   * Throws `sub.invalid` for a malformed IMSI, `sub.not_found` for an unknown one.
   */
  remove(imsi: string): Subscriber {
    checkImsi(imsi);
    const tx = this.db.transaction((): Subscriber => {
      const r = this.s.byImsi.get(imsi) as Row | undefined;
      if (!r) throw new SiteError("sub.not_found", `no subscriber with IMSI ${imsi}`, { detail: { imsi } });
      this.s.remove.run(imsi);
      return this.toSubscriber(r);
    });
    return tx.immediate();
  }

  // ── REGISTER from the local BTS ──────────────────────────────────────────────────────────────

  /**
   * Records that the handset with `imsi` is reachable at `ip`:`port` until `expiresAt` (ms). For a
   * subscriber this is its contact (and `registered_at`); an IMSI that is not a subscriber is recorded
   * in `unknown_registrations` instead (never in the subscriber table: the core's table would no longer
   * hash the same), and its contact is taken over if the IMSI is provisioned before it expires.
   * Throws `sub.invalid` for a malformed IMSI, address or port.
   */
  setContact(imsi: string, ip: string, port: number, expiresAt: number): ContactOwner {
    checkImsi(imsi);
    if (typeof ip !== "string" || isIP(ip) === 0) {
      throw new SiteError("sub.invalid", `ip: must be an IPv4 or IPv6 address, got ${JSON.stringify(ip)}`, {
        detail: { field: "ip" },
      });
    }
    if (!Number.isInteger(port) || port < 1 || port > 65535) {
      throw new SiteError("sub.invalid", `port: must be an integer 1-65535, got ${JSON.stringify(port)}`, {
        detail: { field: "port" },
      });
    }
    if (!Number.isSafeInteger(expiresAt)) {
      throw new SiteError("sub.invalid", "expiresAt: must be a time in ms since the epoch", {
        detail: { field: "expiresAt" },
      });
    }
    const tx = this.db.transaction((): ContactOwner => {
      const now = this.now();
      if (this.s.setContact.run(ip, port, expiresAt, now, imsi).changes > 0) return "subscriber";
      this.s.unknownUpsert.run({ imsi, ip, port, expires: expiresAt, now });
      this.s.unknownTrim.run(UNKNOWN_MAX);
      return "unknown";
    });
    return tx.immediate();
  }

  /** Forgets the contact of `imsi` (REGISTER with expiry 0). Returns whether there was one. */
  clearContact(imsi: string): boolean {
    const tx = this.db.transaction(
      () => this.s.clearContact.run(imsi).changes + this.s.unknownDelete.run(imsi).changes > 0,
    );
    return tx.immediate();
  }

  /** Handsets registered by IMSIs that are not subscribers, most recently seen first. */
  unknownRegistrations(limit = 100): UnknownRegistration[] {
    const n = Math.min(Math.max(Math.trunc(limit), 1), UNKNOWN_MAX);
    return (this.s.unknownList.all(n) as UnknownRow[]).map((r) => ({
      imsi: r.imsi,
      contact: { ip: r.contact_ip, port: r.contact_port, expiresAt: r.contact_expires },
      firstSeen: r.first_seen,
      lastSeen: r.last_seen,
      registrations: r.registrations,
    }));
  }

  /** Forgets unknown IMSIs last seen before `before` (ms). Returns how many went. */
  pruneUnknown(before: number): number {
    return this.s.unknownPrune.run(before).changes;
  }

  // ── sync from the core ──────────────────────────────────────────────────────────────────────

  /**
   * `subscriber/sync` (contract, section 3), all or nothing:
   * - the request is checked whole first: `sync.invalid` naming the list, index and field;
   * - delta: `from_version` must be the site's version, else `sync.gap`; then its upserts and its
   *   `removed` (an IMSI in both ends removed); only `removed` deletes;
   * - full: the table becomes exactly `subscribers`; rows that stay keep their contact;
   * - then the canonical hash of the table must equal `hash`, else `sync.hash`.
   * On any error the transaction rolls back: nothing changed. `sync.gap` and `sync.hash` carry
   * `detail.version` (the site's version, unchanged) for `event/subscriber_resync` ({@link isResyncError}).
   * A number may move from one IMSI to another (or two may swap) within one sync.
   */
  applySync(req: SyncRequest): SyncResult {
    const plan = checkSyncRequest(req);
    const tx = this.db.transaction((): SyncResult => {
      const current = this.version();
      if (plan.mode === "delta" && plan.fromVersion !== current) {
        throw new SiteError(
          "sync.gap",
          `delta from version ${plan.fromVersion} but the site is at version ${current}: a full sync is needed`,
          { detail: { version: current, from_version: plan.fromVersion } },
        );
      }
      const now = this.now();
      if (plan.mode === "full") this.applyFull(plan, now);
      else this.applyDelta(plan, now, current);
      this.adoptUnknown(now);
      const hash = this.canonicalHash();
      if (hash !== plan.hash) {
        throw new SiteError(
          "sync.hash",
          `after applying the ${plan.mode} sync to version ${plan.version} the table hashes to ${hash}, ` +
            `not ${plan.hash}: rolled back, the site stays at version ${current}`,
          { detail: { version: current, expected: plan.hash, actual: hash } },
        );
      }
      this.s.setMeta.run(plan.version, "version");
      this.s.setMeta.run(now, "last_sync_at");
      if (plan.mode === "full") this.s.setMeta.run(now, "last_full_sync_at");
      return { version: plan.version, count: this.count() };
    });
    return tx.immediate();
  }

  /**
   * Full: one pass over the table (iterated, not loaded whole) decides each row's fate: delete, keep,
   * or update (a row whose number changes is parked on a placeholder first); then those writes, then
   * the new rows. Deletes and parking come before any number is written, so no UNIQUE(msisdn) conflict
   * can arise (the request's numbers are distinct: checked). Rows that do not change are not written.
   */
  private applyFull(plan: CheckedSync, now: number): void {
    const s = this.s;
    // Left in `fresh` after the pass: IMSIs the table does not have yet.
    const fresh = new Map<string, Entry>();
    for (const e of plan.subscribers) fresh.set(e.imsi, e);
    const gone: string[] = [];
    const moved: string[] = [];
    const changed: Entry[] = [];
    for (const [imsi, msisdn, name, status] of s.allRows.iterate() as IterableIterator<
      [string, string, string, string]
    >) {
      const e = fresh.get(imsi);
      if (!e) {
        gone.push(imsi);
        continue;
      }
      fresh.delete(imsi);
      if (e.msisdn !== msisdn) {
        moved.push(imsi);
        changed.push(e);
      } else if (e.name !== name || e.status !== status) {
        changed.push(e);
      }
    }
    for (const imsi of gone) s.remove.run(imsi);
    for (const imsi of moved) s.park.run(imsi);
    for (const e of changed) s.update.run(e.msisdn, e.name, e.status, now, plan.version, e.imsi);
    for (const e of fresh.values()) s.insert.run(e.imsi, e.msisdn, e.name, e.status, now, plan.version);
  }

  /**
   * Delta: removals first (same end state as "upserts then removals", and the numbers they held are
   * free), rows whose number changes parked, then updates and inserts. A number still held by an IMSI
   * the delta leaves alone means the site's table is not the core's: `sync.hash`.
   */
  private applyDelta(plan: CheckedSync, now: number, current: number): void {
    const s = this.s;
    const removed = new Set(plan.removed);
    for (const imsi of removed) s.remove.run(imsi);
    const writes: { e: Entry; insert: boolean }[] = [];
    for (const e of plan.subscribers) {
      if (removed.has(e.imsi)) continue;
      const cur = s.syncRow.get(e.imsi) as [string, string, string] | undefined;
      if (!cur) {
        writes.push({ e, insert: true });
      } else if (cur[0] !== e.msisdn) {
        s.park.run(e.imsi);
        writes.push({ e, insert: false });
      } else if (cur[1] !== e.name || cur[2] !== e.status) {
        writes.push({ e, insert: false });
      }
    }
    for (const { e, insert } of writes) {
      try {
        if (insert) s.insert.run(e.imsi, e.msisdn, e.name, e.status, now, plan.version);
        else s.update.run(e.msisdn, e.name, e.status, now, plan.version, e.imsi);
      } catch (err) {
        if (!isUniqueViolation(err)) throw err;
        const holder = (s.byMsisdn.get(e.msisdn) as Row | undefined)?.imsi;
        throw new SiteError(
          "sync.hash",
          `${e.msisdn} (for IMSI ${e.imsi}) is still the number of IMSI ${holder}, which this delta leaves ` +
            `as it is: the site's table differs from the core's; rolled back, the site stays at version ${current}`,
          { cause: err, detail: { version: current, msisdn: e.msisdn, imsi: e.imsi, holder } },
        );
      }
    }
  }

  private adoptUnknown(now: number): void {
    this.s.adoptUnknown.run(now);
    this.s.forgetAdopted.run();
  }

  private toSubscriber(r: Row): Subscriber {
    const live =
      r.contact_ip !== null &&
      r.contact_port !== null &&
      r.contact_expires !== null &&
      r.contact_expires > this.now();
    return {
      imsi: r.imsi,
      msisdn: r.msisdn,
      name: r.name,
      status: r.status,
      contact: live ? { ip: r.contact_ip!, port: r.contact_port!, expiresAt: r.contact_expires! } : null,
      registeredAt: r.registered_at,
      updatedAt: r.updated_at,
      version: r.version,
    };
  }
}
