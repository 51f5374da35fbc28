import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, afterEach, before, describe, it } from "node:test";
import { AtTestClient, startAndOpen, waitBootUrcs } from "../../src/sim/atTestClient.js";
import { ModemSimulator, type ModemSimulatorOptions } from "../../src/sim/simulator.js";

/** Drives the sim power line the way the site's sim GPIO driver does: temp file + rename. */
async function writeLine(dir: string, line: number, value: 0 | 1): Promise<void> {
  const tmp = join(dir, `.gpio${line}.test.tmp`);
  await writeFile(tmp, `${value}\n`);
  await rename(tmp, join(dir, `gpio${line}`));
}

describe("modem simulator: faults, power and SIM over a real pty", () => {
  let dir = "";
  let n = 0;
  const sims: ModemSimulator[] = [];
  const clients: AtTestClient[] = [];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "bts-sim-faults-"));
  });
  afterEach(async () => {
    for (const c of clients.splice(0)) await c.close();
    for (const s of sims.splice(0)) await s.stop();
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function up(opts: Partial<ModemSimulatorOptions> = {}) {
    const sim = new ModemSimulator({
      link: join(dir, `m${n++}`),
      profile: "sim800",
      timeScale: 0.02,
      ...opts,
    });
    sims.push(sim);
    const at = await startAndOpen(sim);
    clients.push(at);
    await at.command("ATE0");
    return { sim, at };
  }

  async function open(path: string): Promise<AtTestClient> {
    const at = await AtTestClient.open(path);
    clients.push(at);
    return at;
  }

  it("hangs silently until the power line goes 0 then 1, then answers again", async () => {
    const gpio = join(dir, "gpio-a");
    await mkdir(gpio);
    const { sim, at } = await up({ powerGpio: { dir: gpio, line: 17 }, gpioPollMs: 5 });
    sim.hang();
    await assert.rejects(at.command("AT", { timeoutMs: 200 }), { code: "at.timeout" });
    assert.equal(sim.state().hung, true);
    const off = sim.waitFor("power", (e) => !e.on);
    await writeLine(gpio, 17, 0);
    await off;
    assert.deepEqual(await at.closed, { disconnected: true });
    assert.equal(existsSync(sim.primaryLink()), false);
    const booted = sim.waitFor("booted");
    await writeLine(gpio, 17, 1);
    await sim.waitFor("plugged", (e) => e.plugged);
    const again = await open(sim.primaryLink());
    await booted;
    await waitBootUrcs(sim, again);
    assert.equal(sim.state().hung, false);
    assert.deepEqual(
      (await again.command("AT")).lines,
      ["AT", "OK"],
      "echo is back on after the power cycle",
    );
  });

  it("unhang() resumes answering", async () => {
    const { sim, at } = await up();
    sim.hang();
    await assert.rejects(at.command("AT", { timeoutMs: 150 }), { code: "at.timeout" });
    sim.unhang();
    assert.deepEqual((await at.command("AT")).lines.at(-1), "OK");
  });

  it("vanishes on unplug (client sees close) and comes back under another name", async () => {
    const { sim, at } = await up();
    const oldLink = sim.primaryLink();
    const newLink = join(dir, "renamed");
    const plugged = sim.waitFor("plugged", (e) => e.plugged);
    await sim.unplug({ replugAs: newLink, afterMs: 1000 });
    assert.deepEqual(await at.closed, { disconnected: true });
    assert.equal(existsSync(oldLink), false);
    assert.deepEqual((await plugged).links, [newLink]);
    assert.equal(existsSync(oldLink), false);
    const again = await open(newLink);
    await sim.waitFor("booted");
    await waitBootUrcs(sim, again);
    assert.equal((await again.command("AT")).lines.at(-1), "OK");
    assert.equal(sim.state().link_base, newLink);
  });

  it("replug() restores the same link and resolves once it exists", async () => {
    const { sim, at } = await up();
    await sim.unplug();
    await at.closed;
    assert.equal(sim.state().plugged, false);
    await sim.replug();
    assert.equal(existsSync(sim.primaryLink()), true);
    assert.deepEqual(sim.state().links, [sim.primaryLink()]);
  });

  it("walks the PIN flow: SIM PIN, wrong → 16, third wrong → SIM PUK", async () => {
    const { at } = await up({ pin: "1234" });
    await at.command("AT+CMEE=1");
    assert.deepEqual((await at.command("AT+CPIN?")).lines, ["+CPIN: SIM PIN", "OK"]);
    assert.deepEqual((await at.command('AT+CPIN="1111"')).lines, ["+CME ERROR: 16"]);
    assert.deepEqual((await at.command('AT+CPIN="2222"')).lines, ["+CME ERROR: 16"]);
    assert.deepEqual((await at.command('AT+CPIN="3333"')).lines, ["+CME ERROR: 16"]);
    assert.deepEqual((await at.command("AT+CPIN?")).lines, ["+CPIN: SIM PUK", "OK"]);
  });

  it("unlocks with the right PIN, sends SIM800's ready URCs and registers", async () => {
    const { sim, at } = await up({ pin: "1234" });
    await at.command("AT+CREG=1");
    const from = at.mark();
    assert.deepEqual((await at.command('AT+CPIN="1234"')).lines, ["OK"]);
    await at.waitFor(/SMS Ready\r\n[\s\S]*\+CREG: 1\r\n|\+CREG: 1\r\n[\s\S]*SMS Ready\r\n/, { from });
    assert.equal(sim.state().registration, 1);
  });

  it("answers +CME ERROR: 10 once the SIM is removed", async () => {
    const { sim, at } = await up();
    await at.command("AT+CMEE=1");
    sim.setSim("absent");
    assert.deepEqual((await at.command("AT+CPIN?")).lines, ["+CME ERROR: 10"]);
    sim.setSim({ pin: "0000" });
    assert.deepEqual((await at.command("AT+CPIN?")).lines, ["+CPIN: SIM PIN", "OK"]);
  });

  it("answers late after setDelay (scaled) and on time after setDelay(0)", async () => {
    const { sim, at } = await up();
    sim.setDelay(5000);
    let t = Date.now();
    await at.command("AT");
    assert.ok(Date.now() - t >= 90, "5000 ms × 0.02");
    sim.setDelay(0);
    t = Date.now();
    await at.command("AT");
    assert.ok(Date.now() - t < 90);
  });

  it("resets on AT+CFUN=1,1: OK, the link vanishes, then comes back with boot URCs", async () => {
    const { sim, at } = await up();
    const booted = sim.waitFor("booted");
    assert.deepEqual((await at.command("AT+CFUN=1,1")).lines, ["OK"]);
    assert.deepEqual(await at.closed, { disconnected: true });
    await sim.waitFor("plugged", (e) => e.plugged);
    const again = await open(sim.primaryLink());
    await booted;
    await waitBootUrcs(sim, again);
    assert.match(again.text, /^\r\nRDY\r\n/);
  });

  it("powers off and on through the power op of a sim without a power line", async () => {
    const { sim, at } = await up();
    sim.setPower(false);
    await at.closed;
    assert.equal(sim.state().powered, false);
    sim.setPower(true);
    await sim.waitFor("plugged", (e) => e.plugged);
    assert.equal(sim.state().running, true);
  });
});
