import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, afterEach, before, describe, it } from "node:test";
import { type AtTestClient, startAndOpen } from "../../src/sim/atTestClient.js";
import { SimControlClient, SimControlServer } from "../../src/sim/control.js";
import { ModemSimulator } from "../../src/sim/simulator.js";
import { type DecodedDeliver, type DecodedStatusReport, decodePdu } from "../../src/sms/pdu/deliver.js";
import { encodeSubmit } from "../../src/sms/pdu/submit.js";

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

  /** Types one SMS-SUBMIT through AT+CMGS; resolves with the `+CMGS: <mr>` value. */
  async function send(at: AtTestClient, to: string, statusReport: boolean): Promise<number> {
    const [part] = encodeSubmit({ to, text: "ping", reference: 0, statusReport }).parts;
    await at.command(`AT+CMGS=${part!.tpduLength}`);
    const r = await at.command(`${part!.pdu}\x1a`, { until: /\r\nOK\r\n/, eol: "" });
    const m = /\+CMGS: (\d+)/.exec(r.raw);
    assert.ok(m, r.raw);
    return Number(m[1]);
  }

  it("network side: a status report follows +CMGS for a submit with TP-SRR (+CDS), none without", async () => {
    const { sim, at } = await up();
    await at.command("AT+CNMI=2,1,0,1,0");
    sim.statusReports({ after_ms: 1000, status: 0x00 });
    const reports: number[] = [];
    sim.on("status_report", (e) => reports.push(e.mr));
    const from = at.mark();
    await send(at, "+256772123456", false);
    const mr = await send(at, "+256772654321", true);
    assert.equal(mr, 1);
    const m = await at.waitFor(/\r\n\+CDS: (\d+)\r\n([0-9A-F]+)\r\n/, { from });
    assert.ok(at.text.indexOf("+CMGS: 1", from) < from + m.index, "+CDS comes after +CMGS");
    const r = decodePdu(m[2]!) as DecodedStatusReport;
    assert.equal(r.kind, "status_report");
    assert.deepEqual(
      [r.mr, r.recipient, r.status, r.delivered, r.smsc, m[1]],
      [1, "+256772654321", 0, true, "+256700000001", String(m[2]!.length / 2 - 8)],
    );
    assert.ok(Date.parse(r.dischargeTime) >= Date.parse(r.scts));
    assert.deepEqual((await at.command("AT+CNMA")).lines, ["OK"]);
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.deepEqual(reports, [1], "no report for the submit without TP-SRR");
    assert.equal(sim.sentPdus().length, 2);
  });

  it("network side: with CNMI ds=2 the report is stored (+CDSI) and reads back with its status", async () => {
    const { sim, at } = await up();
    await at.command("AT+CNMI=2,1,0,2,0");
    sim.statusReports({ after_ms: 500, status: 0x41 });
    const from = at.mark();
    const mr = await send(at, "0772123456", true);
    const m = await at.waitFor(/\r\n\+CDSI: "SM",(\d+)\r\n/, { from });
    const read = await at.command(`AT+CMGR=${m[1]}`);
    const r = decodePdu(read.lines[1]!) as DecodedStatusReport;
    assert.deepEqual(
      [r.kind, r.mr, r.recipient, r.status, r.failed],
      ["status_report", mr, "0772123456", 0x41, true],
    );
  });

  it("network side: pending status reports are dropped at power-off and when turned off", async () => {
    const { sim, at } = await up();
    await at.command("AT+CNMI=2,1,0,1,0");
    let reports = 0;
    sim.on("status_report", () => reports++);
    sim.statusReports({ after_ms: 5000, status: 0 });
    await send(at, "+256772123456", true);
    sim.statusReports(null);
    await send(at, "+256772123456", true);
    sim.statusReports({ after_ms: 5000, status: 0 });
    await send(at, "+256772123456", true);
    sim.setPower(false);
    await new Promise((resolve) => setTimeout(resolve, 250));
    assert.equal(reports, 0);
  });

  it("network side: injectText delivers a 3-part text in the given order (+CMTI) and it reassembles", async () => {
    const { sim, at } = await up();
    const text = "Mwebale nnyo! ".repeat(25) + "€ end";
    const from = at.mark();
    const indices = sim.injectText("+256772000001", text, { order: [3, 1, 2], ref: 77 });
    assert.deepEqual(indices, [1, 2, 3]);
    await at.waitFor(/\+CMTI: "SM",3\r\n/, { from });
    const parts: DecodedDeliver[] = [];
    for (const i of indices) {
      const read = await at.command(`AT+CMGR=${i}`);
      parts.push(decodePdu(read.lines[1]!) as DecodedDeliver);
    }
    assert.deepEqual(
      parts.map((p) => [p.from, p.smsc, p.concat]),
      [3, 1, 2].map((seq) => ["+256772000001", "+256700000001", { ref: 77, refBits: 8, total: 3, seq }]),
    );
    const ordered = [...parts].sort((a, b) => a.concat!.seq - b.concat!.seq);
    assert.equal(ordered.map((p) => p.text).join(""), text);
  });

  it("network side: injectText with mode cmt routes every part with +CMT (16-bit ref)", async () => {
    const { sim, at } = await up();
    const from = at.mark();
    const indices = sim.injectText("MTN", "ж".repeat(100), { mode: "cmt", ref16: true, ref: 0x1234 });
    assert.deepEqual(indices, [-1, -1]);
    await at.waitFor(/\+CMT: ,\d+\r\n[0-9A-F]+\r\n[\s\S]*\+CMT: ,\d+\r\n[0-9A-F]+\r\n/, { from });
    const pdus = [...at.text.slice(from).matchAll(/\+CMT: ,\d+\r\n([0-9A-F]+)\r\n/g)].map((x) => x[1]!);
    const decoded = pdus.map((p) => decodePdu(p) as DecodedDeliver);
    assert.deepEqual(
      decoded.map((d) => [d.from, d.encoding, d.concat?.refBits, d.concat?.ref, d.concat?.seq]),
      [
        ["MTN", "ucs2", 16, 0x1234, 1],
        ["MTN", "ucs2", 16, 0x1234, 2],
      ],
    );
    assert.equal(decoded.map((d) => d.text).join(""), "ж".repeat(100));
    for (let i = 0; i < 2; i++) assert.deepEqual((await at.command("AT+CNMA")).lines, ["OK"]);
    assert.throws(() => sim.injectText("+1", "x", { order: [2] }), /part 2 does not exist/);
  });

  it("network side: inject_text and status_reports over the control socket", async () => {
    const { sim, at } = await up();
    const server = new SimControlServer(sim, join(dir, `ctl${n}`));
    await server.start();
    const client = new SimControlClient(server.path);
    try {
      await at.command("AT+CNMI=2,1,0,1,0");
      await client.call("status_reports", { after_ms: 500, status: 0x20 });
      const from = at.mark();
      const mr = await send(at, "+256772123456", true);
      const m = await at.waitFor(/\r\n\+CDS: \d+\r\n([0-9A-F]+)\r\n/, { from });
      const r = decodePdu(m[1]!) as DecodedStatusReport;
      assert.deepEqual([r.mr, r.status, r.pending], [mr, 0x20, true]);
      await client.call("status_reports", { off: true });
      const result = await client.call<{ indices: number[] }>("inject_text", {
        from: "+256772000001",
        text: "x".repeat(200),
        order: [2, 1],
        timestamp: "2024-01-02T03:04:05+03:00",
      });
      assert.deepEqual(result, { indices: [1, 2] });
      const stored = sim.storedMessages().map((s) => decodePdu(s.pdu) as DecodedDeliver);
      assert.deepEqual(
        stored.map((d) => [d.concat?.seq, d.timestamp]),
        [
          [2, "2024-01-02T03:04:05+03:00"],
          [1, "2024-01-02T03:04:05+03:00"],
        ],
      );
      await assert.rejects(
        client.call("inject_text", { from: "+1", text: "x", order: [0] }),
        /does not exist/,
      );
    } finally {
      client.close();
      await server.stop();
    }
  });
});
