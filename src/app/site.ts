/**
 * The composition root: builds the site from its config and runs it.
 *
 *   start: databases ─► GPIO ─► quirk profiles ─► SMS path (queue loaded, listening) ─► SIP stack and
 *          gateway (sip.listen) ─► modem fleet (power lines on, discovery, slots) ─► NOC link (MQTT,
 *          when mqtt.url is set) and its reporter
 *   stop:  NOC link (availability offline) ─► SIP (no new MESSAGE) ─► SMS path (no new work, the
 *          AT+CMGS in flight waited for) ─► fleet ─► reporter (events until here reach site.db)
 *          ─► databases
 *
 * A part that cannot start (GPIO missing on a dev machine, a bad quirk file) is logged and the site
 * goes on without it, degraded; only an unusable database stops the start (nothing accepted could be
 * kept).
 */
import { readFileSync } from "node:fs";
import type { LoadedConfig } from "../config/load.js";
import { ConfigControl } from "../config/runtime.js";
import type { SiteConfig } from "../config/types.js";
import { errorText } from "../core/errors.js";
import { EventBus } from "../core/events.js";
import type { Logger } from "../core/logger.js";
import { dataPath, packageRoot } from "../core/paths.js";
import type { GpioDriver } from "../gpio/gpio.js";
import { createGpioDriver } from "../gpio/index.js";
import { LedController } from "../leds/controller.js";
import { ModemFleet } from "../modem/fleet.js";
import { ProfileSet } from "../modem/profile.js";
import { runCommand } from "../mqtt/commands.js";
import { NocLink } from "../mqtt/link.js";
import { Reporter } from "../mqtt/reporter.js";
import { NocStore } from "../mqtt/store.js";
import { SipGateway } from "../sip/gateway.js";
import { openSipDatabase, SipOutbox } from "../sip/outbox.js";
import { type SipStack, startSipStack } from "../sip/stack.js";
import { SmsService } from "../sms/service.js";
import { openSmsDatabase, SmsStore } from "../sms/store.js";
import type { Database } from "../storage/db.js";
import { ModemRegistry, openSiteDatabase } from "../storage/siteDb.js";
import { openSubscriberDatabase, SubscriberStore } from "../subscribers/store.js";
import { readStaticFactsInChild } from "../system/factsProcess.js";
import { SystemSampler } from "../system/sampler.js";
import { serialportOpener } from "../transport/serial/serialportBinding.js";
import type { SerialOpener } from "../transport/serial/serialTransport.js";
import { WebServer } from "../web/server.js";
import { SiteControl } from "./control.js";

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
  /** The layers the config came from (for `config/set`); default: `config` as the only layer, no runtime file. */
  loaded?: LoadedConfig;
  /** Root of `/proc` and `/sys` for the system figures (tests). Default "/". */
  procRoot?: string;
}

/** The package's version (package.json), read at start. */
export function packageVersion(): string {
  try {
    return (JSON.parse(readFileSync(`${packageRoot()}/package.json`, "utf8")) as { version: string }).version;
  } catch {
    return "unknown";
  }
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
  control: SiteControl | undefined;
  noc: NocLink | undefined;
  private reporter: Reporter | undefined;
  leds: LedController | undefined;
  web: WebServer | undefined;
  webAddress: { address: string; port: number } | undefined;

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
    await this.startNoc();
    log.info(`site ${config.site.id} started`, { modems: config.modems.length });
  }

  /** The commands' context and health, always; the MQTT link and reporter when `mqtt.url` is set. */
  private async startNoc(): Promise<void> {
    const { config, logger } = this.o;
    const loaded: LoadedConfig = this.o.loaded ?? {
      config,
      sources: {},
      layers: [{ source: "file", data: structuredClone(config) as unknown as Record<string, unknown> }],
      runtimeFile: undefined,
    };
    const nocStore = new NocStore(this.db!);
    let link: NocLink | undefined;
    const configControl = new ConfigControl({
      loaded,
      live: config,
      onApplied: (changed, c) => {
        if (changed.some((k) => k.startsWith("log."))) {
          const levels = logger.levelControl;
          levels.set(c.log.level);
          for (const [ns, level] of Object.entries(c.log.levels)) levels.set(level, ns);
        }
        this.sip?.reconfigure(changed);
        logger.child("site").info("config changed at runtime", { keys: changed });
      },
    });
    this.control = new SiteControl({
      config,
      configControl,
      version: packageVersion(),
      bus: this.bus,
      logger: logger.child("noc"),
      fleet: this.fleet!,
      sms: this.sms!,
      ...(this.sip ? { sip: this.sip } : {}),
      ...(this.subscribers ? { subscribers: this.subscribers } : {}),
      probeDb: this.db!,
      sampler: new SystemSampler({
        diskPath: config.storage.dir,
        ...(this.o.procRoot ? { root: this.o.procRoot } : {}),
      }),
      link: () => link?.status(),
      resyncNeeded: (version) => link?.publishEvent("subscriber_resync", { version }),
    });
    this.control.start();
    await this.startLeds(() => link);
    await this.startWeb();
    // In the background: the site does not wait for these strings to start.
    void readStaticFactsInChild(this.o.procRoot ? { root: this.o.procRoot } : {}).then((facts) => {
      if (!facts || !this.control) return;
      this.control.staticFacts = facts;
      link?.setRetained("info", this.control.info());
    });
    const url = config.mqtt.url;
    if (url === undefined) return;
    const control = this.control;
    const ctx = control.commandContext();
    link = new NocLink({
      mqtt: { ...config.mqtt, url },
      siteId: config.site.id,
      store: nocStore,
      logger: logger.child("mqtt"),
      onCommand: (command, args, meta) => runCommand(ctx, command, args, meta),
      onConnected: () => {
        link?.setRetained("info", control.info());
        this.reporter?.publishAll();
      },
    });
    this.noc = link;
    this.reporter = new Reporter({
      sink: link,
      bus: this.bus,
      mqtt: config.mqtt,
      state: () => control.state(),
      modems: () => this.fleet?.snapshots() ?? [],
      telemetry: () => control.telemetry(),
      logger: logger.child("mqtt"),
    });
    link.setRetained("info", control.info());
    this.reporter.start();
    await link.start();
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

  /** The local page on `web.listen`; a port that cannot be had is logged and the site runs without it. */
  private async startWeb(): Promise<void> {
    const { config, logger } = this.o;
    const web = new WebServer({
      web: config.web,
      siteName: () => ({ id: config.site.id, name: config.site.name }),
      control: this.control!,
      bus: this.bus,
      leds: () => this.leds?.patterns() ?? {},
      logger: logger.child("web"),
    });
    try {
      this.webAddress = await web.start();
      this.web = web;
    } catch (err) {
      await web.stop().catch(() => {});
      logger.child("site").error(`web page unavailable on ${config.web.listen}: ${errorText(err)}`);
    }
  }

  /** The status, uplink and modem LEDs, when the board has them and GPIO works. */
  private async startLeds(link: () => NocLink | undefined): Promise<void> {
    const { config, logger } = this.o;
    const control = this.control!;
    const modemLeds = config.modems.flatMap((m, i) =>
      m.led_gpio === undefined ? [] : [{ id: m.id ?? `#${i}`, line: m.led_gpio }],
    );
    if (
      !this.gpio ||
      (config.leds.status === undefined && config.leds.uplink === undefined && modemLeds.length === 0)
    )
      return;
    const leds = new LedController({
      gpio: this.gpio,
      ...(config.leds.status !== undefined ? { status: config.leds.status } : {}),
      ...(config.leds.uplink !== undefined ? { uplink: config.leds.uplink } : {}),
      modemLeds,
      statusInput: () => {
        const h = control.healthInput();
        return {
          uptimeMs: Date.now() - control.startedAt,
          modems: h.modems.map((m) => m.state),
          storageFailed: !h.storageWritable,
          underVoltage: h.power?.under_voltage_now === true,
        };
      },
      uplinkInput: () => {
        const l = link()?.status();
        const sip = this.sip?.snapshot();
        const register = config.sip.upstream?.register === true;
        return {
          ...(l ? { mqtt: { connected: l.connected, lastError: l.last_error } } : {}),
          ...(sip && sip.upstreams.length > 0
            ? {
                sip: sip.upstreams.map((u) => ({
                  reachable: u.reachable,
                  registered: u.registered,
                  register,
                })),
              }
            : {}),
        };
      },
      modemStates: () => this.fleet?.snapshots().map((m) => ({ id: m.id, state: m.state })) ?? [],
      bus: this.bus,
      logger: logger.child("leds"),
    });
    await leds.start();
    if (leds.fitted) {
      this.leds = leds;
      control.leds = leds;
    }
  }

  /** Stops within the contract's 10 s: an AT+CMGS in flight gets until `deadline` (ms since the epoch). */
  async stop(deadline: number = Date.now() + 7000): Promise<void> {
    // The NOC hears `offline` first; events of the rest of the stop still reach site.db.
    await this.noc?.stop();
    await this.web?.stop();
    // No new MESSAGE first, then the SMS path, then the modems.
    await this.sip?.stop();
    await this.sipStack?.stop();
    await this.sms?.stop(deadline);
    await this.fleet?.stop();
    this.reporter?.stop();
    this.control?.stop();
    await this.leds?.stop();
    await this.noc?.flushed();
    // GPIO lines are not released: modem power lines stay on across a restart of the controller.
    this.smsDb?.close();
    this.subDb?.close();
    this.sipDb?.close();
    this.db?.close();
    this.o.logger.child("site").info("site stopped");
  }
}
