/**
 * Local switching and the site services of the SIP gateway (contract, section 4), against real peers:
 * sipp (Debian's sip-tester) as the local BTS registering a handset, as the handset's SIP contact (a
 * UAS) and as a MESSAGE sender (a UAC), all on 127.0.0.1; simulated modems on real ptys and real SQLite
 * files behind the gateway.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { parseRpMessage } from "../../src/sip/rp.js";
import { decodePdu } from "../../src/sms/pdu/deliver.js";
import { tempDir, waitFor } from "../helpers/fleetHarness.js";
import { freePort, type SippRun, sipp, sippReceivedMessages } from "../helpers/kamailio.js";
import { type GatewaySite, startGatewaySite } from "../helpers/sipHarness.js";

let root: ReturnType<typeof tempDir>;
before(() => {
  root = tempDir("sip-gw-local");
});
after(() => root.cleanup());

const TEXT_PLAIN = "text/plain;charset=UTF-8";

/** A text/plain MESSAGE (test/fixtures/sipp/uac-message-body.xml) to the gateway; asserts sipp got `expect`. */
async function uacMessage(
  site: GatewaySite,
  fill: { ruri: string; from: string; to: string; text: string; expect: string },
): Promise<void> {
  const r = await sipp("uac-message-body", {
    target: `127.0.0.1:${site.sipPort}`,
    localPort: await freePort(),
    timeoutS: 10,
    fill: { ...fill, ctype: TEXT_PLAIN },
  }).done;
  assert.equal(r.code, 0, `expected ${fill.expect}:\n${r.output.slice(-2000)}`);
}

/** A sipp UAS answering `calls` MESSAGEs with 200 on `port`, every message traced to `trace`. */
function uas(port: number, trace: string, calls: number): SippRun {
  return sipp("uas-message", {
    localPort: port,
    calls,
    timeoutS: 30,
    extra: ["-trace_msg", "-message_file", trace],
  });
}

/**
 * The text a MESSAGE to a handset carries: a text/plain body as it is (OpenBTS encodes it in GSM 7-bit),
 * an application/vnd.3gpp.sms body (RP-DATA network → MS) through its SMS-DELIVER.
 */
function handsetText(m: { contentType: string; body: string }): string {
  if (!/^application\/vnd\.3gpp\.sms/i.test(m.contentType)) return m.body;
  const rp = parseRpMessage(m.body);
  assert.equal(rp.kind, "rp-data-net-to-ms", `an RP-DATA towards the handset: ${m.body}`);
  const d = decodePdu(`00${rp.tpdu}`);
  assert.equal(d.kind, "deliver", `an SMS-DELIVER: ${m.body}`);
  return d.kind === "deliver" ? d.text : "";
}

const byText = (a: { text: string }, b: { text: string }) => (a.text < b.text ? -1 : a.text > b.text ? 1 : 0);

/** Outgoing SMS the site holds, in any state. */
function storedSms(site: GatewaySite): number {
  return Object.values(site.store.stats().byState).reduce((a, b) => a + b, 0);
}

describe("REGISTER from the local BTS and MESSAGE to a handset of this site", () => {
  it("records the handset's contact and delivers MESSAGEs to its number there, not as SMS, with the upstream down", async () => {
    const imsi = "641100000000001";
    const handsetPort = await freePort();
    const deadUpstream = await freePort(); // nothing listens there
    const trace = join(root.dir, "handset-uas.log");
    const handset = uas(handsetPort, trace, 2);
    const site = await startGatewaySite({
      dir: join(root.dir, "local"),
      modems: [{ id: "m1" }],
      sip: {
        upstream: {
          uri: `sip:127.0.0.1:${deadUpstream}`,
          fallback: [],
          register: true,
          username: "site-042",
          password: "secret",
          register_expires_s: 300,
          keepalive_s: 1,
          expiry_s: 3600,
        },
      },
    });
    try {
      await site.waitReady();
      site.subscribers.upsert({ imsi, msisdn: "+256772000555" });
      await waitFor(
        "the upstream known down",
        () => site.gateway.upstreams?.states[0]?.reachable === false,
        8000,
      );

      // The local BTS (a trusted source) registers the handset by IMSI, as OpenBTS does.
      const before = Date.now();
      const reg = await sipp("uac-register-handset", {
        target: `127.0.0.1:${site.sipPort}`,
        localPort: await freePort(),
        timeoutS: 10,
        fill: {
          domain: "site.test",
          imsi,
          contact: `127.0.0.1:${handsetPort}`,
          expires: "600",
          expect: "200",
        },
      }).done;
      assert.equal(reg.code, 0, reg.output.slice(-2000));
      const sub = site.subscribers.byImsi(imsi);
      assert.equal(sub?.msisdn, "+256772000555");
      assert.equal(sub?.contact?.ip, "127.0.0.1");
      assert.equal(sub?.contact?.port, handsetPort);
      const expiresIn = (sub?.contact?.expiresAt ?? 0) - before;
      assert.ok(
        expiresIn > 590_000 && expiresIn <= 610_000,
        `contact expires in ${expiresIn} ms, not ~600 s`,
      );

      // To the number, E.164 and national: both to the handset through the local BTS.
      await uacMessage(site, {
        ruri: "sip:+256772000555@site.test",
        from: "sip:alice@site.test",
        to: "sip:+256772000555@site.test",
        text: "Karibu ✓ (E.164)",
        expect: "202",
      });
      await uacMessage(site, {
        ruri: "sip:0772000555@site.test",
        from: "sip:bob@site.test",
        to: "sip:0772000555@site.test",
        text: "Karibu @ home (national)",
        expect: "202",
      });
      await waitFor("2 MESSAGEs at the handset", () => sippReceivedMessages(trace).length >= 2, 10_000);
      const got = sippReceivedMessages(trace);
      const ruri = `sip:IMSI${imsi}@127.0.0.1:${handsetPort}`;
      assert.deepEqual(
        got.map((m) => ({ ruri: m.ruri, text: handsetText(m) })).sort(byText),
        [
          { ruri, text: "Karibu ✓ (E.164)" },
          { ruri, text: "Karibu @ home (national)" },
        ].sort(byText),
      );
      assert.ok(
        got.some((m) => /sip:alice@/.test(m.from)) && got.some((m) => /sip:bob@/.test(m.from)),
        `From names the sender: ${got.map((m) => m.from).join(" | ")}`,
      );
      await waitFor("local outbox done", () => site.outbox.stats().local.pending === 0, 5000);
      // Nothing went out as SMS.
      assert.equal(storedSms(site), 0);
      assert.deepEqual(site.sims[0]!.sentPdus(), []);
      assert.equal(site.gateway.upstreams?.states[0]?.reachable, false, "the upstream stayed down");
    } finally {
      handset.kill();
      await site.stop();
    }
  });
});

describe("site services, answered by MESSAGE to the From URI", () => {
  it("echo (9189): answers 202 and sends the same text back from sip:9189@", async () => {
    const uasPort = await freePort();
    const trace = join(root.dir, "echo-uas.log");
    const sender = uas(uasPort, trace, 1);
    const site = await startGatewaySite({ dir: join(root.dir, "echo"), modems: [{ id: "m1" }] });
    try {
      await site.waitReady();
      const text = "echo me ✓ Привет";
      await uacMessage(site, {
        ruri: "sip:9189@site.test",
        from: `sip:alice@127.0.0.1:${uasPort}`,
        to: "sip:9189@site.test",
        text,
        expect: "202",
      });
      await waitFor("the echo at the sender", () => sippReceivedMessages(trace).length >= 1, 10_000);
      const got = sippReceivedMessages(trace);
      assert.equal(got.length, 1);
      assert.equal(got[0]!.ruri, `sip:alice@127.0.0.1:${uasPort}`);
      assert.match(got[0]!.from, /sip:9189@/);
      assert.equal(handsetText(got[0]!), text);
      assert.equal(storedSms(site), 0, "no SMS");
    } finally {
      sender.kill();
      await site.stop();
    }
  });

  it("register (101): a handset of this site gets the number it asks for, and is told so", async () => {
    const imsi = "641100000000002";
    const uasPort = await freePort();
    const trace = join(root.dir, "register-uas.log");
    const handset = uas(uasPort, trace, 1);
    const site = await startGatewaySite({ dir: join(root.dir, "register"), modems: [{ id: "m1" }] });
    try {
      await site.waitReady();
      assert.equal(site.subscribers.byImsi(imsi), undefined);
      await uacMessage(site, {
        ruri: "sip:101@site.test",
        from: `sip:IMSI${imsi}@127.0.0.1:${uasPort}`,
        to: "sip:101@site.test",
        text: "0772000777",
        expect: "202",
      });
      assert.equal(site.subscribers.byImsi(imsi)?.msisdn, "+256772000777");
      await waitFor("the answer at the handset", () => sippReceivedMessages(trace).length >= 1, 10_000);
      const got = sippReceivedMessages(trace);
      assert.equal(got.length, 1);
      assert.equal(got[0]!.ruri, `sip:IMSI${imsi}@127.0.0.1:${uasPort}`);
      assert.match(got[0]!.from, /sip:101@/);
      assert.equal(handsetText(got[0]!), "Your number is now +256772000777.");
      assert.equal(storedSms(site), 0, "no SMS");
    } finally {
      handset.kill();
      await site.stop();
    }
  });
});
