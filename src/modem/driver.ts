/**
 * The modem driver: what to say to a modem, over an {@link AtChannel}, shaped by its quirk profile.
 * Stateless beyond the profile: the slot (slot.ts) owns the lifecycle and decides what to do with answers.
 */
import type { AtChannel, AtCommandOptions, AtResponse } from "../at/channel.js";
import { errorText, isSiteError, SiteError } from "../core/errors.js";
import type { Logger } from "../core/logger.js";
import {
  type Csq,
  type Operator,
  parseCops,
  parseCpin,
  parseCsca,
  parseCsq,
  parseIccid,
  parseIdentityLine,
  parseImei,
  parseImsi,
  parseRegistration,
  type Registration,
  type SimStatus,
} from "./parsers.js";
import type { CommandStep, ModemProfile } from "./profile.js";

export interface ModemIdentity {
  manufacturer?: string;
  model?: string;
  firmware?: string;
  imei?: string;
}

export interface RadioStatus {
  csq?: Csq;
  creg?: Registration;
  cgreg?: Registration;
  operator?: Operator;
}

export class ModemDriver {
  constructor(
    private readonly channel: AtChannel,
    public profile: ModemProfile,
    private readonly logger: Logger,
  ) {}

  /** Sends a command, asking again while the modem says it is busy (+CME ERROR 14 / 515). */
  async command(command: string, opts: AtCommandOptions = {}): Promise<AtResponse> {
    const o = opts;
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.channel.send(command, o);
      } catch (err) {
        // Never for a command with a payload: once the PDU was typed, asking again could send it twice.
        const busy =
          o.payload === undefined &&
          isSiteError(err, "at.cme") &&
          this.profile.busyErrors.includes(Number(err.detail.number ?? -1));
        if (!busy || attempt >= this.profile.busyRetries) throw err;
        this.logger.debug(
          `${command}: modem busy (${errorText(err)}), asking again in ${this.profile.busyRetryMs} ms`,
        );
        await new Promise((r) => setTimeout(r, this.profile.busyRetryMs));
      }
    }
  }

  /**
   * Gets the modem's attention: ESC (leaves a PDU prompt left over from a crash mid-`AT+CMGS`), then
   * `AT` until it answers OK. Returns false when it never does.
   */
  async sync(attempts = 3, timeoutMs = 1000): Promise<boolean> {
    await this.channel.writeRaw("\x1b").catch(() => {});
    for (let i = 0; i < attempts; i++) {
      try {
        await this.channel.send("AT", { timeoutMs, prefix: null });
        return true;
      } catch (err) {
        if (isSiteError(err, "at.closed")) throw err;
        this.logger.debug(`sync attempt ${i + 1}/${attempts} failed: ${errorText(err)}`);
      }
    }
    return false;
  }

  /** Runs command steps; a required step that fails (after its fallback) throws. Returns the failures. */
  async runSteps(steps: readonly CommandStep[]): Promise<string[]> {
    const failed: string[] = [];
    for (const step of steps) {
      try {
        await this.command(step.command);
      } catch (err) {
        if (isSiteError(err, "at.closed") || isSiteError(err, "at.timeout")) throw err;
        if (step.fallback) {
          try {
            await this.command(step.fallback);
            continue;
          } catch (err2) {
            if (isSiteError(err2, "at.closed") || isSiteError(err2, "at.timeout")) throw err2;
          }
        }
        if (step.required) throw err;
        failed.push(`${step.command}: ${errorText(err)}`);
        this.logger.debug(`optional ${step.command} refused: ${errorText(err)}`);
      }
    }
    return failed;
  }

  async identify(): Promise<ModemIdentity> {
    const id: ModemIdentity = {};
    const ask = async (cmd: string, prefix: string): Promise<string | undefined> => {
      try {
        return parseIdentityLine((await this.command(cmd, { prefix: null })).lines, prefix);
      } catch (err) {
        if (isSiteError(err, "at.closed") || isSiteError(err, "at.timeout")) throw err;
        return undefined;
      }
    };
    const manufacturer = await ask("AT+CGMI", "+CGMI:");
    const model = await ask("AT+CGMM", "+CGMM:");
    const firmware = await ask("AT+CGMR", "+CGMR:");
    if (manufacturer) id.manufacturer = manufacturer;
    if (model) id.model = model;
    if (firmware) id.firmware = firmware;
    for (const cmd of ["AT+CGSN", "AT+GSN"]) {
      try {
        const imei = parseImei((await this.command(cmd, { prefix: null })).lines);
        if (imei) {
          id.imei = imei;
          break;
        }
      } catch (err) {
        if (isSiteError(err, "at.closed") || isSiteError(err, "at.timeout")) throw err;
      }
    }
    return id;
  }

  /** `AT+CPIN?`; a missing SIM (+CME ERROR 10, or 13 SIM failure) is `absent`, not an error. */
  async simStatus(): Promise<SimStatus> {
    try {
      const r = await this.command("AT+CPIN?", { completeOnPrefix: this.profile.cpinNoFinalOk });
      return parseCpin(r.lines) ?? "unknown";
    } catch (err) {
      if (isSiteError(err, "at.cme")) {
        const n = Number(err.detail.number);
        if (n === 10 || n === 13 || n === 15) return "absent";
        if (n === 11) return "pin";
        if (n === 12) return "puk";
        if (n === 14) return "not_ready";
      }
      throw err;
    }
  }

  /** Enters the PIN once. `rejected` on +CME ERROR 16 (incorrect password) or 12 (now PUK-locked). */
  async enterPin(pin: string): Promise<"accepted" | "rejected"> {
    try {
      await this.command(`AT+CPIN="${pin}"`, { timeoutMs: 10_000, prefix: null });
      return "accepted";
    } catch (err) {
      if (isSiteError(err, "at.cme") || isSiteError(err, "at.error")) return "rejected";
      throw err;
    }
  }

  async simIdentity(): Promise<{ imsi?: string; iccid?: string }> {
    const out: { imsi?: string; iccid?: string } = {};
    try {
      const imsi = parseImsi((await this.command("AT+CIMI", { prefix: null })).lines);
      if (imsi) out.imsi = imsi;
    } catch (err) {
      if (isSiteError(err, "at.closed") || isSiteError(err, "at.timeout")) throw err;
    }
    for (const cmd of this.profile.iccidCommands) {
      try {
        const iccid = parseIccid((await this.command(cmd, { prefix: null })).lines);
        if (iccid) {
          out.iccid = iccid;
          break;
        }
      } catch (err) {
        if (isSiteError(err, "at.closed") || isSiteError(err, "at.timeout")) throw err;
      }
    }
    return out;
  }

  async smsc(): Promise<string | undefined> {
    try {
      return parseCsca((await this.command("AT+CSCA?")).lines);
    } catch (err) {
      if (isSiteError(err, "at.closed") || isSiteError(err, "at.timeout")) throw err;
      return undefined;
    }
  }

  async pollRadio(withOperator: boolean): Promise<RadioStatus> {
    const status: RadioStatus = {};
    const csq = parseCsq((await this.command("AT+CSQ")).lines);
    if (csq) status.csq = csq;
    const creg = (await this.command("AT+CREG?")).lines.map((l) => parseRegistration(l, true)).find((r) => r);
    if (creg) status.creg = creg;
    if (withOperator) {
      try {
        const op = parseCops(
          (await this.command("AT+COPS?", { timeoutMs: this.profile.timeouts.cops_query })).lines,
        );
        if (op) status.operator = op;
      } catch (err) {
        if (isSiteError(err, "at.closed") || isSiteError(err, "at.timeout")) throw err;
      }
    }
    return status;
  }

  /** Turns the radio on if `AT+CFUN?` says it is off; true when it had to. Modems without CFUN? are fine. */
  async ensureRadioOn(): Promise<boolean> {
    let fun: number | undefined;
    try {
      const m = /^\+CFUN:\s*(\d+)/.exec(
        (await this.command("AT+CFUN?")).lines.find((l) => l.startsWith("+CFUN:")) ?? "",
      );
      fun = m ? Number(m[1]) : undefined;
    } catch (err) {
      if (isSiteError(err, "at.closed") || isSiteError(err, "at.timeout")) throw err;
      return false;
    }
    if (fun === undefined || fun === 1) return false;
    await this.command("AT+CFUN=1", { timeoutMs: this.profile.timeouts.cfun, prefix: null });
    return true;
  }

  async radioOffOn(): Promise<void> {
    await this.command("AT+CFUN=0", { timeoutMs: this.profile.timeouts.cfun, prefix: null });
    await this.command("AT+CFUN=1", { timeoutMs: this.profile.timeouts.cfun, prefix: null });
  }

  /** `AT+CFUN=1,1`: full reset; the modem drops off USB and comes back. */
  async reset(): Promise<void> {
    await this.command("AT+CFUN=1,1", { timeoutMs: this.profile.timeouts.cfun, prefix: null });
  }
}

/** A typed error for a modem whose IMEI is not the one its slot is bound to. */
export function wrongModemError(path: string, expected: string, got: string | undefined): SiteError {
  return new SiteError("modem.unknown", `${path} answers as IMEI ${got ?? "unknown"}, expected ${expected}`);
}
