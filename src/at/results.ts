/**
 * Final result codes and the +CME / +CMS error numbers, as pure functions over one line.
 *
 * The set follows ModemManager's v1 parser (mm-serial-parsers.c): OK, CONNECT, +CME ERROR (numeric and
 * text), +CMS ERROR, ERROR, `COMMAND NOT SUPPORT` (Huawei E1752/E3531 for unknown commands: a final
 * error, python-gsmmodem modem.py treats it the same), NO CARRIER, BUSY, NO ANSWER, NO DIALTONE and `NA`
 * (Samsung Z810). `TOO MANY PARAMETERS` is accepted as an error too: some Huawei firmwares send it.
 */
export type FinalResult =
  | { kind: "ok" }
  | { kind: "connect"; text: string }
  | { kind: "error"; text: string }
  | { kind: "cme"; code: number; text: string }
  | { kind: "cms"; code: number; text: string };

/** 3GPP TS 27.007 §9.2 mobile equipment errors (the ones a site meets). */
export const CME_ERRORS: Readonly<Record<number, string>> = {
  0: "phone failure",
  1: "no connection to phone",
  3: "operation not allowed",
  4: "operation not supported",
  5: "PH-SIM PIN required",
  10: "SIM not inserted",
  11: "SIM PIN required",
  12: "SIM PUK required",
  13: "SIM failure",
  14: "SIM busy",
  15: "SIM wrong",
  16: "incorrect password",
  17: "SIM PIN2 required",
  18: "SIM PUK2 required",
  20: "memory full",
  21: "invalid index",
  22: "not found",
  23: "memory failure",
  24: "text string too long",
  26: "dial string too long",
  27: "invalid characters in dial string",
  30: "no network service",
  31: "network timeout",
  32: "network not allowed - emergency calls only",
  100: "unknown",
  515: "device busy (please wait, init or command processing in progress)",
};

/** 3GPP TS 27.005 §3.2.5 message service failures, plus the TS 24.011 RP causes modems pass through. */
export const CMS_ERRORS: Readonly<Record<number, string>> = {
  1: "unassigned (unallocated) number",
  8: "operator determined barring",
  10: "call barred",
  21: "short message transfer rejected",
  27: "destination out of service",
  28: "unidentified subscriber",
  29: "facility rejected",
  30: "unknown subscriber",
  38: "network out of order",
  41: "temporary failure",
  42: "congestion",
  47: "resources unavailable, unspecified",
  50: "requested facility not subscribed",
  69: "requested facility not implemented",
  81: "invalid short message transfer reference value",
  95: "invalid message, unspecified",
  96: "invalid mandatory information",
  97: "message type non-existent or not implemented",
  98: "message not compatible with short message protocol state",
  99: "information element non-existent or not implemented",
  111: "protocol error, unspecified",
  127: "interworking, unspecified",
  300: "ME failure",
  301: "SMS service of ME reserved",
  302: "operation not allowed",
  303: "operation not supported",
  304: "invalid PDU mode parameter",
  305: "invalid text mode parameter",
  310: "SIM not inserted",
  311: "SIM PIN required",
  312: "PH-SIM PIN required",
  313: "SIM failure",
  314: "SIM busy",
  315: "SIM wrong",
  316: "SIM PUK required",
  317: "SIM PIN2 required",
  318: "SIM PUK2 required",
  320: "memory failure",
  321: "invalid memory index",
  322: "memory full",
  330: "SMSC address unknown",
  331: "no network service",
  332: "network timeout",
  340: "no +CNMA acknowledgement expected",
  500: "unknown error",
  512: "SMS sending failed (vendor)",
};

function normalise(text: string): string {
  return text.toLowerCase().replace(/[^a-z0-9]/g, "");
}

const CME_BY_TEXT = new Map(Object.entries(CME_ERRORS).map(([n, t]) => [normalise(t), Number(n)]));
const CMS_BY_TEXT = new Map(Object.entries(CMS_ERRORS).map(([n, t]) => [normalise(t), Number(n)]));

const PLAIN_ERRORS = new Set([
  "ERROR",
  "COMMAND NOT SUPPORT",
  "TOO MANY PARAMETERS",
  "NO CARRIER",
  "BUSY",
  "NO ANSWER",
  "NO DIALTONE",
  "NA",
]);

/**
 * Classifies one line: a final result, or `undefined` for an information line.
 * `+CME ERROR: SIM not inserted` (AT+CMEE=2 style) is mapped back to its number (10); an unknown text gets -1.
 */
export function classifyFinal(
  line: string,
  extraErrors: ReadonlySet<string> = new Set(),
): FinalResult | undefined {
  if (line === "OK") return { kind: "ok" };
  if (line.startsWith("CONNECT")) return { kind: "connect", text: line };
  const m = /^\+(CME|CMS) ERROR:\s*(.*)$/.exec(line);
  if (m) {
    const isCme = m[1] === "CME";
    const raw = (m[2] ?? "").trim();
    const table = isCme ? CME_ERRORS : CMS_ERRORS;
    let code: number;
    if (/^\d+$/.test(raw)) code = Number(raw);
    else code = (isCme ? CME_BY_TEXT : CMS_BY_TEXT).get(normalise(raw)) ?? -1;
    const text = table[code] ?? (raw.length > 0 && !/^\d+$/.test(raw) ? raw : "unknown error");
    return { kind: isCme ? "cme" : "cms", code, text };
  }
  if (PLAIN_ERRORS.has(line) || extraErrors.has(line)) return { kind: "error", text: line };
  return undefined;
}
