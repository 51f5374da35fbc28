import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { after, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { isSiteError } from "../../src/core/errors.js";
import { type Database, openDatabase } from "../../src/storage/db.js";
import { checkMigrations, type Migration, migrate, schemaVersion } from "../../src/storage/migrate.js";

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), "bts-db-"));
  dirs.push(d);
  return d;
}

const M1: Migration = {
  version: 1,
  name: "notes",
  up: "CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT)",
};
const M2: Migration = {
  version: 2,
  name: "tags",
  up: "CREATE TABLE tags (note INTEGER REFERENCES notes(id), tag TEXT)",
};

function tables(db: Database): string[] {
  return (
    db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as {
      name: string;
    }[]
  ).map((r) => r.name);
}

describe("openDatabase", () => {
  test("creates the parent folders and really runs in WAL with synchronous FULL", () => {
    const file = join(tempDir(), "a", "b", "x.db");
    const db = openDatabase(file, [M1]);
    try {
      assert.equal(db.pragma("journal_mode", { simple: true }), "wal");
      assert.equal(db.pragma("synchronous", { simple: true }), 2, "2 = FULL");
      assert.equal(db.pragma("foreign_keys", { simple: true }), 1);
      assert.equal(db.pragma("busy_timeout", { simple: true }), 5000);
      assert.ok(existsSync(file));
    } finally {
      db.close();
    }
  });

  test("enforces foreign keys", () => {
    const db = openDatabase(join(tempDir(), "fk.db"), [M1, M2]);
    try {
      assert.throws(() => db.prepare("INSERT INTO tags (note, tag) VALUES (42, 'x')").run(), /FOREIGN KEY/);
    } finally {
      db.close();
    }
  });

  test("applies migrations once and nothing more on reopen", () => {
    const file = join(tempDir(), "once.db");
    let runs = 0;
    const counted: Migration = {
      version: 2,
      name: "counted",
      up: (db) => {
        runs += 1;
        db.exec("CREATE TABLE counted (x)");
      },
    };
    openDatabase(file, [M1, counted]).close();
    const db = openDatabase(file, [M1, counted]);
    try {
      assert.equal(runs, 1);
      assert.equal(schemaVersion(db), 2);
      assert.deepEqual(migrate(db, [M1, counted]), []);
      assert.deepEqual(tables(db), ["counted", "notes"]);
    } finally {
      db.close();
    }
  });

  test("applies only the new migration when the firmware adds one", () => {
    const file = join(tempDir(), "grow.db");
    const first = openDatabase(file, [M1]);
    first.prepare("INSERT INTO notes (text) VALUES ('kept')").run();
    first.close();
    const db = openDatabase(file, [M1, M2]);
    try {
      assert.equal(schemaVersion(db), 2);
      assert.deepEqual(tables(db), ["notes", "tags"]);
      assert.equal((db.prepare("SELECT text FROM notes").get() as { text: string }).text, "kept");
    } finally {
      db.close();
    }
  });

  test("refuses a database written by a newer firmware", () => {
    const file = join(tempDir(), "newer.db");
    openDatabase(file, [M1, M2]).close();
    assert.throws(
      () => openDatabase(file, [M1]),
      (err: unknown) => {
        assert.ok(isSiteError(err, "storage.migrate"));
        assert.match(
          err.message,
          /schema version 2 but this firmware knows only up to 1.*refusing to downgrade/,
        );
        return true;
      },
    );
  });

  test("turns a file that is not a database into storage.open naming the file", () => {
    const file = join(tempDir(), "junk.db");
    writeFileSync(file, "this is certainly not a SQLite database. ".repeat(200));
    assert.throws(
      () => openDatabase(file, [M1]),
      (err: unknown) => {
        assert.ok(isSiteError(err, "storage.open"));
        assert.ok(err.message.includes(file), err.message);
        assert.match(err.message, /not a SQLite database/);
        assert.equal(err.detail.sqlite_code, "SQLITE_NOTADB");
        return true;
      },
    );
  });

  test("turns a directory in place of the file into storage.open", () => {
    const file = join(tempDir(), "dir.db");
    mkdirSync(file);
    assert.throws(
      () => openDatabase(file, [M1]),
      (err: unknown) => isSiteError(err, "storage.open") && err.message.includes(file),
    );
  });

  test("turns an uncreatable parent folder into storage.open", () => {
    const blocker = join(tempDir(), "blocker");
    writeFileSync(blocker, "");
    assert.throws(
      () => openDatabase(join(blocker, "sub", "x.db"), [M1]),
      (err: unknown) => isSiteError(err, "storage.open") && /cannot create its folder/.test(err.message),
    );
  });

  test("turns an unreadable file into storage.open", async () => {
    const dir = tempDir();
    chmodSync(dir, 0o755);
    const file = join(dir, "locked.db");
    openDatabase(file, [M1]).close();
    chmodSync(file, 0o000);
    // Root reads any file, so when the tests run as root the open is tried as user nobody.
    const asRoot = process.getuid?.() === 0;
    const script = `
      const { openDatabase } = await import(${JSON.stringify(join(REPO, "src", "storage", "db.ts"))});
      try { openDatabase(${JSON.stringify(file)}, [{ version: 1, name: "notes", up: "" }]); console.log("{}"); }
      catch (e) { console.log(JSON.stringify({ code: e.code, message: e.message })); }
    `;
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ["--import", "tsx", "--input-type=module", "-e", script],
      { cwd: REPO, ...(asRoot ? { uid: 65534, gid: 65534 } : {}) },
    );
    const result = JSON.parse(stdout) as { code?: string; message?: string };
    assert.equal(result.code, "storage.open");
    assert.ok(result.message?.includes(file), result.message);
  });

  test("refuses an in-memory database, which cannot be WAL", () => {
    assert.throws(
      () => openDatabase(":memory:", [M1]),
      (err: unknown) => isSiteError(err, "storage.open") && /journal_mode stayed "memory"/.test(err.message),
    );
  });

  test("opens read-only without creating anything, and requires the current schema", () => {
    const dir = tempDir();
    const file = join(dir, "ro.db");
    assert.throws(
      () => openDatabase(file, [M1], { readonly: true }),
      (err: unknown) => isSiteError(err, "storage.open"),
    );
    assert.equal(existsSync(file), false);
    openDatabase(file, [M1]).close();
    const ro = openDatabase(file, [M1], { readonly: true });
    try {
      assert.equal(ro.readonly, true);
      assert.throws(() => ro.exec("INSERT INTO notes (text) VALUES ('x')"), /readonly/);
    } finally {
      ro.close();
    }
    assert.throws(
      () => openDatabase(file, [M1, M2], { readonly: true }),
      (err: unknown) => isSiteError(err, "storage.migrate") && /cannot migrate/.test(err.message),
    );
  });
});

describe("migrate", () => {
  test("returns the versions it applied, in order", () => {
    const db = openDatabase(join(tempDir(), "m.db"), []);
    try {
      assert.deepEqual(migrate(db, [M2, M1]), [1, 2]);
      assert.equal(schemaVersion(db), 2);
    } finally {
      db.close();
    }
  });

  test("rolls back a migration that throws and leaves user_version unchanged", () => {
    const file = join(tempDir(), "fail.db");
    const boom: Migration = {
      version: 2,
      name: "half done",
      up: (db) => {
        db.exec("CREATE TABLE half (x)");
        db.exec("INSERT INTO notes (text) VALUES ('written by a failed migration')");
        throw new Error("disk on fire");
      },
    };
    openDatabase(file, [M1]).close();
    assert.throws(
      () => openDatabase(file, [M1, boom]),
      (err: unknown) => {
        assert.ok(isSiteError(err, "storage.migrate"));
        assert.match(err.message, /migration 2 "half done" failed.*disk on fire/);
        return true;
      },
    );
    const db = openDatabase(file, [M1]);
    try {
      assert.equal(schemaVersion(db), 1);
      assert.deepEqual(tables(db), ["notes"]);
      assert.equal((db.prepare("SELECT count(*) AS n FROM notes").get() as { n: number }).n, 0);
    } finally {
      db.close();
    }
  });

  test("rolls back an SQL migration that fails halfway", () => {
    const db = openDatabase(join(tempDir(), "sql.db"), [M1]);
    try {
      const bad: Migration = {
        version: 2,
        name: "typo",
        up: "CREATE TABLE ok (x); CREATE TABLEE broken (y);",
      };
      assert.throws(
        () => migrate(db, [M1, bad]),
        (err: unknown) => isSiteError(err, "storage.migrate"),
      );
      assert.equal(schemaVersion(db), 1);
      assert.deepEqual(tables(db), ["notes"]);
    } finally {
      db.close();
    }
  });

  test("keeps the migrations that succeeded before a failing one", () => {
    const db = openDatabase(join(tempDir(), "partial.db"), []);
    try {
      const bad: Migration = { version: 2, name: "bad", up: "NOT SQL" };
      assert.throws(() => migrate(db, [M1, bad]));
      assert.equal(schemaVersion(db), 1);
    } finally {
      db.close();
    }
  });

  test("refuses an asynchronous migration function", () => {
    const db = openDatabase(join(tempDir(), "async.db"), []);
    try {
      const asyncUp = { version: 1, name: "async", up: (async () => {}) as unknown as () => void };
      assert.throws(() => migrate(db, [asyncUp]), /must be synchronous/);
      assert.equal(schemaVersion(db), 0);
    } finally {
      db.close();
    }
  });
});

describe("checkMigrations", () => {
  const m = (version: number): Migration => ({ version, name: `m${version}`, up: "" });

  test("accepts 1..N in any order", () => {
    assert.deepEqual(
      checkMigrations([m(3), m(1), m(2)]).map((x) => x.version),
      [1, 2, 3],
    );
    assert.deepEqual(checkMigrations([]), []);
  });

  test("refuses gaps, duplicates, a start other than 1 and fractional versions", () => {
    for (const [list, message] of [
      [[m(1), m(3)], /2 is missing/],
      [[m(1), m(1)], /two migrations have version 1/],
      [[m(2)], /1 is missing/],
      [[m(0), m(1)], /1 is missing/],
      [[m(1), m(1.5)], /non-integer/],
    ] as const) {
      assert.throws(
        () => checkMigrations(list),
        (err: unknown) => isSiteError(err, "storage.migrate") && message.test(err.message),
        `${list.map((x) => x.version).join(",")}`,
      );
    }
  });
});
