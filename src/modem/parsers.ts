/**
 * Pure parsers of modem replies (27.007 / 27.005 and the vendor variants we meet). No I/O; each is
 * tested against a table of real replies (test/unit/modemParsers.test.ts, with their sources).
 */

/** Strips `prefix` (and spaces after it) from a line, if present. */
function afterPrefix(line: string, prefix: string): string {
  return line.startsWith(prefix) ? line.slice(prefix.length).trim() : line.trim();
}

function unquote(s: string): string {
  const t = s.trim();
  return t.startsWith('"') && t.endsWith('"') && t.length >= 2 ? t.slice(1, -1) : t;
}

/** Splits a comma list, keeping commas inside quotes. */
export function splitFields(text: string): string[] {
  const out: string[] = [];
  let cur = "";
  let quoted = false;
  for (const ch of text) {
    if (ch === '"') quoted = !quoted;
    if (ch === "," && !quoted) {
      out.push(cur);
      cur = "";
    } else cur += ch;
  }
  out.push(cur);
  return out.map((f) => f.trim());
}

export interface Csq {
  /** 0..31, or 99 for unknown. */
  rssi: number;
  /** 0..7 RXQUAL, or 99. */
  ber: number;
  /** dBm per 27.007 (-113 + 2·rssi, 31 → -51), `null` when unknown. */
  dbm: number | null;
}

/** 27.007 +CSQ: 0 → -113 dBm or less, 2..30 → -109..-53 in 2 dB steps, 31 → -51 or more, 99 unknown. */
export function csqToDbm(rssi: number): number | null {
  if (!Number.isInteger(rssi) || rssi < 0 || rssi > 31) return null;
  return -113 + 2 * rssi;
}

/** Bars 0..5 for people, from the rssi value (0 for unknown). */
export function csqToBars(rssi: number): number {
  if (rssi === 99 || rssi < 2) return 0;
  if (rssi < 8) return 1;
  if (rssi < 13) return 2;
  if (rssi < 18) return 3;
  if (rssi < 23) return 4;
  return 5;
}

export function parseCsq(lines: readonly string[]): Csq | undefined {
  for (const line of lines) {
    const m = /^\+CSQ:\s*(\d+)\s*,\s*(\d+)/.exec(line);
    if (m) {
      const rssi = Number(m[1]);
      const ber = Number(m[2]);
      return { rssi, ber, dbm: csqToDbm(rssi) };
    }
  }
  return undefined;
}

/** Registration status (<stat> of +CREG/+CGREG/+CEREG). 6 and 7 are "SMS only", fine for us. */
export type RegStat = 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9 | 10;

export const REG_STAT_TEXT: Readonly<Record<number, string>> = {
  0: "not registered, not searching",
  1: "registered, home network",
  2: "not registered, searching",
  3: "registration denied",
  4: "unknown",
  5: "registered, roaming",
  6: "registered for SMS only, home network",
  7: "registered for SMS only, roaming",
  8: "emergency services only",
  9: "registered for CSFB not preferred, home",
  10: "registered for CSFB not preferred, roaming",
};

export function isRegistered(stat: number): boolean {
  return stat === 1 || stat === 5 || stat === 6 || stat === 7 || stat === 9 || stat === 10;
}

export interface Registration {
  kind: "creg" | "cgreg" | "cereg";
  /** The `<n>` URC mode, present in solicited replies. */
  mode?: number;
  stat: number;
  /** Location (or tracking) area code, upper-case hex. */
  lac?: string;
  /** Cell id, upper-case hex. */
  ci?: string;
  act?: number;
}

function looksLikeArea(raw: string): boolean {
  const t = raw.trim();
  if (t.startsWith('"')) return true;
  const v = t.replace(/\s+/g, "");
  return v.length >= 2 && /^[0-9A-Fa-f]+$/.test(v);
}

function hex(raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  const v = unquote(raw).replace(/\s+/g, "").toUpperCase();
  return v.length > 0 ? v : undefined;
}

/**
 * Parses `+CREG:`, `+CGREG:`, `+CEREG:` in every form ModemManager accepts (mm-modem-helpers.c CREG1..8,
 * CEREG1..2): solicited (`<n>,<stat>[,<lac>,<ci>[,<AcT>]]`) and unsolicited (`<stat>[,<lac>,<ci>[,<AcT>]]`),
 * quoted or bare hex, zero-padded numbers, stray spaces, and the unsolicited form that carries `<n>`
 * (Sony-Ericsson MD400). The position of the first area-code-like field tells where `<stat>` is.
 */
export function parseRegistration(line: string, solicited: boolean): Registration | undefined {
  const m = /^\+(C|CG|CE)REG:\s*(.*)$/.exec(line.trim());
  if (!m) return undefined;
  const kind = m[1] === "C" ? "creg" : m[1] === "CG" ? "cgreg" : "cereg";
  const fields = splitFields(m[2] ?? "");
  let statIdx: number;
  // A quoted field is an area code for sure; bare hex is a guess (Iridium zero-pads <stat> as "001").
  const quotedIdx = fields.findIndex((f, i) => i > 0 && f.startsWith('"'));
  const areaIdx = quotedIdx > 0 ? quotedIdx : fields.findIndex((f, i) => i > 0 && looksLikeArea(f));
  if (areaIdx > 0) statIdx = areaIdx - 1;
  else if (fields.length >= 2 && fields[1] === "" && !solicited) statIdx = 0;
  else statIdx = solicited || fields.length >= 2 ? 1 : 0;
  const statText = fields[statIdx];
  if (statText === undefined || !/^\d+$/.test(statText)) return undefined;
  const reg: Registration = { kind, stat: Number(statText) };
  if (statIdx === 1 && /^\d+$/.test(fields[0] ?? "")) reg.mode = Number(fields[0]);
  if (areaIdx > 0) {
    const lac = hex(fields[areaIdx]);
    // +CEREG (and CGREG with RAC) puts a routing area between the area code and the cell id when 5+ fields.
    const rest = fields.slice(areaIdx + 1);
    const withRac = kind !== "creg" && rest.length >= 3 && !/^\d$/.test(rest[1]?.trim() ?? "");
    const ci = hex(withRac ? rest[1] : rest[0]);
    const actRaw = withRac ? rest[2] : rest[1];
    if (lac) reg.lac = lac;
    if (ci) reg.ci = ci;
    if (actRaw !== undefined && /^\d+$/.test(actRaw.trim())) reg.act = Number(actRaw.trim());
  }
  return reg;
}

export interface Operator {
  mode: number;
  format?: number;
  name?: string;
  act?: number;
}

/** `+COPS: 0,0,"MTN UG",0` → { mode 0, format 0, name "MTN UG", act 0 }; `+COPS: 0` → no operator. */
export function parseCops(lines: readonly string[]): Operator | undefined {
  for (const line of lines) {
    if (!line.startsWith("+COPS:")) continue;
    const f = splitFields(afterPrefix(line, "+COPS:"));
    if (!/^\d+$/.test(f[0] ?? "")) continue;
    const op: Operator = { mode: Number(f[0]) };
    if (f[1] !== undefined && /^\d+$/.test(f[1])) op.format = Number(f[1]);
    if (f[2] !== undefined && f[2] !== "") op.name = unquote(f[2]).trim();
    if (f[3] !== undefined && /^\d+$/.test(f[3])) op.act = Number(f[3]);
    return op;
  }
  return undefined;
}

export type SimStatus =
  | "ready"
  | "pin"
  | "puk"
  | "ph_pin"
  | "pin2"
  | "puk2"
  | "absent"
  | "not_ready"
  | "unknown";

/** `+CPIN: READY` / `SIM PIN` / `SIM PUK` / `PH-SIM PIN` / `NOT INSERTED` / `NOT READY` (Quectel boot). */
export function parseCpin(lines: readonly string[]): SimStatus | undefined {
  for (const line of lines) {
    const m = /^\+CPIN:\s*"?([^"]*)"?\s*$/.exec(line);
    if (!m) continue;
    const v = (m[1] ?? "").toUpperCase().trim();
    if (v === "READY") return "ready";
    if (v === "SIM PIN") return "pin";
    if (v === "SIM PUK") return "puk";
    if (v === "SIM PIN2") return "pin2";
    if (v === "SIM PUK2") return "puk2";
    if (v.startsWith("PH-")) return "ph_pin";
    if (v === "NOT INSERTED" || v === "SIM REMOVED" || v === "NO SIM") return "absent";
    if (v === "NOT READY") return "not_ready";
    return "unknown";
  }
  return undefined;
}

/**
 * An identity reply (`AT+CGMI`, `AT+CGMM`, `AT+CGMR`): the first non-empty line, with an optional
 * `+CGMx:` prefix and the leading/trailing spaces Wavecom puts around it (` WAVECOM MODEM`), removed.
 */
export function parseIdentityLine(lines: readonly string[], prefix?: string): string | undefined {
  for (const line of lines) {
    let v = line.trim();
    if (prefix && v.startsWith(prefix)) v = v.slice(prefix.length);
    v = v.replace(/^(Revision|Model|Manufacturer):\s*/i, "");
    v = unquote(v)
      .trim()
      .replace(/\s{2,}/g, " ");
    if (v.length > 0) return v;
  }
  return undefined;
}

/** IMEI (14–16 digits) from `AT+CGSN` / `AT+GSN`, bare or as `+CGSN: "…"`. */
export function parseImei(lines: readonly string[]): string | undefined {
  for (const line of lines) {
    const m = /(?:^|[^\d])(\d{14,16})(?:[^\d]|$)/.exec(line);
    if (m) return m[1];
  }
  return undefined;
}

/** IMSI (6–15 digits) from `AT+CIMI`. */
export function parseImsi(lines: readonly string[]): string | undefined {
  for (const line of lines) {
    const m = /^(?:\+CIMI:\s*)?"?(\d{6,15})"?$/.exec(line.trim());
    if (m) return m[1];
  }
  return undefined;
}

/**
 * ICCID from any of `AT+CCID` (SIMCom: bare digits or `+CCID:`), `AT+QCCID` (Quectel, may keep a trailing
 * F), `AT^ICCID?` (Huawei, digits swapped on most models), `AT+ICCID`, `AT+CRSM=176,12258,0,0,10` (raw
 * EF_ICCID, nibble-swapped). Normalised as ModemManager's mm_3gpp_parse_iccid does: `98…` means swapped,
 * the F filler is dropped, giving 19 or 20 digits.
 */
export function parseIccid(lines: readonly string[]): string | undefined {
  for (const raw of lines) {
    let line = raw.trim();
    const crsm = /^\+CRSM:\s*(\d+)\s*,\s*(\d+)\s*,\s*"?([0-9A-Fa-f]+)"?/.exec(line);
    if (crsm) {
      const sw1 = Number(crsm[1]);
      if (sw1 !== 144 && sw1 !== 145 && sw1 !== 146 && sw1 !== 159) return undefined;
      line = crsm[3] ?? "";
    } else {
      line = line.replace(/^(?:[+^!]?(?:Q?CCID|ICCID)|\+SCID: SIM Card ID):\s*/i, "");
    }
    const v = unquote(line).toUpperCase();
    if (!/^[0-9F]{18,20}$/.test(v)) continue;
    let digits = v;
    if (digits.startsWith("98")) {
      let swapped = "";
      for (let i = 0; i + 1 < digits.length; i += 2) swapped += digits[i + 1]! + digits[i]!;
      if (digits.length % 2 === 1) swapped += digits[digits.length - 1];
      digits = swapped;
    }
    digits = digits.replace(/F+$/, "");
    if (/^89\d{16,18}$/.test(digits)) return digits;
  }
  return undefined;
}

/** `+CSCA: "+256700000001",145` → the SMSC number, or `undefined` when empty (cleared by AT+CSMP on ZTE). */
export function parseCsca(lines: readonly string[]): string | undefined {
  for (const line of lines) {
    if (!line.startsWith("+CSCA:")) continue;
    const f = splitFields(afterPrefix(line, "+CSCA:"));
    const n = unquote(f[0] ?? "").trim();
    return n.length > 0 ? n : undefined;
  }
  return undefined;
}

/** `+CMTI: "SM",3` → storage SM, index 3 (also `+CDSI`). */
export function parseStorageIndex(line: string): { storage: string; index: number } | undefined {
  const m = /^\+C(?:MTI|DSI):\s*"?([A-Z]{2})"?\s*,\s*(\d+)/.exec(line.trim());
  if (!m) return undefined;
  return { storage: m[1]!, index: Number(m[2]) };
}
