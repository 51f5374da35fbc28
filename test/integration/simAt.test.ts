import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, afterEach, before, describe, it } from "node:test";
import { type AtTestClient, startAndOpen } from "../../src/sim/atTestClient.js";
import { ModemSimulator, type ModemSimulatorOptions } from "../../src/sim/simulator.js";

describe("modem simulator: AT over a real pty", () => {
  let dir = "";
  let n = 0;
  const sims: ModemSimulator[] = [];
  const clients: AtTestClient[] = [];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "bts-sim-at-"));
  });
  afterEach(async () => {
    for (const c of clients.splice(0)) await c.close();
    for (const s of sims.splice(0)) await s.stop();
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function up(profile: string, opts: Partial<ModemSimulatorOptions> = {}) {
    const sim = new ModemSimulator({
      link: join(dir, `${profile}-${n++}`),
      profile,
      timeScale: 0.02,
      ...opts,
    });
    sims.push(sim);
    const at = await startAndOpen(sim);
    clients.push(at);
    return { sim, at };
  }

  it("echoes the command line with its \\r until ATE0, and ATE1 turns it back on", async () => {
    const { at } = await up("generic");
    assert.equal((await at.command("AT")).raw, "AT\r\r\nOK\r\n");
    assert.equal((await at.command("ATE0")).raw, "ATE0\r\r\nOK\r\n");
    assert.equal((await at.command("AT")).raw, "\r\nOK\r\n");
    await at.command("ATE1");
    assert.equal((await at.command("AT+CMGF=0")).raw, "AT+CMGF=0\r\r\nOK\r\n");
  });

  it("answers a command that arrives one byte at a time", async () => {
    const { at } = await up("generic");
    await at.command("ATE0");
    const from = at.mark();
    for (const ch of "AT+CSQ\r") {
      await at.write(ch);
      await new Promise((r) => setTimeout(r, 2));
    }
    await at.waitFor(/\r\nOK\r\n/, { from });
    assert.equal(at.text.slice(from), "\r\n+CSQ: 18,99\r\n\r\nOK\r\n");
  });

  const identities: [string, string, string, RegExp][] = [
    ["generic", "BTS-SITE", "GENERIC-GSM", /^35693803\d{7}$/],
    ["sim800", "SIMCOM_Ltd", "SIMCOM_SIM800L", /^86436903\d{7}$/],
    ["huawei_e3531", "huawei", "E3531", /^86197600\d{7}$/],
    ["wavecom", " WAVECOM MODEM", " MULTIBAND  900E  1800", /^35124300\d{7}$/],
    ["zte_mf", "ZTE INCORPORATED", "MF627", /^35474802\d{7}$/],
    ["ec25", "Quectel", "EC25", /^86675804\d{7}$/],
  ];
  for (const [profile, manufacturer, model, imei] of identities) {
    it(`identifies itself as the ${profile} profile says`, async () => {
      const { at } = await up(profile);
      await at.command("ATE0");
      const info = (cmd: string) => at.command(cmd).then((r) => r.raw.match(/^\r\n(.*)\r\n\r\nOK\r\n/)?.[1]);
      assert.equal(await info("AT+CGMI"), manufacturer);
      assert.equal(await info("AT+CGMM"), model);
      assert.match((await info("AT+CGSN")) ?? "", imei);
    });
  }

  it("uses the IMEI it was given", async () => {
    const { at } = await up("sim800", { imei: "864369032292264" });
    assert.deepEqual((await at.command("AT+GSN")).lines, ["AT+GSN", "864369032292264", "OK"]);
  });

  it("Huawei: answers unknown commands COMMAND NOT SUPPORT and chatters ^RSSI/^BOOT/^MODE", async () => {
    const { at } = await up("huawei_e3531");
    await at.command("ATE0");
    assert.match((await at.command("AT+WIND?")).raw, /\r\nCOMMAND NOT SUPPORT\r\n$/);
    await at.waitFor(/\r\n\^RSSI:18\r\n/, { timeoutMs: 1000 });
    await at.waitFor(/\r\n\^BOOT:35323129,0,0,0,26\r\n/, { timeoutMs: 1000 });
    await at.waitFor(/\r\n\^MODE:5\r\n/, { timeoutMs: 1000 });
  });

  it("Wavecom: AT+CPIN? gets +CPIN: READY and no final OK", async () => {
    const { at } = await up("wavecom");
    await at.command("ATE0");
    const from = at.mark();
    await at.write("AT+CPIN?\r");
    await at.waitFor(/\r\n\+CPIN: READY\r\n/, { from });
    const more = await at.collect(150);
    assert.doesNotMatch(at.text.slice(from) + more, /OK/);
    assert.equal((await at.command("AT")).raw, "\r\nOK\r\n");
  });

  it("writes garbage the client has to survive, then answers normally", async () => {
    const { sim, at } = await up("generic");
    await at.command("ATE0");
    const from = at.mark();
    sim.garbage();
    await at.waitFor(/\+CRE\xff/, { from });
    assert.ok(at.text.slice(from).includes("\0\0\xff"));
    sim.garbage(Buffer.from([0x00, 0x1b, 0x7f]));
    assert.equal((await at.command("AT")).lines.at(-1), "OK");
  });

  it("sends the profile's boot URCs (SIM800: RDY, +CFUN: 1, +CPIN: READY, Call Ready, SMS Ready)", async () => {
    const { at } = await up("sim800");
    const urcs = at.text.split("\r\n").filter(Boolean);
    assert.deepEqual(urcs.slice(0, 5), ["RDY", "+CFUN: 1", "+CPIN: READY", "Call Ready", "SMS Ready"]);
  });

  it("lets a test override a reply and emit a URC", async () => {
    const { sim, at } = await up("generic");
    await at.command("ATE0");
    const off = sim.on("AT+CSQ", () => ["+CSQ: 3,99", "OK"]);
    assert.equal((await at.command("AT+CSQ")).raw, "\r\n+CSQ: 3,99\r\n\r\nOK\r\n");
    off();
    assert.equal((await at.command("AT+CSQ")).raw, "\r\n+CSQ: 18,99\r\n\r\nOK\r\n");
    const from = at.mark();
    sim.emitUrc('+CUSD: 0,"hello",15');
    await at.waitFor(/\r\n\+CUSD: 0,"hello",15\r\n/, { from });
  });

  it("emits a command event per line received", async () => {
    const { sim, at } = await up("generic");
    const seen = sim.waitFor("command", (e) => e.line === "AT+CIMI");
    await at.command("AT+CIMI");
    assert.deepEqual(await seen, { port: 0, line: "AT+CIMI" });
  });
});
