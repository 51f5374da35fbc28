/**
 * V.250 basic commands (AT, ATE, ATV, ATZ, AT&F, ATI...) and 27.007 identification (+CGMI/+GMI,
 * +CGMM/+GMM, +CGMR/+GMR, +CGSN/+GSN), +CMEE and +CSCS.
 */
import { type AtCommand, intArg } from "../atParse.js";
import { fillTemplate } from "../profile.js";
import { error, ok } from "./replies.js";
import type { CommandContext, CommandHandler, Reply } from "./types.js";

/** A 0/1 basic flag such as `E` or `V`; `ATE` alone means `ATE0` (V.250 §6.2.4). */
function flag(cmd: AtCommand, set: (on: boolean) => void): Reply {
  if (cmd.kind === "read" || cmd.kind === "test") return error();
  const v = cmd.kind === "exec" ? 0 : intArg(cmd.args, 0);
  if (v !== 0 && v !== 1) return error();
  set(v === 1);
  return ok();
}

function identity(pick: (ctx: CommandContext) => string): CommandHandler {
  return (cmd, ctx) => {
    if (cmd.kind === "test") return ok();
    if (cmd.kind !== "exec") return error();
    return ok(pick(ctx));
  };
}

const manufacturer = identity((ctx) => ctx.dev.profile.identity.manufacturer);
const model = identity((ctx) => ctx.dev.profile.identity.model);
const revision = identity((ctx) => ctx.dev.profile.identity.revision);
const serial = identity((ctx) => ctx.dev.state.imei);

const reset: CommandHandler = (cmd, ctx) => {
  if (cmd.kind === "read" || cmd.kind === "test") return error();
  ctx.dev.resetSettings(ctx.port);
  return ok();
};

const cmee: CommandHandler = (cmd, ctx) => {
  const settings = ctx.dev.state.settings;
  if (cmd.kind === "read") return ok(`+CMEE: ${settings.cmee}`);
  if (cmd.kind === "test") return ok("+CMEE: (0-2)");
  const v = cmd.kind === "exec" ? 0 : intArg(cmd.args, 0);
  if (v !== 0 && v !== 1 && v !== 2) return error();
  settings.cmee = v;
  return ok();
};

const CHARSETS = ["GSM", "IRA", "UCS2"];

const cscs: CommandHandler = (cmd, ctx) => {
  const settings = ctx.dev.state.settings;
  if (cmd.kind === "read") return ok(`+CSCS: "${settings.cscs}"`);
  if (cmd.kind === "test") return ok(`+CSCS: (${CHARSETS.map((c) => `"${c}"`).join(",")})`);
  const v = cmd.args[0]?.toUpperCase();
  if (cmd.kind !== "set" || v === undefined || !CHARSETS.includes(v)) return error();
  settings.cscs = v;
  return ok();
};

/** Handlers by command name. */
export const BASIC_COMMANDS: Record<string, CommandHandler> = {
  "": () => ok(),
  E: (cmd, ctx) => flag(cmd, (on) => (ctx.port.echo = on)),
  V: (cmd, ctx) => flag(cmd, (on) => (ctx.port.verbose = on)),
  Q: (cmd) => flag(cmd, () => {}),
  Z: reset,
  "&F": reset,
  "&W": () => ok(),
  I: (cmd, ctx) => {
    if (cmd.kind === "read" || cmd.kind === "test") return error();
    const values = ctx.dev.templateValues();
    return ok(...ctx.dev.profile.identity.ati.map((line) => fillTemplate(line, values)));
  },
  "+CGMI": manufacturer,
  "+GMI": manufacturer,
  "+CGMM": model,
  "+GMM": model,
  "+CGMR": revision,
  "+GMR": revision,
  "+CGSN": serial,
  "+GSN": serial,
  "+CMEE": cmee,
  "+CSCS": cscs,
};
