/**
 * Sending: the SMS path against simulated modems on real pseudo-terminals (real serialport, real
 * SQLite file). Each test reads back what the simulated network received (`sentPdus()`), decoded.
 */
import assert from "node:assert/strict";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { isSiteError } from "../../src/core/errors.js";
import { silentLogger } from "../../src/core/logger.js";
import { dataPath } from "../../src/core/paths.js";
import { decodePdu } from "../../src/sms/pdu/deliver.js";
import { SmsService } from "../../src/sms/service.js";
import { tempDir, waitFor } from "../helpers/fleetHarness.js";
import { type SmsSite, startSmsSite, TEST_SMS } from "../helpers/smsHarness.js";

let root: ReturnType<typeof tempDir>;
before(() => {
  root = tempDir("sms-send");
});
after(() => root.cleanup());

interface Sent {
  to: string;
  text: string;
  ref?: number;
  total?: number;
  seq?: number;
  srr: boolean;
}

function decodeSent(pdus: readonly { pdu: string }[]): Sent[] {
  return pdus.map((p) => {
    const d = decodePdu(p.pdu);
    if (d.kind !== "submit") throw new Error(`not a submit: ${p.pdu}`);
    return {
      to: d.to,
      text: d.text,
      srr: d.statusReport,
      ...(d.concat ? { ref: d.concat.ref, total: d.concat.total, seq: d.concat.seq } : {}),
    };
  });
}

/** Every text the simulated networks received, over all modems. */
function allSent(site: SmsSite): Sent[] {
  return site.sims.flatMap((s) => decodeSent(s.sentPdus()));
}

async function withSite(
  name: string,
  opts: Omit<Parameters<typeof startSmsSite>[0], "dir">,
  body: (site: SmsSite) => Promise<void>,
): Promise<void> {
  const site = await startSmsSite({ dir: join(root.dir, name), ...opts });
  try {
    await site.waitReady();
    await body(site);
  } finally {
    await site.stop();
  }
}

describe("sending SMS through simulated modems", () => {
  it("sends GSM 7-bit with extension characters once, with a status report request", async () => {
    await withSite("gsm7", { modems: [{ id: "m1" }] }, async (site) => {
      const text = "Hello {village} €5 [ok] ~^|\\ §";
      const r = await site.sms.enqueue({ to: "+256772123456", text, source: "test" });
      assert.equal(r.parts, 1);
      await waitFor("sms_sent", () => site.of("sms_sent").find((e) => e.id === r.id));
      assert.deepEqual(allSent(site), [{ to: "+256772123456", text, srr: true }]);
      assert.equal(site.sms.status(r.id)?.state, "sent");
      assert.equal(site.sms.status(r.id)?.modem, "m1");
    });
  });

  it("sends UCS2 with emoji, and a 3-part message as 3 parts with one reference, in order, on one modem", async () => {
    await withSite("ucs2", { modems: [{ id: "m1" }, { id: "m2" }] }, async (site) => {
      const emoji = "Habari 👋🏾 — ndugu, karibu! 😀";
      const long = `${"Mkutano wa kijiji ni kesho saa nne asubuhi. ".repeat(9)}Mwisho.`;
      assert.ok(long.length > 306 && long.length <= 459, "needs exactly 3 GSM 7-bit parts");
      const a = await site.sms.enqueue({ to: "+256772000001", text: emoji, source: "test" });
      const b = await site.sms.enqueue({ to: "+256772000002", text: long, source: "test" });
      assert.equal(a.parts, 1);
      assert.equal(b.parts, 3);
      await waitFor("both sent", () => site.of("sms_sent").length === 2, 15_000);
      const sent = allSent(site);
      assert.deepEqual(
        sent.filter((s) => s.to === "+256772000001").map((s) => s.text),
        [emoji],
      );
      const parts = site.sims
        .map((s) => decodeSent(s.sentPdus()).filter((x) => x.to === "+256772000002"))
        .filter((l) => l.length > 0);
      assert.equal(parts.length, 1, "all parts of one message go through one modem");
      const [list] = parts as [Sent[]];
      assert.deepEqual(
        list.map((p) => [p.seq, p.total]),
        [
          [1, 3],
          [2, 3],
          [3, 3],
        ],
      );
      assert.equal(new Set(list.map((p) => p.ref)).size, 1, "one concatenation reference");
      assert.equal(list.map((p) => p.text).join(""), long);
    });
  });

  it("marks a message delivered when the status reports of all its parts say so", async () => {
    await withSite(
      "reports",
      { modems: [{ id: "m1", sim: { statusReports: { after_ms: 200, status: 0 } } }] },
      async (site) => {
        const text = "x".repeat(200);
        const r = await site.sms.enqueue({ to: "+256772000003", text, source: "test" });
        assert.equal(r.parts, 2);
        await waitFor("delivery_report", () => site.of("delivery_report").find((e) => e.id === r.id), 15_000);
        assert.equal(site.of("delivery_report")[0]!.status, "delivered");
        assert.equal(site.sms.status(r.id)?.state, "delivered");
        const parts = site.store.message(r.id)!.parts;
        assert.deepEqual(
          parts.map((p) => [p.state, p.reportStatus]),
          [
            ["delivered", 0],
            ["delivered", 0],
          ],
        );
      },
    );
  });

  it("reads status reports the modem stores (+CDSI), applies them, then deletes them", async () => {
    const quirks = join(root.dir, "quirks-cdsi");
    mkdirSync(quirks, { recursive: true });
    writeFileSync(
      join(quirks, "stored_reports.json"),
      JSON.stringify({
        name: "stored_reports",
        description: "test: status reports stored, indicated with +CDSI",
        match: { usb_ids: [], manufacturer: [], model: [] },
        sms_init: [
          { command: "AT+CMGF=0", required: true },
          { command: "AT+CNMI=2,1,0,2,0", required: true },
        ],
      }),
    );
    await withSite(
      "cdsi",
      {
        modems: [
          {
            id: "m1",
            modem: { profile: "stored_reports" },
            sim: { statusReports: { after_ms: 200, status: 0 } },
          },
        ],
        quirkDirs: [quirks],
      },
      async (site) => {
        const r = await site.sms.enqueue({ to: "+256772000010", text: "stored report", source: "test" });
        await waitFor("delivered", () => site.sms.status(r.id)?.state === "delivered", 15_000);
        await waitFor("report deleted from the SIM", () => site.sims[0]!.storedMessages().length === 0);
      },
    );
  });

  it("marks a message failed on a negative status report", async () => {
    await withSite(
      "report-failed",
      { modems: [{ id: "m1", sim: { statusReports: { after_ms: 100, status: 0x41 } } }] },
      async (site) => {
        const r = await site.sms.enqueue({ to: "+256772000004", text: "ping", source: "test" });
        await waitFor("delivery_report", () => site.of("delivery_report").find((e) => e.id === r.id), 15_000);
        assert.equal(site.of("delivery_report")[0]!.status, "failed");
        assert.equal(site.sms.status(r.id)?.state, "failed");
      },
    );
  });

  it("retries a temporary +CMS ERROR with backoff and fails a permanent one at once, without blocking others", async () => {
    await withSite("cms", { modems: [{ id: "m1" }] }, async (site) => {
      const sim = site.sims[0]!;
      // First send: 42 congestion (temporary); the retry goes through.
      sim.cmsErrors(42, 1);
      const t = await site.sms.enqueue({ to: "+256772000005", text: "temporary", source: "test" });
      await waitFor("temporary sent", () => site.of("sms_sent").find((e) => e.id === t.id), 15_000);
      const tm = site.store.message(t.id)!;
      assert.equal(tm.parts[0]!.attempts, 2, "one failed attempt, one that went");
      // Then: 1 unassigned number (permanent) for the first, the next one must still go.
      sim.cmsErrors(1, 1);
      const bad = await site.sms.enqueue({ to: "+256700000000", text: "bad", source: "test" });
      const good = await site.sms.enqueue({ to: "+256772000006", text: "good", source: "test" });
      await waitFor("good sent", () => site.of("sms_sent").find((e) => e.id === good.id), 15_000);
      const failed = await waitFor("bad failed", () => site.of("sms_failed").find((e) => e.id === bad.id));
      assert.equal(failed.code, "cms.1");
      assert.equal(site.sms.status(bad.id)?.state, "failed");
      assert.equal(site.store.message(bad.id)!.parts[0]!.attempts, 1, "a permanent error is not retried");
      assert.deepEqual(
        allSent(site).map((s) => s.text),
        ["temporary", "good"],
      );
    });
  });

  it("gives up on a temporary error after sms.max_attempts", async () => {
    await withSite("attempts", { modems: [{ id: "m1" }], sms: { max_attempts: 2 } }, async (site) => {
      site.sims[0]!.cmsErrors(38, 5);
      const r = await site.sms.enqueue({ to: "+256772000007", text: "never", source: "test" });
      const f = await waitFor("failed", () => site.of("sms_failed").find((e) => e.id === r.id), 15_000);
      assert.equal(f.code, "sms.attempts");
      assert.equal(site.store.message(r.id)!.parts[0]!.attempts, 2);
    });
  });

  it("fails over to the second modem when the first is unplugged mid-queue; nothing is sent twice", async () => {
    await withSite("failover", { modems: [{ id: "m1" }, { id: "m2" }] }, async (site) => {
      const ids: string[] = [];
      for (let i = 0; i < 16; i++) {
        const to = `+2567720001${String(i).padStart(2, "0")}`;
        ids.push((await site.sms.enqueue({ to, text: `msg ${i}`, source: "test" })).id);
      }
      await waitFor("a few sent", () => site.of("sms_sent").length >= 3, 15_000);
      await site.sims[0]!.unplug();
      await waitFor(
        "every message settled",
        () => ids.every((id) => ["sent", "unknown"].includes(site.sms.status(id)?.state ?? "")),
        30_000,
      );
      const texts = allSent(site).map((s) => s.text);
      assert.equal(new Set(texts).size, texts.length, `nothing twice: ${texts}`);
      const unknown = ids.filter((id) => site.sms.status(id)?.state === "unknown");
      assert.ok(unknown.length <= 1, "at most the one in the modem's hands when it went is unknown");
      for (const [i, id] of ids.entries()) {
        const n = texts.filter((t) => t === `msg ${i}`).length;
        if (site.sms.status(id)?.state === "sent") assert.equal(n, 1, `msg ${i} sent once`);
        else assert.ok(n <= 1, `msg ${i} (unknown) sent at most once`);
      }
      const byM2 = site.of("sms_sent").filter((e) => e.modem === "m2").length;
      assert.ok(byM2 >= 8, `the second modem took over (${byM2} sent by m2)`);
    });
  });

  it("fails over when the first modem hangs mid-queue (a +CMGS without answer: unknown, not resent)", async () => {
    // The generic profile with a 2 s +CMGS bound instead of 60 s, so that the hang shows quickly.
    const quirks = join(root.dir, "quirks-fast-cmgs");
    mkdirSync(quirks, { recursive: true });
    const generic = JSON.parse(readFileSync(dataPath("modem", "quirks", "generic.json"), "utf8"));
    generic.timeouts_ms = { ...generic.timeouts_ms, cmgs: 2000 };
    writeFileSync(join(quirks, "generic.json"), JSON.stringify(generic));
    await withSite("hang", { modems: [{ id: "m1" }, { id: "m2" }], quirkDirs: [quirks] }, async (site) => {
      const ids: string[] = [];
      for (let i = 0; i < 12; i++) {
        const to = `+2567720002${String(i).padStart(2, "0")}`;
        ids.push((await site.sms.enqueue({ to, text: `hang ${i}`, source: "test" })).id);
      }
      await waitFor("a few sent", () => site.of("sms_sent").length >= 2, 15_000);
      site.sims[0]!.hang();
      await waitFor(
        "every message settled",
        () => ids.every((id) => ["sent", "unknown"].includes(site.sms.status(id)?.state ?? "")),
        30_000,
      );
      const texts = allSent(site).map((s) => s.text);
      assert.equal(new Set(texts).size, texts.length, `nothing twice: ${texts}`);
      const unknown = ids.filter((id) => site.sms.status(id)?.state === "unknown");
      assert.ok(unknown.length <= 1, "at most the SMS the modem held when it hung is unknown");
      assert.ok(site.of("sms_sent").filter((e) => e.modem === "m2").length >= 6, "m2 took over");
      // The hung modem is walked down the recovery ladder meanwhile.
      await waitFor("m1 recovering", () => site.h.events.some((e) => e.name === "modem_recovery"), 20_000);
    });
  });

  it("sends a half-sent multipart message whole through another modem once its modem is gone for failover_after_s", async () => {
    await withSite(
      "failover-multipart",
      { modems: [{ id: "m1" }, { id: "m2" }], sms: { failover_after_s: 1 } },
      async (site) => {
        // Whichever modem sends the first part loses its USB link right then.
        let first: number | undefined;
        for (const [i, sim] of site.sims.entries())
          sim.on("sent", () => {
            if (first !== undefined) return;
            first = i;
            void sim.unplug();
          });
        const r = await site.sms.enqueue({ to: "+256772000009", text: "y".repeat(300), source: "test" });
        await waitFor("sent whole elsewhere", () => site.of("sms_sent").find((e) => e.id === r.id), 20_000);
        const gone = site.sims[first!]!;
        const other = site.sims[1 - first!]!;
        assert.deepEqual(
          decodeSent(gone.sentPdus()).map((p) => p.seq),
          [1],
          "the first modem sent part 1 only",
        );
        const whole = decodeSent(other.sentPdus());
        assert.deepEqual(
          whole.map((p) => [p.seq, p.total]),
          [
            [1, 2],
            [2, 2],
          ],
        );
        assert.equal(whole.map((p) => p.text).join(""), "y".repeat(300));
        assert.equal(site.sms.status(r.id)?.modem, first === 0 ? "m2" : "m1");
      },
    );
  });
});

describe("routing and limits", () => {
  it("takes max_per_loop messages from one network, then lets the next have a turn", async () => {
    await withSite(
      "fairness",
      {
        modems: [{ id: "m1" }],
        networks: [
          { name: "ug", prefixes: ["+256"], max_per_loop: 2 },
          { name: "ke", prefixes: ["+254"], max_per_loop: 3 },
        ],
      },
      async (site) => {
        // Hold the modem while both networks fill up: the first send is slowed down.
        site.sims[0]!.setDelay(400);
        const all: Promise<unknown>[] = [];
        for (let i = 0; i < 6; i++)
          all.push(site.sms.enqueue({ to: `+25670000000${i}`, text: `ug${i}`, source: "t" }));
        for (let i = 0; i < 6; i++)
          all.push(site.sms.enqueue({ to: `+25470000000${i}`, text: `ke${i}`, source: "t" }));
        await Promise.all(all);
        site.sims[0]!.setDelay(0);
        await waitFor("all sent", () => site.of("sms_sent").length === 12, 20_000);
        const order = allSent(site).map((s) => s.text.slice(0, 2));
        assert.deepEqual(order, ["ug", "ug", "ke", "ke", "ke", "ug", "ug", "ke", "ke", "ke", "ug", "ug"]);
      },
    );
  });

  it("keeps a network's messages for the modems that send for it", async () => {
    await withSite(
      "networks",
      {
        modems: [
          { id: "m1", modem: { networks: ["ug"] } },
          { id: "m2", modem: { networks: ["ke"] } },
        ],
        networks: [
          { name: "ug", prefixes: ["+256"], max_per_loop: 10 },
          { name: "ke", prefixes: ["+254"], max_per_loop: 10 },
        ],
      },
      async (site) => {
        for (let i = 0; i < 3; i++) {
          await site.sms.enqueue({ to: `+25670000001${i}`, text: `ug${i}`, source: "t" });
          await site.sms.enqueue({ to: `+25470000001${i}`, text: `ke${i}`, source: "t" });
        }
        await waitFor("all sent", () => site.of("sms_sent").length === 6, 20_000);
        assert.deepEqual(
          decodeSent(site.sims[0]!.sentPdus()).map((s) => s.text),
          ["ug0", "ug1", "ug2"],
        );
        assert.deepEqual(
          decodeSent(site.sims[1]!.sentPdus()).map((s) => s.text),
          ["ke0", "ke1", "ke2"],
        );
      },
    );
  });

  it("honours a modem's daily cap and a request for a named modem", async () => {
    await withSite(
      "limits",
      {
        modems: [
          { id: "m1", modem: { daily_limit: 2 } },
          { id: "m2", modem: { networks: ["none"] } },
        ],
      },
      async (site) => {
        const ids = [];
        for (let i = 0; i < 3; i++)
          ids.push((await site.sms.enqueue({ to: `+25670000002${i}`, text: `c${i}`, source: "t" })).id);
        await waitFor("two sent", () => site.of("sms_sent").length === 2, 10_000);
        await new Promise((r) => setTimeout(r, 500));
        assert.equal(site.of("sms_sent").length, 2, "the cap holds the third back");
        assert.equal(site.sms.status(ids[2]!)?.state, "queued");
        // m2 sends for no network, but a message asked of it by name goes through it.
        const pinned = await site.sms.enqueue({
          to: "+256700000030",
          text: "pinned",
          source: "t",
          modem: "m2",
        });
        await waitFor("pinned sent", () => site.of("sms_sent").find((e) => e.id === pinned.id), 10_000);
        assert.equal(site.sms.status(pinned.id)?.modem, "m2");
      },
    );
  });

  it("holds a modem to its rate_per_minute while another modem carries on", async () => {
    await withSite(
      "rate",
      {
        modems: [
          { id: "m1", modem: { rate_per_minute: 2 } },
          { id: "m2", modem: { networks: ["none"] } },
        ],
      },
      async (site) => {
        const ids = [];
        for (let i = 0; i < 3; i++)
          ids.push((await site.sms.enqueue({ to: `+25670000004${i}`, text: `r${i}`, source: "t" })).id);
        const pinned = await site.sms.enqueue({
          to: "+256700000049",
          text: "other",
          source: "t",
          modem: "m2",
        });
        await waitFor(
          "two sent by m1",
          () => site.of("sms_sent").filter((e) => e.modem === "m1").length === 2,
        );
        await waitFor("m2 not held back", () => site.of("sms_sent").find((e) => e.id === pinned.id));
        await new Promise((r) => setTimeout(r, 1500));
        assert.equal(
          site.of("sms_sent").filter((e) => e.modem === "m1").length,
          2,
          "the third waits a minute",
        );
        assert.equal(site.sms.status(ids[2]!)?.state, "queued");
      },
    );
  });

  it("rejects what cannot go, truncates when told to, and accepts a repeated request once", async () => {
    await withSite("checks", { modems: [{ id: "m1" }], sms: { max_parts: 2 } }, async (site) => {
      await assert.rejects(
        site.sms.enqueue({ to: "+256 772 123 456", text: "z".repeat(400), source: "t" }),
        (err: unknown) =>
          isSiteError(err, "sms.too_long") && err.detail.parts === 3 && err.detail.max_parts === 2,
      );
      await assert.rejects(site.sms.enqueue({ to: "call me", text: "x", source: "t" }), (err: unknown) =>
        isSiteError(err, "sms.invalid"),
      );
      await assert.rejects(site.sms.enqueue({ to: "+256772123456", text: "", source: "t" }), (err: unknown) =>
        isSiteError(err, "sms.invalid"),
      );
      await assert.rejects(
        site.sms.enqueue({ to: "+256772123456", text: "x", source: "t", modem: "m9" }),
        (err: unknown) => isSiteError(err, "sms.invalid"),
      );
      const a = await site.sms.enqueue({
        to: "+256772123456",
        text: "once",
        source: "mqtt",
        sourceRef: "tx-1",
      });
      const b = await site.sms.enqueue({
        to: "+256772123456",
        text: "once",
        source: "mqtt",
        sourceRef: "tx-1",
      });
      assert.equal(b.id, a.id);
      assert.equal(b.existing, true);
      await waitFor("sent", () => site.of("sms_sent").find((e) => e.id === a.id));
      await new Promise((r) => setTimeout(r, 300));
      assert.deepEqual(
        allSent(site).map((s) => s.text),
        ["once"],
      );
    });
    await withSite(
      "truncate",
      { modems: [{ id: "m1" }], sms: { max_parts: 2, too_long: "truncate" } },
      async (site) => {
        const r = await site.sms.enqueue({ to: "+256772123456", text: "😀".repeat(100), source: "t" });
        assert.equal(r.truncated, true);
        assert.equal(r.parts, 2);
        await waitFor("sent", () => site.of("sms_sent").find((e) => e.id === r.id));
        const text = allSent(site)
          .map((s) => s.text)
          .join("");
        // 67 UTF-16 units per part hold 33 emoji (a surrogate pair is never split): 2 parts, 66 emoji.
        assert.equal(text, "😀".repeat(66));
      },
    );
  });

  it("refuses new SMS over sms.queue_limit", async () => {
    await withSite(
      "limit",
      { modems: [{ id: "m1", modem: { networks: ["none"] } }], sms: { queue_limit: 3 } },
      async (site) => {
        for (let i = 0; i < 3; i++)
          await site.sms.enqueue({ to: "+256772123456", text: `q${i}`, source: "t" });
        await assert.rejects(
          site.sms.enqueue({ to: "+256772123456", text: "q3", source: "t" }),
          (err: unknown) => isSiteError(err, "sms.queue_full"),
        );
      },
    );
  });
});

describe("stopping with an SMS in the modem's hands", () => {
  it("waits for the +CMGS answer within the deadline", async () => {
    const site = await startSmsSite({ dir: join(root.dir, "stop-wait"), modems: [{ id: "m1" }] });
    try {
      await site.waitReady();
      // Listening first: AT+CMGS= may go out before the enqueue's commit returns (they are pipelined).
      const cmgs = site.sims[0]!.waitFor("command", (c) => c.line.startsWith("AT+CMGS="), 5000);
      const r = await site.sms.enqueue({ to: "+256772123456", text: "in flight", source: "t" });
      await cmgs;
      await site.sms.stop(Date.now() + 5000);
      assert.equal(site.sms.status(r.id)?.state, "sent");
    } finally {
      await site.stop();
    }
  });

  it("marks it unknown, never to be resent, when the deadline passes first; a later status report proves it went", async () => {
    const dir = join(root.dir, "stop-unknown");
    // The network answers +CMGS 200 ms after the PDU and reports delivery 1 s after that.
    const site = await startSmsSite({
      dir,
      modems: [{ id: "m1", sim: { statusReports: { after_ms: 20_000, status: 0 } } }],
    });
    try {
      await site.waitReady();
      site.sims[0]!.setDelay(4000);
      const r = await site.sms.enqueue({ to: "+256772123456", text: "slow", source: "t" });
      await waitFor("handed", () => site.store.message(r.id)?.parts[0]?.state === "sending", 10_000);
      await site.sms.stop(Date.now() + 50);
      assert.equal(site.sms.status(r.id)?.state, "unknown");
      assert.equal(site.of("sms_failed").find((e) => e.id === r.id)?.code, "sms.unknown");
      site.sims[0]!.setDelay(0);
      // A new SMS path on the same store and modems (what a restart gives), before the report comes.
      const again = new SmsService({
        sms: { ...TEST_SMS },
        networks: [{ name: "local", prefixes: ["+"], max_per_loop: 10 }],
        store: site.store,
        modems: { list: () => site.h.fleet.list(), get: (id) => site.h.fleet.get(id) },
        bus: site.h.bus,
        logger: silentLogger(),
      });
      again.start();
      try {
        await waitFor("delivered", () => again.status(r.id)?.state === "delivered", 10_000);
        assert.ok(
          site.of("sms_sent").find((e) => e.id === r.id),
          "a late sms_sent",
        );
        assert.equal(site.sims[0]!.sentPdus().length, 1, "sent once, never again");
      } finally {
        await again.stop();
      }
    } finally {
      await site.stop();
    }
  });
});
