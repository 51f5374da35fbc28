/**
 * Local switching to a handset of the site, the handset's side played by a second SIP stack (as the
 * local BTS would be): GSM 7-bit text as text/plain, anything else as RP-DATA SMS-DELIVERs in UCS2.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { silentLogger } from "../../src/core/logger.js";
import { parseRpMessage } from "../../src/sip/rp.js";
import { newCallId, newTag, type SipStack, startSipStack } from "../../src/sip/stack.js";
import type { SipRequest } from "../../src/sip/types.js";
import { request } from "../../src/sip/upstream.js";
import { decodePdu } from "../../src/sms/pdu/deliver.js";
import { tempDir, waitFor } from "../helpers/fleetHarness.js";
import { startGatewaySite } from "../helpers/sipHarness.js";

let root: ReturnType<typeof tempDir>;
before(() => {
  root = tempDir("sip-handset");
});
after(() => root.cleanup());

const IMSI = "641100000000077";

function message(to: string, text: string, port: number): SipRequest {
  return {
    method: "MESSAGE",
    uri: `sip:${to}@127.0.0.1:${port}`,
    headers: {
      via: [],
      to: { uri: `sip:${to}@site.test`, params: {} },
      from: { uri: "sip:+256772000900@site.test", params: { tag: newTag() } },
      "call-id": newCallId("127.0.0.1"),
      cseq: { seq: 1, method: "MESSAGE" },
      "content-type": "text/plain;charset=UTF-8",
    },
    content: text,
  };
}

describe("MESSAGE to a handset of this site", () => {
  it("goes to the handset's registered contact, text/plain for GSM 7-bit, RP-DATA in UCS2 otherwise", async () => {
    const got: SipRequest[] = [];
    let handset: SipStack | undefined;
    const site = await startGatewaySite({ dir: join(root.dir, "local"), modems: [{ id: "m1" }] });
    try {
      handset = await startSipStack({
        address: "127.0.0.1",
        port: 0,
        logger: silentLogger(),
        onRequest: (req) => {
          got.push(req);
          handset!.respond(req, 200, "OK");
        },
      });
      site.subscribers.upsert({ imsi: IMSI, msisdn: "+256772000901" });
      // The local BTS registers the handset.
      const reg = await request(handset, {
        method: "REGISTER",
        uri: `sip:127.0.0.1:${site.sipPort}`,
        headers: {
          via: [],
          to: { uri: `sip:IMSI${IMSI}@site.test`, params: {} },
          from: { uri: `sip:IMSI${IMSI}@site.test`, params: { tag: newTag() } },
          "call-id": newCallId("127.0.0.1"),
          cseq: { seq: 1, method: "REGISTER" },
          contact: [{ uri: `sip:IMSI${IMSI}@127.0.0.1:${handset.port}`, params: {} }],
          expires: "600",
        },
      });
      assert.equal(reg.status, 200);
      assert.equal(site.subscribers.byImsi(IMSI)?.contact?.port, handset.port);
      // GSM 7-bit: text/plain.
      const a = await request(handset, message("0772000901", "Habari {ok}", site.sipPort));
      assert.equal(a.status, 202);
      await waitFor("text/plain at the handset", () => got.find((r) => r.method === "MESSAGE"), 10_000);
      const first = got.find((r) => r.method === "MESSAGE")!;
      assert.match(String(first.headers["content-type"]), /^text\/plain/);
      assert.equal(first.content, "Habari {ok}");
      // Not GSM 7-bit: RP-DATA with an SMS-DELIVER in UCS2, two parts for 100 characters.
      const text = `Привет ${"ж".repeat(93)}`;
      const b = await request(handset, message("+256772000901", text, site.sipPort));
      assert.equal(b.status, 202);
      await waitFor("two RP-DATA", () => got.filter((r) => r.method === "MESSAGE").length === 3, 10_000);
      const rp = got
        .filter((r) => String(r.headers["content-type"]) === "application/vnd.3gpp.sms")
        .map((r) => parseRpMessage(r.content ?? ""));
      assert.equal(rp.length, 2);
      const parts = rp.map((m) => {
        assert.equal(m.kind, "rp-data-net-to-ms");
        const d = decodePdu(`00${m.tpdu}`);
        assert.equal(d.kind, "deliver");
        return d.kind === "deliver" ? d : undefined;
      });
      const sorted = parts.sort((x, y) => (x?.concat?.seq ?? 0) - (y?.concat?.seq ?? 0));
      assert.equal(sorted.map((p) => p?.text).join(""), text);
      assert.equal(sorted[0]?.from, "+256772000900");
      assert.equal(site.sims[0]!.sentPdus().length, 0, "nothing went out through the modem");
    } finally {
      await handset?.stop();
      await site.stop();
    }
  });
});
