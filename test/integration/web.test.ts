/**
 * The local page's HTTP side on a whole site (real HTTP on 127.0.0.1, a simulated modem on a real
 * pty): /api/state, /healthz (200 then 503 when the only modem is unplugged), /metrics parsed by a
 * Prometheus text parser, and the login: read-only without a hash, wrong passwords rate-limited,
 * HttpOnly SameSite=Strict session, actions refused without it and done with it.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import parsePrometheusTextFormat from "parse-prometheus-text-format";
import { hashPassword, verifyPassword } from "../../src/web/auth.js";
import { tempDir, waitFor } from "../helpers/fleetHarness.js";
import { type NocSite, startNocSite } from "../helpers/nocHarness.js";

let tmp: ReturnType<typeof tempDir>;
before(() => {
  tmp = tempDir("bts-web-");
});
after(() => tmp.cleanup());

const PASSWORD = "correct horse battery";

async function http(base: string, path: string, init: RequestInit = {}) {
  const res = await fetch(`${base}${path}`, init);
  const text = await res.text();
  let json: Record<string, unknown> | undefined;
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

const post = (base: string, path: string, body: unknown, cookie?: string) =>
  http(base, path, {
    method: "POST",
    headers: { "Content-Type": "application/json", ...(cookie ? { Cookie: cookie } : {}) },
    body: JSON.stringify(body),
  });

describe("web API", () => {
  let s: NocSite;
  let base: string;

  before(async () => {
    const dir = join(tmp.dir, "site");
    s = await startNocSite({
      dir,
      siteId: "site-web",
      extra: { web: { listen: "127.0.0.1:0", password_hash: await hashPassword(PASSWORD, { logN: 12 }) } },
    });
    base = `http://127.0.0.1:${s.site.webAddress?.port}`;
    await waitFor("m1 ready", () => s.site.fleet?.get("m1")?.state === "ready", 20_000);
  });
  after(async () => {
    await s?.stop();
  });

  it("GET /api/state is the MQTT state document plus what the page shows", async () => {
    const r = await http(base, "/api/state");
    assert.equal(r.status, 200);
    const st = r.json!;
    for (const k of [
      "modems",
      "uplinks",
      "queues",
      "health",
      "site",
      "system",
      "events",
      "leds",
      "generated_at",
    ])
      assert.ok(k in st, `has ${k}`);
    assert.deepEqual(st.site, { id: "site-web", name: "Test hill" });
    const m1 = (st.modems as { id: string; state: string; imei: string }[])[0];
    assert.equal(m1?.state, "ready");
    assert.equal(m1?.imei, "867698041234563");
    assert.equal(st.logged_in, false);
    assert.equal(st.can_login, true);
  });

  it("GET / already names the site and shows each modem in its first response, with no external asset", async () => {
    const r = await http(base, "/");
    assert.equal(r.status, 200);
    assert.match(r.headers.get("content-type") ?? "", /^text\/html; charset=utf-8/);
    assert.match(r.text, /Test hill/);
    assert.match(r.text, /site-web/);
    assert.match(r.text, /data-testid="modem-m1"/);
    assert.match(r.text, /data-testid="modem-m1-state"[^>]*>[^<]*[Rr]eady/);
    assert.doesNotMatch(r.text, /https?:\/\//, "no external asset");
    assert.match(r.text, /name="viewport" content="width=device-width/);
    assert.ok(Buffer.byteLength(r.text) < 30_000, `${Buffer.byteLength(r.text)} bytes`);
  });

  it("GET /metrics is Prometheus text a parser reads, with the modem, queue and health figures", async () => {
    const r = await http(base, "/metrics");
    assert.equal(r.status, 200);
    assert.match(r.headers.get("content-type") ?? "", /^text\/plain; version=0\.0\.4/);
    const families = parsePrometheusTextFormat(r.text) as {
      name: string;
      metrics: { value: string; labels?: Record<string, string> }[];
    }[];
    const value = (name: string, labels: Record<string, string> = {}) =>
      families
        .find((f) => f.name === name)
        ?.metrics.find((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v))?.value;
    assert.equal(value("bts_modem_up", { modem: "m1" }), "1");
    assert.equal(value("bts_modem_state", { modem: "m1", state: "ready" }), "1");
    assert.equal(value("bts_modem_state", { modem: "m1", state: "faulted" }), "0");
    assert.equal(value("bts_health_status"), "0");
    assert.equal(value("bts_queue_pending", { queue: "sms_out" }), "0");
    assert.ok(Number(value("bts_modem_signal_csq", { modem: "m1" })) > 0);
    assert.ok(Number(value("bts_process_resident_bytes")) > 10e6);
  });

  it("login: wrong passwords refused, then rate-limited; a session cookie HttpOnly and SameSite=Strict", async () => {
    assert.equal((await post(base, "/api/modems/m1/restart", {})).status, 401, "an action without a session");
    const wrong = await post(base, "/api/login", { password: "nope" });
    assert.equal(wrong.status, 401);
    const plain = await http(base, "/api/login", {
      method: "POST",
      headers: { "Content-Type": "text/plain" },
      body: PASSWORD,
    });
    assert.equal(plain.status, 415, "only JSON: a form on another site cannot post here");
    const good = await post(base, "/api/login", { password: PASSWORD });
    assert.equal(good.status, 200);
    const cookie = good.headers.get("set-cookie") ?? "";
    assert.match(cookie, /^bts_session=[A-Za-z0-9_-]{40,};/);
    assert.match(cookie, /HttpOnly/);
    assert.match(cookie, /SameSite=Strict/);
    const session = cookie.split(";")[0]!;
    assert.equal((await http(base, "/api/state", { headers: { Cookie: session } })).json?.logged_in, true);

    const sms = await post(base, "/api/sms", { to: "+256772000333", text: "test from the page" }, session);
    assert.equal(sms.status, 202);
    assert.match(String(sms.json?.id), /^[0-9A-Z]{16}$/);
    assert.equal((await post(base, "/api/modems/m9/restart", {}, session)).status, 404);
    const restart = await post(base, "/api/modems/m1/restart", {}, session);
    assert.equal(restart.status, 200);
    assert.equal(restart.json?.modem, "m1");
    await waitFor("m1 ready again", () => s.site.fleet?.get("m1")?.state === "ready", 20_000);

    const out = await post(base, "/api/logout", {}, session);
    assert.match(out.headers.get("set-cookie") ?? "", /Max-Age=0/);
    assert.equal(
      (await post(base, "/api/modems/m1/restart", {}, session)).status,
      401,
      "the session is gone",
    );

    // 5 tries a minute per address (the good one above cleared the count).
    const tries: number[] = [];
    for (let i = 0; i < 6; i++)
      tries.push((await post(base, "/api/login", { password: `wrong-${i}` })).status);
    assert.deepEqual(tries, [401, 401, 401, 401, 401, 429]);
    const blocked = await post(base, "/api/login", { password: PASSWORD });
    assert.equal(blocked.status, 429, "even the right password waits");
    assert.ok(Number(blocked.headers.get("retry-after")) > 0);
  });

  it("GET /healthz is 200 while the site can carry SMS and 503 when it cannot", async () => {
    const ok = await http(base, "/healthz");
    assert.equal(ok.status, 200);
    assert.equal(ok.json?.status, "ok");
    await s.sims[0]!.unplug();
    await waitFor("m1 absent", () => s.site.fleet?.get("m1")?.state === "absent", 10_000);
    const failed = await http(base, "/healthz");
    assert.equal(failed.status, 503);
    assert.equal(failed.json?.status, "failed");
    assert.match(JSON.stringify(failed.json), /no modem ready/);
  });
});

describe("a site without web.password_hash", () => {
  it("is read-only: no login, no action", async () => {
    const s = await startNocSite({ dir: join(tmp.dir, "ro"), siteId: "site-ro" });
    try {
      const base = `http://127.0.0.1:${s.site.webAddress?.port}`;
      assert.equal((await post(base, "/api/login", { password: "anything" })).status, 403);
      assert.equal((await post(base, "/api/modems/m1/restart", {})).status, 403);
      assert.equal((await http(base, "/api/state")).json?.can_login, false);
    } finally {
      await s.stop();
    }
  });
});

describe("bts-site hash-password", () => {
  it("reads the password on standard input and prints a hash that verifies", async () => {
    const child = spawn(
      process.execPath,
      [new URL("../../bin/bts-site.js", import.meta.url).pathname, "hash-password"],
      {
        stdio: ["pipe", "pipe", "pipe"],
      },
    );
    let out = "";
    child.stdout.on("data", (d) => {
      out += d;
    });
    child.stdin.end(`${PASSWORD}\n`);
    const code = await new Promise((r) => child.on("exit", r));
    assert.equal(code, 0);
    const hash = out.trim();
    assert.match(hash, /^scrypt\$15\$8\$1\$[A-Za-z0-9_-]+\$[A-Za-z0-9_-]{43}$/);
    assert.equal(await verifyPassword(PASSWORD, hash), true);
    assert.equal(await verifyPassword(`${PASSWORD}!`, hash), false);
  });
});
