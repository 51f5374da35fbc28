import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { decodePdu } from "../../src/sms/pdu/deliver.js";
import { tempDir, waitFor } from "../helpers/fleetHarness.js";
import { startSmsSite } from "../helpers/smsHarness.js";

let root: ReturnType<typeof tempDir>;
before(() => {
  root = tempDir("sms-send");
});
after(() => root.cleanup());

function sentTexts(pdus: { pdu: string }[]): { to: string; text: string; concat?: unknown }[] {
  return pdus.map((p) => {
    const d = decodePdu(p.pdu);
    assert.equal(d.kind, "submit");
    return {
      to: d.kind === "submit" ? d.to : "",
      text: d.kind === "submit" ? d.text : "",
      ...(d.kind === "submit" && d.concat ? { concat: d.concat } : {}),
    };
  });
}

describe("sending through a simulated modem", () => {
  it("sends a GSM 7-bit SMS once and reports it sent", async () => {
    const site = await startSmsSite({ dir: join(root.dir, "gsm7"), modems: [{ id: "m1" }] });
    try {
      await site.waitReady();
      const r = await site.sms.enqueue({
        to: "+256772123456",
        text: "Hello {village} €5 [ok]",
        source: "test",
      });
      assert.equal(r.parts, 1);
      await waitFor("sms_sent", () => site.of("sms_sent").find((e) => e.id === r.id));
      const sent = sentTexts(site.sims[0]!.sentPdus());
      assert.deepEqual(sent, [{ to: "+256772123456", text: "Hello {village} €5 [ok]" }]);
      assert.equal(site.sms.status(r.id)?.state, "sent");
    } finally {
      await site.stop();
    }
  });
});
