/**
 * Radio and network: +CFUN (with the `=1,1` reset), +CREG/+CGREG/+CEREG (27.007 §7.2, §10.1.19,
 * §10.1.22), +CSQ and +COPS. Registration itself runs in the device (`updateNetwork`).
 */
import { type AtCommand, intArg } from "../atParse.js";
import { type ModemState, NETWORK } from "../modemState.js";
import type { DeviceProfile } from "../profile.js";
import { error, ok, simGate } from "./replies.js";
import type { CommandHandler, Reply } from "./types.js";

/** The three registration commands and the setting that holds each one's <n>. */
export const REG_COMMANDS = [
  ["+CREG", "creg"],
  ["+CGREG", "cgreg"],
  ["+CEREG", "cereg"],
] as const;

function registered(stat: number): boolean {
  return stat === 1 || stat === 5;
}

/** `<stat>[,"<lac>","<ci>"[,<AcT>]]`: location only for n=2 while registered. */
function regFields(state: ModemState, profile: DeviceProfile, n: number): string {
  if (n < 2 || !registered(state.stat)) return String(state.stat);
  const act = profile.network.act === null ? "" : `,${profile.network.act}`;
  return `${state.stat},"${NETWORK.lac}","${NETWORK.ci}"${act}`;
}

/**
 * The unsolicited registration lines for the current state, one per command whose <n> is 1 or 2 and
 * that the profile supports, e.g. `+CREG: 1` or `+CREG: 1,"00C3","0A1B2C"`.
 */
export function registrationUrcs(state: ModemState, profile: DeviceProfile): string[] {
  const out: string[] = [];
  for (const [name, key] of REG_COMMANDS) {
    const n = state.settings[key];
    if (n > 0 && !profile.unsupported_commands.includes(name))
      out.push(`${name}: ${regFields(state, profile, n)}`);
  }
  return out;
}

function regCommand(name: string, key: "creg" | "cgreg" | "cereg"): CommandHandler {
  return (cmd, ctx) => {
    const { state, profile } = ctx.dev;
    if (cmd.kind === "test") return ok(`${name}: (0-2)`);
    if (cmd.kind === "read")
      return ok(`${name}: ${state.settings[key]},${regFields(state, profile, state.settings[key])}`);
    const n = cmd.kind === "exec" ? 0 : intArg(cmd.args, 0);
    if (n !== 0 && n !== 1 && n !== 2) return error();
    state.settings[key] = n;
    return ok();
  };
}

const cfun: CommandHandler = (cmd, ctx) => {
  const { state, profile } = ctx.dev;
  if (cmd.kind === "read") return ok(`+CFUN: ${state.radio}`);
  if (cmd.kind === "test") return ok("+CFUN: (0,1,4),(0-1)");
  const fun = intArg(cmd.args, 0);
  const rst = intArg(cmd.args, 1) ?? 0;
  if (cmd.kind !== "set" || (fun !== 0 && fun !== 1 && fun !== 4) || (rst !== 0 && rst !== 1)) return error();
  if (rst === 1) return { ...ok(), after: () => ctx.dev.requestReset() };
  state.radio = fun;
  // Wavecom: the commands right after AT+CFUN=1 answer +CME ERROR: 515 (python-gsmmodem fakemodems.py,
  // WavecomMultiband900E1800: "This modem takes quite a while to recover from this").
  if (fun === 1) state.busy = profile.quirks.busy_after_cfun1;
  return { ...ok(), after: () => ctx.dev.updateNetwork() };
};

const csq: CommandHandler = (cmd, ctx) => {
  const { state } = ctx.dev;
  if (cmd.kind === "test") return ok("+CSQ: (0-31,99),(0-7,99)");
  if (cmd.kind !== "exec") return error();
  const rssi = state.radio === 1 ? state.csq : 99;
  return ok(`+CSQ: ${rssi},99`);
};

function operatorName(format: number): string {
  return format === 2 ? NETWORK.numeric : format === 1 ? NETWORK.short : NETWORK.long;
}

function copsSet(cmd: AtCommand, state: ModemState): Reply {
  const mode = intArg(cmd.args, 0);
  const format = intArg(cmd.args, 1);
  if (mode === undefined || Number.isNaN(mode) || mode > 4) return error();
  if (format !== undefined && !(format >= 0 && format <= 2)) return error();
  if (format !== undefined) state.settings.copsFormat = format;
  if (mode === 3) return ok();
  if (mode === 1 || mode === 4) {
    const oper = cmd.args[2];
    const known: string[] = [NETWORK.long, NETWORK.short, NETWORK.numeric];
    if (oper === undefined || !known.includes(oper)) return mode === 4 ? ok() : { lines: ["+CME ERROR: 32"] };
  }
  state.settings.copsMode = mode === 4 ? 0 : mode;
  return ok();
}

const cops: CommandHandler = (cmd, ctx) => {
  const { state, profile } = ctx.dev;
  const act = profile.network.act === null ? "" : `,${profile.network.act}`;
  if (cmd.kind === "read") {
    const s = state.settings;
    if (!registered(state.stat)) return ok(`+COPS: ${s.copsMode}`);
    return ok(`+COPS: ${s.copsMode},${s.copsFormat},"${operatorName(s.copsFormat)}"${act}`);
  }
  if (cmd.kind === "test") {
    const gate = simGate(ctx, "cme");
    if (gate) return gate;
    return ok(`+COPS: (2,"${NETWORK.long}","${NETWORK.short}","${NETWORK.numeric}"${act}),,(0-4),(0-2)`);
  }
  if (cmd.kind !== "set") return error();
  const reply = copsSet(cmd, state);
  return reply.lines.at(-1) === "OK" ? { ...reply, after: () => ctx.dev.updateNetwork() } : reply;
};

export const NETWORK_COMMANDS: Record<string, CommandHandler> = {
  "+CFUN": cfun,
  "+CSQ": csq,
  "+COPS": cops,
  ...Object.fromEntries(REG_COMMANDS.map(([name, key]) => [name, regCommand(name, key)])),
};
