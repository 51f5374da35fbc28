/**
 * The SIP gateway against real peers: sipp (Debian's sip-tester) as UAC and UAS, Kamailio (Debian's
 * kamailio) as the upstream registrar and proxy, simulated modems on real ptys, real SQLite files.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { decodePdu } from "../../src/sms/pdu/deliver.js";
import { tempDir, waitFor } from "../helpers/fleetHarness.js";
import { freePort, sipp, startKamailio } from "../helpers/kamailio.js";
import { startGatewaySite } from "../helpers/sipHarness.js";

let root: ReturnType<typeof tempDir>;
before(() => {
  root = tempDir("sip-gw");
});
after(() => root.cleanup());

function sentTexts(pdus: readonly { pdu: string }[]): { to: string; text: string }[] {
  return pdus.map((p) => {
    const d = decodePdu(p.pdu);
    return d.kind === "submit" ? { to: d.to, text: d.text } : { to: "?", text: "?" };
  });
}

/** MESSAGE requests a sipp UAS received, from its -trace_msg file. */
function receivedMessages(file: string): { ruri: string; from: string; body: string }[] {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    return [];
  }
  const out: { ruri: string; from: string; body: string }[] = [];
  for (const block of text.split(/-{5,}[^\n]*\n/)) {
    const m = /^MESSAGE (\S+) SIP\/2\.0/m.exec(block);
    if (!m) continue;
    const from = /^From:\s*(.*)$/im.exec(block)?.[1] ?? "";
    const msg = block.slice(block.indexOf("MESSAGE "));
    const body = msg
      .split(/\r?\n\r?\n/)
      .slice(1)
      .join("\n\n")
      .trim();
    out.push({ ruri: m[1]!, from, body });
  }
  return out;
}

describe("SIP MESSAGE in, straight from a UAC (sipp)", () => {
  it("answers 202 once the SMS is stored and sends it through the modem, UTF-8 intact", async () => {
    const site = await startGatewaySite({ dir: join(root.dir, "direct"), modems: [{ id: "m1" }] });
    try {
      await site.waitReady();
      const text = "Habari 👋🏾 Привет";
      const uac = sipp("uac-message", {
        target: `127.0.0.1:${site.sipPort}`,
        localPort: await freePort(),
        fill: { to: "0772123456", from: "alice", domain: "site.test", text, expect: "202" },
      });
      const r = await uac.done;
      assert.equal(r.code, 0, r.output.slice(-2000));
      await waitFor("sent", () => site.of("sms_sent").length === 1, 10_000);
      assert.deepEqual(sentTexts(site.sims[0]!.sentPdus()), [{ to: "+256772123456", text }]);
    } finally {
      await site.stop();
    }
  });

  it("answers 403 to an untrusted source without sip.auth, and 400 for a destination that is no number", async () => {
    const site = await startGatewaySite({
      dir: join(root.dir, "codes"),
      modems: [{ id: "m1" }],
      sip: { trusted: ["10.0.0.0/8"] },
    });
    try {
      await site.waitReady();
      const uac = sipp("uac-message", {
        target: `127.0.0.1:${site.sipPort}`,
        localPort: await freePort(),
        fill: { to: "0772123456", from: "alice", domain: "site.test", text: "x", expect: "403" },
      });
      const r = await uac.done;
      assert.equal(r.code, 0, r.output.slice(-2000));
    } finally {
      await site.stop();
    }
    const site2 = await startGatewaySite({ dir: join(root.dir, "codes2"), modems: [{ id: "m1" }] });
    try {
      const r = await sipp("uac-message", {
        target: `127.0.0.1:${site2.sipPort}`,
        localPort: await freePort(),
        fill: { to: "call-me-maybe", from: "alice", domain: "site.test", text: "x", expect: "400" },
      }).done;
      assert.equal(r.code, 0, r.output.slice(-2000));
    } finally {
      await site2.stop();
    }
  });
});

describe("through Kamailio as the upstream registrar and proxy", () => {
  it("registers, takes a MESSAGE from a UAC behind Kamailio to an SMS, and an SMS in to a UAS behind Kamailio", async () => {
    const dir = join(root.dir, "kamailio");
    const uasPort = await freePort();
    const kam = await startKamailio({
      dir: root.dir,
      domain: "site.test",
      siteUser: "site-042",
      sitePassword: "secret",
      uasAddr: `127.0.0.1:${uasPort}`,
    });
    const traceFile = join(root.dir, "uas-trace.log");
    const uas = sipp("uas-message", {
      localPort: uasPort,
      calls: 1,
      timeoutS: 60,
      extra: ["-trace_msg", "-message_file", traceFile],
    });
    const site = await startGatewaySite({
      dir,
      modems: [{ id: "m1" }],
      sip: {
        upstream: {
          uri: `sip:127.0.0.1:${kam.port}`,
          fallback: [],
          register: true,
          username: "site-042",
          password: "secret",
          register_expires_s: 300,
          keepalive_s: 1,
          expiry_s: 3600,
        },
        inbound_default: "sip:desk@site.test",
      },
    });
    try {
      await site.waitReady();
      await waitFor("registered", () => site.gateway.upstreams?.states[0]?.registered, 10_000);
      const r = await sipp("uac-message", {
        target: `127.0.0.1:${kam.port}`,
        localPort: await freePort(),
        fill: {
          to: "+256772000123",
          from: "alice",
          domain: "site.test",
          text: "via the core",
          expect: "202",
        },
      }).done;
      assert.equal(r.code, 0, `${r.output.slice(-1500)}\n${kam.log().slice(-1500)}`);
      await waitFor("sent as SMS", () => site.of("sms_sent").length === 1, 10_000);
      assert.deepEqual(sentTexts(site.sims[0]!.sentPdus()), [{ to: "+256772000123", text: "via the core" }]);
      // An SMS from a phone to the site: to the UAS behind Kamailio.
      site.sims[0]!.injectText("+256772999111", "Hello desk ✓");
      await waitFor("MESSAGE at the UAS", () => receivedMessages(traceFile).length >= 1, 15_000);
      const got = receivedMessages(traceFile)[0]!;
      assert.match(got.ruri, /^sip:desk@/);
      assert.match(got.from, /sip:\+256772999111@site\.test/);
      assert.equal(got.body, "Hello desk ✓");
      await waitFor("outbox done", () => site.outbox.stats().upstream.pending === 0, 10_000);
    } finally {
      uas.kill();
      await site.stop();
      await kam.stop();
    }
  });
});

async function kamailioSite(
  name: string,
  opts: { fallback?: number[]; uasCalls?: number; sim?: object } = {},
) {
  const dir = join(root.dir, name);
  const uasPort = await freePort();
  const kam = await startKamailio({
    dir: root.dir,
    domain: "site.test",
    siteUser: "site-042",
    sitePassword: "secret",
    uasAddr: `127.0.0.1:${uasPort}`,
  });
  const traceFile = join(root.dir, `${name}-uas.log`);
  const uas = sipp("uas-message", {
    localPort: uasPort,
    calls: opts.uasCalls ?? 1,
    timeoutS: 90,
    extra: ["-trace_msg", "-message_file", traceFile],
  });
  const site = await startGatewaySite({
    dir,
    modems: [{ id: "m1", ...(opts.sim ? { sim: opts.sim } : {}) }],
    sip: {
      upstream: {
        uri: `sip:127.0.0.1:${kam.port}`,
        fallback: (opts.fallback ?? []).map((p) => `sip:127.0.0.1:${p}`),
        register: true,
        username: "site-042",
        password: "secret",
        register_expires_s: 300,
        keepalive_s: 1,
        expiry_s: 3600,
      },
      inbound_default: "sip:desk@site.test",
    },
  });
  await site.waitReady();
  return {
    kam,
    site,
    traceFile,
    uasPort,
    async stop() {
      uas.kill();
      await site.stop();
      await kam.stop();
    },
  };
}

describe("the core's side of delivery: notices, outages, failover", () => {
  it("tells the SIP sender the SMS was delivered, by a MESSAGE from the destination number", async () => {
    const k = await kamailioSite("notice", { sim: { statusReports: { after_ms: 500, status: 0 } } });
    try {
      await waitFor("registered", () => k.site.gateway.upstreams?.states[0]?.registered, 10_000);
      const r = await sipp("uac-message", {
        target: `127.0.0.1:${k.kam.port}`,
        localPort: await freePort(),
        fill: {
          to: "+256772000124",
          from: "alice",
          domain: "site.test",
          text: "report please",
          expect: "202",
        },
      }).done;
      assert.equal(r.code, 0, r.output.slice(-1500));
      await waitFor("notice at alice's UAS", () => receivedMessages(k.traceFile).length >= 1, 20_000);
      const notice = receivedMessages(k.traceFile)[0]!;
      assert.match(notice.ruri, /^sip:alice@site\.test/);
      assert.match(notice.from, /sip:\+256772000124@site\.test/);
      assert.equal(notice.body, "Delivered to +256772000124");
    } finally {
      await k.stop();
    }
  });

  it("keeps SMS for the core while Kamailio is down, sends them when it is back, and registers again", async () => {
    const k = await kamailioSite("outage", { uasCalls: 2 });
    try {
      await waitFor("registered", () => k.site.gateway.upstreams?.states[0]?.registered, 10_000);
      await k.kam.stop();
      await waitFor("seen down", () => k.site.gateway.upstreams?.states[0]?.reachable === false, 10_000);
      k.site.sims[0]!.injectText("+256772999201", "during the outage 1");
      k.site.sims[0]!.injectText("+256772999202", "during the outage 2");
      await waitFor("both queued", () => k.site.outbox.stats().upstream.pending === 2, 10_000);
      await new Promise((r) => setTimeout(r, 2000));
      assert.equal(receivedMessages(k.traceFile).length, 0, "nothing while the core is down");
      await k.kam.start();
      await waitFor("both delivered", () => receivedMessages(k.traceFile).length === 2, 20_000);
      assert.deepEqual(
        receivedMessages(k.traceFile)
          .map((m) => m.body)
          .sort(),
        ["during the outage 1", "during the outage 2"],
      );
      await waitFor("registered again", () => k.site.gateway.upstreams?.states[0]?.registered, 10_000);
      assert.equal(k.site.outbox.stats().upstream.pending, 0);
    } finally {
      await k.stop();
    }
  });

  it("fails over to the fallback upstream when the first stops answering, and back when it returns", async () => {
    const uasPort = await freePort();
    const k2 = await startKamailio({
      dir: root.dir,
      domain: "site.test",
      siteUser: "site-042",
      sitePassword: "secret",
      uasAddr: `127.0.0.1:${uasPort}`,
    });
    const k = await kamailioSite("failover", { fallback: [k2.port] });
    const trace2 = join(root.dir, "failover-uas2.log");
    const uas2 = sipp("uas-message", {
      localPort: uasPort,
      calls: 1,
      timeoutS: 90,
      extra: ["-trace_msg", "-message_file", trace2],
    });
    try {
      const up = () => k.site.gateway.upstreams!;
      await waitFor("registered at the first", () => up().states[0]?.registered, 10_000);
      await k.kam.stop();
      await waitFor("current is the fallback", () => up().current() === `sip:127.0.0.1:${k2.port}`, 10_000);
      await waitFor("registered at the fallback", () => up().states[1]?.registered, 10_000);
      k.site.sims[0]!.injectText("+256772999301", "through the fallback");
      await waitFor("delivered through the fallback", () => receivedMessages(trace2).length === 1, 15_000);
      assert.equal(receivedMessages(trace2)[0]!.body, "through the fallback");
      await k.kam.start();
      await waitFor("back to the first", () => up().current() === `sip:127.0.0.1:${k.kam.port}`, 10_000);
      await waitFor("registered at the first again", () => up().states[0]?.registered, 10_000);
    } finally {
      uas2.kill();
      await k.stop();
      await k2.stop();
    }
  });
});
