/**
 * Command dispatch of the simulated modem: one command line in, one {@link Reply} out.
 *
 *   line ─► parseAtLine ─► for each command:
 *             test override (on(pattern))  ─► its lines
 *             device busy (Wavecom 515)    ─► +CME ERROR: 515
 *             profile `replies` pattern    ─► fixed lines
 *             unsupported / foreign vendor ─► profile.unknown_reply
 *             built-in handler             ─► its reply
 *
 * Concatenated commands (`ATE0V1`, `AT+CSQ;+CREG?`) run in order; the intermediate OKs are dropped and
 * the first command that does not end in OK (or prompts, or waits) ends the line (V.250 §5.2.1).
 */
import { type AtCommand, matchPattern, parseAtLine } from "../atParse.js";
import { fillTemplate, VENDOR_COMMANDS } from "../profile.js";
import { BASIC_COMMANDS } from "./basic.js";
import { NETWORK_COMMANDS } from "./network.js";
import { cme, unknown } from "./replies.js";
import { SIM_COMMANDS } from "./simCard.js";
import { SMS_COMMANDS } from "./sms.js";
import { SMS_READ_COMMANDS } from "./smsRead.js";
import type { CommandContext, CommandHandler, Reply } from "./types.js";

export type { CommandContext, DeviceApi, PortSettings, Reply } from "./types.js";

/** Every built-in command by name. */
export const COMMANDS: Readonly<Record<string, CommandHandler>> = {
  ...BASIC_COMMANDS,
  ...SIM_COMMANDS,
  ...NETWORK_COMMANDS,
  ...SMS_COMMANDS,
  ...SMS_READ_COMMANDS,
};

/**
 * A test override: gets the command text (`AT+CMGS=23`) and the parsed command; returns the lines to
 * send (final result included, `[]` for silence) or null to fall back to the default behaviour.
 */
export type OverrideHandler = (line: string, cmd: AtCommand) => string[] | null;

export interface Override {
  pattern: string;
  handler: OverrideHandler;
}

function executeOne(cmd: AtCommand, ctx: CommandContext, overrides: readonly Override[]): Reply {
  const { profile, state } = ctx.dev;
  const text = `AT${cmd.text}`;
  for (let i = overrides.length - 1; i >= 0; i--) {
    const o = overrides[i]!;
    if (!matchPattern(o.pattern, text)) continue;
    const lines = o.handler(text, cmd);
    if (lines !== null) return { lines };
  }
  if (state.busy > 0) {
    state.busy--;
    return cme(ctx, 515);
  }
  for (const [pattern, lines] of Object.entries(profile.replies)) {
    if (matchPattern(pattern, text)) {
      const values = ctx.dev.templateValues();
      return { lines: lines.map((l) => fillTemplate(l, values)) };
    }
  }
  const foreign =
    (VENDOR_COMMANDS as readonly string[]).includes(cmd.name) && !profile.vendor_commands.includes(cmd.name);
  if (foreign || profile.unsupported_commands.includes(cmd.name)) return unknown(ctx);
  const handler = COMMANDS[cmd.name];
  return handler ? handler(cmd, ctx) : unknown(ctx);
}

/** Runs one command line (starting with `AT`, without the final `\r`). */
export function executeLine(line: string, ctx: CommandContext, overrides: readonly Override[] = []): Reply {
  const cmds = parseAtLine(line);
  if (cmds === null) {
    // A line that does not parse as a whole may still be one override's business (e.g. "AT+X;junk").
    for (let i = overrides.length - 1; i >= 0; i--) {
      const o = overrides[i]!;
      const lines = matchPattern(o.pattern, line)
        ? o.handler(line, { name: "", kind: "exec", args: [], text: line.slice(2) })
        : null;
      if (lines !== null) return { lines };
    }
    return unknown(ctx);
  }
  const info: string[] = [];
  for (let i = 0; i < cmds.length; i++) {
    const reply = executeOne(cmds[i]!, ctx, overrides);
    const last = i === cmds.length - 1;
    if (last || reply.prompt || reply.delayMs || reply.lines.at(-1) !== "OK") {
      return { ...reply, lines: [...info, ...reply.lines] };
    }
    info.push(...reply.lines.slice(0, -1));
    reply.after?.();
  }
  return { lines: [...info, "OK"] };
}
