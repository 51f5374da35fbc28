/**
 * The answers of the SIP gateway to a MESSAGE (contract, section 4), each against a real peer: sipp
 * (Debian's sip-tester) as the UAC on 127.0.0.1, the gateway's own SIP stack, simulated modems on real
 * ptys and real SQLite files. 202 for text/plain and for an RP-DATA body as OpenBTS sends it, 400, 401
 * (digest), 413, 415, 503 with Retry-After, and 200 to OPTIONS.
 */
import assert from "node:assert/strict";
import { createSocket, type RemoteInfo } from "node:dgram";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { encodeRpDataToNet } from "../../src/sip/rp.js";
import { decodePdu } from "../../src/sms/pdu/deliver.js";
import { encodeSubmit } from "../../src/sms/pdu/submit.js";
import { tempDir, waitFor } from "../helpers/fleetHarness.js";
import { freePort, readSippTrace, sipp, sippHeader, sippReceivedMessages } from "../helpers/kamailio.js";
import { type GatewaySite, startGatewaySite } from "../helpers/sipHarness.js";

let root: ReturnType<typeof tempDir>;
before(() => {
  root = tempDir("sip-gw-codes");
});
after(() => root.cleanup());

function sentTexts(site: GatewaySite): { to: string; text: string }[] {
  return site.sims[0]!.sentPdus().map((p) => {
    const d = decodePdu(p.pdu);
    return d.kind === "submit" ? { to: d.to, text: d.text } : { to: "?", text: "?" };
  });
}

/** Outgoing SMS the site holds, in any state. */
function storedSms(site: GatewaySite): number {
  return Object.values(site.store.stats().byState).reduce((a, b) => a + b, 0);
}

interface MessageFill {
  ruri: string;
  from: string;
  to: string;
  ctype: string;
  text: string;
  expect: string;
}

/** A MESSAGE (test/fixtures/sipp/uac-message-body.xml) to the gateway; asserts sipp got `expect`. */
async function uacMessage(site: GatewaySite, fill: MessageFill, extra: string[] = []): Promise<void> {
  const r = await sipp("uac-message-body", {
    target: `127.0.0.1:${site.sipPort}`,
    localPort: await freePort(),
    timeoutS: 10,
    fill: { ...fill },
    extra,
  }).done;
  assert.equal(r.code, 0, `expected ${fill.expect}:\n${r.output.slice(-2000)}`);
}

const TEXT_PLAIN = "text/plain;charset=UTF-8";

/**
 * A UDP relay in front of the gateway that makes sipp an MD5-only digest client which ignores the
 * challenges it cannot answer (RFC 7616 §3.7: the client uses the first challenge it supports). sipp 3.6
 * reads only the first WWW-Authenticate (it fails with "authentication must use MD5 or AKAv1-MD5" on
 * the SHA-256 one the gateway offers first, RFC 8760), so the relay drops every SHA-256 challenge from
 * the gateway's answers. Requests pass unchanged but for the Via sent-by, which becomes the relay so
 * that the answers come back through it. The digest itself is computed by sipp and checked by the
 * gateway, untouched.
 */
async function md5OnlyRelay(gatewayPort: number): Promise<{ port: number; close: () => Promise<void> }> {
  const port = await freePort();
  const sock = createSocket("udp4");
  let client: RemoteInfo | undefined;
  sock.on("message", (buf, from) => {
    const msg = buf.toString("latin1");
    if (from.port === gatewayPort) {
      if (!client) return;
      const out = msg.replace(/^WWW-Authenticate:[^\r\n]*algorithm="?SHA-256[^\r\n]*\r\n/gim, "");
      sock.send(Buffer.from(out, "latin1"), client.port, client.address);
      return;
    }
    client = from;
    const out = msg.replace(
      /^(Via:\s*SIP\/2\.0\/UDP\s+)[^;\s]+/im,
      (_m, head: string) => `${head}127.0.0.1:${port}`,
    );
    sock.send(Buffer.from(out, "latin1"), gatewayPort, "127.0.0.1");
  });
  await new Promise<void>((resolve) => sock.bind(port, "127.0.0.1", resolve));
  return { port, close: () => new Promise<void>((resolve) => sock.close(() => resolve())) };
}

describe("MESSAGE bodies: application/vnd.3gpp.sms, other content types", () => {
  it("answers 202 to an RP-DATA (hex text as OpenBTS sends it) and sends the SMS-SUBMIT to its TP-DA, text intact", async () => {
    const site = await startGatewaySite({ dir: join(root.dir, "rp"), modems: [{ id: "m1" }] });
    try {
      await site.waitReady();
      const text = "Habari ✓ from a handset";
      const submit = encodeSubmit({ to: "+256772123456", text, reference: 0 });
      assert.equal(submit.parts.length, 1);
      // encodeSubmit puts the SMSC field (00: none) first; RP-User-Data is the TPDU without it.
      const body = encodeRpDataToNet({
        reference: 0x54,
        smsc: "+256770000001",
        submitTpduHex: submit.parts[0]!.pdu.slice(2),
      }).toLowerCase(); // OpenBTS writes BitVector::hex: lower case, no separators, no line end.
      // OpenBTS addresses a handset's RP-DATA to the user "smsc"; the destination is the TP-DA.
      await uacMessage(site, {
        ruri: "sip:smsc@site.test",
        from: "sip:IMSI641100000000009@127.0.0.1",
        to: "sip:smsc@site.test",
        ctype: "application/vnd.3gpp.sms",
        text: body,
        expect: "202",
      });
      await waitFor("sent", () => site.of("sms_sent").length === 1, 10_000);
      assert.deepEqual(sentTexts(site), [{ to: "+256772123456", text }]);
    } finally {
      await site.stop();
    }
  });

  it("answers 400 to a vnd.3gpp.sms body that is not an RP-DATA with an SMS-SUBMIT, and 415 to application/json", async () => {
    const site = await startGatewaySite({ dir: join(root.dir, "bad-bodies"), modems: [{ id: "m1" }] });
    try {
      await site.waitReady();
      const base = { ruri: "sip:smsc@site.test", from: "sip:alice@site.test", to: "sip:smsc@site.test" };
      // Not hex at all; an RP-DATA cut short in its RP-Destination Address; an RP-ACK (no SMS in it).
      for (const garbage of ["this is not an RP message", "0054000891", "0254"]) {
        await uacMessage(site, { ...base, ctype: "application/vnd.3gpp.sms", text: garbage, expect: "400" });
      }
      await uacMessage(site, {
        ruri: "sip:0772123456@site.test",
        from: "sip:alice@site.test",
        to: "sip:0772123456@site.test",
        ctype: "application/json",
        text: '{"to":"+256772123456","text":"hello"}',
        expect: "415",
      });
      assert.equal(storedSms(site), 0, "nothing may be queued");
      assert.deepEqual(site.sims[0]!.sentPdus(), []);
    } finally {
      await site.stop();
    }
  });
});

describe("sms.max_parts, sms.too_long and sms.queue_limit", () => {
  // 200 GSM 7-bit characters: 2 parts, one more than max_parts 1 (160 characters).
  const long = "0123456789".repeat(20);

  it("answers 413 when the text needs more than sms.max_parts parts and too_long is reject", async () => {
    const site = await startGatewaySite({
      dir: join(root.dir, "too-long"),
      modems: [{ id: "m1" }],
      sms: { max_parts: 1, too_long: "reject" },
    });
    try {
      await site.waitReady();
      await uacMessage(site, {
        ruri: "sip:0772123456@site.test",
        from: "sip:alice@site.test",
        to: "sip:0772123456@site.test",
        ctype: TEXT_PLAIN,
        text: long,
        expect: "413",
      });
      assert.equal(storedSms(site), 0, "nothing may be queued");
    } finally {
      await site.stop();
    }
  });

  it("with too_long truncate answers 202 and sends the text cut to max_parts", async () => {
    const site = await startGatewaySite({
      dir: join(root.dir, "truncate"),
      modems: [{ id: "m1" }],
      sms: { max_parts: 1, too_long: "truncate" },
    });
    try {
      await site.waitReady();
      await uacMessage(site, {
        ruri: "sip:0772123456@site.test",
        from: "sip:alice@site.test",
        to: "sip:0772123456@site.test",
        ctype: TEXT_PLAIN,
        text: long,
        expect: "202",
      });
      await waitFor("sent", () => site.of("sms_sent").length === 1, 10_000);
      assert.deepEqual(sentTexts(site), [{ to: "+256772123456", text: long.slice(0, 160) }]);
    } finally {
      await site.stop();
    }
  });

  it("with too_long truncate tells the SIP sender that the text was cut", async () => {
    const uasPort = await freePort();
    const uasTrace = join(root.dir, "truncate-told-uas.log");
    const uacTrace = join(root.dir, "truncate-told-uac.log");
    const uas = sipp("uas-message", {
      localPort: uasPort,
      calls: 3,
      timeoutS: 30,
      extra: ["-trace_msg", "-message_file", uasTrace],
    });
    const site = await startGatewaySite({
      dir: join(root.dir, "truncate-told"),
      modems: [{ id: "m1" }],
      // No delivery reports: the only MESSAGE the sender may get back is the one about the cut.
      sms: { max_parts: 1, too_long: "truncate", delivery_reports: false },
    });
    try {
      await site.waitReady();
      await uacMessage(
        site,
        {
          ruri: "sip:0772123456@site.test",
          from: `sip:alice@127.0.0.1:${uasPort}`,
          to: "sip:0772123456@site.test",
          ctype: TEXT_PLAIN,
          text: long,
          expect: "202",
        },
        ["-trace_msg", "-message_file", uacTrace],
      );
      const told = (): boolean => {
        const answer = readSippTrace(uacTrace).find(
          (e) => e.direction === "received" && / 202 /.test(e.start),
        );
        if (answer && (sippHeader(answer, "Warning") !== undefined || /trunc|cut/i.test(answer.start)))
          return true;
        return sippReceivedMessages(uasTrace).some((m) => /trunc|cut|shorten|too long/i.test(m.body));
      };
      await waitFor("the sender told of the cut (a MESSAGE back, or a Warning on the 202)", told, 3000);
    } finally {
      uas.kill();
      await site.stop();
    }
  });

  it("answers 503 with Retry-After when the queue is over sms.queue_limit", async () => {
    const site = await startGatewaySite({
      dir: join(root.dir, "queue-full"),
      // The modem sends for no network the SMS could route to: the queue only fills.
      modems: [{ id: "m1", modem: { networks: ["none"] } }],
      sms: { queue_limit: 1 },
    });
    const trace = join(root.dir, "queue-full-uac.log");
    try {
      await site.waitReady();
      const msg = {
        ruri: "sip:0772123456@site.test",
        from: "sip:alice@site.test",
        to: "sip:0772123456@site.test",
      };
      await uacMessage(site, { ...msg, ctype: TEXT_PLAIN, text: "first fills the queue", expect: "202" });
      const r = await sipp("uac-message-retry-after", {
        target: `127.0.0.1:${site.sipPort}`,
        localPort: await freePort(),
        timeoutS: 10,
        fill: { ...msg, text: "second finds it full" },
        extra: ["-trace_msg", "-message_file", trace],
      }).done;
      assert.equal(r.code, 0, `expected 503 with Retry-After:\n${r.output.slice(-2000)}`);
      const answer = readSippTrace(trace).find(
        (e) => e.direction === "received" && e.start.startsWith("SIP/2.0 503"),
      );
      assert.ok(answer, "the 503 is in the trace");
      assert.match(sippHeader(answer, "Retry-After") ?? "", /^\d+\b/);
      assert.equal(storedSms(site), 1, "only the first is queued");
      assert.deepEqual(site.sims[0]!.sentPdus(), []);
    } finally {
      await site.stop();
    }
  });
});

describe("who may send, and OPTIONS", () => {
  it("challenges a source outside sip.trusted with 401; the right digest gets 202, a wrong password 401 again", async () => {
    const site = await startGatewaySite({
      dir: join(root.dir, "digest"),
      modems: [{ id: "m1" }],
      sip: { trusted: ["10.0.0.0/8"], auth: { realm: "site.test", users: { core: "secret" } } },
    });
    const relay = await md5OnlyRelay(site.sipPort);
    const run = async (password: string, text: string, expect: string) => {
      const r = await sipp("uac-message-auth", {
        target: `127.0.0.1:${relay.port}`,
        localPort: await freePort(),
        timeoutS: 10,
        fill: {
          ruri: "sip:0772123456@site.test",
          from: "sip:core@site.test",
          to: "sip:0772123456@site.test",
          text,
          user: "core",
          password,
          expect,
        },
        // sipp's digest-uri defaults to sip:<remote ip:port>; RFC 3261 §22.4 wants the Request-URI.
        extra: ["-auth_uri", "0772123456@site.test"],
      }).done;
      assert.equal(r.code, 0, `password ${password}: expected 401 then ${expect}:\n${r.output.slice(-2000)}`);
    };
    try {
      await site.waitReady();
      // Straight to the gateway, without credentials: the challenge.
      await uacMessage(site, {
        ruri: "sip:0772123456@site.test",
        from: "sip:core@site.test",
        to: "sip:0772123456@site.test",
        ctype: TEXT_PLAIN,
        text: "no credentials",
        expect: "401",
      });
      await run("wrong", "must not be sent", "401");
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(storedSms(site), 0, "a wrong password queues nothing");
      await run("secret", "authenticated ✓", "202");
      await waitFor("sent", () => site.of("sms_sent").length === 1, 10_000);
      assert.deepEqual(sentTexts(site), [{ to: "+256772123456", text: "authenticated ✓" }]);
      assert.equal(storedSms(site), 1);
    } finally {
      await relay.close();
      await site.stop();
    }
  });

  it("answers OPTIONS with 200", async () => {
    const site = await startGatewaySite({ dir: join(root.dir, "options"), modems: [{ id: "m1" }] });
    try {
      const r = await sipp("uac-options", {
        target: `127.0.0.1:${site.sipPort}`,
        localPort: await freePort(),
        timeoutS: 10,
        fill: { ruri: `sip:127.0.0.1:${site.sipPort}`, expect: "200" },
      }).done;
      assert.equal(r.code, 0, r.output.slice(-2000));
    } finally {
      await site.stop();
    }
  });
});
