/**
 * Never lost, never twice: a site process (test/helpers/smsChild.ts) runs mixed SMS traffic on two
 * simulated modems and is killed with SIGKILL at random moments, many times, then restarted. The
 * simulators live here, in the test process, so they outlive every kill and keep the network's view:
 * what was really sent. At the end:
 *   - every accepted SMS was sent exactly once (each part once), or, if the store says `unknown` (the
 *     kill fell between the PDU and the +CMGS answer, and no status report proved it went), at most
 *     once; at most one per modem per kill is unknown;
 *   - nothing was ever sent twice, accepted or not;
 *   - every SMS the network delivered is stored exactly once, and the SIMs are empty.
 *
 * SMS_KILL_CYCLES (default 8) sets the number of kills; the bench runs it with 100.
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { after, before, describe, it } from "node:test";
import { ModemSimulator } from "../../src/sim/simulator.js";
import { decodePdu } from "../../src/sms/pdu/deliver.js";
import { openSmsDatabase, SmsStore } from "../../src/sms/store.js";
import { tempDir, waitFor } from "../helpers/fleetHarness.js";

const CYCLES = Number(process.env.SMS_KILL_CYCLES ?? 8);
const CHILD = new URL("../helpers/smsChild.ts", import.meta.url).pathname;

let root: ReturnType<typeof tempDir>;
before(() => {
  root = tempDir("sms-crash");
});
after(() => root.cleanup());

interface Child {
  proc: ChildProcess;
  ready: Promise<void>;
  accepted: Map<string, string>;
  exited: Promise<void>;
}

function startChild(args: string[], accepted: Map<string, string>): Child {
  const proc = spawn(process.execPath, ["--import", "tsx", CHILD, ...args], {
    stdio: ["pipe", "pipe", process.env.TEST_LOG === "1" ? "inherit" : "ignore"],
  });
  let readyResolve: () => void = () => {};
  const ready = new Promise<void>((r) => {
    readyResolve = r;
  });
  createInterface({ input: proc.stdout! }).on("line", (line) => {
    let msg: { ready?: boolean; accepted?: string; id?: string };
    try {
      msg = JSON.parse(line) as typeof msg;
    } catch {
      return;
    }
    if (msg.ready) readyResolve();
    if (msg.accepted && msg.id) accepted.set(msg.accepted, msg.id);
  });
  proc.stdin!.on("error", () => {});
  const exited = new Promise<void>((r) => proc.on("exit", () => r()));
  return { proc, ready, accepted, exited };
}

function send(child: Child, req: { to: string; text: string; ref: string }): void {
  child.proc.stdin!.write(`${JSON.stringify(req)}\n`);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("kill -9 at random moments during mixed traffic", () => {
  it(`loses nothing and sends nothing twice over ${CYCLES} kills`, {
    timeout: 60_000 + CYCLES * 15_000,
  }, async () => {
    const dir = root.dir;
    const linkDir = join(dir, "dev");
    const gpioDir = join(dir, "gpio");
    mkdirSync(linkDir, { recursive: true });
    const sims = [0, 1].map(
      (i) =>
        new ModemSimulator({
          link: join(linkDir, `usb-m${i + 1}`),
          powerGpio: { dir: gpioDir, line: 17 + i },
          // +CMGS in 50 ms: kills land before, during and after sends.
          timeScale: 0.02,
          // Status reports 3 s after each +CMGS (a restart takes about 2 s): a report that reaches the
          // restarted site proves that a send the kill left unknown did go.
          statusReports: { after_ms: 150_000, status: 0 },
        }),
    );
    for (const s of sims) await s.start();
    const args = [dir, linkDir, gpioDir, sims.map((s) => s.state().imei).join(",")];
    const requests = new Map<string, { to: string; text: string; ref: string }>();
    const accepted = new Map<string, string>();
    const inbound: string[] = [];
    let n = 0;
    let kills = 0;
    try {
      for (let cycle = 0; cycle < CYCLES; cycle++) {
        const child = startChild(args, accepted);
        await Promise.race([
          child.ready,
          sleep(30_000).then(() => Promise.reject(new Error("child not ready"))),
        ]);
        // Outgoing: single and multipart, each to its own number so the network's view can be checked.
        for (let i = 0; i < 12; i++, n++) {
          const ref = `r${n}`;
          const text = n % 4 === 0 ? `${ref} ${"long message ".repeat(15)}` : `${ref} short`;
          const req = { to: `+2567701${String(n).padStart(5, "0")}`, text, ref };
          requests.set(ref, req);
          send(child, req);
        }
        // Incoming: one single and one 2-part message out of order, on alternating modems.
        const single = `in ${cycle} single`;
        const multi = `in ${cycle} multi ${"x".repeat(200)}`;
        sims[cycle % 2]!.injectText(`+25678000${String(cycle).padStart(4, "0")}`, single);
        sims[(cycle + 1) % 2]!.injectText(`+25679000${String(cycle).padStart(4, "0")}`, multi, {
          order: [2, 1],
        });
        inbound.push(single, multi);
        await sleep(Math.floor(Math.random() * 700));
        child.proc.kill("SIGKILL");
        kills++;
        await child.exited;
      }
      // Final run: every request again (a client retrying what it never heard back about); nothing is
      // queued twice thanks to the idempotency key.
      const child = startChild(args, accepted);
      await Promise.race([
        child.ready,
        sleep(30_000).then(() => Promise.reject(new Error("child not ready"))),
      ]);
      for (const req of requests.values()) send(child, req);
      await waitFor("every request accepted", () => accepted.size === requests.size, 30_000);
      const db = openSmsDatabase(join(dir, "data"));
      const store = new SmsStore(db);
      try {
        const finalStates = new Set(["sent", "unknown", "failed", "delivered"]);
        await waitFor(
          "every SMS settled",
          () => [...accepted.values()].every((id) => finalStates.has(store.message(id)?.state ?? "")),
          60_000,
        );
        await waitFor(
          "every incoming SMS stored",
          () => store.incomingStats().messages >= inbound.length,
          30_000,
        );
        await waitFor("SIMs emptied", () => sims.every((s) => s.storedMessages().length === 0), 30_000);
        child.proc.kill("SIGTERM");
        await child.exited;

        // The network's view: PDUs per destination number.
        const byTo = new Map<string, { seq: number; total: number }[]>();
        for (const s of sims)
          for (const p of s.sentPdus()) {
            const d = decodePdu(p.pdu);
            if (d.kind !== "submit") continue;
            const list = byTo.get(d.to) ?? [];
            byTo.set(d.to, list);
            list.push({ seq: d.concat?.seq ?? 1, total: d.concat?.total ?? 1 });
          }
        let unknown = 0;
        let unknownSent = 0;
        for (const [ref, id] of accepted) {
          const req = requests.get(ref)!;
          const m = store.message(id)!;
          const got = byTo.get(req.to) ?? [];
          const seqs = got.map((g) => g.seq).sort((a, b) => a - b);
          const once = m.parts.map((p) => p.part);
          assert.equal(new Set(seqs).size, seqs.length, `${ref}: no part sent twice (${seqs})`);
          if (m.state === "unknown") {
            unknown++;
            if (seqs.length > 0) unknownSent++;
            assert.ok(seqs.length <= m.parts.length, `${ref}: unknown, sent at most once`);
          } else {
            assert.ok(["sent", "delivered"].includes(m.state), `${ref}: ${m.state} ${m.error ?? ""}`);
            assert.deepEqual(seqs, once, `${ref}: every part sent exactly once`);
          }
        }
        // Only an SMS a modem held when the process died can be unknown: one per modem per kill at most.
        assert.ok(unknown <= kills * sims.length, `${unknown} unknown after ${kills} kills of 2 modems`);
        // Received: each text stored exactly once.
        const texts = store.incomingAfter(0, 10_000).map((m) => m.text);
        for (const t of inbound)
          assert.equal(texts.filter((x) => x === t).length, 1, `stored once: ${t.slice(0, 20)}`);
        assert.equal(texts.length, inbound.length, "nothing stored that was not sent");
        process.stderr.write(
          `# kill -9 loop: ${kills} kills, ${accepted.size} SMS accepted, ${unknown} unknown (${unknownSent} of them did go), ${inbound.length} received\n`,
        );
      } finally {
        db.close();
      }
    } finally {
      for (const s of sims) await s.stop().catch(() => {});
    }
  });
});
