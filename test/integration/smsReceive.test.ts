/**
 * Receiving: SMS the simulated network delivers to the simulated modems, read, stored and deleted by the
 * SMS path over real pseudo-terminals, into a real SQLite file.
 */
import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { encodeDeliver } from "../../src/sim/network.js";
import { missingPartMarker } from "../../src/sms/store.js";
import { tempDir, waitFor } from "../helpers/fleetHarness.js";
import { type SmsSite, startSmsSite } from "../helpers/smsHarness.js";

let root: ReturnType<typeof tempDir>;
before(() => {
  root = tempDir("sms-receive");
});
after(() => root.cleanup());

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

const LONG_UCS2 = `Habari za asubuhi 👋🏾! ${"Mkutano wa kijiji — 会议 — ni kesho. ".repeat(4)}Mwisho 😀`;

describe("receiving SMS on simulated modems", () => {
  it("stores a +CMTI message, emits sms_received, and only then deletes it from the SIM", async () => {
    await withSite("cmti", { modems: [{ id: "m1" }] }, async (site) => {
      const sim = site.sims[0]!;
      const deletes: string[] = [];
      sim.on("command", (c) => {
        if (c.line.startsWith("AT+CMGD=")) {
          // When the delete arrives, the message must already be on disk.
          deletes.push(`${c.line}:${site.store.incomingStats().messages}`);
        }
      });
      sim.injectText("+256772999001", "Hello €uro {ok}");
      const e = await waitFor("sms_received", () => site.of("sms_received")[0]);
      assert.equal(e.from, "+256772999001");
      assert.equal(e.text, "Hello €uro {ok}");
      assert.equal(e.modem, "m1");
      assert.equal(e.parts, 1);
      assert.equal(site.store.incoming(e.id)?.text, "Hello €uro {ok}");
      await waitFor("deleted from the SIM", () => sim.storedMessages().length === 0);
      assert.deepEqual(deletes, ["AT+CMGD=1:1"]);
    });
  });

  it("reassembles a 3-part UCS2 message with emoji arriving out of order (8-bit reference)", async () => {
    await withSite("multipart8", { modems: [{ id: "m1" }] }, async (site) => {
      const idx = site.sims[0]!.injectText("+256772999002", LONG_UCS2, { order: [3, 1, 2], ref: 200 });
      assert.equal(idx.length, 3, "3 parts");
      const e = await waitFor("sms_received", () => site.of("sms_received")[0]);
      assert.equal(e.text, LONG_UCS2);
      assert.equal(e.parts, 3);
      assert.equal(e.missing_parts, 0);
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(site.of("sms_received").length, 1);
      assert.equal(site.sims[0]!.storedMessages().length, 0);
    });
  });

  it("reassembles 16-bit-reference parts, keeps two senders' messages with the same reference apart", async () => {
    await withSite("multipart16", { modems: [{ id: "m1" }] }, async (site) => {
      const sim = site.sims[0]!;
      const a = "A".repeat(200);
      const b = "B".repeat(200);
      sim.injectText("+256772999003", a, { ref16: true, ref: 0x1234, order: [2] });
      sim.injectText("+256772999004", b, { ref16: true, ref: 0x1234, order: [2, 1] });
      sim.injectText("+256772999003", a, { ref16: true, ref: 0x1234, order: [1] });
      await waitFor("two messages", () => site.of("sms_received").length === 2);
      const got = Object.fromEntries(site.of("sms_received").map((e) => [e.from, e.text]));
      assert.deepEqual(got, { "+256772999003": a, "+256772999004": b });
    });
  });

  it("drops duplicate parts and a PDU delivered twice", async () => {
    await withSite("dupes", { modems: [{ id: "m1" }] }, async (site) => {
      const sim = site.sims[0]!;
      const at = new Date("2026-11-20T10:00:00Z");
      sim.injectText("+256772999005", "z".repeat(300), { order: [1, 1, 2, 2], ref: 9, timestamp: at });
      const pdu = encodeDeliver({ from: "+256772999006", text: "twice", timestamp: at });
      sim.injectSms(`00${pdu.slice(2)}`);
      sim.injectSms(`00${pdu.slice(2)}`);
      await waitFor("two messages", () => site.of("sms_received").length === 2);
      await waitFor("SIM emptied", () => sim.storedMessages().length === 0);
      await new Promise((r) => setTimeout(r, 300));
      assert.deepEqual(
        site
          .of("sms_received")
          .map((e) => e.text)
          .sort(),
        ["twice", "z".repeat(300)],
      );
    });
  });

  it("sweeps the modem's storage when the modem becomes ready and when it reports its storage full", async () => {
    const dir = join(root.dir, "sweep-start");
    const site = await startSmsSite({
      dir,
      modems: [{ id: "m1" }],
      sms: { sweep_interval_s: 3600 },
      beforeSms: (sims) => {
        sims[0]!.injectText("+256772999011", "on the SIM before we started");
        sims[0]!.injectText("+256772999016", "w".repeat(170), { order: [2, 1] });
      },
    });
    try {
      await site.waitReady();
      await waitFor("swept at ready", () => site.of("sms_received").length === 2, 10_000);
      assert.deepEqual(
        site
          .of("sms_received")
          .map((e) => e.text)
          .sort(),
        ["on the SIM before we started", "w".repeat(170)],
      );
      await waitFor("emptied", () => site.sims[0]!.storedMessages().length === 0);
      const sim = site.sims[0]!;
      const listed = sim.waitFor("command", (c) => c.line === "AT+CMGL=4", 5000);
      sim.emitUrc('^SMMEMFULL: "SM"');
      await listed;
    } finally {
      await site.stop();
    }
  });

  it("acknowledges +CMT direct delivery with AT+CNMA after storing, where the profile says so", async () => {
    const quirks = join(root.dir, "quirks");
    mkdirSync(quirks, { recursive: true });
    writeFileSync(
      join(quirks, "direct.json"),
      JSON.stringify({
        name: "direct_delivery",
        description: "test: phase 2+ direct delivery",
        match: { usb_ids: [], manufacturer: [], model: [] },
        sms_init: [
          { command: "AT+CMGF=0", required: true },
          { command: "AT+CSMS=1", required: true },
          { command: "AT+CNMI=2,2,0,1,0", required: true },
        ],
        sms_ack: true,
      }),
    );
    await withSite(
      "cmt",
      { modems: [{ id: "m1", modem: { profile: "direct_delivery" } }], quirkDirs: [quirks] },
      async (site) => {
        const sim = site.sims[0]!;
        const acks: number[] = [];
        sim.on("command", (c) => {
          if (c.line === "AT+CNMA") acks.push(site.store.incomingStats().messages);
        });
        sim.injectText("+256772999012", "direct", { mode: "cmt" });
        const e = await waitFor("sms_received", () => site.of("sms_received")[0]);
        assert.equal(e.text, "direct");
        await waitFor("acknowledged", () => acks.length === 1);
        assert.deepEqual(acks, [1], "acknowledged once, after the message was stored");
        assert.equal(sim.storedMessages().length, 0, "nothing stored on the SIM");
      },
    );
  });

  it("delivers an incomplete message with a marker once sms.reassembly_timeout_s has passed", async () => {
    await withSite("timeout", { modems: [{ id: "m1" }], sms: { reassembly_timeout_s: 1 } }, async (site) => {
      site.sims[0]!.injectText("+256772999013", "p".repeat(400), { order: [1, 3], ref: 77 });
      // The timeout is checked every 10 s.
      const e = await waitFor("sms_received", () => site.of("sms_received")[0], 15_000);
      assert.equal(e.missing_parts, 1);
      assert.equal(e.text, `${"p".repeat(153)}${missingPartMarker(2, 3)}${"p".repeat(400 - 306)}`);
    });
  });

  it("keeps an undecodable PDU raw in the database, deletes it from the SIM and carries on", async () => {
    await withSite("garbage", { modems: [{ id: "m1" }] }, async (site) => {
      const sim = site.sims[0]!;
      // An SMS-DELIVER whose time stamp has month 13: not decodable, but a real PDU a modem may hold.
      const good = encodeDeliver({
        from: "+256772999014",
        text: "ok",
        timestamp: new Date("2026-11-20T10:00:00Z"),
      });
      const bad = good.replace(/(0000)(62)(11)/, "$1$2" + "31");
      assert.notEqual(bad, good);
      sim.injectSms(bad);
      sim.injectText("+256772999015", "after the bad one");
      await waitFor("the good one", () =>
        site.of("sms_received").find((e) => e.text === "after the bad one"),
      );
      await waitFor("SIM emptied", () => sim.storedMessages().length === 0);
      assert.equal(site.store.incomingStats().undecodable, 1);
    });
  });
});
