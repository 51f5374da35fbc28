/**
 * The composition root: builds the site from its config and runs it.
 *
 *   start: databases ─► GPIO ─► quirk profiles ─► SMS path (queue loaded, listening) ─► SIP stack and
 *          gateway (sip.listen) ─► modem fleet (power lines on, discovery, slots)
 *   stop:  SIP (no new MESSAGE) ─► SMS path (no new work, the AT+CMGS in flight waited for) ─► fleet
 *          ─► databases
 *
 * A part that cannot start (GPIO missing on a dev machine, a bad quirk file) is logged and the site
 * goes on without it, degraded; only an unusable database stops the start (nothing accepted could be
 * kept).
 */
import type { SiteConfig } from "../config/types.js";
import { errorText } from "../core/errors.js";
import { EventBus } from "../core/events.js";
import type { Logger } from "../core/logger.js";
import { dataPath } from "../core/paths.js";
import type { GpioDriver } from "../gpio/gpio.js";
import { createGpioDriver } from "../gpio/index.js";
import { ModemFleet } from "../modem/fleet.js";
import { ProfileSet } from "../modem/profile.js";
import { SipGateway } from "../sip/gateway.js";
import { openSipDatabase, SipOutbox } from "../sip/outbox.js";
import { type SipStack, startSipStack } from "../sip/stack.js";
import { SmsService } from "../sms/service.js";
import { openSmsDatabase, SmsStore } from "../sms/store.js";
import type { Database } from "../storage/db.js";
import { ModemRegistry, openSiteDatabase } from "../storage/siteDb.js";
import { openSubscriberDatabase, SubscriberStore } from "../subscribers/store.js";
import { serialportOpener } from "../transport/serial/serialportBinding.js";
import type { SerialOpener } from "../transport/serial/serialTransport.js";

export interface SiteOptions {
  config: SiteConfig;
  logger: Logger;
  /** Injected serial opener (default: the serialport package). */
  opener?: SerialOpener;
  /** Injected GPIO driver (default: from `config.gpio`). */
  gpio?: GpioDriver;
  /** Extra quirk folders, read after the shipped one. */
  quirkDirs?: string[];
  sysRoot?: string;
}

export class Site {
  readonly bus = new EventBus();
  private db: Database | undefined;
  private smsDb: Database | undefined;
  private subDb: Database | undefined;
  private sipDb: Database | undefined;
  private sipStack: SipStack | undefined;
  sip: SipGateway | undefined;
  subscribers: SubscriberStore | undefined;
  private gpio: GpioDriver | undefined;
  fleet: ModemFleet | undefined;
  sms: SmsService | undefined;

  constructor(private readonly o: SiteOptions) {}

  async start(): Promise<void> {
    const { config, logger } = this.o;
    const log = logger.child("site");
    this.db = openSiteDatabase(config.storage.dir);
    const registry = new ModemRegistry(this.db);
    this.smsDb = openSmsDatabase(config.storage.dir);
    this.subDb = openSubscriberDatabase(config.storage.dir);
    this.sipDb = openSipDatabase(config.storage.dir);

    this.gpio = this.o.gpio;
    if (!this.gpio) {
      const driver = createGpioDriver(config.gpio, this.o.sysRoot ? { sysRoot: this.o.sysRoot } : {});
      try {
        await driver.start();
        this.gpio = driver;
      } catch (err) {
        log.error(`GPIO unavailable, running without power control and LEDs: ${errorText(err)}`);
      }
    }

    const { set: profiles, problems } = await ProfileSet.load([
      dataPath("modem", "quirks"),
      ...(this.o.quirkDirs ?? []),
    ]);
    for (const p of problems) log.warn(`quirk profile skipped: ${p}`);

    this.fleet = new ModemFleet({
      modems: config.modems,
      supervisor: config.supervisor,
      discovery: config.discovery,
      profiles,
      opener: this.o.opener ?? serialportOpener(logger.child("serial")),
      gpio: this.gpio,
      store: registry,
      bus: this.bus,
      logger: logger.child("fleet"),
      ...(this.o.sysRoot ? { sysRoot: this.o.sysRoot } : {}),
    });
    const fleet = this.fleet;
    this.sms = new SmsService({
      sms: config.sms,
      networks: config.networks,
      store: new SmsStore(this.smsDb),
      modems: { list: () => fleet.list(), get: (id) => fleet.get(id) },
      bus: this.bus,
      logger: logger.child("sms"),
    });
    this.sms.start();
    await this.startSip(new SmsStore(this.smsDb));
    await this.fleet.start();
    log.info(`site ${config.site.id} started`, { modems: config.modems.length });
  }

  /** The SIP side; a port that cannot be had is logged and the site runs without SIP. */
  private async startSip(smsStore: SmsStore): Promise<void> {
    const { config, logger } = this.o;
    const subscribers = new SubscriberStore(this.subDb!);
    this.subscribers = subscribers;
    const i = config.sip.listen.lastIndexOf(":");
    const address = config.sip.listen.slice(0, i).replace(/^\[|\]$/g, "");
    const port = Number(config.sip.listen.slice(i + 1));
    let gateway: SipGateway | undefined;
    try {
      this.sipStack = await startSipStack({
        address,
        port,
        logger: logger.child("sip"),
        onRequest: (req, remote) => gateway?.onRequest(req, remote),
      });
    } catch (err) {
      logger.child("site").error(`SIP unavailable, the site runs without it: ${errorText(err)}`);
      return;
    }
    const fleet = this.fleet!;
    gateway = new SipGateway({
      sip: config.sip,
      sms: config.sms,
      services: config.services,
      siteId: config.site.id,
      modems: () => fleet.list(),
      stack: this.sipStack,
      smsService: this.sms!,
      smsStore,
      subscribers,
      outbox: new SipOutbox(this.sipDb!),
      bus: this.bus,
      logger: logger.child("sip"),
    });
    gateway.start();
    this.sip = gateway;
  }

  /** Stops within the contract's 10 s: an AT+CMGS in flight gets until `deadline` (ms since the epoch). */
  async stop(deadline: number = Date.now() + 7000): Promise<void> {
    // No new MESSAGE first, then the SMS path, then the modems.
    await this.sip?.stop();
    await this.sipStack?.stop();
    await this.sms?.stop(deadline);
    await this.fleet?.stop();
    // GPIO lines are not released: modem power lines stay on across a restart of the controller.
    this.smsDb?.close();
    this.subDb?.close();
    this.sipDb?.close();
    this.db?.close();
    this.o.logger.child("site").info("site stopped");
  }
}
