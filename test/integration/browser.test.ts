/// <reference lib="dom" />
/**
 * The demo's status page in a real Chromium (Debian's `chromium`, driven by playwright-core through
 * its executablePath), at 360 px: both modems shown, a modem made to hang (through its simulator's
 * control socket) shows on the page without a reload, an action is refused without login and done
 * after it. A screenshot is saved to test/output/status-page-360.png.
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdirSync, statSync } from "node:fs";
import { createConnection } from "node:net";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { type Browser, chromium } from "playwright-core";
import { waitFor } from "../helpers/fleetHarness.js";
import { freePort } from "../helpers/kamailio.js";

const CHROMIUM = process.env.CHROMIUM ?? "/usr/bin/chromium";
const OUT = new URL("../output/", import.meta.url).pathname;
const CLI = [process.execPath, "--import", "tsx", new URL("../../src/cli.ts", import.meta.url).pathname];

interface DemoInfo {
  web: string;
  modems: { id: string; control: string }[];
}

async function until(what: string, fn: () => Promise<boolean>, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await fn()) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out after ${ms} ms waiting for ${what}`);
}

function control(path: string, op: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const s = createConnection(path);
    s.once("error", reject);
    s.on("data", (d) => {
      const reply = JSON.parse(d.toString().split("\n")[0]!) as { ok: boolean; error?: string };
      s.end();
      if (reply.ok) resolve();
      else reject(new Error(reply.error));
    });
    s.write(`${JSON.stringify({ id: 1, op, args: {} })}\n`);
  });
}

describe("the status page in Chromium", {
  skip: !existsSync(CHROMIUM) && `no ${CHROMIUM} (scripts/setup installs it)`,
}, () => {
  let demo: ChildProcess;
  let info: DemoInfo;
  let browser: Browser;
  let url: string;

  before(async () => {
    const port = await freePort();
    demo = spawn(
      CLI[0]!,
      [...CLI.slice(1), "demo", "--for", "300", "--web", String(port), "--broker", "mqtt://127.0.0.1:1"],
      {
        stdio: ["ignore", "pipe", "inherit"],
        env: { ...process.env, BTS_SITE_BOOT_CONFIG: "/nonexistent/bts-site.yaml" },
      },
    );
    let out = "";
    demo.stdout!.on("data", (d) => {
      out += d;
    });
    const line = await waitFor(
      "the demo's where-line",
      () => out.split("\n").find((l) => l.includes('"demo":"bts-site"')),
      30_000,
    );
    info = JSON.parse(line) as DemoInfo;
    url = `http://127.0.0.1:${port}/`;
    await until(
      "both modems ready",
      async () => {
        try {
          const st = (await (await fetch(`${url}api/state`)).json()) as { modems: { state: string }[] };
          return st.modems.length === 2 && st.modems.every((m) => m.state === "ready");
        } catch {
          return false;
        }
      },
      45_000,
    );
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    });
  });

  after(async () => {
    await browser?.close();
    demo?.kill("SIGINT");
    await new Promise((r) => demo?.once("exit", r));
  });

  it("shows both modems at 360 px, follows a hang live, refuses an action without login and does it after", async () => {
    const context = await browser.newContext({ viewport: { width: 360, height: 740 }, deviceScaleFactor: 2 });
    const page = await context.newPage();
    const external: string[] = [];
    page.on("request", (r) => {
      if (!r.url().startsWith(url)) external.push(r.url());
    });
    await page.goto(url);
    assert.match(await page.getByTestId("site-name").innerText(), /Demo site/);
    for (const id of ["m1", "m2"]) {
      await page.getByTestId(`modem-${id}`).waitFor();
      assert.match(await page.getByTestId(`modem-${id}-state`).innerText(), /ready/i);
    }
    // Nothing wider than the phone.
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(width <= 360, `the page is ${width} px wide`);
    mkdirSync(OUT, { recursive: true });
    const shot = join(OUT, "status-page-360.png");
    await page.screenshot({ path: shot, fullPage: true });
    assert.ok(statSync(shot).size > 10_000);

    // Live: m2 stops answering; the page shows it without a reload.
    const m2 = info.modems.find((m) => m.id === "m2")!;
    await control(m2.control, "hang");
    await page.waitForFunction(
      () => !/ready/i.test(document.querySelector('[data-testid="modem-m2-state"]')?.textContent ?? "ready"),
      undefined,
      { timeout: 45_000, polling: 500 },
    );
    assert.doesNotMatch(await page.getByTestId("modem-m2-state").innerText(), /^ready$/i);

    // No login: no action button, and the API refuses.
    assert.equal(await page.getByTestId("restart-m1").count(), 0);
    const refused = await page.evaluate(async () => {
      const r = await fetch("/api/modems/m1/restart", {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json" },
        body: "{}",
      });
      return r.status;
    });
    assert.equal(refused, 401);

    // Log in (the demo's password) and restart m1 from its button.
    await page.getByTestId("login-password").fill("demo");
    await page.getByTestId("login-button").click();
    await page.getByTestId("restart-m1").waitFor({ timeout: 10_000 });
    await page.getByTestId("restart-m1").click();
    await page.waitForFunction(
      () => /m1 done/.test(document.querySelector('[data-testid="action-result"]')?.textContent ?? ""),
      undefined,
      { timeout: 10_000 },
    );
    await page
      .waitForFunction(
        () =>
          !/ready/i.test(document.querySelector('[data-testid="modem-m1-state"]')?.textContent ?? "ready"),
        undefined,
        { timeout: 15_000, polling: 200 },
      )
      .catch(() => {
        // The restart may be over before a poll sees it: the event list shows it either way.
      });
    await page.waitForFunction(
      () => /ready/i.test(document.querySelector('[data-testid="modem-m1-state"]')?.textContent ?? ""),
      undefined,
      { timeout: 30_000, polling: 500 },
    );
    assert.deepEqual(external, [], "no request left the site");
    await context.close();
  });
});
