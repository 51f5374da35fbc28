import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { after, test } from "node:test";
import { fileURLToPath } from "node:url";
import { ModemRegistry, openSiteDatabase } from "../../src/storage/siteDb.js";

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/**
 * A child process opens the site database, records a PIN verdict and, the moment `recordPin`
 * returns, kills itself with SIGKILL: no close(), no exit handler, no checkpoint.
 */
function recordPinThenDie(
  dir: string,
): Promise<{ code: number | null; signal: NodeJS.Signals | null; out: string }> {
  const script = `
    const { ModemRegistry, openSiteDatabase } = await import(${JSON.stringify(join(REPO, "src", "storage", "siteDb.ts"))});
    const db = openSiteDatabase(${JSON.stringify(dir)});
    const registry = new ModemRegistry(db);
    registry.upsertSeen({ id: "m1", imei: "866123456789012", port: "/dev/ttyUSB2", at: 1 });
    registry.recordPin("866123456789012", "1234", "8925610000000000001", "rejected", 1700000000000);
    process.stdout.write("recorded\\n");
    process.kill(process.pid, "SIGKILL");
  `;
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
      cwd: REPO,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout.setEncoding("utf8").on("data", (c: string) => {
      out += c;
    });
    child.stderr.setEncoding("utf8").on("data", (c: string) => {
      out += c;
    });
    child.on("error", reject);
    child.on("exit", (code, signal) => resolvePromise({ code, signal, out }));
  });
}

test("a PIN verdict recorded just before the process is SIGKILLed is there after reopening", async () => {
  const dir = mkdtempSync(join(tmpdir(), "bts-durable-"));
  dirs.push(dir);
  const result = await recordPinThenDie(dir);
  assert.equal(result.signal, "SIGKILL", result.out);
  assert.match(result.out, /recorded/);
  assert.ok(existsSync(join(dir, "site.db-wal")), "the process died before any clean close removed the WAL");

  const db = openSiteDatabase(dir);
  try {
    const registry = new ModemRegistry(db);
    assert.equal(registry.pinVerdict("866123456789012", "1234"), "rejected");
    assert.equal(registry.byImei("866123456789012")?.lastPort, "/dev/ttyUSB2");
    assert.equal(db.pragma("integrity_check", { simple: true }), "ok");
  } finally {
    db.close();
  }
});
