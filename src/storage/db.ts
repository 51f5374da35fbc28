/**
 * Opening a SQLite database the one way the site does it (better-sqlite3, synchronous API).
 *
 *   mkdir parent → open → journal_mode=WAL (verified) → synchronous=FULL → foreign_keys=ON
 *   → busy_timeout=5000 → migrate()
 *
 * WAL + synchronous=FULL: every commit fsyncs the WAL before `run()` returns, so whatever the site
 * has acknowledged (an SMS accepted from SIP, a PIN verdict) survives a power cut. NORMAL would be
 * faster but may lose the last commits on power loss. WAL also lets a second process (a CLI, the
 * web page) read while the daemon writes. See docs/storage.md.
 */
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import BetterSqlite3 from "better-sqlite3";
import { isSiteError, SiteError } from "../core/errors.js";
import { type Migration, migrate, schemaVersion } from "./migrate.js";

/** An open better-sqlite3 connection. */
export type Database = BetterSqlite3.Database;

/** How long a statement waits for another connection's lock before failing with SQLITE_BUSY, in ms. */
export const BUSY_TIMEOUT_MS = 5000;

/** Options of {@link openDatabase}. */
export interface OpenDatabaseOptions {
  /**
   * Open read-only (default false): no directory is created, the file must exist, no pragma is
   * changed and no migration runs; the schema must already be at the newest version.
   */
  readonly?: boolean;
}

/**
 * Opens (creating it and its parent folder if needed) the SQLite database `file`, applies the
 * pragmas above and the pending `migrations`. Throws `storage.open` (naming the file) when it
 * cannot be opened, is not a database, or cannot use WAL; `storage.migrate` from {@link migrate}.
 */
export function openDatabase(
  file: string,
  migrations: readonly Migration[],
  opts: OpenDatabaseOptions = {},
): Database {
  const readonly = opts.readonly === true;
  if (!readonly) {
    try {
      mkdirSync(dirname(file), { recursive: true });
    } catch (err) {
      throw openError(file, `cannot create its folder ${dirname(file)}`, err);
    }
  }
  let db: Database;
  try {
    db = new BetterSqlite3(file, { readonly, fileMustExist: readonly, timeout: BUSY_TIMEOUT_MS });
  } catch (err) {
    throw openError(file, describeSqliteError(err), err);
  }
  try {
    configure(db, file, readonly);
    if (readonly) {
      checkCurrent(db, file, migrations);
    } else {
      migrate(db, migrations);
    }
    return db;
  } catch (err) {
    db.close();
    if (isSiteError(err)) throw err;
    throw openError(file, describeSqliteError(err), err);
  }
}

function configure(db: Database, file: string, readonly: boolean): void {
  // The first statement is where SQLite actually reads the header: a corrupt file fails here.
  db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
  if (readonly) {
    db.pragma("foreign_keys = ON");
    return;
  }
  const mode = String(db.pragma("journal_mode = WAL", { simple: true })).toLowerCase();
  if (mode !== "wal") {
    // SQLite keeps the old mode instead of failing, e.g. for in-memory databases or on a
    // filesystem without shared-memory support (some network filesystems).
    throw openError(
      file,
      `journal_mode stayed "${mode}" instead of "wal": the database must be a local file on a ` +
        "filesystem that supports WAL (not :memory:, not a network share)",
    );
  }
  db.pragma("synchronous = FULL");
  db.pragma("foreign_keys = ON");
}

function checkCurrent(db: Database, file: string, migrations: readonly Migration[]): void {
  const current = schemaVersion(db);
  const latest = migrations.length === 0 ? 0 : Math.max(...migrations.map((m) => m.version));
  if (current !== latest) {
    throw new SiteError(
      "storage.migrate",
      `${file} is at schema version ${current}, this firmware expects ${latest}; ` +
        "a read-only open cannot migrate it (open it read-write once, e.g. by starting the daemon)",
      { detail: { current, latest } },
    );
  }
}

function openError(file: string, reason: string, cause?: unknown): SiteError {
  const code = (cause as { code?: unknown } | undefined)?.code;
  return new SiteError("storage.open", `cannot open database ${file}: ${reason}`, {
    cause,
    detail: { file, ...(typeof code === "string" ? { sqlite_code: code } : {}) },
  });
}

/** A reason an operator can act on, from SQLite's result code (better-sqlite3 `SqliteError.code`). */
function describeSqliteError(err: unknown): string {
  const code = (err as { code?: unknown } | undefined)?.code;
  const message = err instanceof Error ? err.message : String(err);
  switch (code) {
    case "SQLITE_NOTADB":
      return `it is not a SQLite database (corrupt or overwritten): ${message}`;
    case "SQLITE_CORRUPT":
      return `the database is corrupt: ${message}`;
    case "SQLITE_CANTOPEN":
      return `the file cannot be opened (missing, a directory, or no permission): ${message}`;
    case "SQLITE_READONLY":
      return `the file or its folder is read-only: ${message}`;
    case "SQLITE_PERM":
    case "SQLITE_AUTH":
      return `permission denied: ${message}`;
    case "SQLITE_FULL":
      return `the disk is full: ${message}`;
    default:
      return message;
  }
}
