/**
 * What a command handler of the simulated modem sees and returns. Handlers are synchronous and do no
 * I/O: they read/mutate the modem state and return a {@link Reply}; the port frames and writes it.
 */
import type { AtCommand } from "../atParse.js";
import type { ModemState, SentPdu } from "../modemState.js";
import type { DeviceProfile, TemplateValues } from "../profile.js";

/** A command's answer. */
export interface Reply {
  /** Information and final result lines, in order, unframed (`"+CSQ: 18,99"`, `"OK"`). */
  lines: string[];
  /** Nominal delay before the lines are sent, ms (scaled by timeScale). */
  delayMs?: number;
  /** Sends `\r\n> ` after the lines and reads text up to Ctrl-Z (0x1A); ESC (0x1B) cancels silently. */
  prompt?: (body: string) => Reply;
  /** Runs once the lines are written (e.g. the reset after `AT+CFUN=1,1` answered OK). */
  after?: () => void;
}

/** Settings of one AT port (V.250: echo and verbose are per interface). */
export interface PortSettings {
  readonly index: number;
  echo: boolean;
  verbose: boolean;
}

/** The device services handlers may use. */
export interface DeviceApi {
  readonly profile: DeviceProfile;
  readonly state: ModemState;
  /** Sends an unsolicited line on the primary AT port. */
  urc(line: string): void;
  /** Re-evaluates registration after a radio, SIM or COPS change (URCs per AT+CREG=n). */
  updateNetwork(): void;
  /** A PIN/PUK was accepted: sends the profile's `sim_urcs.ready`, then registers. */
  simUnlocked(): void;
  /** `AT+CFUN=1,1`: re-enumerate (links vanish for reset_ms) and boot again. */
  requestReset(): void;
  /** Records a PDU the network accepted. */
  recordSent(sent: SentPdu): void;
  /** The next injected `+CMS ERROR` code for AT+CMGS, if any (consumes it). */
  takeCmsError(): number | undefined;
  /** Placeholder values for template lines. */
  templateValues(): TemplateValues;
  /** ATZ / AT&F: volatile settings back to the profile's defaults. */
  resetSettings(port: PortSettings): void;
}

export interface CommandContext {
  dev: DeviceApi;
  port: PortSettings;
}

export type CommandHandler = (cmd: AtCommand, ctx: CommandContext) => Reply;
