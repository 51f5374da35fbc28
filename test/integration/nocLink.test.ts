/**
 * The NOC link against a real mosquitto (TLS, client certificates, the shipped per-site ACL): the
 * whole site reports in, answers every command, runs a repeated request once, keeps events through
 * a broker outage and delivers them in order, and leaves its last will on `kill -9`.
 * NOC_OUTAGE_SECONDS sets the outage (default 15 s here; the bench runs 300 s).
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { remoteRequest } from "../../src/mqtt/remote.js";
import { tempDir, waitFor } from "../helpers/fleetHarness.js";
import { freePort } from "../helpers/kamailio.js";
import { type Mosquitto, makePki, type Pki, startMosquitto } from "../helpers/mosquitto.js";
import {
  connectNoc,
  NOC_PASSWORD,
  type Noc,
  type NocSite,
  startNocSite,
  writeConfigFile,
} from "../helpers/nocHarness.js";

const OUTAGE_S = Number(process.env.NOC_OUTAGE_SECONDS ?? 15);
const BIN = new URL("../../bin/bts-site.js", import.meta.url).pathname;

let tmp: ReturnType<typeof tempDir>;
let pki: Pki;
let broker: Mosquitto;

before(async () => {
  tmp = tempDir("bts-noc-");
  mkdirSync(join(tmp.dir, "pki"));
  pki = await makePki(join(tmp.dir, "pki"));
  broker = await startMosquitto({ dir: tmp.dir, pki, passwords: { noc: NOC_PASSWORD } });
});
after(async () => {
  await broker?.stop();
  tmp?.cleanup();
});

function ask(site: string, command: string, args: Record<string, unknown> = {}, protocol: 4 | 5 = 5) {
  return remoteRequest({
    broker: broker.plainUrl,
    username: "noc",
    password: NOC_PASSWORD,
    site,
    command,
    args,
    protocol,
    timeoutMs: 15_000,
  }).then((r) => {
    assert.equal(r.kind, "response", `${command}: no response`);
    return (r as { response: Record<string, unknown> & { status: string } }).response;
  });
}

async function ok(site: string, command: string, args: Record<string, unknown> = {}) {
  const r = await ask(site, command, args);
  assert.equal(r.status, "ok", `${command}: ${JSON.stringify(r)}`);
  return r.data as Record<string, unknown>;
}

async function refused(site: string, command: string, args: Record<string, unknown>, code: string) {
  const r = await ask(site, command, args);
  assert.equal(r.status, "error", `${command} should be refused: ${JSON.stringify(r)}`);
  assert.equal(r.code, code, `${command}: ${r.error}`);
  assert.equal(typeof r.error, "string");
  return r;
}

const canonicalHash = (rows: { imsi: string; msisdn: string; name: string; status: string }[]) =>
  createHash("sha256")
    .update(
      [...rows]
        .sort((a, b) => (a.imsi < b.imsi ? -1 : 1))
        .map((r) => `${r.imsi},${r.msisdn},${r.name},${r.status}`)
        .join("\n"),
    )
    .digest("hex");

describe("NOC link: reporting and commands", () => {
  let s: NocSite;
  let noc: Noc;
  const ID = "site-a";

  before(async () => {
    noc = await connectNoc(broker);
    const dir = join(tmp.dir, ID);
    mkdirSync(dir);
    s = await startNocSite({ dir, siteId: ID, broker, pki, modems: 2 });
    await waitFor("modems ready", () => s.site.fleet?.list().every((m) => m.state === "ready"), 20_000);
  });
  after(async () => {
    await s?.stop();
    await noc?.close();
  });

  it("reports in: availability online, info, state and each modem, retained", async () => {
    await noc.waitFor(`bts/${ID}/availability`, (p) => p.state === "online");
    const info = await noc.waitFor(`bts/${ID}/info`);
    assert.equal((info.site as { id: string }).id, ID);
    assert.match(String(info.config_revision), /^[0-9a-f]{12}$/);
    await noc.waitFor(`bts/${ID}/modem/m1`, (p) => p.state === "ready" && p.imei === "867698041234563");
    await noc.waitFor(`bts/${ID}/modem/m2`, (p) => p.state === "ready");
    const state = await noc.waitFor(`bts/${ID}/state`, (p) =>
      (p.modems as { state: string }[]).every((m) => m.state === "ready"),
    );
    assert.deepEqual(Object.keys(state.queues as object), ["sms_out", "sms_in", "sip_out", "noc_events"]);
    // A NOC that connects later gets the retained ones at once.
    const late = await connectNoc(broker);
    try {
      const got = await late.waitFor(`bts/${ID}/availability`, (p) => p.state === "online", 5000);
      assert.ok(got);
      assert.ok(late.messages.find((m) => m.topic === `bts/${ID}/modem/m1` && m.retain));
    } finally {
      await late.close();
    }
  });

  it("health_check runs the real checks", async () => {
    const h = await ok(ID, "health_check");
    assert.equal(h.status, "ok");
    assert.equal(h.healthy, true);
    const checks = h.checks as { name: string; status: string; reason: string }[];
    assert.deepEqual(
      checks.find((c) => c.name === "modems"),
      { name: "modems", status: "ok", reason: "2 of 2 ready" },
    );
    assert.ok(checks.find((c) => c.name === "storage"));
  });

  it("sms/send sends one SMS; sms/status follows it; the events come with event_id and at", async () => {
    const before = s.sims.reduce((n, x) => n + x.sentPdus().length, 0);
    const sent = await ok(ID, "sms/send", {
      to: "+256772000111",
      text: "Umeme unakuja saa nne 🙂",
      transaction: "tx-send-1",
    });
    assert.match(String(sent.id), /^[0-9A-Z]{16}$/);
    const ev = await noc.waitFor(`bts/${ID}/event/sms_sent`, (p) => p.id === sent.id);
    assert.match(String(ev.event_id), /^[0-9A-Z]{16}$/);
    assert.ok(!Number.isNaN(Date.parse(String(ev.at))));
    assert.equal(ev.to, "+256772000111");
    const st = await ok(ID, "sms/status", { id: sent.id });
    assert.equal(st.state === "sent" || st.state === "delivered", true, JSON.stringify(st));
    // The same transaction again (a retry from the NOC): the first answer, nothing sent again.
    const again = await ask(ID, "sms/send", {
      to: "+256772000111",
      text: "Umeme unakuja saa nne 🙂",
      transaction: "tx-send-1",
    });
    assert.deepEqual(again.data, sent);
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(
      s.sims.reduce((n, x) => n + x.sentPdus().length, 0),
      before + 1,
    );
    await refused(ID, "sms/status", { id: "0000000000000000" }, "sms.not_found");
    await refused(ID, "sms/send", { to: "+256772000111" }, "request.invalid");
    await refused(ID, "sms/send", { to: "+256772000111", text: "x", modem: "m9" }, "modem.unknown");
  });

  it("a QoS 1 redelivery of sms/send (same packet, DUP set) does not run twice", async () => {
    const before = s.sims.reduce((n, x) => n + x.sentPdus().length, 0);
    const responses: string[] = [];
    const topic = `bts/${ID}/response/sms/send`;
    const listener = (t: string, p: Buffer) => {
      if (t === topic && p.toString().includes("tx-dup-1")) responses.push(p.toString());
    };
    noc.client.on("message", listener);
    const body = JSON.stringify({ to: "+256772000222", text: "redelivered", transaction: "tx-dup-1" });
    await noc.client.publishAsync(`bts/${ID}/request/sms/send`, body, { qos: 1 });
    await noc.client.publishAsync(`bts/${ID}/request/sms/send`, body, { qos: 1, dup: true });
    await waitFor("two answers", () => responses.length >= 2, 10_000);
    noc.client.off("message", listener);
    assert.equal(responses[0], responses[1]);
    await waitFor("the SMS sent", () => s.sims.reduce((n, x) => n + x.sentPdus().length, 0) > before, 10_000);
    await new Promise((r) => setTimeout(r, 800));
    assert.equal(
      s.sims.reduce((n, x) => n + x.sentPdus().length, 0),
      before + 1,
    );
  });

  it("an SMS received becomes event/sms_received with the whole text", async () => {
    s.sims[1]!.injectText("+256701234567", "Habari ya asubuhi, kisima kimeharibika");
    const ev = await noc.waitFor(`bts/${ID}/event/sms_received`, (p) => p.from === "+256701234567");
    assert.equal(ev.text, "Habari ya asubuhi, kisima kimeharibika");
    assert.equal(ev.modem, "m2");
    assert.equal(ev.parts, 1);
  });

  it("modem/restart and modem/power_cycle act on the modem and report it", async () => {
    const r = await ok(ID, "modem/restart", { modem: "m1" });
    assert.equal(r.modem, "m1");
    await noc.waitFor(`bts/${ID}/event/modem_state`, (p) => p.modem === "m1" && p.state !== "ready");
    await waitFor("m1 ready again", () => s.site.fleet?.get("m1")?.state === "ready", 20_000);
    await ok(ID, "modem/power_cycle", { modem: "m2" });
    await noc.waitFor(`bts/${ID}/event/modem_recovery`, (p) => p.modem === "m2" && p.step === "power_cycle");
    await waitFor("m2 ready again", () => s.site.fleet?.get("m2")?.state === "ready", 30_000);
    await refused(ID, "modem/restart", { modem: "nope" }, "modem.unknown");
    await refused(ID, "modem/power_cycle", {}, "request.invalid");
  });

  it("subscriber commands: upsert, get, remove, and sync with a gap and a bad hash", async () => {
    const a = { imsi: "641100000000001", msisdn: "+256700000001", name: "Akello", status: "active" };
    const up = await ok(ID, "subscriber/upsert", a);
    assert.equal(up.msisdn, a.msisdn);
    assert.equal((await ok(ID, "subscriber/get", { msisdn: a.msisdn })).imsi, a.imsi);
    assert.equal((await ok(ID, "subscriber/remove", { imsi: a.imsi })).imsi, a.imsi);
    await refused(ID, "subscriber/get", { imsi: a.imsi }, "sub.not_found");
    await refused(ID, "subscriber/upsert", { imsi: "12", msisdn: "+1" }, "sub.invalid");

    const rows = [
      a,
      { imsi: "641100000000002", msisdn: "+256700000002", name: "Okello", status: "suspended" },
    ];
    const full = await ok(ID, "subscriber/sync", {
      mode: "full",
      version: 7,
      hash: canonicalHash(rows),
      subscribers: rows,
    });
    assert.deepEqual(full, { version: 7, count: 2 });
    await refused(
      ID,
      "subscriber/sync",
      { mode: "delta", from_version: 5, version: 8, hash: canonicalHash(rows), subscribers: [] },
      "sync.gap",
    );
    const resync = await noc.waitFor(`bts/${ID}/event/subscriber_resync`);
    assert.equal(resync.version, 7);
    await refused(
      ID,
      "subscriber/sync",
      {
        mode: "delta",
        from_version: 7,
        version: 8,
        hash: "0".repeat(64),
        subscribers: [],
        removed: [a.imsi],
      },
      "sync.hash",
    );
    // Nothing changed by the refused ones.
    assert.equal((await ok(ID, "subscriber/get", { imsi: a.imsi })).name, "Akello");
  });

  it("config/set applies a runtime key, says restart_required for the others, refuses a bad value changing nothing", async () => {
    const runtime = join(s.config.storage.dir, "config.runtime.json");
    const set = await ok(ID, "config/set", { patch: { sms: { max_parts: 6 } } });
    assert.deepEqual(set, { restart_required: false, changed: ["sms.max_parts"] });
    assert.equal(s.config.sms.max_parts, 6);
    const restart = await ok(ID, "config/set", { patch: { sip: { listen: "127.0.0.1:5099" } } });
    assert.equal(restart.restart_required, true);
    assert.equal(s.config.sip.listen, "127.0.0.1:0");
    const onDisk = readFileSync(runtime, "utf8");
    const bad = await refused(
      ID,
      "config/set",
      { patch: { sms: { max_parts: 99, too_long: "truncate" } } },
      "config.invalid",
    );
    assert.match(String(bad.error), /sms\.max_parts/);
    assert.equal(s.config.sms.max_parts, 6);
    assert.equal(s.config.sms.too_long, "reject");
    assert.equal(readFileSync(runtime, "utf8"), onDisk);
    const got = await ok(ID, "config/get");
    assert.equal((got.config as { sms: { max_parts: number } }).sms.max_parts, 6);
    assert.equal((got.source as Record<string, string>)["sms.max_parts"], "runtime");
    assert.match(
      JSON.stringify(got.config),
      /"key":"\/[^"]+\.key"/,
      "file paths are shown, only secrets are not",
    );
    await refused(ID, "config/set", { patch: "nope" }, "request.invalid");
    const info = await ok(ID, "info");
    assert.equal(info.restart_required, true);
  });

  it("log/level, leds/identify, an unknown command and a malformed request get the right answers", async () => {
    assert.deepEqual(await ok(ID, "log/level", { level: "warn", namespace: "sip" }), {
      level: "warn",
      namespace: "sip",
    });
    await refused(ID, "log/level", { level: "loud" }, "request.invalid");
    await refused(ID, "leds/identify", { seconds: 5 }, "leds.unavailable");
    await refused(ID, "reboot/everything", {}, "command.unknown");
    const topic = `bts/${ID}/response/health_check`;
    const got: string[] = [];
    const l = (t: string, p: Buffer) => t === topic && got.push(p.toString());
    noc.client.on("message", l);
    await noc.client.publishAsync(`bts/${ID}/request/health_check`, "{not json", { qos: 1 });
    await waitFor("an answer to the malformed request", () => got.length > 0, 10_000);
    noc.client.off("message", l);
    assert.match(got[0]!, /"code":"request.invalid"/);
  });

  it("never acts on a retained request (it would run again at every reconnection)", async () => {
    const topic = `bts/${ID}/request/modem/restart`;
    const seen: string[] = [];
    const l = (t: string, p: Buffer) => t === `bts/${ID}/response/modem/restart` && seen.push(p.toString());
    noc.client.on("message", l);
    await noc.client.publishAsync(topic, JSON.stringify({ modem: "m1", transaction: "retained-1" }), {
      qos: 1,
      retain: true,
    });
    try {
      await new Promise((r) => setTimeout(r, 1000));
      assert.deepEqual(seen, [], "no answer: not run");
      assert.ok(s.logs.some((r) => /published retained/.test(r.msg)));
      assert.equal(s.site.fleet?.get("m1")?.state, "ready");
    } finally {
      noc.client.off("message", l);
      await noc.client.publishAsync(topic, "", { qos: 1, retain: true });
    }
  });

  it("MQTT 3.1.1 requests are answered on response/<command> by transaction", async () => {
    const r = await ask(ID, "info", { transaction: "v311" }, 4);
    assert.equal(r.status, "ok");
    assert.equal(r.transaction, "v311");
  });
});

describe("NOC link: MQTT 3.1.1 with a user name and password, telemetry", () => {
  it("connects with user/password in MQTT 3.1.1, answers on response/<command>, and sends telemetry", async () => {
    const ID = "site-f";
    const dir = join(tmp.dir, ID);
    mkdirSync(dir);
    const password = "site-f-password";
    // A broker of its own with a password for this site (the shared one has only the NOC's).
    const own = await startMosquitto({ dir, pki, passwords: { noc: NOC_PASSWORD, [ID]: password } });
    const s = await startNocSite({
      dir,
      siteId: ID,
      broker: own,
      pki,
      mqtt: { url: own.plainUrl, username: ID, password, protocol_version: 4, telemetry_interval_s: 10 },
    });
    const noc = await connectNoc(own, 4);
    try {
      await noc.waitFor(`bts/${ID}/availability`, (p) => p.state === "online");
      const r = await remoteRequest({
        broker: own.plainUrl,
        username: "noc",
        password: NOC_PASSWORD,
        site: ID,
        command: "info",
        protocol: 4,
        timeoutMs: 10_000,
      });
      assert.equal(r.kind, "response");
      const t = await noc.waitFor(`bts/${ID}/telemetry`, () => true, 20_000);
      for (const k of [
        "cpu_percent",
        "memory_used_percent",
        "disk_used_percent",
        "uptime_s",
        "sms_sent",
        "process_rss_mb",
      ])
        assert.ok(k in t, `telemetry has ${k}`);
      assert.equal(typeof t.disk_used_percent, "number");
      assert.ok(
        !noc.messages.find((m) => m.topic === `bts/${ID}/telemetry`)?.retain,
        "telemetry is not retained",
      );
    } finally {
      await s.stop();
      await noc.close();
      await own.stop();
    }
  });
});

describe("NOC link: outage, overflow, last will", () => {
  it(`keeps events through a ${OUTAGE_S} s broker outage and delivers them after, in order, none lost`, async () => {
    const ID = "site-b";
    const dir = join(tmp.dir, ID);
    mkdirSync(dir);
    // The site comes back 1.5–3 s after the broker: the NOC (subscribed at once) sees everything.
    const s = await startNocSite({
      dir,
      siteId: ID,
      broker,
      pki,
      mqtt: { reconnect_min_s: 3, reconnect_max_s: 3 },
    });
    let noc: Noc | undefined;
    try {
      await waitFor("m1 ready", () => s.site.fleet?.get("m1")?.state === "ready", 20_000);
      await waitFor("link up", () => s.site.noc?.isConnected, 10_000);
      await broker.stop();
      const down = Date.now();
      await waitFor("link down", () => s.site.noc?.isConnected === false, 10_000);
      const texts: string[] = [];
      const spread = Math.max(1, Math.floor((OUTAGE_S * 1000) / 12));
      for (let i = 0; i < 10; i++) {
        const text = `outage message ${i}`;
        texts.push(text);
        s.sims[0]!.injectText(`+2567009000${String(i).padStart(2, "0")}`, text);
        await new Promise((r) => setTimeout(r, spread));
      }
      await waitFor("all stored", () => s.site.sms?.stats().incoming.messages === 10, 20_000);
      // The broker stays down for the whole outage, whatever the SMS took.
      await new Promise((r) => setTimeout(r, Math.max(0, OUTAGE_S * 1000 - (Date.now() - down))));
      assert.ok((s.site.noc?.status().outbox_pending ?? 0) >= 10);
      await broker.start();
      noc = await connectNoc(broker);
      await waitFor("all 10 delivered", () => noc!.on(`bts/${ID}/event/sms_received`).length >= 10, 30_000);
      const got = noc.on(`bts/${ID}/event/sms_received`) as Record<string, unknown>[];
      const unique = new Map(got.map((e) => [e.event_id, e]));
      assert.deepEqual(
        [...unique.values()].map((e) => e.text),
        texts,
        "in the order they happened, each once",
      );
      await noc.waitFor(`bts/${ID}/availability`, (p) => p.state === "online");
      await waitFor("outbox empty", () => s.site.noc?.status().outbox_pending === 0, 10_000);
    } finally {
      await s.stop();
      await noc?.close();
    }
  });

  it("drops the oldest past mqtt.outbox_limit and reports how many as event/outbox_overflow", async () => {
    const ID = "site-c";
    const dir = join(tmp.dir, ID);
    mkdirSync(dir);
    const s = await startNocSite({
      dir,
      siteId: ID,
      broker,
      pki,
      mqtt: { outbox_limit: 100, reconnect_min_s: 3, reconnect_max_s: 3 },
    });
    let noc: Noc | undefined;
    try {
      await waitFor("link up", () => s.site.noc?.isConnected, 10_000);
      await broker.stop();
      await waitFor("link down", () => s.site.noc?.isConnected === false, 10_000);
      for (let i = 0; i < 130; i++)
        s.site.bus.emit("modem_recovery", { modem: "m1", step: "reinit", result: "ok", reason: `r${i}` });
      await new Promise((r) => setTimeout(r, 300));
      await broker.start();
      noc = await connectNoc(broker);
      const overflow = await noc.waitFor(`bts/${ID}/event/outbox_overflow`, () => true, 30_000);
      const droppedRecoveries = (overflow.kinds as Record<string, number>).modem_recovery ?? 0;
      assert.ok(droppedRecoveries >= 30, JSON.stringify(overflow));
      const recoveries = () =>
        (noc!.on(`bts/${ID}/event/modem_recovery`) as Record<string, unknown>[])
          .map((e) => String(e.reason))
          .filter((r) => /^r\d+$/.test(r));
      // Every one of the 130 is either delivered or counted as dropped (other events of the site
      // may share the outbox, so the split is not exactly 100/30).
      await waitFor("the kept ones", () => recoveries().length + droppedRecoveries === 130, 30_000);
      const reasons = recoveries();
      assert.equal(reasons.at(-1), "r129", "the newest kept");
      assert.equal(reasons[0], `r${droppedRecoveries}`, "the oldest dropped, the rest in order");
      assert.deepEqual(
        reasons,
        Array.from({ length: 130 - droppedRecoveries }, (_, i) => `r${droppedRecoveries + i}`),
      );
    } finally {
      await s.stop();
      await noc?.close();
    }
  });

  it("state shows each SIP upstream's reachability, and health says degraded when none answers", async () => {
    const ID = "site-e";
    const dir = join(tmp.dir, ID);
    mkdirSync(dir);
    const dead = await freePort();
    const s = await startNocSite({
      dir,
      siteId: ID,
      broker,
      pki,
      extra: { sip: { listen: "127.0.0.1:0", upstream: { uri: `sip:127.0.0.1:${dead}`, keepalive_s: 5 } } },
    });
    const noc = await connectNoc(broker);
    try {
      const state = await noc.waitFor(`bts/${ID}/state`, (p) => {
        const sip = (p.uplinks as { sip: { uri: string; reachable: boolean | null }[] | null }).sip;
        return sip?.[0]?.reachable === false;
      });
      assert.equal((state.uplinks as { sip: { uri: string }[] }).sip[0]?.uri, `sip:127.0.0.1:${dead}`);
      const h = await ok(ID, "health_check");
      const check = (h.checks as { name: string; status: string; reason: string }[]).find(
        (c) => c.name === "sip_upstream",
      );
      assert.equal(check?.status, "degraded");
      assert.match(String(check?.reason), /no SIP upstream answers/);
    } finally {
      await s.stop();
      await noc.close();
    }
  });

  it("kill -9: the broker publishes the last will, availability offline; a graceful stop says offline too", async () => {
    const ID = "site-d";
    const dir = join(tmp.dir, ID);
    mkdirSync(dir);
    // The site in a process of its own (bts-site run), its simulator in this one.
    const holder = await startNocSite({ dir: join(dir, "sims"), siteId: "site-d", broker, pki });
    await holder.site.stop();
    const raw = { ...holder.raw, storage: { dir: join(dir, "data") } };
    const cfg = join(dir, "config.json");
    writeConfigFile(cfg, raw);
    const noc = await connectNoc(broker);
    let child: ChildProcess | undefined;
    try {
      child = spawn(process.execPath, [BIN, "run", "--config", cfg], {
        stdio: ["ignore", "ignore", "inherit"],
        env: { ...process.env, BTS_SITE_BOOT_CONFIG: join(dir, "no-boot.yaml") },
      });
      await noc.waitFor(`bts/${ID}/availability`, (p) => p.state === "online", 20_000);
      const t0 = Date.now();
      child.kill("SIGKILL");
      await noc.waitFor(`bts/${ID}/availability`, (p) => p.state === "offline", 15_000);
      assert.ok(Date.now() - t0 < 15_000);

      noc.messages.length = 0;
      child = spawn(process.execPath, [BIN, "run", "--config", cfg], {
        stdio: ["ignore", "ignore", "inherit"],
        env: { ...process.env, BTS_SITE_BOOT_CONFIG: join(dir, "no-boot.yaml") },
      });
      await noc.waitFor(`bts/${ID}/availability`, (p) => p.state === "online", 20_000);
      noc.messages.length = 0;
      const exited = new Promise<number | null>((r) => child!.once("exit", (code) => r(code)));
      child.kill("SIGTERM");
      assert.equal(await exited, 0);
      await noc.waitFor(`bts/${ID}/availability`, (p) => p.state === "offline", 5000);
    } finally {
      child?.kill("SIGKILL");
      await noc.close();
      for (const sim of holder.sims) await sim.stop().catch(() => {});
    }
  });
});
