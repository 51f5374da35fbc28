/**
 * Reply builders shared by the command handlers: final results, `+CME ERROR` per AT+CMEE, `+CMS ERROR`,
 * and the SIM gate that answers what a real modem answers while the SIM is absent or locked.
 */
import type { CommandContext, Reply } from "./types.js";

/**
 * 27.007 §9.2 texts for AT+CMEE=2, spelled as ModemManager's `me_errors` table
 * (src/mm-error-helpers.c); 515 as python-gsmmodem quotes it for Wavecom.
 */
export const CME_TEXT: Readonly<Record<number, string>> = {
  3: "operation not allowed",
  4: "operation not supported",
  10: "SIM not inserted",
  11: "SIM PIN required",
  12: "SIM PUK required",
  13: "SIM failure",
  14: "SIM busy",
  16: "incorrect password",
  30: "no network service",
  100: "unknown",
  515: "Please wait, init or command processing in progress.",
};

export function ok(...info: string[]): Reply {
  return { lines: [...info, "OK"] };
}

export function error(): Reply {
  return { lines: ["ERROR"] };
}

/** `+CME ERROR: <n>` as AT+CMEE says: 0 → `ERROR`, 1 → numeric, 2 → text. */
export function cme(ctx: CommandContext, code: number): Reply {
  const mode = ctx.dev.state.settings.cmee;
  if (mode === 0) return error();
  if (mode === 2 && CME_TEXT[code] !== undefined) return { lines: [`+CME ERROR: ${CME_TEXT[code]}`] };
  return { lines: [`+CME ERROR: ${code}`] };
}

/** `+CMS ERROR: <n>` (27.005 §3.2.5). Always numeric: AT+CMEE governs +CME only. */
export function cms(code: number): Reply {
  return { lines: [`+CMS ERROR: ${code}`] };
}

/** The profile's answer to a command it does not know (`ERROR`, Huawei `COMMAND NOT SUPPORT`). */
export function unknown(ctx: CommandContext): Reply {
  return { lines: [ctx.dev.profile.unknown_reply] };
}

/**
 * Null when the SIM is ready; else the error for a command that needs it: absent 10 / 310,
 * PIN 11 / 311, PUK 12 / 316 (27.007 §9.2, 27.005 §3.2.5).
 */
export function simGate(ctx: CommandContext, family: "cme" | "cms"): Reply | null {
  const status = ctx.dev.state.sim.status;
  if (status === "ready") return null;
  const codes = { absent: [10, 310], locked: [11, 311], puk: [12, 316] } as const;
  const [cmeCode, cmsCode] = codes[status];
  return family === "cme" ? cme(ctx, cmeCode) : cms(cmsCode);
}
