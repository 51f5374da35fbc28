import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import { silentLogger } from "../../src/core/logger.js";
import { deliverSms, deliverStatusReport } from "../../src/sim/commands/smsRead.js";
import { ModemDevice } from "../../src/sim/device.js";
import { createModemState, type ModemIdentityOptions } from "../../src/sim/modemState.js";
import { loadProfile } from "../../src/sim/profile.js";

const PDU = "0001000B912143658709F1000003C8341B"; // SMS-SUBMIT, TPDU 16 octets
const DELIVER = "07915207000000F1040B912143658709F10000522011417204400AC8329BFD06"; // SMS-DELIVER, TPDU 24
const REPORT = "07914356060013F10659098136395339F6219011707193802190117071938030"; // ModemManager +CDS example

const devices: ModemDevice[] = [];
afterEach(() => {
  for (const d of devices.splice(0)) d.powerOff();
});

const tick = (ms = 3) => new Promise((r) => setTimeout(r, ms));

/** A booted device with timeScale 0 (every delay is one timer turn) and a helper talking to its primary port. */
async function device(profile = "generic", opts: Partial<ModemIdentityOptions> = {}) {
  const p = await loadProfile(profile);
  const state = createModemState(p, { seed: "unit", ...opts });
  const dev = new ModemDevice({ profile: p, state, timeScale: 0, logger: silentLogger() });
  devices.push(dev);
  const primary = p.ports.findIndex((x) => x.primary);
  let text = "";
  dev.on("output", (port: number, data: Buffer) => {
    if (port === primary) text += data.toString("latin1");
  });
  dev.boot();
  await tick();
  const send = async (input: string): Promise<string> => {
    const from = text.length;
    dev.input(primary, Buffer.from(input, "latin1"));
    await tick();
    return text.slice(from);
  };
  const quiet = async () => {
    await send("ATE0\r");
  };
  /** What the device writes while `fn` runs (and one timer turn after). */
  const during = async (fn: () => unknown): Promise<string> => {
    const from = text.length;
    fn();
    await tick();
    return text.slice(from);
  };
  return { dev, state, send, quiet, during, text: () => text };
}

describe("ModemDevice framing", () => {
  it("echoes the command line exactly as received, then answers in verbose frames", async () => {
    const { send } = await device();
    assert.equal(await send("AT\r"), "AT\r\r\nOK\r\n");
  });
  it("stops echoing after ATE0", async () => {
    const { send } = await device();
    assert.equal(await send("ATE0\r"), "ATE0\r\r\nOK\r\n");
    assert.equal(await send("AT\r"), "\r\nOK\r\n");
  });
  it("assembles a command split across chunks", async () => {
    const { send, quiet } = await device();
    await quiet();
    assert.equal(await send("A"), "");
    assert.equal(await send("T+C"), "");
    assert.equal(await send("SQ\r"), "\r\n+CSQ: 18,99\r\n\r\nOK\r\n");
  });
  it("ignores characters before AT and lines without AT", async () => {
    const { send, quiet } = await device();
    await quiet();
    assert.equal(await send("\n\0xxAT\r"), "\r\nOK\r\n");
    assert.equal(await send("hello\r"), "");
  });
  it("answers concatenated commands with one final OK", async () => {
    const { send, quiet } = await device();
    await quiet();
    assert.equal(await send("AT+CSQ;+CMGF?\r"), "\r\n+CSQ: 18,99\r\n\r\n+CMGF: 0\r\n\r\nOK\r\n");
  });
  it("sends numeric result codes after ATV0", async () => {
    const { send } = await device();
    assert.equal(await send("ATE0V0\r"), "ATE0V0\r0\r");
    assert.equal(await send("AT+CSQ\r"), "+CSQ: 18,99\r\n0\r");
    assert.equal(await send("AT+NOPE\r"), "4\r");
  });
  it("answers an unknown command with the profile's reply", async () => {
    const { send, quiet } = await device();
    await quiet();
    assert.equal(await send("AT+NOPE\r"), "\r\nERROR\r\n");
    assert.equal(await send("AT+QCCID\r"), "\r\nERROR\r\n", "a vendor command of another vendor");
  });
  it("answers ATZ by restoring echo and the CMEE default", async () => {
    const { send, state } = await device();
    await send("ATE0;+CMEE=2\r");
    assert.equal(state.settings.cmee, 2);
    assert.equal(await send("ATZ\r"), "\r\nOK\r\n");
    assert.equal(state.settings.cmee, 0);
    assert.equal(await send("AT\r"), "AT\r\r\nOK\r\n");
  });
  it("uses an override before the built-in reply, and falls back when it returns null", async () => {
    const { dev, send, quiet } = await device();
    await quiet();
    let answer: string[] | null = ["+CSQ: 5,99", "OK"];
    dev.overrides.push({ pattern: "AT+CSQ", handler: () => answer });
    assert.equal(await send("AT+CSQ\r"), "\r\n+CSQ: 5,99\r\n\r\nOK\r\n");
    answer = null;
    assert.equal(await send("AT+CSQ\r"), "\r\n+CSQ: 18,99\r\n\r\nOK\r\n");
  });
});

describe("ModemDevice SIM", () => {
  it("walks PIN → three wrong → PUK → new PIN", async () => {
    const { send, quiet, state } = await device("generic", { pin: "1234" });
    await quiet();
    await send("AT+CMEE=1\r");
    assert.equal(await send("AT+CPIN?\r"), "\r\n+CPIN: SIM PIN\r\n\r\nOK\r\n");
    assert.equal(await send("AT+CIMI\r"), "\r\n+CME ERROR: 11\r\n");
    for (let i = 0; i < 3; i++) assert.equal(await send('AT+CPIN="0000"\r'), "\r\n+CME ERROR: 16\r\n");
    assert.equal(await send("AT+CPIN?\r"), "\r\n+CPIN: SIM PUK\r\n\r\nOK\r\n");
    assert.equal(await send('AT+CPIN="1234"\r'), "\r\n+CME ERROR: 12\r\n");
    assert.equal(await send('AT+CPIN="12345678","4321"\r'), "\r\nOK\r\n");
    assert.equal(state.sim.pin, "4321");
    assert.equal(await send("AT+CPIN?\r"), "\r\n+CPIN: READY\r\n\r\nOK\r\n");
  });
  it("formats CME errors per AT+CMEE", async () => {
    const { send, quiet } = await device("generic", { pin: "1234" });
    await quiet();
    assert.equal(await send('AT+CPIN="0000"\r'), "\r\nERROR\r\n");
    await send("AT+CMEE=2\r");
    assert.equal(await send('AT+CPIN="0000"\r'), "\r\n+CME ERROR: incorrect password\r\n");
  });
  it("sends SIM800's unlock URCs after the right PIN", async () => {
    const { send, quiet, during } = await device("sim800", { pin: "1234" });
    await quiet();
    const out = await during(() => send('AT+CPIN="1234"\r'));
    assert.deepEqual(out.split("\r\n").filter(Boolean), ["OK", "+CPIN: READY", "Call Ready", "SMS Ready"]);
  });
  it("answers +CME ERROR: 10 and +CMS ERROR: 310 without a SIM", async () => {
    const { send, quiet, state } = await device();
    await quiet();
    state.sim.status = "absent";
    await send("AT+CMEE=1\r");
    assert.equal(await send("AT+CPIN?\r"), "\r\n+CME ERROR: 10\r\n");
    assert.equal(await send("AT+CIMI\r"), "\r\n+CME ERROR: 10\r\n");
    assert.equal(await send("AT+CMGL=4\r"), "\r\n+CMS ERROR: 310\r\n");
  });
  it("reads the ICCID in each vendor's dialect", async () => {
    const iccid = "8944200053671052499";
    const cases: [string, string, string][] = [
      ["generic", "AT+CRSM=176,12258,0,0,10", '+CRSM: 144,0,"984402003576012594F9"'],
      ["sim800", "AT+CCID", iccid],
      ["ec25", "AT+QCCID", `+QCCID: ${iccid}F`],
      ["huawei_e3531", "AT^ICCID?", '^ICCID: "984402003576012594F9"'],
    ];
    for (const [profile, cmd, line] of cases) {
      const { send, quiet } = await device(profile, { iccid });
      await quiet();
      // startsWith: the Huawei profile's chatter may follow.
      assert.ok((await send(`${cmd}\r`)).startsWith(`\r\n${line}\r\n\r\nOK\r\n`), profile);
    }
  });
  it("relocks the SIM and restores echo at power-off, keeping SIM storage", async () => {
    const { dev, send, quiet, state } = await device("generic", { pin: "1234" });
    await quiet();
    await send('AT+CPIN="1234"\r');
    deliverSms(dev, DELIVER, { mode: "cmti" });
    dev.powerOff();
    dev.boot();
    assert.equal(state.sim.status, "locked");
    assert.equal(await send("AT\r"), "AT\r\r\nOK\r\n");
    assert.equal(state.storage.used("SM"), 1);
  });
});

describe("ModemDevice quirks", () => {
  it("Wavecom: AT+CPIN? has no final OK", async () => {
    const { send, quiet } = await device("wavecom");
    await quiet();
    assert.equal(await send("AT+CPIN?\r"), "\r\n+CPIN: READY\r\n");
  });
  it("Wavecom: the two commands after AT+CFUN=1 answer +CME ERROR: 515", async () => {
    const { send, quiet } = await device("wavecom");
    await quiet();
    await send("AT+CMEE=1\r");
    assert.equal(await send("AT+CFUN=1\r"), "\r\nOK\r\n");
    assert.equal(await send("AT\r"), "\r\n+CME ERROR: 515\r\n");
    assert.equal(await send("AT+CSQ\r"), "\r\n+CME ERROR: 515\r\n");
    assert.equal(await send("AT\r"), "\r\nOK\r\n");
  });
  it("Wavecom: fixed replies from the profile", async () => {
    const { send, quiet } = await device("wavecom");
    await quiet();
    assert.equal(await send("AT+CPMS=?\r"), '\r\n+CPMS: (("SM","BM","SR"),("SM"))\r\n\r\nOK\r\n');
    assert.equal(await send('AT+CPMS="SM","SM","SR"\r'), "\r\nERROR\r\n");
    assert.equal(await send("AT+CGMI\r"), "\r\n WAVECOM MODEM\r\n\r\nOK\r\n");
  });
  it("ZTE: AT+CSMP= clears the SMSC, then a PDU without SMSC gets +CMS ERROR: 330", async () => {
    const { send, quiet } = await device("zte_mf");
    await quiet();
    assert.equal(await send("AT+CSCA?\r"), '\r\n+CSCA: "+256700000001",145\r\n\r\nOK\r\n');
    assert.equal(await send("AT+CSMP=17,167,0,0\r"), "\r\nOK\r\n");
    assert.equal(await send("AT+CSCA?\r"), '\r\n+CSCA: "",129\r\n\r\nOK\r\n');
    await send("AT+CMGS=16\r");
    assert.equal(await send(`${PDU}\x1a`), "\r\n+CMS ERROR: 330\r\n");
  });
  it("Huawei: unknown commands answer COMMAND NOT SUPPORT", async () => {
    const { send, quiet } = await device("huawei_e3531");
    await quiet();
    const out = await send("AT+WIND?\r");
    assert.match(out, /\r\nCOMMAND NOT SUPPORT\r\n/);
  });
});

describe("ModemDevice SMS", () => {
  it("prompts for a PDU, answers +CMGS with an incrementing mr and records it", async () => {
    const { send, quiet, state } = await device();
    await quiet();
    assert.equal(await send("AT+CMGS=16\r"), "\r\n> ");
    assert.equal(await send(`${PDU}\x1a`), "\r\n+CMGS: 0\r\n\r\nOK\r\n");
    await send("AT+CMGS=16\r");
    assert.equal(await send(`${PDU}\x1a`), "\r\n+CMGS: 1\r\n\r\nOK\r\n");
    state.mr = 255;
    await send("AT+CMGS=16\r");
    assert.equal(await send(`${PDU}\x1a`), "\r\n+CMGS: 255\r\n\r\nOK\r\n");
    await send("AT+CMGS=16\r");
    assert.equal(await send(`${PDU}\x1a`), "\r\n+CMGS: 0\r\n\r\nOK\r\n");
    assert.deepEqual(
      state.sent.map((s) => [s.pdu, s.mr, s.length]),
      [
        [PDU, 0, 16],
        [PDU, 1, 16],
        [PDU, 255, 16],
        [PDU, 0, 16],
      ],
    );
  });
  it("echoes the PDU while echo is on", async () => {
    const { send } = await device();
    assert.equal(await send("AT+CMGS=16\r"), "AT+CMGS=16\r\r\n> ");
    assert.equal(await send(`${PDU}\x1a`), `${PDU}\r\n+CMGS: 0\r\n\r\nOK\r\n`);
  });
  it("refuses a PDU whose TPDU length differs from AT+CMGS with +CMS ERROR: 304", async () => {
    const { send, quiet, state } = await device();
    await quiet();
    await send("AT+CMGS=17\r");
    assert.equal(await send(`${PDU}\x1a`), "\r\n+CMS ERROR: 304\r\n");
    await send("AT+CMGS=16\r");
    assert.equal(await send("00zz\x1a"), "\r\n+CMS ERROR: 304\r\n");
    assert.equal(state.sent.length, 0);
  });
  it("cancels on ESC with silence and takes the next command", async () => {
    const { send, quiet, state } = await device();
    await quiet();
    await send("AT+CMGS=16\r");
    assert.equal(await send(`${PDU}\x1b`), "");
    assert.equal(await send("AT\r"), "\r\nOK\r\n");
    assert.equal(state.sent.length, 0);
  });
  it("holds URCs while the client types a PDU", async () => {
    const { dev, send, quiet } = await device();
    await quiet();
    await send("AT+CMGS=16\r");
    dev.urc('+CMTI: "SM",1');
    assert.equal(await send(PDU.slice(0, 10)), "");
    assert.equal(await send(`${PDU.slice(10)}\x1a`), '\r\n+CMGS: 0\r\n\r\nOK\r\n\r\n+CMTI: "SM",1\r\n');
  });
  it("answers +CMS ERROR: 331 while not registered and injected CMS errors in order", async () => {
    const { dev, send, quiet } = await device();
    await quiet();
    await send("AT+CFUN=0\r");
    await send("AT+CMGS=16\r");
    assert.equal(await send(`${PDU}\x1a`), "\r\n+CMS ERROR: 331\r\n");
    await send("AT+CFUN=1\r");
    dev.cmsErrorQueue.push(332, 500);
    for (const code of [332, 500]) {
      await send("AT+CMGS=16\r");
      assert.equal(await send(`${PDU}\x1a`), `\r\n+CMS ERROR: ${code}\r\n`);
    }
    await send("AT+CMGS=16\r");
    assert.equal(await send(`${PDU}\x1a`), "\r\n+CMGS: 0\r\n\r\nOK\r\n");
  });
  it("lists, reads and deletes stored messages", async () => {
    const { dev, send, quiet } = await device();
    await quiet();
    assert.equal(deliverSms(dev, DELIVER), 1);
    assert.equal(deliverSms(dev, DELIVER), 2);
    assert.equal(
      await send("AT+CMGL=4\r"),
      `\r\n+CMGL: 1,0,,24\r\n${DELIVER}\r\n\r\n+CMGL: 2,0,,24\r\n${DELIVER}\r\n\r\nOK\r\n`,
    );
    assert.equal(await send("AT+CMGL=0\r"), "\r\nOK\r\n", "listed messages became read");
    assert.equal(await send("AT+CMGR=1\r"), `\r\n+CMGR: 1,,24\r\n${DELIVER}\r\n\r\nOK\r\n`);
    assert.equal(await send("AT+CMGD=1\r"), "\r\nOK\r\n");
    assert.equal(await send("AT+CMGR=1\r"), "\r\nOK\r\n");
    assert.equal(await send("AT+CMGR=99\r"), "\r\n+CMS ERROR: 321\r\n");
    assert.equal(await send("AT+CMGD=0,4\r"), "\r\nOK\r\n");
    assert.equal(await send("AT+CMGL=4\r"), "\r\nOK\r\n");
  });
  it("routes incoming SMS per AT+CNMI: stored silently, +CMTI, or +CMT then AT+CNMA", async () => {
    const { dev, send, quiet, during } = await device();
    await quiet();
    assert.equal(await during(() => deliverSms(dev, DELIVER)), "", "27.005 default CNMI mt=0: no indication");
    await send("AT+CNMI=2,1,0,0,0\r");
    assert.equal(await during(() => deliverSms(dev, DELIVER)), '\r\n+CMTI: "SM",2\r\n');
    await send("AT+CNMI=2,2\r");
    assert.equal(await during(() => deliverSms(dev, DELIVER)), `\r\n+CMT: ,24\r\n${DELIVER}\r\n`);
    assert.equal(await send("AT+CNMA\r"), "\r\nOK\r\n");
    assert.equal(await send("AT+CNMA\r"), "\r\n+CMS ERROR: 340\r\n");
  });
  it("routes status reports per CNMI ds: +CDS direct or stored with +CDSI", async () => {
    const { dev, send, quiet, during } = await device();
    await quiet();
    await send("AT+CNMI=2,1,0,1,0\r");
    assert.equal(await during(() => deliverStatusReport(dev, REPORT)), `\r\n+CDS: 24\r\n${REPORT}\r\n`);
    await send("AT+CNMI=2,1,0,2,0\r");
    assert.equal(await during(() => deliverStatusReport(dev, REPORT)), '\r\n+CDSI: "SM",1\r\n');
  });
  it("reports storage use in +CPMS", async () => {
    const { dev, send, quiet } = await device();
    await quiet();
    deliverSms(dev, DELIVER, { storage: "ME" });
    assert.equal(await send('AT+CPMS="ME","ME","ME"\r'), "\r\n+CPMS: 1,100,1,100,1,100\r\n\r\nOK\r\n");
    assert.equal(await send("AT+CPMS?\r"), '\r\n+CPMS: "ME",1,100,"ME",1,100,"ME",1,100\r\n\r\nOK\r\n');
  });
});

describe("ModemDevice network", () => {
  it("sends +CREG URCs as the radio goes off and on (n=2 adds lac, ci, AcT)", async () => {
    const { send, quiet } = await device();
    await quiet();
    assert.equal(await send("AT+CREG=2\r"), "\r\nOK\r\n");
    assert.equal(await send("AT+CREG?\r"), '\r\n+CREG: 2,1,"00C3","0A1B2C",0\r\n\r\nOK\r\n');
    assert.equal(await send("AT+CFUN=0\r"), "\r\nOK\r\n\r\n+CREG: 0\r\n");
    assert.equal(await send("AT+CSQ\r"), "\r\n+CSQ: 99,99\r\n\r\nOK\r\n");
    const on = await send("AT+CFUN=1\r");
    await tick();
    assert.match(on, /^\r\nOK\r\n\r\n\+CREG: 2\r\n/);
  });
  it("answers +COPS in the format set with AT+COPS=3", async () => {
    const { send, quiet } = await device("ec25");
    await quiet();
    assert.equal(await send("AT+COPS?\r"), '\r\n+COPS: 0,0,"MTN UG",7\r\n\r\nOK\r\n');
    await send("AT+COPS=3,2\r");
    assert.equal(await send("AT+COPS?\r"), '\r\n+COPS: 0,2,"64110",7\r\n\r\nOK\r\n');
  });
  it("asks its owner for a reset after answering AT+CFUN=1,1", async () => {
    const { dev, send, quiet } = await device();
    await quiet();
    let resets = 0;
    dev.on("reset", () => resets++);
    assert.equal(await send("AT+CFUN=1,1\r"), "\r\nOK\r\n");
    assert.equal(resets, 1);
  });
});
