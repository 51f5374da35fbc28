import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, afterEach, before, describe, it } from "node:test";
import { type AtTestClient, startAndOpen } from "../../src/sim/atTestClient.js";
import { ModemSimulator } from "../../src/sim/simulator.js";

const SUBMIT = "0001000B912143658709F1000003C8341B"; // to +12345678901, "Hi"; TPDU 16 octets
const DELIVER = "07915207000000F1040B912143658709F10000522011417204400AC8329BFD06"; // TPDU 24 octets
const REPORT = "07914356060013F10659098136395339F6219011707193802190117071938030"; // TPDU 24 octets

async function eventually(check: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("condition not reached");
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe("modem simulator: SMS over a real pty", () => {
  let dir = "";
  let n = 0;
  const sims: ModemSimulator[] = [];
  const clients: AtTestClient[] = [];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "bts-sim-sms-"));
  });
  afterEach(async () => {
    for (const c of clients.splice(0)) await c.close();
    for (const s of sims.splice(0)) await s.stop();
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function up(profile = "sim800") {
    const sim = new ModemSimulator({ link: join(dir, `m${n++}`), profile, timeScale: 0.02 });
    sims.push(sim);
    const at = await startAndOpen(sim);
    clients.push(at);
    await at.command("ATE0");
    await eventually(() => sim.state().registration === 1);
    return { sim, at };
  }

  it("sends a PDU through the prompt, answers +CMGS with an incrementing mr and records it", async () => {
    const { sim, at } = await up();
    const sent = sim.waitFor("sent");
    assert.equal((await at.command("AT+CMGS=16")).raw, "\r\n> ");
    const started = Date.now();
    const first = await at.command(`${SUBMIT}\x1a`, { until: /\r\nOK\r\n/, eol: "" });
    assert.ok(Date.now() - started >= 40, "answers after cmgs_ms (2500 ms × 0.02)");
    assert.equal(first.raw, "\r\n+CMGS: 0\r\n\r\nOK\r\n");
    assert.equal((await sent).mr, 0);
    await at.command("AT+CMGS=16");
    assert.deepEqual((await at.command(`${SUBMIT}\x1a`, { until: /\r\nOK\r\n/, eol: "" })).lines, [
      "+CMGS: 1",
      "OK",
    ]);
    const pdus = sim.sentPdus();
    assert.deepEqual(
      pdus.map((p) => [p.pdu, p.mr, p.length]),
      [
        [SUBMIT, 0, 16],
        [SUBMIT, 1, 16],
      ],
    );
    assert.ok(pdus[0]!.at <= pdus[1]!.at);
  });

  it("refuses a PDU whose length does not match AT+CMGS with +CMS ERROR: 304", async () => {
    const { sim, at } = await up();
    await at.command("AT+CMGS=17");
    assert.deepEqual((await at.command(`${SUBMIT}\x1a`, { eol: "" })).lines, ["+CMS ERROR: 304"]);
    assert.equal(sim.sentPdus().length, 0);
  });

  it("answers the injected +CMS ERROR for the next submissions, then succeeds", async () => {
    const { sim, at } = await up();
    sim.cmsErrors(332, 2);
    for (const expected of ["+CMS ERROR: 332", "+CMS ERROR: 332", "+CMGS: 0"]) {
      await at.command("AT+CMGS=16");
      const r = await at.command(`${SUBMIT}\x1a`, { eol: "" });
      assert.equal(r.lines[0], expected);
    }
  });

  it("indicates an injected SMS with +CMTI and serves it through CMGR, CMGL and CMGD", async () => {
    const { sim, at } = await up();
    const from = at.mark();
    const index = sim.injectSms(DELIVER);
    assert.equal(index, 1);
    await at.waitFor(/\r\n\+CMTI: "SM",1\r\n/, { from });
    assert.deepEqual((await at.command("AT+CMGR=1")).lines, ["+CMGR: 0,,24", DELIVER, "OK"]);
    const second = at.mark();
    sim.injectSms(DELIVER);
    await at.waitFor(/\r\n\+CMTI: "SM",2\r\n/, { from: second });
    assert.deepEqual((await at.command("AT+CMGL=4")).lines, [
      "+CMGL: 1,1,,24",
      DELIVER,
      "+CMGL: 2,0,,24",
      DELIVER,
      "OK",
    ]);
    assert.deepEqual((await at.command("AT+CMGD=1")).lines, ["OK"]);
    assert.deepEqual(
      sim.storedMessages().map((m) => [m.storage, m.index, m.stat]),
      [["SM", 2, 1]],
    );
  });

  it("routes an SMS directly with +CMT when asked, and expects AT+CNMA", async () => {
    const { sim, at } = await up();
    const from = at.mark();
    assert.equal(sim.injectSms(DELIVER, { mode: "cmt" }), -1);
    await at.waitFor(new RegExp(`\r\n\\+CMT: ,24\r\n${DELIVER}\r\n`), { from });
    assert.deepEqual((await at.command("AT+CNMA")).lines, ["OK"]);
    assert.equal(sim.storedMessages().length, 0);
  });

  it("routes status reports per AT+CNMI ds: +CDS direct, +CDSI stored", async () => {
    const { sim, at } = await up();
    await at.command("AT+CNMI=2,1,0,1,0");
    let from = at.mark();
    sim.injectStatusReport(REPORT);
    await at.waitFor(new RegExp(`\r\n\\+CDS: 24\r\n${REPORT}\r\n`), { from });
    await at.command("AT+CNMI=2,1,0,2,0");
    from = at.mark();
    const index = sim.injectStatusReport(REPORT);
    await at.waitFor(new RegExp(`\r\n\\+CDSI: "SM",${index}\r\n`), { from });
  });
});
