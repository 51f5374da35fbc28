/**
 * Pure parsing of AT command lines as a modem receives them (ITU-T V.250 §5.1-5.4, 3GPP TS 27.007 §4).
 *
 *   "AT+CMGS=23"        → [{ name: "+CMGS", kind: "set",  args: ["23"] }]
 *   "ATE0V1"            → [{ name: "E", kind: "set", args: ["0"] }, { name: "V", kind: "set", args: ["1"] }]
 *   "AT+CSQ;+CREG?"     → [{ name: "+CSQ", kind: "exec" }, { name: "+CREG", kind: "read" }]
 *
 * No I/O; the device feeds it whole lines (without the terminating `\r`).
 */

/** exec `AT+CSQ`, read `AT+CPIN?`, test `AT+CMGS=?`, set `AT+CMGS=23` (basic: `ATE0`). */
export type AtCommandKind = "exec" | "read" | "test" | "set";

/** One command of a command line. */
export interface AtCommand {
  /** Upper-case name with its prefix: `+CMGS`, `^ICCID`, `E`, `&F`, `S0`; `""` for a bare `AT`. */
  name: string;
  kind: AtCommandKind;
  /** Set arguments, unquoted (`AT+CPIN="1234"` → `["1234"]`); empty ones kept as `""`. */
  args: string[];
  /** The command's own text without `AT` (`+CMGS=23`), as received. */
  text: string;
}

const EXTENDED_PREFIX = /[+^$#!%*]/;

/**
 * Splits a parameter list on commas outside double quotes and unquotes each value.
 * Returns null for an unterminated quote.
 */
export function splitArgs(params: string): string[] | null {
  const out: string[] = [];
  let current = "";
  let quoted = false;
  let wasQuoted = false;
  for (const ch of params) {
    if (ch === '"') {
      quoted = !quoted;
      wasQuoted = true;
    } else if (ch === "," && !quoted) {
      out.push(wasQuoted ? current : current.trim());
      current = "";
      wasQuoted = false;
    } else if (quoted || ch !== " " || current.length > 0) {
      current += ch;
    }
  }
  if (quoted) return null;
  out.push(wasQuoted ? current : current.trim());
  return out;
}

/** Index of the end of an extended command's parameters: the first `;` outside quotes, else the end. */
function paramsEnd(body: string, from: number): number {
  let quoted = false;
  for (let i = from; i < body.length; i++) {
    const ch = body[i];
    if (ch === '"') quoted = !quoted;
    else if (ch === ";" && !quoted) return i;
  }
  return body.length;
}

function extendedSuffix(name: string, rest: string, text: string): AtCommand | null {
  if (rest === "") return { name, kind: "exec", args: [], text };
  if (rest === "?") return { name, kind: "read", args: [], text };
  if (rest === "=?") return { name, kind: "test", args: [], text };
  if (!rest.startsWith("=")) return null;
  const args = splitArgs(rest.slice(1));
  return args === null ? null : { name, kind: "set", args, text };
}

/**
 * Parses a whole command line (with its `AT` prefix, any case, without the final `\r`) into its
 * commands. Returns null when the line is not a valid command line (no `AT`, bad syntax).
 */
export function parseAtLine(line: string): AtCommand[] | null {
  const trimmed = line.trim();
  if (!/^at/i.test(trimmed)) return null;
  const body = trimmed.slice(2);
  if (body.trim() === "") return [{ name: "", kind: "exec", args: [], text: "" }];
  const out: AtCommand[] = [];
  let i = 0;
  while (i < body.length) {
    const ch = body[i]!;
    if (ch === " " || ch === ";") {
      i++;
      continue;
    }
    if (EXTENDED_PREFIX.test(ch)) {
      const m = /^[A-Za-z0-9_]+/.exec(body.slice(i + 1));
      if (!m) return null;
      const end = paramsEnd(body, i + 1 + m[0].length);
      const text = body.slice(i, end);
      const cmd = extendedSuffix(ch + m[0].toUpperCase(), body.slice(i + 1 + m[0].length, end).trim(), text);
      if (!cmd) return null;
      out.push(cmd);
      i = end;
      continue;
    }
    const basic = /^(&?[A-Za-z])/.exec(body.slice(i));
    if (!basic) return null;
    const name = basic[1]!.toUpperCase();
    let j = i + basic[1]!.length;
    if (name === "D") {
      out.push({ name, kind: "set", args: [body.slice(j).trim()], text: body.slice(i) });
      break;
    }
    if (name === "S") {
      const m = /^(\d+)(\?|=(\d*))?/.exec(body.slice(j));
      if (!m) return null;
      const kind: AtCommandKind = m[2] === "?" ? "read" : m[2] === undefined ? "exec" : "set";
      out.push({
        name: `S${Number(m[1])}`,
        kind,
        args: m[3] !== undefined ? [m[3]] : [],
        text: body.slice(i, j + m[0].length),
      });
      i = j + m[0].length;
      continue;
    }
    const m = /^(\?|\d+)?/.exec(body.slice(j))!;
    const value = m[1];
    j += m[0].length;
    const kind: AtCommandKind = value === undefined ? "exec" : value === "?" ? "read" : "set";
    out.push({
      name,
      kind,
      args: value !== undefined && value !== "?" ? [value] : [],
      text: body.slice(i, j),
    });
    i = j;
  }
  return out;
}

/**
 * Parses a line holding exactly one command, e.g. `parseAtCommand("AT+CMGS=23")` →
 * `{ name: "+CMGS", kind: "set", args: ["23"], text: "+CMGS=23" }`. Null when it is not exactly one.
 */
export function parseAtCommand(line: string): AtCommand | null {
  const cmds = parseAtLine(line);
  return cmds !== null && cmds.length === 1 ? cmds[0]! : null;
}

/**
 * Case-insensitive glob match of a command pattern against a command's text: `*` matches any run of
 * characters, everything else literally. `"AT+CMGS=*"` matches `AT+CMGS=23`; `"AT+CSQ"` only `AT+CSQ`.
 */
export function matchPattern(pattern: string, command: string): boolean {
  const re = pattern
    .split("*")
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, "\\$&"))
    .join(".*");
  return new RegExp(`^${re}$`, "i").test(command.trim());
}

/** True for the lines that end a command's response (V.250 result codes, 27.007 errors, Huawei's). */
export function isFinalResult(line: string): boolean {
  return /^(OK|ERROR|NO CARRIER|BUSY|NO ANSWER|NO DIALTONE|CONNECT.*|COMMAND NOT SUPPORT|\+CM[ES] ERROR:.*)$/.test(
    line,
  );
}

/** Parses an integer argument; undefined when absent/empty, NaN when not a decimal integer. */
export function intArg(args: readonly string[], index: number): number | undefined {
  const v = args[index];
  if (v === undefined || v === "") return undefined;
  return /^\d+$/.test(v) ? Number(v) : Number.NaN;
}
