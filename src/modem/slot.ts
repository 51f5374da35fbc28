/**
 * One modem slot: a configured (or discovered) modem's whole life, as one async loop.
 *
 *        ┌────────── port offered by the fleet ◄──────────────────────────────┐
 *        ▼                                                                     │
 *   absent ─► initializing ─► pin_required | no_sim | searching ⇄ ready       │
 *                  │                          │ probe fails N times / dead     │ port lost
 *                  │ fails                    ▼                                │
 *                  └──────────────────► recovering: reinit → radio_off_on → reset → power_cycle
 *                                             │ all failed
 *                                             ▼
 *                                          faulted ── backoff (doubling), then the ladder again
 *
 * Each ladder step is bounded by `supervisor.step_timeout_ms` and reported as a `modem_recovery` event.
 * Nothing here throws out of `run()`: a dead modem degrades its slot, never the process.
 */
import { AtChannel, type AtCommandOptions, type AtResponse, type Urc } from "../at/channel.js";
import type { ModemConfig, SupervisorConfig } from "../config/types.js";
import { errorText, isSiteError, SiteError } from "../core/errors.js";
import type { EventBus, ModemStateName, RecoveryStep } from "../core/events.js";
import type { Logger } from "../core/logger.js";
import type { GpioLine } from "../gpio/gpio.js";
import type { ModemRegistry } from "../storage/siteDb.js";
import type { SerialOpener } from "../transport/serial/serialTransport.js";
import { ModemDriver, type ModemIdentity, type RadioStatus, wrongModemError } from "./driver.js";
import { csqToBars, isRegistered, parseRegistration, REG_STAT_TEXT } from "./parsers.js";
import { type PortCandidate, pathExists } from "./ports.js";
import type { ModemProfile, ProfileSet } from "./profile.js";
import { Waker } from "./waker.js";

/** What the slot needs of the modem registry. */
export type ModemStore = Pick<ModemRegistry, "pinVerdict" | "recordPin" | "upsertSeen">;

export interface SlotDeps {
  id: string;
  config: ModemConfig;
  supervisor: SupervisorConfig;
  profiles: ProfileSet;
  opener: SerialOpener;
  power: GpioLine | undefined;
  store: ModemStore;
  bus: EventBus;
  logger: Logger;
  /** The slot gave its port up (lost, or a reset/power cycle will re-enumerate it). */
  releasePort: (slot: ModemSlot) => void;
}

export interface ModemSnapshot {
  id: string;
  state: ModemStateName;
  since: string;
  port: string | null;
  profile: string | null;
  imei: string | null;
  iccid: string | null;
  imsi: string | null;
  manufacturer: string | null;
  model: string | null;
  firmware: string | null;
  operator: string | null;
  signal: { csq: number; dbm: number | null; bars: number } | null;
  registration: { stat: number; text: string; lac: string | null; ci: string | null } | null;
  smsc: string | null;
  counters: Record<string, number>;
  last_error: string | null;
}

type Exit = "hang" | "lost" | "reset" | "reinit" | "stopped";

type LadderStep = Exclude<RecoveryStep, "faulted">;
const LADDER: readonly LadderStep[] = ["reinit", "radio_off_on", "reset", "power_cycle"];
/** A hang within this long of the last recovery starts the ladder one rung higher, ms. */
export const RECENT_RECOVERY_MS = 10 * 60_000;
/** After AT+CFUN=1,1: how long to wait for the old tty to disappear before taking offers, ms. */
const RESET_SETTLE_MS = 3000;

/** Resolves once `path` no longer exists, or after `ms`. */
async function waitGone(path: string, ms: number, signal: AbortSignal): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end && !signal.aborted) {
    if (!(await pathExists(path))) return;
    await new Promise((r) => setTimeout(r, 100));
  }
}

export class ModemSlot {
  state: ModemStateName = "absent";
  private since = new Date();
  port: PortCandidate | undefined;
  identity: ModemIdentity = {};
  imei: string | undefined;
  private sim: { imsi?: string; iccid?: string } = {};
  private smscNumber: string | undefined;
  private radio: RadioStatus = {};
  profile: ModemProfile | undefined;
  private channel: AtChannel | undefined;
  private driver: ModemDriver | undefined;
  private lastError: string | undefined;
  readonly counters: Record<string, number> = {
    recoveries: 0,
    power_cycles: 0,
    probe_failures: 0,
    at_timeouts: 0,
    reconnects: 0,
  };
  private stopped = false;
  private exitRequest: Exit | undefined;
  private readonly waker = new Waker();
  private readonly offers = new Waker();
  /** An operator asked for a power cycle (`modem/power_cycle`). */
  private powerCycleRequested = false;
  /** Woken only by stop(): ends a power-off hold early. */
  private readonly stopping = new Waker();
  private operatorStale = false;
  /** A SIM-change URC came: ask AT+CPIN? at once. */
  private simStale = false;
  private lastRecovery = { at: 0, step: -1 };
  /** True while a power cycle holds the line at 0 (a stop turns it back on). */
  private poweredOff = false;
  private loop: Promise<void> | undefined;

  constructor(private readonly d: SlotDeps) {
    this.imei = d.config.imei;
  }

  get id(): string {
    return this.d.id;
  }

  /** Starts the slot's loop (returns at once). */
  start(): void {
    this.loop ??= this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.stopping.wake();
    this.waker.wake();
    this.offers.wake();
    // Never leave a modem unpowered because the controller stopped in the middle of a power cycle.
    if (this.poweredOff) await this.d.power?.write(1).catch(() => {});
    await this.closeChannel();
    await this.loop;
  }

  /** The fleet found this slot's modem on `port`. Ignored while the slot has one or its power is cut. */
  offer(port: PortCandidate, identity: ModemIdentity): boolean {
    if (this.port || this.stopped || this.poweredOff) return false;
    this.port = port;
    if (identity.imei) this.imei ??= identity.imei;
    this.offers.wake();
    this.waker.wake();
    return true;
  }

  /** The fleet saw the port's device node disappear. */
  portVanished(): void {
    if (!this.port) return;
    this.d.logger.debug(`${this.port.path} is gone`);
    this.exitRequest ??= "lost";
    this.waker.wake();
    void this.closeChannel();
  }

  get wantsPort(): boolean {
    return !this.port && !this.stopped && !this.poweredOff;
  }

  /** This slot's configuration (the SMS layer reads `networks`, limits and `inbound_to`). */
  get config(): ModemConfig {
    return this.d.config;
  }

  /**
   * An AT command on the modem's open channel, queued behind the health probes (one command in flight
   * per port). The SMS layer's only way to the modem. Rejects with `at.closed` when no channel is open.
   */
  at(command: string, opts?: AtCommandOptions): Promise<AtResponse> {
    const drv = this.driver;
    if (!drv) return Promise.reject(new SiteError("at.closed", `modem ${this.id}: no open port`));
    return drv.command(command, opts);
  }

  /** Operator command: re-initialise now (`modem/restart`). */
  restart(): void {
    this.exitRequest = "reinit";
    this.waker.wake();
  }

  /** Operator command: power-cycle now (`modem/power_cycle`), whatever the state. */
  powerCycle(): void {
    this.powerCycleRequested = true;
    this.exitRequest = "hang";
    this.waker.wake();
    this.offers.wake();
  }

  snapshot(): ModemSnapshot {
    const csq = this.radio.csq;
    const reg = this.radio.creg;
    return {
      id: this.id,
      state: this.state,
      since: this.since.toISOString(),
      port: this.port?.path ?? null,
      profile: this.profile?.name ?? null,
      imei: this.imei ?? null,
      iccid: this.sim.iccid ?? null,
      imsi: this.sim.imsi ?? null,
      manufacturer: this.identity.manufacturer ?? null,
      model: this.identity.model ?? null,
      firmware: this.identity.firmware ?? null,
      operator: this.radio.operator?.name ?? null,
      signal: csq ? { csq: csq.rssi, dbm: csq.dbm, bars: csqToBars(csq.rssi) } : null,
      registration: reg
        ? {
            stat: reg.stat,
            text: REG_STAT_TEXT[reg.stat] ?? "unknown",
            lac: reg.lac ?? null,
            ci: reg.ci ?? null,
          }
        : null,
      smsc: this.smscNumber ?? null,
      counters: { ...this.counters },
      last_error: this.lastError ?? null,
    };
  }

  // ── lifecycle ─────────────────────────────────────────────────────────────────────────────

  private async run(): Promise<void> {
    // True when a recovery step has just brought the modem up: go straight to supervision.
    let up = false;
    while (!this.stopped) {
      try {
        if (!this.port) {
          up = false;
          await this.waitForPort();
          continue;
        }
        let exit: Exit;
        try {
          if (!up) await this.bringUp();
          up = false;
          exit = await this.supervise();
        } catch (err) {
          up = false;
          if (this.stopped) break;
          this.noteError(err);
          // A vanished port, or another modem answering on it, is not a hang: no ladder for it.
          exit = this.isGone(err) || isSiteError(err, "modem.unknown") ? "lost" : "hang";
        }
        if (exit === "lost") this.losePort(this.lastError ?? "the modem's port went away");
        else if (exit === "hang") up = await this.recover(this.lastError ?? "modem stopped answering");
        // "reset" / "reinit": loop and bring it up again
      } catch (err) {
        // Last line of defence: log, wait a little, go on.
        this.d.logger.error(`unexpected failure in modem slot: ${errorText(err)}`);
        await this.waker.sleep(1000);
      }
    }
    await this.closeChannel();
  }

  /**
   * `absent`: wait for the fleet to offer the port. With a power line, a modem that stays away for
   * `boot_wait_ms` is power-cycled (it may have crashed off the USB bus), and so is one an operator asks to.
   */
  private async waitForPort(): Promise<void> {
    this.setState("absent", this.lastError ?? "waiting for the modem's port");
    const power = this.d.power;
    if (!this.powerCycleRequested)
      await Waker.any([this.offers], power ? this.d.config.boot_wait_ms : undefined);
    if (this.port || this.stopped) return;
    if (power) await this.recover("the modem's port did not appear", ["power_cycle"]);
  }

  private isGone(err: unknown): boolean {
    return (
      isSiteError(err, "at.closed") || isSiteError(err, "serial.open") || isSiteError(err, "serial.write")
    );
  }

  private losePort(reason: string): void {
    this.lastError = reason;
    void this.closeChannel();
    if (this.port) {
      this.port = undefined;
      this.d.releasePort(this);
    }
  }

  private async openChannel(signal?: AbortSignal): Promise<ModemDriver> {
    await this.closeChannel();
    signal?.throwIfAborted();
    const port = this.port;
    if (!port) throw new SiteError("modem.unplugged", "no port");
    const conn = await this.d.opener({ path: port.path, baudRate: this.d.config.baud });
    if (signal?.aborted || this.stopped) {
      await conn.close().catch(() => {});
      throw new SiteError("at.closed", `${port.path}: step abandoned`);
    }
    const channel = new AtChannel({
      conn,
      logger: this.d.logger.child(`at:${port.path.split("/").pop()}`),
      urcs: this.d.profiles.urcRegistry(),
      extraErrors: this.d.profiles.allExtraErrors(),
      defaultTimeoutMs: this.d.supervisor.command_timeout_ms,
    });
    channel.onUrc((u) => this.onUrc(u));
    channel.onClose(({ disconnected }) => {
      if (disconnected && this.channel === channel) {
        this.d.logger.debug(`${port.path} disconnected`);
        this.exitRequest ??= "lost";
        this.waker.wake();
      }
    });
    channel.start();
    this.channel = channel;
    this.driver = new ModemDriver(channel, this.profile ?? this.d.profiles.generic, this.d.logger);
    this.counters.reconnects = (this.counters.reconnects ?? 0) + 1;
    return this.driver;
  }

  private async closeChannel(): Promise<void> {
    const ch = this.channel;
    this.channel = undefined;
    this.driver = undefined;
    if (ch) await ch.close().catch(() => {});
  }

  /** Opens the port and brings the modem as far towards `ready` as it can go. Throws on failure. */
  private async bringUp(signal?: AbortSignal): Promise<void> {
    this.exitRequest = undefined;
    // During the ladder the state stays "recovering" until the modem is up again.
    if (this.state !== "recovering") this.setState("initializing", "opening and initialising the modem");
    const drv = await this.openChannel(signal);
    if (!(await drv.sync(3, Math.min(2000, this.d.supervisor.command_timeout_ms)))) {
      throw new SiteError("at.timeout", `${this.port?.path}: the modem does not answer AT`);
    }
    signal?.throwIfAborted();
    await drv.runSteps(this.d.profiles.generic.init);
    const id = await drv.identify();
    if (this.imei && id.imei && id.imei !== this.imei)
      throw wrongModemError(this.port!.path, this.imei, id.imei);
    this.identity = id;
    this.imei ??= id.imei;
    const forced = this.d.config.profile !== "auto" ? this.d.profiles.get(this.d.config.profile) : undefined;
    this.profile = forced ?? this.d.profiles.select({ usbId: this.port?.usbId, ...id });
    drv.profile = this.profile;
    if (this.profile.name !== "generic") await drv.runSteps(this.profile.init);
    this.d.logger.info(`modem ${id.manufacturer ?? "?"} ${id.model ?? "?"} (profile ${this.profile.name})`, {
      imei: this.imei,
      firmware: id.firmware,
      port: this.port?.path,
    });
    // A stop between AT+CFUN=0 and =1 (or a person) can leave the radio off; the SIM may be off with it.
    if (await drv.ensureRadioOn()) this.d.logger.warn("the radio was off (AT+CFUN): turned it on");
    signal?.throwIfAborted();
    await this.bringUpSim(drv, signal);
  }

  private async bringUpSim(drv: ModemDriver, signal?: AbortSignal): Promise<void> {
    let sim = await drv.simStatus();
    for (let i = 0; (sim === "not_ready" || sim === "unknown") && i < 5; i++) {
      await this.waker.sleep(1000, true);
      signal?.throwIfAborted();
      sim = await drv.simStatus();
    }
    if (sim === "pin") {
      const unlocked = await this.unlock(drv);
      if (unlocked === "not_ready") {
        this.setState("no_sim", "the SIM took the PIN but is not ready yet");
        return;
      }
      sim = unlocked;
    }
    if (sim === "absent" || sim === "not_ready" || sim === "unknown") {
      this.setState("no_sim", sim === "absent" ? "no SIM card in the modem" : "the SIM does not answer");
      return;
    }
    if (sim !== "ready") {
      if (sim !== "pin") {
        const what =
          sim === "puk" || sim === "puk2" ? "its PUK" : sim === "ph_pin" ? "a phone-lock code" : "PIN2";
        this.setState("pin_required", `the SIM needs ${what}: enter it by hand`);
      }
      return;
    }
    signal?.throwIfAborted();
    this.sim = await drv.simIdentity();
    this.remember();
    await drv.runSteps(this.profile!.smsInit);
    this.smscNumber = (await drv.smsc()) ?? this.smscNumber;
    await drv.runSteps(this.profile!.registrationInit);
    signal?.throwIfAborted();
    this.applyRadio(await drv.pollRadio(true));
  }

  /**
   * Enters the configured PIN at most once per (IMEI, PIN), ever: three wrong PINs lock the SIM.
   * The attempt is recorded as rejected *before* the PIN is sent and upgraded to accepted only once the
   * SIM says READY, so an entry cut short (timeout, power cut, stop) never leads to a second one.
   */
  private async unlock(drv: ModemDriver): Promise<"ready" | "pin" | "not_ready"> {
    const pin = this.d.config.pin;
    const imei = this.imei ?? "unknown";
    if (!pin) {
      this.setState("pin_required", "the SIM asks for a PIN and none is configured (modems[].pin)");
      return "pin";
    }
    if (this.d.store.pinVerdict(imei, pin) === "rejected") {
      this.setState(
        "pin_required",
        "the configured PIN was rejected (or its entry was cut short) before: not retried; fix modems[].pin",
      );
      return "pin";
    }
    try {
      this.d.store.recordPin(imei, pin, this.sim.iccid, "rejected", Date.now());
    } catch (err) {
      this.setState(
        "pin_required",
        `cannot record the PIN attempt, so the PIN is not entered: ${errorText(err)}`,
      );
      return "pin";
    }
    const result = await drv.enterPin(pin);
    if (result === "rejected") {
      this.lastError = "the SIM rejected the configured PIN";
      this.setState("pin_required", "the SIM rejected the configured PIN: not retried; fix modems[].pin");
      return "pin";
    }
    for (let i = 0; i < 10; i++) {
      const s = await drv.simStatus();
      if (s === "ready") {
        try {
          this.d.store.recordPin(imei, pin, this.sim.iccid, "accepted", Date.now());
        } catch (err) {
          this.d.logger.warn(`cannot record the accepted PIN: ${errorText(err)}`);
        }
        return "ready";
      }
      if (s === "pin" || s === "puk") {
        this.lastError = "the SIM still asks for its PIN after the entry";
        this.setState("pin_required", "the SIM still asks for its PIN after the entry: treated as rejected");
        return "pin";
      }
      await this.waker.sleep(500, true);
    }
    return "not_ready";
  }

  private remember(): void {
    if (!this.imei || !this.port) return;
    try {
      this.d.store.upsertSeen({
        id: this.id,
        imei: this.imei,
        port: this.port.path,
        at: Date.now(),
        ...(this.sim.iccid ? { iccid: this.sim.iccid } : {}),
        ...(this.sim.imsi ? { imsi: this.sim.imsi } : {}),
        ...(this.identity.manufacturer ? { manufacturer: this.identity.manufacturer } : {}),
        ...(this.identity.model ? { model: this.identity.model } : {}),
        ...(this.identity.firmware ? { firmware: this.identity.firmware } : {}),
      });
    } catch (err) {
      this.d.logger.warn(`cannot record the modem in the database: ${errorText(err)}`);
    }
  }

  private applyRadio(radio: RadioStatus): void {
    const before = JSON.stringify(this.radio);
    const wasRegistered = this.radio.creg !== undefined && isRegistered(this.radio.creg.stat);
    this.radio = { ...this.radio, ...radio };
    // Newly registered: the operator name is worth asking for at the next probe, not ten probes later.
    if (!wasRegistered && this.radio.creg && isRegistered(this.radio.creg.stat) && !radio.operator?.name)
      this.operatorStale = true;
    if (JSON.stringify(this.radio) !== before) this.d.bus.emit("modem_info", { modem: this.id });
    const reg = this.radio.creg;
    if (!reg) return;
    if (isRegistered(reg.stat)) this.setState("ready", REG_STAT_TEXT[reg.stat] ?? "registered");
    else this.setState("searching", REG_STAT_TEXT[reg.stat] ?? "not registered");
  }

  /** Health probes until something needs the loop: a hang, a lost port, a reset, a stop. */
  private async supervise(): Promise<Exit> {
    let failures = 0;
    let probes = 0;
    const sup = this.d.supervisor;
    while (!this.stopped) {
      const wait = failures > 0 ? Math.min(sup.probe_interval_ms, 2000) : sup.probe_interval_ms;
      await this.waker.sleep(wait);
      if (this.stopped) return "stopped";
      const req = this.exitRequest;
      if (req) {
        this.exitRequest = undefined;
        return req;
      }
      const drv = this.driver;
      if (!drv) return "lost";
      try {
        if (this.simStale) {
          this.simStale = false;
          const sim = await drv.simStatus();
          if ((sim === "ready") !== (this.state === "ready" || this.state === "searching")) return "reinit";
        }
        if (this.state === "no_sim" || this.state === "pin_required") {
          const sim = await drv.simStatus();
          const canRetry = sim === "ready" || (sim === "pin" && this.state === "no_sim");
          if (canRetry) return "reinit";
        } else {
          const withOperator = probes % 10 === 0 || this.operatorStale;
          this.operatorStale = false;
          this.applyRadio(await drv.pollRadio(withOperator));
          const stuck = sup.searching_recovery_ms;
          if (this.state === "searching" && stuck > 0 && Date.now() - this.since.getTime() > stuck) {
            this.lastError = `not registered to any network for ${Math.round(stuck / 60_000)} min`;
            return "hang";
          }
        }
        probes++;
        failures = 0;
      } catch (err) {
        if (this.isGone(err)) return "lost";
        failures++;
        this.counters.probe_failures = (this.counters.probe_failures ?? 0) + 1;
        if (isSiteError(err, "at.timeout")) this.counters.at_timeouts = (this.counters.at_timeouts ?? 0) + 1;
        this.noteError(err);
        this.d.logger.warn(
          `health probe failed (${failures}/${sup.failures_before_recovery}): ${errorText(err)}`,
        );
        if (failures >= sup.failures_before_recovery) return "hang";
      }
    }
    return "stopped";
  }

  private onUrc(urc: Urc): void {
    const line = urc.line;
    const name = urc.spec?.name;
    if (name === "creg" && line.startsWith("+CREG:")) {
      const reg = parseRegistration(line, false);
      if (reg && (this.state === "ready" || this.state === "searching")) {
        this.radio.creg = { ...this.radio.creg, ...reg };
        this.applyRadio({});
      }
    } else if (
      this.profile?.simChangeUrcs.some((r) => r.test(line)) &&
      (this.state === "ready" || this.state === "searching" || this.state === "no_sim")
    ) {
      // Checked at once, not acted on blindly: boot chatter (Wavecom's +WIND: 1) reports a SIM that is fine.
      this.d.logger.info(`SIM change reported (${line}): checking the SIM`);
      this.simStale = true;
      this.waker.wake();
    } else if (
      this.profile?.resetUrcs.some((r) => r.test(line)) &&
      (this.state === "ready" || this.state === "searching")
    ) {
      this.d.logger.warn(`the modem restarted by itself (${line})`);
      this.exitRequest ??= "reset";
      this.waker.wake();
    }
    this.d.bus.emit("modem_urc", {
      modem: this.id,
      line,
      ...(urc.pdu !== undefined ? { extra: urc.pdu } : {}),
    });
  }

  // ── recovery ladder ───────────────────────────────────────────────────────────────────────

  /**
   * Runs the ladder until a step brings the modem up (true) or there is nothing left to do (false:
   * the port is gone, or the slot stops). A modem that hangs again within {@link RECENT_RECOVERY_MS} of
   * its last recovery starts one rung above the step that helped last time.
   */
  private async recover(reason: string, only?: readonly LadderStep[]): Promise<boolean> {
    const sup = this.d.supervisor;
    let round = 0;
    let steps: readonly LadderStep[];
    if (only) steps = only;
    else if (this.powerCycleRequested) steps = ["power_cycle"];
    else {
      const recent = Date.now() - this.lastRecovery.at < RECENT_RECOVERY_MS;
      steps = LADDER.slice(recent ? Math.min(this.lastRecovery.step + 1, LADDER.length - 1) : 0);
    }
    this.powerCycleRequested = false;
    while (!this.stopped) {
      this.setState("recovering", reason);
      for (const step of steps) {
        if (this.stopped) return false;
        const skip =
          step === "power_cycle" && !this.d.power
            ? "no power_gpio"
            : step !== "power_cycle" && !this.port
              ? "no port"
              : undefined;
        if (skip) {
          this.d.bus.emit("modem_recovery", { modem: this.id, step, result: "skipped", reason: skip });
          continue;
        }
        this.d.logger.warn(`recovery: ${step}`, { reason });
        try {
          await this.runBounded(step);
          this.counters.recoveries = (this.counters.recoveries ?? 0) + 1;
          this.lastRecovery = { at: Date.now(), step: LADDER.indexOf(step) };
          this.d.bus.emit("modem_recovery", { modem: this.id, step, result: "ok" });
          this.d.logger.info(`recovery: ${step} brought the modem back (${this.state})`);
          return true;
        } catch (err) {
          if (this.stopped) return false;
          this.noteError(err);
          this.d.bus.emit("modem_recovery", {
            modem: this.id,
            step,
            result: "failed",
            reason: errorText(err),
          });
          this.d.logger.warn(`recovery: ${step} failed: ${errorText(err)}`);
        }
      }
      const backoff = Math.min(sup.faulted_backoff_ms * 2 ** round, sup.faulted_backoff_max_ms);
      this.setState(
        "faulted",
        `recovery failed (${this.lastError ?? "unknown"}); next try in ${Math.round(backoff / 1000)} s`,
      );
      this.d.bus.emit("modem_recovery", {
        modem: this.id,
        step: "faulted",
        result: "failed",
        reason: this.lastError ?? "",
      });
      // The channel stays open while we wait: an unplug ends the wait at once (exit request "lost"),
      // and so do a replug (the port offered again) and an operator's command.
      await Waker.any([this.waker, this.offers], backoff);
      round++;
      if (this.stopped) return false;
      if (this.exitRequest === "lost") {
        this.exitRequest = undefined;
        this.losePort("the modem's port went away");
        return false;
      }
      if (this.port && !this.channel) return false; // offered again: the main loop brings it up
      if (this.powerCycleRequested) {
        this.powerCycleRequested = false;
        steps = ["power_cycle"];
        continue;
      }
      if (!this.port && !this.d.power) return false; // nothing left to try: wait for it as absent
      steps = this.port ? LADDER : ["power_cycle"];
    }
    return false;
  }

  /**
   * One step, bounded by `step_timeout_ms` (plus the boot wait and power-off hold for the steps that
   * have them). On timeout the step is abandoned for good: its signal aborts, the channel closes, and
   * whatever of it still runs stops at its next check instead of racing the next step for the port.
   */
  private async runBounded(step: LadderStep): Promise<void> {
    const c = this.d.config;
    const bound =
      this.d.supervisor.step_timeout_ms +
      (step === "reset" ? c.boot_wait_ms : step === "power_cycle" ? c.boot_wait_ms + c.power_off_ms : 0);
    const ac = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.runStep(step, ac.signal),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new SiteError("at.timeout", `${step} took longer than ${bound} ms`)),
            bound,
          );
        }),
      ]);
    } catch (err) {
      ac.abort();
      await this.closeChannel();
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }

  private async runStep(step: LadderStep, signal: AbortSignal): Promise<void> {
    switch (step) {
      case "reinit":
        await this.bringUp(signal);
        return;
      case "radio_off_on": {
        const drv = await this.openChannel(signal);
        if (!(await drv.sync(2, 1000))) throw new SiteError("at.timeout", "the modem does not answer AT");
        await drv.radioOffOn();
        await this.bringUp(signal);
        return;
      }
      case "reset": {
        const drv = await this.openChannel(signal);
        if (!(await drv.sync(2, 1000))) throw new SiteError("at.timeout", "the modem does not answer AT");
        await drv.reset();
        const path = this.port?.path;
        await this.closeChannel();
        this.releaseForReenumeration();
        // The reset takes a moment to drop the modem off USB: don't take the old tty back before that.
        if (path) await waitGone(path, RESET_SETTLE_MS, signal);
        await this.awaitReturn("reset", signal);
        await this.bringUp(signal);
        return;
      }
      case "power_cycle": {
        const power = this.d.power!;
        // No offers from here until the power is back: a discovery scan under way may still find the
        // old port (the modem has not dropped off USB yet) and hand it back just before it vanishes.
        this.poweredOff = true;
        await this.closeChannel();
        this.releaseForReenumeration();
        this.counters.power_cycles = (this.counters.power_cycles ?? 0) + 1;
        try {
          await power.write(0);
          // Not cut short by URCs or offers, only by a stop (which turns the line back on anyway).
          await Waker.any([this.stopping], this.d.config.power_off_ms);
        } finally {
          this.poweredOff = false;
          await power.write(1);
        }
        signal.throwIfAborted();
        await this.awaitReturn("power cycle", signal);
        await this.bringUp(signal);
        return;
      }
    }
  }

  private releaseForReenumeration(): void {
    if (this.port) {
      this.port = undefined;
      this.d.releasePort(this);
    }
  }

  /** After a reset or power cycle: wait for the fleet to find the modem again. */
  private async awaitReturn(what: string, signal: AbortSignal): Promise<void> {
    const deadline = Date.now() + this.d.config.boot_wait_ms;
    while (!this.port && !this.stopped) {
      signal.throwIfAborted();
      const left = deadline - Date.now();
      if (left <= 0)
        throw new SiteError(
          "modem.unplugged",
          `the modem did not come back within ${this.d.config.boot_wait_ms} ms after the ${what}`,
        );
      await Waker.any([this.offers], left);
    }
    signal.throwIfAborted();
  }

  // ── state ─────────────────────────────────────────────────────────────────────────────────

  private noteError(err: unknown): void {
    this.lastError = errorText(err);
  }

  private setState(state: ModemStateName, reason: string): void {
    if (state === this.state) return;
    const previous = this.state;
    this.state = state;
    this.since = new Date();
    this.d.logger.info(`${previous} → ${state}: ${reason}`);
    this.d.bus.emit("modem_state", { modem: this.id, state, previous, reason });
  }
}
