/**
 * The SIP gateway on top of the SMS harness: simulated modems on real ptys, the SMS path, the subscriber
 * cache, the SIP outbox and a real SIP stack on 127.0.0.1, with the gateway between them.
 */
import { join } from "node:path";
import type { ServicesConfig, SipConfig } from "../../src/config/types.js";
import { silentLogger } from "../../src/core/logger.js";
import { SipGateway } from "../../src/sip/gateway.js";
import { openSipDatabase, SipOutbox } from "../../src/sip/outbox.js";
import { startSipStack } from "../../src/sip/stack.js";
import { openSubscriberDatabase, SubscriberStore } from "../../src/subscribers/store.js";
import { type SimSpec, type SmsSite, startSmsSite } from "./smsHarness.js";

export interface GatewaySite extends SmsSite {
  gateway: SipGateway;
  subscribers: SubscriberStore;
  outbox: SipOutbox;
  sipPort: number;
}

export const TEST_SIP: SipConfig = {
  listen: "127.0.0.1:0",
  domain: "site.test",
  numbering: { country_code: "256", national_prefix: "0", international_prefix: "00" },
  trusted: ["127.0.0.0/8"],
};

export async function startGatewaySite(o: {
  dir: string;
  modems: SimSpec[];
  sip?: Partial<SipConfig>;
  services?: Partial<ServicesConfig>;
  siteId?: string;
  sms?: Parameters<typeof startSmsSite>[0]["sms"];
  port?: number;
}): Promise<GatewaySite> {
  const site = await startSmsSite({ dir: o.dir, modems: o.modems, ...(o.sms ? { sms: o.sms } : {}) });
  const subDb = openSubscriberDatabase(join(o.dir, "data"));
  const sipDb = openSipDatabase(join(o.dir, "data"));
  const subscribers = new SubscriberStore(subDb);
  const outbox = new SipOutbox(sipDb);
  const sip: SipConfig = { ...TEST_SIP, ...o.sip };
  let gateway!: SipGateway;
  const log = process.env.TEST_LOG === "1" ? site.sms.log.child("sip") : silentLogger();
  const stack = await startSipStack({
    address: "127.0.0.1",
    port: o.port ?? 0,
    logger: log,
    onRequest: (req, remote) => gateway.onRequest(req, remote),
  });
  gateway = new SipGateway({
    sip,
    sms: site.sms.d.sms,
    services: { echo: "9189", register: "101", ...o.services },
    siteId: o.siteId ?? "site-042",
    modems: () => site.h.fleet.list(),
    stack,
    smsService: site.sms,
    smsStore: site.store,
    subscribers,
    outbox,
    bus: site.h.bus,
    logger: log,
  });
  gateway.start();
  const stopSms = site.stop.bind(site);
  return {
    ...site,
    gateway,
    subscribers,
    outbox,
    sipPort: stack.port,
    async stop() {
      await gateway.stop();
      await stack.stop();
      await stopSms();
      subDb.close();
      sipDb.close();
    },
  };
}
