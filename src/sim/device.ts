/**
 * The simulated modem itself: AT interpreter(s), SIM, registration, SMS memories and timers.
 * Bytes in per port, bytes out per port (`output` events); no pty or power line here (see simulator.ts).
 *
 *   input(port, bytes) ─► AtPort (at) ─► executeLine ─► handlers mutate ModemState ─► output(port, bytes)
 *                         dm port: ignored;  nmea port: periodic sentences only
 *   boot() ─► boot URCs, SIM URCs, chatter ─► registration: stat 2 ─(register_ms)─► stat 1
 *
 * Events: `output` (port: number, data: Buffer), `command` ({ port, line }), `reset` (AT+CFUN=1,1
 * answered: the owner makes the links vanish for reset_ms, then calls boot()), `sent` (SentPdu),
 * `booted` (the last boot URC went out).
 */
import { EventEmitter } from "node:events";
import type { Logger } from "../core/logger.js";
import { AtPort, type PortHost } from "./atPort.js";
import {
  type DeviceApi,
  executeLine,
  type Override,
  type PortSettings,
  type Reply,
} from "./commands/index.js";
import { registrationUrcs } from "./commands/network.js";
import { defaultSettings, type ModemState, NETWORK, type SentPdu } from "./modemState.js";
import { type DeviceProfile, fillTemplate, type TemplateValues, type TimedLine } from "./profile.js";
import { ScaledTimers } from "./timers.js";

/** Options of {@link ModemDevice}. */
export interface ModemDeviceOptions {
  profile: DeviceProfile;
  /** Initial state (identity, SIM, storage); kept across power cycles by the owner. */
  state: ModemState;
  /** Multiplies every delay; default 1. */
  timeScale?: number;
  logger: Logger;
  /** Test overrides, shared with the owner (it may add some before the device exists); last wins. */
  overrides?: Override[];
}

/** NMEA 0183 checksum: XOR of the characters between `$` and `*`, two hex digits. */
export function nmeaSentence(body: string): string {
  let sum = 0;
  for (let i = 0; i < body.length; i++) sum ^= body.charCodeAt(i);
  return `$${body}*${sum.toString(16).toUpperCase().padStart(2, "0")}`;
}

export class ModemDevice extends EventEmitter implements DeviceApi, PortHost {
  readonly profile: DeviceProfile;
  readonly state: ModemState;
  readonly timers: ScaledTimers;
  readonly overrides: Override[];
  /** Nominal extra delay of every answer, ms (`setDelay`). */
  answerDelayMs = 0;
  /** `+CMS ERROR` codes the next AT+CMGS submissions get, in order. */
  readonly cmsErrorQueue: number[] = [];
  private readonly log: Logger;
  private readonly atPorts: (AtPort | null)[];
  private running = false;
  private hung = false;
  private cancelRegistration: (() => void) | null = null;

  constructor(opts: ModemDeviceOptions) {
    super();
    this.profile = opts.profile;
    this.state = opts.state;
    this.timers = new ScaledTimers(opts.timeScale ?? 1);
    this.log = opts.logger;
    this.overrides = opts.overrides ?? [];
    this.atPorts = opts.profile.ports.map((p, i) =>
      p.kind === "at" ? new AtPort(i, this, opts.profile.defaults.echo) : null,
    );
  }

  get isRunning(): boolean {
    return this.running;
  }

  /** Firmware start (links exist): boot URCs, SIM URCs, chatter, registration. */
  boot(): void {
    this.powerOff();
    this.running = true;
    const sim = this.state.sim.status;
    const urcs = [
      ...this.profile.boot_urcs,
      ...this.profile.sim_urcs[sim === "ready" ? "ready" : sim === "absent" ? "absent" : "locked"],
    ];
    this.sendTimed(urcs);
    this.timers.after(Math.max(0, ...urcs.map((u) => u.delay_ms)), () => this.emit("booted"));
    for (const c of this.profile.chatter) {
      this.timers.every(c.interval_ms, () => this.urc(fillTemplate(c.line, this.templateValues())));
    }
    this.profile.ports.forEach((port, i) => {
      if (port.kind !== "nmea" || !port.nmea) return;
      const text = port.nmea.sentences.map((s) => `${nmeaSentence(s)}\r\n`).join("");
      this.timers.every(port.nmea.interval_ms, () => this.write(i, text));
    });
    this.updateNetwork();
  }

  /** Power loss: timers stop, volatile settings reset, the SIM locks again if it has a PIN. */
  powerOff(): void {
    this.running = false;
    this.hung = false;
    this.timers.clearAll();
    this.cancelRegistration = null;
    for (const p of this.atPorts) p?.reset();
    const s = this.state;
    s.settings = defaultSettings(this.profile);
    s.radio = 1;
    s.stat = 0;
    s.busy = 0;
    s.pendingAcks = 0;
    if (s.sim.status === "ready" && s.sim.pin !== null) s.sim.status = "locked";
  }

  /** Bytes from the client on port `port` (interface number). */
  input(port: number, data: Buffer): void {
    if (!this.running || this.hung) return;
    this.atPorts[port]?.input(data);
  }

  /** Stops answering anything (input dropped, nothing written) until unhang() or a power cycle. */
  hang(): void {
    this.hung = true;
  }

  unhang(): void {
    this.hung = false;
  }

  /** The port settings of the primary AT port (for state()). */
  primaryPort(): PortSettings {
    return this.atPorts[this.primaryIndex()]!;
  }

  // ---- PortHost ----

  execute(port: AtPort, line: string): Reply {
    this.log.debug(() => `» ${line}`, { port: port.index });
    this.emit("command", { port: port.index, line });
    return executeLine(line, { dev: this, port }, this.overrides);
  }

  write(port: number, text: string): void {
    if (!this.running || this.hung) return;
    this.log.trace(() => `« ${JSON.stringify(text)}`, { port });
    this.emit("output", port, Buffer.from(text, "latin1"));
  }

  isHung(): boolean {
    return this.hung;
  }

  extraDelayMs(): number {
    return this.answerDelayMs;
  }

  // ---- DeviceApi ----

  urc(line: string): void {
    if (!this.running || this.hung) return;
    this.atPorts[this.primaryIndex()]?.urc(line);
  }

  updateNetwork(): void {
    const s = this.state;
    const can = this.running && s.radio === 1 && s.sim.status === "ready" && s.settings.copsMode !== 2;
    if (!can) {
      this.cancelRegistration?.();
      this.cancelRegistration = null;
      this.setStat(0);
      return;
    }
    if (s.stat === 1 || s.stat === 5 || this.cancelRegistration) return;
    this.setStat(2);
    this.cancelRegistration = this.timers.after(this.profile.timing.register_ms, () => {
      this.cancelRegistration = null;
      this.setStat(1);
    });
  }

  simUnlocked(): void {
    this.sendTimed(this.profile.sim_urcs.unlocked ?? this.profile.sim_urcs.ready);
    this.updateNetwork();
  }

  requestReset(): void {
    this.emit("reset");
  }

  recordSent(sent: SentPdu): void {
    this.state.sent.push(sent);
    this.emit("sent", sent);
  }

  takeCmsError(): number | undefined {
    return this.cmsErrorQueue.shift();
  }

  templateValues(): TemplateValues {
    const { manufacturer, model, revision } = this.profile.identity;
    const s = this.state;
    return {
      imei: s.imei,
      imsi: s.sim.imsi,
      iccid: s.sim.iccid,
      manufacturer,
      model,
      revision,
      rssi: s.radio === 1 ? s.csq : 99,
      stat: s.stat,
      operator: NETWORK.long,
    };
  }

  resetSettings(port: PortSettings): void {
    this.state.settings = defaultSettings(this.profile);
    (port as AtPort).resetSettings();
  }

  private setStat(stat: number): void {
    if (this.state.stat === stat) return;
    this.state.stat = stat;
    for (const line of registrationUrcs(this.state, this.profile)) this.urc(line);
  }

  private sendTimed(lines: readonly TimedLine[]): void {
    for (const t of lines)
      this.timers.after(t.delay_ms, () => this.urc(fillTemplate(t.line, this.templateValues())));
  }

  private primaryIndex(): number {
    return this.profile.ports.findIndex((p) => p.kind === "at" && p.primary);
  }
}
