/**
 * SMS settings and sending (3GPP TS 27.005, PDU mode): +CMGF, +CSCA, +CSMP, +CNMI, +CPMS, +CSMS,
 * +CNMA and +CMGS.
 *
 *   AT+CMGS=<len>\r ──► \r\n> ──► <hex PDU> Ctrl-Z ──► checks ──► cmgs_ms later: +CMGS: <mr> / OK
 *                                          ESC ──► silence (27.005 §3.5.1: sending cancelled)
 *
 * Text mode (AT+CMGF=1) is accepted as a setting, but the SMS commands then answer +CMS ERROR: 303.
 */
import { intArg } from "../atParse.js";
import { checkSubmitPdu } from "../pdu.js";
import { cms, error, ok, simGate } from "./replies.js";
import type { CommandContext, CommandHandler, Reply } from "./types.js";

/** Highest AT+CMGS <length>: an SMS-SUBMIT TPDU is at most 164 octets (TS 23.040 §9.2.2.2). */
const MAX_TPDU = 164;

const cmgf: CommandHandler = (cmd, ctx) => {
  const s = ctx.dev.state.settings;
  if (cmd.kind === "read") return ok(`+CMGF: ${s.cmgf}`);
  if (cmd.kind === "test") return ok("+CMGF: (0,1)");
  const v = cmd.kind === "exec" ? 0 : intArg(cmd.args, 0);
  if (v !== 0 && v !== 1) return error();
  s.cmgf = v;
  return ok();
};

const csca: CommandHandler = (cmd, ctx) => {
  const gate = simGate(ctx, "cms");
  if (cmd.kind === "test") return ok();
  if (gate) return gate;
  const sim = ctx.dev.state.sim;
  if (cmd.kind === "read") return ok(`+CSCA: "${sim.smsc}",${sim.smsc.startsWith("+") ? 145 : 129}`);
  if (cmd.kind !== "set" || cmd.args[0] === undefined) return error();
  sim.smsc = cmd.args[0];
  return ok();
};

const csmp: CommandHandler = (cmd, ctx) => {
  const { state, profile } = ctx.dev;
  if (cmd.kind === "read") return ok(`+CSMP: ${state.settings.csmp.join(",")}`);
  if (cmd.kind === "test") return ok();
  if (cmd.kind !== "set") return error();
  const values = cmd.args.map((_, i) => intArg(cmd.args, i) ?? 0);
  if (values.some((v) => Number.isNaN(v) || v > 255)) return error();
  state.settings.csmp = values;
  // ZTE/Qualcomm firmware: "AT+CSMP= clears the SMSC" (python-gsmmodem fakemodems.py, QualcommM6280 and
  // ZteK3565Z: `if cmd.startswith('AT+CSMP='): self.smscNumber = None`, issue #8 on github).
  if (profile.quirks.csmp_clears_smsc) state.sim.smsc = "";
  return ok();
};

/** Allowed values of each AT+CNMI parameter (27.005 §3.4.1). */
const CNMI_RANGES = [3, 3, 3, 2, 1];

const cnmi: CommandHandler = (cmd, ctx) => {
  const s = ctx.dev.state.settings;
  if (cmd.kind === "read") return ok(`+CNMI: ${s.cnmi.join(",")}`);
  if (cmd.kind === "test") return ok("+CNMI: (0-3),(0-3),(0,2),(0-2),(0,1)");
  if (cmd.kind !== "set" || cmd.args.length > 5) return error();
  const next = [...s.cnmi];
  for (let i = 0; i < cmd.args.length; i++) {
    const v = intArg(cmd.args, i);
    if (v === undefined) continue;
    if (Number.isNaN(v) || v > CNMI_RANGES[i]!) return error();
    next[i] = v;
  }
  s.cnmi = next;
  return ok();
};

const cpms: CommandHandler = (cmd, ctx) => {
  const { storage, settings } = ctx.dev.state;
  const mems = storage.memories();
  if (cmd.kind === "test") {
    const group = `(${mems.map((m) => `"${m}"`).join(",")})`;
    return ok(`+CPMS: ${group},${group},${group}`);
  }
  const gate = simGate(ctx, "cms");
  if (gate) return gate;
  const counts = (m: string) => `${storage.used(m)},${storage.capacity(m)}`;
  if (cmd.kind === "read") return ok(`+CPMS: ${settings.cpms.map((m) => `"${m}",${counts(m)}`).join(",")}`);
  if (cmd.kind !== "set" || cmd.args.length === 0 || cmd.args.length > 3) return error();
  const wanted = cmd.args.map((a) => a.toUpperCase());
  if (!wanted.every((m) => storage.has(m))) return cms(302);
  const next: [string, string, string] = [...settings.cpms];
  for (const [i, m] of wanted.entries()) next[i] = m;
  settings.cpms = next;
  return ok(`+CPMS: ${next.map(counts).join(",")}`);
};

const csms: CommandHandler = (cmd) => {
  if (cmd.kind === "read") return ok("+CSMS: 0,1,1,1");
  if (cmd.kind === "test") return ok("+CSMS: (0,1)");
  const v = intArg(cmd.args, 0);
  return cmd.kind === "set" && (v === 0 || v === 1) ? ok("+CSMS: 1,1,1") : error();
};

const cnma: CommandHandler = (cmd, ctx) => {
  const state = ctx.dev.state;
  if (cmd.kind === "test") return ok("+CNMA: (0-2)");
  if (state.pendingAcks === 0) return cms(340);
  state.pendingAcks--;
  return ok();
};

/** The PDU typed after the prompt: checks it, then answers after cmgs_ms like a real network round trip. */
function submit(ctx: CommandContext, body: string, length: number): Reply {
  const { state, profile } = ctx.dev;
  const check = checkSubmitPdu(body, length);
  if (!check.ok) return cms(304);
  if (check.smscOctets === 0 && state.sim.smsc === "") return cms(330);
  if (state.radio !== 1 || !(state.stat === 1 || state.stat === 5)) return cms(331);
  const delayMs = profile.timing.cmgs_ms;
  const injected = ctx.dev.takeCmsError();
  if (injected !== undefined) return { ...cms(injected), delayMs };
  const mr = state.mr;
  state.mr = (state.mr + 1) % 256;
  return {
    ...ok(`+CMGS: ${mr}`),
    delayMs,
    after: () => ctx.dev.recordSent({ pdu: check.hex, mr, at: Date.now(), length }),
  };
}

const cmgs: CommandHandler = (cmd, ctx) => {
  if (cmd.kind === "test") return ok();
  if (cmd.kind !== "set") return error();
  const gate = simGate(ctx, "cms");
  if (gate) return gate;
  if (ctx.dev.state.settings.cmgf !== 0) return cms(303);
  const length = intArg(cmd.args, 0);
  if (length === undefined || Number.isNaN(length) || length < 1 || length > MAX_TPDU) return cms(304);
  return { lines: [], prompt: (body) => submit(ctx, body, length) };
};

export const SMS_COMMANDS: Record<string, CommandHandler> = {
  "+CMGF": cmgf,
  "+CSCA": csca,
  "+CSMP": csmp,
  "+CNMI": cnmi,
  "+CPMS": cpms,
  "+CSMS": csms,
  "+CNMA": cnma,
  "+CMGS": cmgs,
};
