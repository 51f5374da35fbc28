/**
 * A whole simulated USB modem: a {@link ModemDevice} behind one real pty per USB interface, a power
 * line read from the sim GPIO folder, and the faults tests inject.
 *
 *   power line (sim GPIO file) ─┐
 *   plug / unplug / replug ─────┼─► powered && plugged ─(boot_ms)─► links up + device.boot()
 *   AT+CFUN=1,1 (device reset) ─┘   otherwise ─► links down + device.powerOff()
 *
 *   client ⇄ PtyLink(s) `<link>` or `<link>-if00..NN` ⇄ ModemDevice ports
 *
 * Events (see {@link SimEvents}): `command`, `power`, `plugged`, `booted`, `sent`, `status_report`.
 *
 * Network side (src/sim/network.ts): `injectText` splits a text into SMS-DELIVER parts and delivers
 * them in any order; with `statusReports({ after_ms, status })` every accepted SMS-SUBMIT with TP-SRR
 * gets an SMS-STATUS-REPORT `after_ms` (nominal) later, on the device's timers (gone at power-off).
 */
import { EventEmitter } from "node:events";
import { errorText, SiteError } from "../core/errors.js";
import { type Logger, silentLogger } from "../core/logger.js";
import { type SimLineWatch, watchSimLine } from "../gpio/simGpio.js";
import type { OverrideHandler } from "./commands/index.js";
import { type DeliverOptions, deliverSms, deliverStatusReport } from "./commands/smsRead.js";
import { ModemDevice } from "./device.js";
import { createModemState, NETWORK, type SentPdu } from "./modemState.js";
import { encodeStatusReport, splitDeliverText, submitWantingReport } from "./network.js";
import { type DeviceProfile, loadProfile } from "./profile.js";
import { SimLinks } from "./simLinks.js";
import { type SimStateSnapshot, simState } from "./simState.js";
import type { StoredSms } from "./storage.js";

/** Options of {@link ModemSimulator}. */
export interface ModemSimulatorOptions {
  /** Link path; multi-port profiles create `${link}-if00`, `${link}-if01`, ... instead. */
  link: string;
  /** Device profile name (src/sim/devices/<name>.json); default `generic`. */
  profile?: string;
  /** Default: the profile's TAC + digits derived from `link`, with a valid Luhn digit. */
  imei?: string;
  /** Default: 64110 (MTN Uganda) + digits derived from `link`. */
  imsi?: string;
  /** Default: 19 digits 8925610... derived from `link`. */
  iccid?: string;
  /** The SIM asks for this PIN after each power-on; absent = PIN disabled. */
  pin?: string;
  /** PUK of the SIM; default `12345678`. */
  puk?: string;
  /** Power line: the file `<dir>/gpio<line>` holds 0 (off) or 1 (on); no file yet = on. */
  powerGpio?: { dir: string; line: number };
  /** Multiplies every delay (profile timings, setDelay, unplug afterMs); default 1, tests 0.02-0.1. */
  timeScale?: number;
  /** Poll period of the power line file, real ms; default 20. */
  gpioPollMs?: number;
  logger?: Logger;
  /** The socat binary; default `socat`. */
  socat?: string;
  /** Automatic status reports from the start (see {@link ModemSimulator.statusReports}); default off. */
  statusReports?: StatusReportSettings;
}

/** Automatic SMS-STATUS-REPORTs for submissions that ask for one (TP-SRR). */
export interface StatusReportSettings {
  /** Nominal ms after the `+CMGS` answer (× timeScale, like every delay). */
  after_ms: number;
  /** TP-ST: 0x00 delivered, 0x20..0x3F pending, 0x40..0x7F failed. */
  status: number;
}

/** Options of {@link ModemSimulator.injectText}. */
export interface InjectTextOptions {
  /** Parts to deliver, 1-based, in this order (e.g. `[3, 1, 2]`); leaving one out or repeating it is allowed. Default: all in order. */
  order?: number[];
  /** Concatenation reference; default: the next one of a counter kept by the simulator. */
  ref?: number;
  /** 16-bit reference (IEI 0x08, 152 septets / 66 code units per part). */
  ref16?: boolean;
  /** As for {@link deliverSms}: default per AT+CNMI. */
  mode?: "cmti" | "cmt";
  /** Memory to store in; default AT+CPMS <mem3>. */
  storage?: string;
  /** SMSC time stamp of every part (a Date in UTC, or ISO 8601 with its offset); default now. */
  timestamp?: Date | string;
}

/** Events of {@link ModemSimulator}, by name. */
export interface SimEvents {
  /** A command line the device received (before it answers). */
  command: { port: number; line: string };
  power: { on: boolean };
  /** Links appeared (`plugged: true`, their paths) or vanished. */
  plugged: { plugged: boolean; links: string[] };
  sent: SentPdu;
  /** The last boot URC of a power-on, reset or replug went out. */
  booted: { links: string[] };
  /** An automatic status report went to the device (`index` as {@link deliverStatusReport} returns it). */
  status_report: { mr: number; pdu: string; index: number };
}

export class ModemSimulator {
  /** The event emitter behind {@link ModemSimulator.on} (for `events.once(sim.events, "plugged")`). */
  readonly events = new EventEmitter();
  private readonly opts: ModemSimulatorOptions;
  private readonly overrides: { pattern: string; handler: OverrideHandler }[] = [];
  private readonly staticOverrides = new Map<string, () => void>();
  private profileData: DeviceProfile | null = null;
  private dev: ModemDevice | null = null;
  private linkSet: SimLinks | null = null;
  private watch: SimLineWatch | null = null;
  private reportSettings: StatusReportSettings | null = null;
  /** Bumped by statusReports(): reports scheduled under other settings are dropped. */
  private reportGeneration = 0;
  private textRef = 0;

  constructor(opts: ModemSimulatorOptions) {
    this.opts = opts;
    if (opts.statusReports) this.statusReports(opts.statusReports);
  }

  private get log(): Logger {
    return this.opts.logger ?? silentLogger();
  }

  private get device(): ModemDevice {
    if (!this.dev) throw new SiteError("sim.control", "the modem simulator is not started");
    return this.dev;
  }

  private get links(): SimLinks {
    if (!this.linkSet) throw new SiteError("sim.control", "the modem simulator is not started");
    return this.linkSet;
  }

  /** The loaded profile (after start()). */
  get profile(): DeviceProfile {
    if (!this.profileData) throw new SiteError("sim.control", "the modem simulator is not started");
    return this.profileData;
  }

  /** Link paths (after start()) for a base name, default the current one: `[base]` or `[base-if00, ...]`. */
  linkPaths(base?: string): string[] {
    return this.links.paths(base);
  }

  /** The link of the primary AT port (the only link of a single-port profile). */
  primaryLink(base?: string): string {
    return this.linkPaths(base)[this.primaryPort()]!;
  }

  /** Loads the profile, watches the power line and, if powered, creates the links (resolves once they exist). */
  async start(): Promise<void> {
    if (this.dev) throw new SiteError("sim.control", "the modem simulator is already started");
    const profile = await loadProfile(this.opts.profile ?? "generic");
    this.profileData = profile;
    const o = this.opts;
    const state = createModemState(profile, {
      seed: o.link,
      imei: o.imei,
      imsi: o.imsi,
      iccid: o.iccid,
      pin: o.pin,
      puk: o.puk,
    });
    const dev = new ModemDevice({
      profile,
      state,
      timeScale: o.timeScale,
      logger: this.log,
      overrides: this.overrides,
    });
    this.dev = dev;
    const links = new SimLinks({
      base: o.link,
      ports: profile.ports.length,
      device: dev,
      bootMs: profile.timing.boot_ms,
      resetMs: profile.timing.reset_ms,
      scale: o.timeScale ?? 1,
      logger: this.log,
      socat: o.socat,
      emit: (event, payload) => this.events.emit(event, payload),
    });
    this.linkSet = links;
    dev.on("output", (port: number, data: Buffer) => links.write(port, data));
    dev.on("command", (e) => this.events.emit("command", e));
    dev.on("sent", (s: SentPdu) => {
      this.events.emit("sent", s);
      this.scheduleStatusReport(dev, s);
    });
    dev.on("reset", () => links.reset());
    dev.on("booted", () => this.events.emit("booted", { links: links.paths() }));
    if (o.powerGpio) {
      const { dir, line } = o.powerGpio;
      this.watch = watchSimLine(dir, line, (v) => links.setPower(v === 1), {
        intervalMs: o.gpioPollMs ?? 20,
      });
      links.powered = this.watch.current() !== 0;
    }
    await links.start();
  }

  /** Stops everything: power watch, timers, links (removed). Idempotent. */
  async stop(): Promise<void> {
    this.watch?.stop();
    this.watch = null;
    await this.linkSet?.stop();
  }

  /** Powers the device on or off (what the power line does; for a sim without one). */
  setPower(on: boolean): void {
    this.links.setPower(on);
  }

  /**
   * `on("AT+CMGS=*", handler)`: overrides a command's reply (see {@link OverrideHandler}; patterns start
   * with `AT`). `on("plugged", listener)`: listens to an event. Either way returns a remover.
   */
  on(pattern: `AT${string}` | `at${string}`, handler: OverrideHandler): () => void;
  on<K extends keyof SimEvents>(event: K, listener: (e: SimEvents[K]) => void): () => void;
  on(name: string, fn: (...args: never[]) => unknown): () => void {
    if (/^AT/i.test(name)) {
      const entry = { pattern: name, handler: fn as unknown as OverrideHandler };
      this.overrides.push(entry);
      return () => {
        const i = this.overrides.indexOf(entry);
        if (i >= 0) this.overrides.splice(i, 1);
      };
    }
    const listener = fn as (...args: unknown[]) => void;
    this.events.on(name, listener);
    return () => this.events.off(name, listener);
  }

  /**
   * A fixed reply for a pattern (what the control socket's `on` op sets): `lines` replaces an earlier
   * fixed reply for the same pattern; null removes it.
   */
  setStaticOverride(pattern: `AT${string}` | `at${string}`, lines: string[] | null): void {
    this.staticOverrides.get(pattern)?.();
    this.staticOverrides.delete(pattern);
    if (lines !== null)
      this.staticOverrides.set(
        pattern,
        this.on(pattern, () => [...lines]),
      );
  }

  /**
   * Resolves with the next `event` whose payload satisfies `predicate`; rejects after `timeoutMs`
   * real ms (default 5000).
   */
  waitFor<K extends keyof SimEvents>(
    event: K,
    predicate: (e: SimEvents[K]) => boolean = () => true,
    timeoutMs = 5000,
  ): Promise<SimEvents[K]> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        off();
        reject(new SiteError("sim.control", `no ${event} event within ${timeoutMs} ms`));
      }, timeoutMs);
      const off = this.on(event, (e: SimEvents[K]) => {
        if (!predicate(e)) return;
        clearTimeout(timer);
        off();
        resolve(e);
      });
    });
  }

  /** Sends an unsolicited line on the primary AT port now. */
  emitUrc(line: string): void {
    this.device.urc(line);
  }

  /** Stops answering anything, silently, until the power line goes 0 then 1, or unhang(). */
  hang(): void {
    this.device.hang();
  }

  unhang(): void {
    this.device.unhang();
  }

  /** The links vanish (the device loses USB power); with replugAs/afterMs (nominal) it comes back later. */
  unplug(opts: { replugAs?: string; afterMs?: number } = {}): Promise<void> {
    return this.links.unplug(opts);
  }

  /** Plugs back (optionally under another link name); resolves once the links exist, boot_ms later. */
  replug(link?: string): Promise<void> {
    return this.links.replug(link);
  }

  /** Changes the SIM: removed, ready without PIN, or one that asks for `pin` (3 tries reset). */
  setSim(spec: "absent" | "ready" | { pin: string }): void {
    const sim = this.device.state.sim;
    sim.pinAttempts = 3;
    sim.pukAttempts = 10;
    if (spec === "absent") sim.status = "absent";
    else if (spec === "ready") Object.assign(sim, { status: "ready", pin: null });
    else Object.assign(sim, { status: "locked", pin: spec.pin });
    this.device.updateNetwork();
  }

  /** The next `count` AT+CMGS submissions answer `+CMS ERROR: <code>` (after cmgs_ms). */
  cmsErrors(code: number, count = 1): void {
    for (let i = 0; i < count; i++) this.device.cmsErrorQueue.push(code);
  }

  /** Every answer waits `ms` more (nominal, scaled by timeScale); 0 ends it. */
  setDelay(ms: number): void {
    this.device.answerDelayMs = Math.max(0, ms);
  }

  /** Signal quality AT+CSQ reports, 0-31 or 99. */
  setSignal(rssi: number): void {
    if (!(Number.isInteger(rssi) && ((rssi >= 0 && rssi <= 31) || rssi === 99))) {
      throw new SiteError("sim.control", `rssi must be 0-31 or 99, got ${rssi}`);
    }
    this.device.state.csq = rssi;
  }

  /** Writes noise on the primary AT port now: NULs, 0xFF, random control bytes, a broken line. */
  garbage(bytes?: Buffer): void {
    const noise =
      bytes ??
      Buffer.concat([
        Buffer.from([0x00, 0x00, 0xff, 0xfe]),
        Buffer.from(Array.from({ length: 8 }, () => 1 + Math.floor(Math.random() * 8))),
        Buffer.from("\r\n+CRE\xff\x9b\r\n", "latin1"),
      ]);
    this.links.write(this.primaryPort(), noise);
  }

  /** An SMS from the network (hex PDU with SMSC part); see {@link deliverSms}. Returns the index or -1. */
  injectSms(pdu: string, opts?: DeliverOptions): number {
    return deliverSms(this.device, pdu, opts);
  }

  /** A status report: CNMI ds=1 → +CDS, ds=2 → stored + +CDSI (returns the index), ds=0 → dropped (-1). */
  injectStatusReport(pdu: string): number {
    return deliverStatusReport(this.device, pdu);
  }

  /**
   * A text from `from` as the network delivers it: split into SMS-DELIVER parts
   * ({@link splitDeliverText}, the SIM's SMSC in front) and handed to {@link deliverSms} part by part
   * in `order`. Returns what deliverSms returned for each, in that order.
   */
  injectText(from: string, text: string, opts: InjectTextOptions = {}): number[] {
    const dev = this.device;
    const ref16 = opts.ref16 ?? false;
    let ref = opts.ref;
    if (ref === undefined) {
      this.textRef++;
      ref = this.textRef % (ref16 ? 0x10000 : 0x100);
    }
    const parts = splitDeliverText(from, text, {
      ref,
      ref16,
      timestamp: opts.timestamp,
      smsc: usableSmsc(dev.state.sim.smsc),
    });
    const order = opts.order ?? parts.map((_, i) => i + 1);
    for (const seq of order) {
      if (!Number.isInteger(seq) || seq < 1 || seq > parts.length) {
        throw new SiteError(
          "sim.control",
          `order: part ${seq} does not exist (the text has ${parts.length})`,
        );
      }
    }
    const deliver: DeliverOptions = {};
    if (opts.mode !== undefined) deliver.mode = opts.mode;
    if (opts.storage !== undefined) deliver.storage = opts.storage;
    return order.map((seq) => deliverSms(dev, parts[seq - 1]!, deliver));
  }

  /**
   * Automatic status reports (default off): every AT+CMGS the network accepts whose SMS-SUBMIT has
   * TP-SRR gets, `after_ms` (nominal) after the `+CMGS: <mr>` answer, an SMS-STATUS-REPORT with that
   * mr, the submit's destination and `status`, through {@link deliverStatusReport} (so per AT+CNMI ds).
   * null turns them off; reports still pending are dropped (so are they at power-off, reset, stop()).
   */
  statusReports(settings: StatusReportSettings | null): void {
    if (settings !== null) {
      const { after_ms, status } = settings;
      if (typeof after_ms !== "number" || !Number.isFinite(after_ms) || after_ms < 0)
        throw new SiteError("sim.control", `after_ms must be a number ≥ 0, got ${after_ms}`);
      if (!Number.isInteger(status) || status < 0 || status > 255)
        throw new SiteError("sim.control", `status must be an integer 0-255, got ${status}`);
    }
    this.reportSettings = settings === null ? null : { after_ms: settings.after_ms, status: settings.status };
    this.reportGeneration++;
  }

  sentPdus(): SentPdu[] {
    return this.device.state.sent.map((s) => ({ ...s }));
  }

  storedMessages(): StoredSms[] {
    return this.device.state.storage.all().map((m) => ({ ...m }));
  }

  /** A JSON-friendly snapshot (snake_case keys). */
  state(): SimStateSnapshot {
    const dev = this.device;
    const links = this.links;
    return simState({
      profile: this.profile.name,
      powered: links.powered,
      plugged: links.plugged,
      running: dev.isRunning,
      hung: dev.isHung(),
      links: links.existing(),
      linkBase: links.base,
      device: dev,
      operator: NETWORK.long,
    });
  }

  private scheduleStatusReport(dev: ModemDevice, sent: SentPdu): void {
    const settings = this.reportSettings;
    if (!settings) return;
    const submit = submitWantingReport(sent.pdu);
    if (!submit) return;
    const generation = this.reportGeneration;
    dev.timers.after(settings.after_ms, () => {
      if (generation !== this.reportGeneration) return;
      try {
        const pdu = encodeStatusReport({
          mr: sent.mr,
          recipient: submit.recipient,
          scts: new Date(sent.at),
          discharge: new Date(),
          status: settings.status,
          smsc: submit.smsc ?? usableSmsc(dev.state.sim.smsc),
        });
        const index = deliverStatusReport(dev, pdu);
        this.events.emit("status_report", { mr: sent.mr, pdu, index });
      } catch (err) {
        this.log.warn(`status report for mr ${sent.mr} not delivered: ${errorText(err)}`);
      }
    });
  }

  private primaryPort(): number {
    return this.profile.ports.findIndex((p) => p.kind === "at" && p.primary);
  }
}

/** The SIM's SMSC when it is a number the SMSC field can carry (AT+CSCA accepts anything), else none. */
function usableSmsc(smsc: string): string | undefined {
  return /^\+?[0-9]{1,20}$/.test(smsc) ? smsc : undefined;
}
