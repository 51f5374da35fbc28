/**
 * The systemd notify protocol end to end with real parts: the real `systemd-notify` command sends to
 * a real Unix datagram socket (socat listens on it, as systemd would, and relays each datagram to
 * this test over UDP with its arrival time). A child process runs the notifier and then blocks its
 * event loop: the watchdog pings must stop while it is blocked (systemd would restart it).
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { createSocket } from "node:dgram";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { tempDir, waitFor } from "../helpers/fleetHarness.js";

const ROOT = new URL("../../", import.meta.url).pathname;
let tmp: ReturnType<typeof tempDir>;
const children: ChildProcess[] = [];

before(() => {
  tmp = tempDir("bts-systemd-");
});
after(() => {
  for (const c of children) c.kill("SIGKILL");
  tmp.cleanup();
});

/** A notify socket at `path`: every datagram systemd-notify sends arrives here with its time. */
async function notifySocket(path: string) {
  const got: { at: number; text: string }[] = [];
  const udp = createSocket("udp4");
  udp.on("message", (m) => got.push({ at: Date.now(), text: m.toString() }));
  await new Promise<void>((r) => udp.bind(0, "127.0.0.1", () => r()));
  const port = (udp.address() as { port: number }).port;
  const relay = spawn("socat", ["-u", `UNIX-RECV:${path}`, `UDP-SENDTO:127.0.0.1:${port}`], {
    stdio: "ignore",
  });
  children.push(relay);
  await waitFor("the notify socket", () => existsSync(path), 5000);
  return {
    got,
    texts: () => got.map((g) => g.text),
    close() {
      relay.kill("SIGTERM");
      udp.close();
    },
  };
}

describe("systemd notify and watchdog", () => {
  it("sends READY, pings at half WATCHDOG_USEC, stops pinging while the event loop is blocked, then STOPPING", async () => {
    const sock = join(tmp.dir, "notify-1");
    const ns = await notifySocket(sock);
    const script = `
      import { SystemdNotifier } from ${JSON.stringify(join(ROOT, "src/app/systemd.ts"))};
      import { silentLogger } from ${JSON.stringify(join(ROOT, "src/core/logger.ts"))};
      const n = new SystemdNotifier({ logger: silentLogger() });
      await n.ready("test running");
      const keep = setInterval(() => {}, 1000);
      setTimeout(() => {
        process.stdout.write("blocking\\n");
        const until = Date.now() + 1500;
        while (Date.now() < until) {}
        process.stdout.write("unblocked\\n");
        setTimeout(async () => { await n.stopping(); clearInterval(keep); }, 600);
      }, 700);
    `;
    const file = join(tmp.dir, "notifier.mts");
    writeFileSync(file, script);
    const child = spawn(process.execPath, ["--import", "tsx", file], {
      stdio: ["ignore", "pipe", "inherit"],
      env: { ...process.env, NOTIFY_SOCKET: sock, WATCHDOG_USEC: "200000" },
    });
    children.push(child);
    const marks: { at: number; what: string }[] = [];
    child.stdout!.on("data", (d: Buffer) => {
      for (const what of d.toString().split("\n").filter(Boolean)) marks.push({ at: Date.now(), what });
    });
    await new Promise((r) => child.on("exit", r));
    await new Promise((r) => setTimeout(r, 300));
    ns.close();

    const texts = ns.texts();
    assert.match(texts[0] ?? "", /READY=1/);
    assert.match(texts[0] ?? "", /STATUS=test running/);
    assert.match(texts.at(-1) ?? "", /STOPPING=1/);
    const pings = ns.got.filter((g) => g.text.includes("WATCHDOG=1")).map((g) => g.at);
    const blockedAt = marks.find((m) => m.what === "blocking")?.at;
    const unblockedAt = marks.find((m) => m.what === "unblocked")?.at;
    assert.ok(blockedAt && unblockedAt, "the child blocked its loop");
    const before = pings.filter((t) => t < blockedAt);
    const during = pings.filter((t) => t > blockedAt + 150 && t < unblockedAt - 50);
    const afterBlock = pings.filter((t) => t > unblockedAt);
    assert.ok(before.length >= 4, `pings before the block: ${before.length} (every 100 ms over 700 ms)`);
    assert.equal(during.length, 0, "no ping while the event loop is blocked");
    assert.ok(afterBlock.length >= 3, `pings after the block: ${afterBlock.length}`);
    const gaps = before.slice(1).map((t, i) => t - before[i]!);
    assert.ok(
      gaps.every((g) => g > 40 && g < 300),
      `pings about every 100 ms before the block: ${gaps.join(", ")}`,
    );
  });

  it("bts-site run says READY once the site is up and STOPPING on SIGTERM; nothing without NOTIFY_SOCKET", async () => {
    const sock = join(tmp.dir, "notify-2");
    const ns = await notifySocket(sock);
    const data = join(tmp.dir, "data");
    mkdirSync(data, { recursive: true });
    const cfg = join(tmp.dir, "config.json");
    writeFileSync(
      cfg,
      JSON.stringify({
        site: { id: "site-sd" },
        storage: { dir: data },
        gpio: { driver: "sim", sim_dir: join(tmp.dir, "gpio") },
        discovery: { globs: [join(tmp.dir, "none", "*")] },
        sip: { listen: "127.0.0.1:0" },
        web: { listen: "127.0.0.1:0" },
      }),
    );
    const child = spawn(process.execPath, [join(ROOT, "bin/bts-site.js"), "run", "--config", cfg], {
      stdio: ["ignore", "ignore", "inherit"],
      env: {
        ...process.env,
        NOTIFY_SOCKET: sock,
        WATCHDOG_USEC: "1000000",
        BTS_SITE_BOOT_CONFIG: join(tmp.dir, "no-boot.yaml"),
      },
    });
    children.push(child);
    await waitFor("READY", () => ns.texts().some((t) => t.includes("READY=1")), 20_000);
    assert.match(ns.texts().find((t) => t.includes("READY=1")) ?? "", /STATUS=site site-sd running/);
    await waitFor("a watchdog ping", () => ns.texts().some((t) => t.includes("WATCHDOG=1")), 5000);
    const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
    child.kill("SIGTERM");
    assert.equal(await exited, 0);
    await waitFor("STOPPING", () => ns.texts().some((t) => t.includes("STOPPING=1")), 5000);
    ns.close();
  });
});
