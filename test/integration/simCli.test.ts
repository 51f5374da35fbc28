import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { after, before, describe, it } from "node:test";
import { packageRoot } from "../../src/core/paths.js";
import { AtTestClient } from "../../src/sim/atTestClient.js";
import { SimControlClient } from "../../src/sim/control.js";

const SUBMIT = "0001000B912143658709F1000003C8341B";
const DELIVER = "07915207000000F1040B912143658709F10000522011417204400AC8329BFD06";

function cli(args: string[]): ChildProcess {
  return spawn(process.execPath, ["--import", "tsx", "src/sim/cliMain.ts", ...args], {
    cwd: packageRoot(),
    stdio: ["ignore", "pipe", "pipe"],
  });
}

function exitCode(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) resolve(child.exitCode);
    else child.once("exit", (code) => resolve(code));
  });
}

describe("modem-sim CLI driven through its control socket", () => {
  let dir = "";
  let child: ChildProcess;
  let info: { link: string; links: string[]; control: string };
  let control: SimControlClient;
  let at: AtTestClient;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "bts-sim-cli-"));
    child = cli([
      "--link",
      join(dir, "m1"),
      "--profile",
      "sim800",
      "--time-scale",
      "0.02",
      "--log-level",
      "warn",
    ]);
    const firstLine = await new Promise<string>((resolve, reject) => {
      createInterface({ input: child.stdout! }).once("line", resolve);
      child.once("exit", (code) => reject(new Error(`modem-sim exited with ${code}`)));
    });
    info = JSON.parse(firstLine);
    control = new SimControlClient(info.control);
    at = await AtTestClient.open(info.link);
    await at.waitFor(/SMS Ready\r\n/, { timeoutMs: 3000 });
    await at.command("ATE0");
  });
  after(async () => {
    control?.close();
    await at?.close();
    if (child && child.exitCode === null) {
      child.kill("SIGKILL");
      await exitCode(child);
    }
    await rm(dir, { recursive: true, force: true });
  });

  it("prints where it listens as one JSON line", () => {
    assert.deepEqual(info, {
      link: join(dir, "m1"),
      links: [join(dir, "m1")],
      control: `${join(dir, "m1")}.ctl`,
    });
  });

  it("reports its state", async () => {
    const state = await control.call<{ profile: string; powered: boolean; links: string[] }>("state");
    assert.equal(state.profile, "sim800");
    assert.equal(state.powered, true);
    assert.deepEqual(state.links, [info.link]);
  });

  it("injects an SMS that the AT side sees as +CMTI and reads with CMGR", async () => {
    const from = at.mark();
    const { index } = await control.call<{ index: number }>("inject_sms", { pdu: DELIVER });
    await at.waitFor(new RegExp(`\\+CMTI: "SM",${index}\r\n`), { from });
    assert.deepEqual((await at.command(`AT+CMGR=${index}`)).lines, ["+CMGR: 0,,24", DELIVER, "OK"]);
    const stored = await control.call<{ index: number }[]>("stored");
    assert.deepEqual(
      stored.map((m) => m.index),
      [index],
    );
  });

  it("injects CMS errors and lists the PDUs sent", async () => {
    await control.call("cms_errors", { code: 500 });
    await at.command("AT+CMGS=16");
    assert.deepEqual((await at.command(`${SUBMIT}\x1a`, { eol: "" })).lines, ["+CMS ERROR: 500"]);
    await at.command("AT+CMGS=16");
    assert.deepEqual((await at.command(`${SUBMIT}\x1a`, { eol: "" })).lines, ["+CMGS: 0", "OK"]);
    const sent = await control.call<{ pdu: string; mr: number }[]>("sent");
    assert.deepEqual(
      sent.map((s) => [s.pdu, s.mr]),
      [[SUBMIT, 0]],
    );
  });

  it("overrides a reply and emits a URC", async () => {
    await control.call("on", { pattern: "AT+CSQ", lines: ["+CSQ: 7,99", "OK"] });
    assert.deepEqual((await at.command("AT+CSQ")).lines, ["+CSQ: 7,99", "OK"]);
    await control.call("on", { pattern: "AT+CSQ", lines: null });
    assert.deepEqual((await at.command("AT+CSQ")).lines, ["+CSQ: 18,99", "OK"]);
    const from = at.mark();
    await control.call("emit_urc", { line: "+CIEV: 1,2" });
    await at.waitFor(/\r\n\+CIEV: 1,2\r\n/, { from });
  });

  it("answers an unknown op and bad arguments with errors, and keeps serving", async () => {
    await assert.rejects(control.call("explode"), /unknown op/);
    await assert.rejects(control.call("cms_errors", { code: "x" }), /code must be a number/);
    assert.equal((await control.call<{ running: boolean }>("state")).running, true);
  });

  it("unplugs and replugs under another name through the control socket", async () => {
    const newLink = join(dir, "m1-renamed");
    await control.call("unplug", { replug_as: newLink, after_ms: 500 });
    assert.deepEqual(await at.closed, { disconnected: true });
    const deadline = Date.now() + 3000;
    while (!existsSync(newLink)) {
      assert.ok(Date.now() < deadline, "the new link appears");
      await new Promise((r) => setTimeout(r, 10));
    }
    at = await AtTestClient.open(newLink);
    await at.waitFor(/SMS Ready\r\n/, { timeoutMs: 3000 });
    assert.equal((await at.command("AT")).lines.at(-1), "OK");
  });

  it("stops on SIGTERM with exit 0 and removes its links and control socket", async () => {
    await at.close();
    control.close();
    child.kill("SIGTERM");
    assert.equal(await exitCode(child), 0);
    assert.equal(existsSync(join(dir, "m1-renamed")), false);
    assert.equal(existsSync(info.control), false);
  });

  it("exits 2 with a usage message on a bad option", async () => {
    const bad = cli(["--link", join(dir, "x"), "--time-scale", "zero"]);
    let stderr = "";
    bad.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
    assert.equal(await exitCode(bad), 2);
    assert.match(stderr, /--time-scale/);
    const missing = cli([]);
    assert.equal(await exitCode(missing), 2);
  });
});
