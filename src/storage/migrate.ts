/**
 * Versioned schema migrations, counted by `PRAGMA user_version` (0 for a new database).
 *
 *   user_version = 2, migrations 1..4 → apply 3 in a transaction (user_version = 3), then 4
 *
 * Each migration runs in its own transaction together with the `user_version` bump, so a failing
 * migration leaves the database exactly at the previous version. Migrations are append-only: a
 * released migration is never edited, a fix is a new migration.
 */
import type { Database } from "better-sqlite3";
import { SiteError } from "../core/errors.js";

/** One schema step. `up` is SQL (run with `exec`) or a synchronous function. */
export interface Migration {
  /** 1 for the first migration, then consecutive integers. */
  version: number;
  /** A short human name, used in errors. */
  name: string;
  /** SQL text, or a function doing the work synchronously (it runs inside a transaction). */
  up: string | ((db: Database) => void);
}

/**
 * Checks a migrations list: integer versions 1..N, each exactly once (in any order). Returns the
 * list sorted by version. Throws `storage.migrate` on gaps or duplicates.
 */
export function checkMigrations(migrations: readonly Migration[]): Migration[] {
  const sorted = [...migrations].sort((a, b) => a.version - b.version);
  sorted.forEach((m, i) => {
    if (!Number.isInteger(m.version)) {
      throw new SiteError("storage.migrate", `migration "${m.name}" has a non-integer version ${m.version}`);
    }
    const expected = i + 1;
    if (m.version === sorted[i - 1]?.version) {
      throw new SiteError("storage.migrate", `two migrations have version ${m.version}`, {
        detail: { version: m.version },
      });
    }
    if (m.version !== expected) {
      throw new SiteError(
        "storage.migrate",
        `migration versions must be 1..N without gaps: ${expected} is missing`,
        {
          detail: { missing: expected },
        },
      );
    }
  });
  return sorted;
}

/** The database's schema version (`PRAGMA user_version`). */
export function schemaVersion(db: Database): number {
  return db.pragma("user_version", { simple: true }) as number;
}

/**
 * Brings `db` up to the newest of `migrations`, each pending one in its own transaction, in order.
 * Logs nothing; returns the versions applied (empty when already current). Throws `storage.migrate`
 * for a bad list, for a database newer than the newest migration (a downgrade: the firmware was
 * rolled back), or when a migration fails (that migration is rolled back; earlier ones stay).
 */
export function migrate(db: Database, migrations: readonly Migration[]): number[] {
  const sorted = checkMigrations(migrations);
  const latest = sorted.length;
  const current = schemaVersion(db);
  if (current > latest) {
    throw new SiteError(
      "storage.migrate",
      `database ${db.name} is at schema version ${current} but this firmware knows only up to ${latest}: ` +
        "it was written by a newer firmware; refusing to downgrade",
      { detail: { current, latest } },
    );
  }
  const applied: number[] = [];
  for (const m of sorted.slice(current)) {
    const step = db.transaction(() => {
      if (typeof m.up === "string") {
        db.exec(m.up);
      } else {
        const result: unknown = m.up(db);
        if (result instanceof Promise) {
          result.catch(() => {});
          throw new Error("migration functions must be synchronous (it returned a Promise)");
        }
      }
      db.pragma(`user_version = ${m.version}`);
    });
    try {
      step();
    } catch (err) {
      throw new SiteError(
        "storage.migrate",
        `migration ${m.version} "${m.name}" failed on ${db.name}: ${err instanceof Error ? err.message : String(err)}`,
        { cause: err, detail: { version: m.version } },
      );
    }
    applied.push(m.version);
  }
  return applied;
}
