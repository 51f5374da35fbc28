import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { after, before, describe, it } from "node:test";
import { AtTestClient, waitBootUrcs } from "../../src/sim/atTestClient.js";
import { ModemSimulator } from "../../src/sim/simulator.js";

describe("modem simulator: Quectel EC25's four USB interfaces", () => {
  let dir = "";
  let sim: ModemSimulator;
  const ports: AtTestClient[] = [];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "bts-sim-ec25-"));
    sim = new ModemSimulator({ link: join(dir, "usb-Quectel_EC25"), profile: "ec25", timeScale: 0.02 });
    const booted = sim.waitFor("booted");
    await sim.start();
    for (const path of sim.linkPaths()) ports.push(await AtTestClient.open(path));
    await booted;
    await waitBootUrcs(sim, ports[2]!);
  });
  after(async () => {
    for (const p of ports) await p.close();
    await sim.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it("creates one link per interface, numbered as udev's -ifNN", () => {
    assert.deepEqual(
      sim.linkPaths().map((p) => Number(/-if(\d+)/.exec(basename(p))?.[1])),
      [0, 1, 2, 3],
    );
    assert.equal(sim.primaryLink(), join(dir, "usb-Quectel_EC25-if02"));
  });

  it("answers AT on if02 (primary, with the boot URCs) and if03, with the same IMEI", async () => {
    const [, , if02, if03] = ports;
    assert.match(if02!.text, /\r\nRDY\r\n[\s\S]*\+QIND: PB DONE\r\n/);
    const a = await if02!.command("AT+CGSN");
    const b = await if03!.command("AT+CGSN");
    assert.equal(a.lines.at(-1), "OK");
    assert.equal(a.lines[1], b.lines[1]);
    assert.equal(a.lines[1], sim.state().imei);
    assert.doesNotMatch(if03!.text, /RDY/, "URCs go to the primary port only");
  });

  it("keeps if00 (DM) silent and if01 (NMEA) sending sentences only", async () => {
    const [if00, if01] = ports;
    await if00!.write("AT\r");
    await if01!.write("AT\r");
    const nmeaFrom = if01!.mark();
    await if01!.waitFor(/\$GPGGA,,,,,,0,,,,,,,,\*[0-9A-F]{2}\r\n/, { from: nmeaFrom, timeoutMs: 500 });
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(if00!.text, "");
    assert.doesNotMatch(if01!.text, /OK|ERROR|AT/);
    for (const line of if01!.text.split("\r\n").filter(Boolean))
      assert.match(line, /^\$GP[A-Z]{3},.*\*[0-9A-F]{2}$/);
  });
});
