/**
 * SMS-DELIVER and SMS-STATUS-REPORT encoders, pure: the PDUs an SMSC hands to a phone or modem (the
 * simulator's network side; the gateway's RP-DATA to handsets through the local BTS) (3GPP TS 23.040 §9.2.2.1 and §9.2.2.3), hex with the SMSC field first as
 * `+CMT`/`+CMGR`/`+CDS` print them. Everything here decodes with the site's own `decodePdu`.
 *
 *   SMS-DELIVER        SMSC │ FO │ OA │ PID 00 │ DCS 00/08 │ SCTS(7) │ UDL │ [UDH] UD
 *                           └─ 0x04 TP-MMS (no more messages), 0x40 TP-UDHI when concatenated
 *   SMS-STATUS-REPORT  SMSC │ FO 06 │ MR │ RA │ SCTS(7) │ DT(7) │ ST
 *                           └─ MTI 10, TP-MMS, TP-SRQ 0 (the report is about an SMS-SUBMIT)
 *
 * Addresses: `+` and digits → TOA 0x91, digits `* #` → 0x81, anything else → alphanumeric (TOA 0xD0,
 * GSM 7-bit packed, at most 11 septets; the length field counts the semi-octets used).
 * Concatenation UDH: `05 00 03 ref total seq` (8-bit ref) or `06 08 04 refHi refLo total seq` (16-bit);
 * in GSM 7-bit the text starts on the next septet boundary, fill = (7 − (8·UDH octets mod 7)) mod 7.
 */
import { SiteError } from "../../core/errors.js";
import { decodeAddress, decodeSmsc, encodeDestination, encodeSmsc } from "./address.js";
import { readPdu } from "./frame.js";
import { gsm7SeptetsOf, isGsm7, packSeptets } from "./gsm7.js";
import { toHex } from "./octets.js";
import { SINGLE_PART_CAPACITY } from "./segment.js";

export type TextEncoding = "gsm7" | "ucs2";

/** Concatenation of one part: reference, number of parts, this part (1-based). */
export interface DeliverConcat {
  /** 0..255, or 0..65535 with `ref16`. */
  ref: number;
  /** 1..255. */
  total: number;
  /** 1..total. */
  seq: number;
  /** 16-bit reference (IEI 0x08) instead of 8-bit (IEI 0x00). */
  ref16?: boolean;
}

export interface DeliverRequest {
  /** Originator: `+` and digits, digits/`*`/`#`, or alphanumeric (≤ 11 GSM 7-bit septets). */
  from: string;
  text: string;
  /**
   * TP-SCTS. A Date is written in the zone `tzQuarterHours`; an ISO 8601 string
   * (`2024-01-02T03:04:05+05:30`, what `decodePdu` returns) is written as it reads, its offset included.
   * Default: now.
   */
  timestamp?: Date | string;
  /** SMSC time zone in quarter hours from GMT, −79..79; default 0 (or the string's own offset). */
  tzQuarterHours?: number;
  concat?: DeliverConcat;
  /** Default: GSM 7-bit when every character has one, else UCS2. */
  encoding?: TextEncoding;
  /** SMSC field; default none (length octet 00). */
  smsc?: string;
  /** TP-MMS: true = the SMSC has more messages waiting (bit 0x04 clear). Default false (bit set). */
  moreMessages?: boolean;
}

export interface SplitDeliverOptions {
  /** Concatenation reference shared by the parts (unused when the text fits one part). */
  ref: number;
  ref16?: boolean;
  /** The same time stamp for every part; default now. */
  timestamp?: Date | string;
  tzQuarterHours?: number;
  encoding?: TextEncoding;
  smsc?: string;
}

export interface StatusReportRequest {
  /** TP-MR of the SMS-SUBMIT reported on (what `+CMGS: <mr>` answered), 0..255. */
  mr: number;
  /** TP-RA: the submit's destination. */
  recipient: string;
  /** When the SMSC accepted the submit. */
  scts: Date | string;
  /** When `status` was reached. */
  discharge: Date | string;
  /** TP-ST, 0..255 (0x00 delivered, 0x20.. pending, 0x40.. failed). */
  status: number;
  smsc?: string;
  /** Zone of Date time stamps in quarter hours; default 0. */
  tzQuarterHours?: number;
}

const FO_MMS = 0x04;
const FO_UDHI = 0x40;
const FO_STATUS_REPORT = 0x02;
const TOA_ALPHANUMERIC = 0xd0;
/** TP-UD holds 140 octets. */
const MAX_UD_OCTETS = 140;
/** 20 semi-octets (10 octets) of address value hold 11 septets. */
const MAX_ALPHANUMERIC_SEPTETS = 11;

function fail(message: string, field: string): SiteError {
  return new SiteError("sms.encode", message, { detail: { field } });
}

function checkInt(value: number, min: number, max: number, field: string): void {
  if (!Number.isInteger(value) || value < min || value > max)
    throw fail(`${field} must be an integer ${min}..${max}, got ${value}`, field);
}

// ---- addresses ----

function septetsOf(text: string, field: string): number[] {
  const out: number[] = [];
  for (const ch of text) {
    const s = gsm7SeptetsOf(ch);
    if (!s) throw fail(`${field}: ${JSON.stringify(ch)} is not in the GSM 7-bit alphabet`, field);
    out.push(...s);
  }
  return out;
}

/** TP-OA / TP-RA: length (semi-octets), type of address, value. */
export function encodeAddress(address: string, field = "address"): number[] {
  if (/^\+[0-9]{1,20}$/.test(address) || /^[0-9*#]{1,20}$/.test(address)) return encodeDestination(address);
  if (address === "") throw fail(`${field} is empty`, field);
  const septets = septetsOf(address, field);
  if (septets.length > MAX_ALPHANUMERIC_SEPTETS) {
    throw fail(`${field} ${JSON.stringify(address)} is longer than 11 septets`, field);
  }
  return [Math.ceil((septets.length * 7) / 4), TOA_ALPHANUMERIC, ...packSeptets(septets)];
}

// ---- time stamps ----

const swapped = (n: number): number => ((n % 10) << 4) | Math.floor(n / 10);

const ISO = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:\.\d+)?(Z|[+-]\d{2}:?\d{2})?$/;

interface Wall {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  quarters: number;
}

function wallClock(ts: Date | string, tz: number | undefined, field: string): Wall {
  if (tz !== undefined) checkInt(tz, -79, 79, "tzQuarterHours");
  if (ts instanceof Date) {
    if (Number.isNaN(ts.getTime())) throw fail(`${field} is an invalid Date`, field);
    const quarters = tz ?? 0;
    const d = new Date(ts.getTime() + quarters * 15 * 60_000);
    return {
      year: d.getUTCFullYear(),
      month: d.getUTCMonth() + 1,
      day: d.getUTCDate(),
      hour: d.getUTCHours(),
      minute: d.getUTCMinutes(),
      second: d.getUTCSeconds(),
      quarters,
    };
  }
  const m = ISO.exec(ts);
  if (!m) throw fail(`${field} ${JSON.stringify(ts)} is not ISO 8601 (YYYY-MM-DDThh:mm:ss±hh:mm)`, field);
  const [year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0] = m.slice(1, 7).map(Number);
  let quarters = tz ?? 0;
  const zone = m[7];
  if (zone !== undefined) {
    const minutes =
      zone === "Z"
        ? 0
        : (zone[0] === "-" ? -1 : 1) * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(-2)));
    if (minutes % 15 !== 0) throw fail(`${field} offset ${zone} is not whole quarter hours`, field);
    if (tz !== undefined && tz !== minutes / 15) {
      throw fail(`${field} offset ${zone} contradicts tzQuarterHours ${tz}`, field);
    }
    quarters = minutes / 15;
  }
  checkInt(quarters, -79, 79, "tzQuarterHours");
  const check = new Date(Date.UTC(year, month - 1, day, hour, minute, second));
  if (
    check.getUTCMonth() !== month - 1 ||
    check.getUTCDate() !== day ||
    hour > 23 ||
    minute > 59 ||
    second > 59
  ) {
    throw fail(`${field} ${JSON.stringify(ts)} is not a valid date and time`, field);
  }
  return { year, month, day, hour, minute, second, quarters };
}

/** TP-SCTS / TP-DT: seven swapped-BCD octets, the zone's sign in bit 3 of the last. */
export function encodeTimestamp(ts: Date | string, tzQuarterHours?: number, field = "timestamp"): number[] {
  const w = wallClock(ts, tzQuarterHours, field);
  if (w.year < 2000 || w.year > 2099) throw fail(`${field}: year ${w.year} is outside 2000..2099`, field);
  const q = Math.abs(w.quarters);
  return [
    swapped(w.year - 2000),
    swapped(w.month),
    swapped(w.day),
    swapped(w.hour),
    swapped(w.minute),
    swapped(w.second),
    swapped(q) | (w.quarters < 0 ? 0x08 : 0),
  ];
}

// ---- user data ----

/** Fill bits after a UDH of `octets` octets (UDHL included) so the text starts on a septet boundary. */
export function fillBits(octets: number): number {
  return (7 - ((octets * 8) % 7)) % 7;
}

function concatHeader(c: DeliverConcat): number[] {
  if (c.ref16) {
    checkInt(c.ref, 0, 0xffff, "concat.ref");
  } else checkInt(c.ref, 0, 0xff, "concat.ref");
  checkInt(c.total, 1, 255, "concat.total");
  checkInt(c.seq, 1, c.total, "concat.seq");
  return c.ref16
    ? [0x06, 0x08, 0x04, c.ref >> 8, c.ref & 0xff, c.total, c.seq]
    : [0x05, 0x00, 0x03, c.ref, c.total, c.seq];
}

/** Septets (gsm7) or UTF-16 code units (ucs2) a part can carry after a UDH of `udhOctets` octets. */
function capacity(encoding: TextEncoding, udhOctets: number): number {
  if (encoding === "ucs2") return Math.floor((MAX_UD_OCTETS - udhOctets) / 2);
  const headerSeptets = udhOctets === 0 ? 0 : (udhOctets * 8 + fillBits(udhOctets)) / 7;
  return SINGLE_PART_CAPACITY.gsm7 - headerSeptets;
}

/** TP-UDL + TP-UD. */
function userData(encoding: TextEncoding, units: number[], udh: number[]): number[] {
  const room = capacity(encoding, udh.length);
  if (units.length > room) {
    const unit = encoding === "gsm7" ? "septets" : "UTF-16 code units";
    throw fail(`text is ${units.length} ${unit}, one part holds ${room}`, "text");
  }
  if (encoding === "ucs2") {
    const body = units.flatMap((u) => [u >> 8, u & 0xff]);
    return [udh.length + body.length, ...udh, ...body];
  }
  const fill = udh.length === 0 ? 0 : fillBits(udh.length);
  const headerSeptets = (udh.length * 8 + fill) / 7;
  return [headerSeptets + units.length, ...udh, ...packSeptets(units, fill)];
}

function unitsOf(text: string, encoding: TextEncoding): number[] {
  if (encoding === "gsm7") return septetsOf(text, "text");
  return Array.from({ length: text.length }, (_, i) => text.charCodeAt(i));
}

function chooseEncoding(text: string, encoding: TextEncoding | undefined): TextEncoding {
  if (encoding !== undefined && encoding !== "gsm7" && encoding !== "ucs2")
    throw fail(`encoding must be gsm7 or ucs2, got ${String(encoding)}`, "encoding");
  return encoding ?? (isGsm7(text) ? "gsm7" : "ucs2");
}

// ---- PDUs ----

/** One SMS-DELIVER PDU, upper-case hex, SMSC field first. Throws `SiteError("sms.encode")`. */
export function encodeDeliver(req: DeliverRequest): string {
  const encoding = chooseEncoding(req.text, req.encoding);
  const udh = req.concat ? concatHeader(req.concat) : [];
  let firstOctet = 0x00;
  if (!req.moreMessages) firstOctet |= FO_MMS;
  if (udh.length > 0) firstOctet |= FO_UDHI;
  const tpdu = [
    firstOctet,
    ...encodeAddress(req.from, "from"),
    0x00,
    encoding === "gsm7" ? 0x00 : 0x08,
    ...encodeTimestamp(req.timestamp ?? new Date(), req.tzQuarterHours, "timestamp"),
    ...userData(encoding, unitsOf(req.text, encoding), udh),
  ];
  return toHex(Uint8Array.from([...encodeSmsc(req.smsc), ...tpdu]));
}

/**
 * A text as the SMSC delivers it: one SMS-DELIVER when it fits (160 septets / 70 code units), else
 * concatenated parts of at most 153 septets / 67 code units (152 / 66 with a 16-bit reference), cut
 * between characters only (an escape pair or a surrogate pair is never split). Part k is index k−1.
 */
export function splitDeliverText(from: string, text: string, opts: SplitDeliverOptions): string[] {
  const { ref, ref16 = false } = opts;
  checkInt(ref, 0, ref16 ? 0xffff : 0xff, "ref");
  const encoding = chooseEncoding(text, opts.encoding);
  const chars = [...text];
  const sizes = chars.map((ch) => unitsOf(ch, encoding).length);
  const total = sizes.reduce((a, b) => a + b, 0);
  const timestamp = opts.timestamp ?? new Date();
  const common = { from, timestamp, tzQuarterHours: opts.tzQuarterHours, encoding, smsc: opts.smsc };
  if (total <= SINGLE_PART_CAPACITY[encoding]) return [encodeDeliver({ ...common, text })];

  const room = capacity(encoding, ref16 ? 7 : 6);
  const parts: string[] = [];
  let current = "";
  let used = 0;
  chars.forEach((ch, i) => {
    const size = sizes[i] ?? 0;
    if (used + size > room) {
      parts.push(current);
      current = "";
      used = 0;
    }
    current += ch;
    used += size;
  });
  parts.push(current);
  if (parts.length > 255) throw fail(`text needs ${parts.length} parts, more than 255`, "text");
  return parts.map((part, i) =>
    encodeDeliver({ ...common, text: part, concat: { ref, ref16, total: parts.length, seq: i + 1 } }),
  );
}

/** One SMS-STATUS-REPORT PDU, upper-case hex, SMSC field first. Throws `SiteError("sms.encode")`. */
export function encodeStatusReport(req: StatusReportRequest): string {
  checkInt(req.mr, 0, 255, "mr");
  checkInt(req.status, 0, 255, "status");
  const tpdu = [
    FO_STATUS_REPORT | FO_MMS,
    req.mr,
    ...encodeAddress(req.recipient, "recipient"),
    ...encodeTimestamp(req.scts, req.tzQuarterHours, "scts"),
    ...encodeTimestamp(req.discharge, req.tzQuarterHours, "discharge"),
    req.status,
  ];
  return toHex(Uint8Array.from([...encodeSmsc(req.smsc), ...tpdu]));
}

/** What a status report on a submitted PDU needs from it. */
export interface SubmitForReport {
  /** TP-DA, as `decodePdu` shows it. */
  recipient: string;
  /** The SMSC field of the submit, when it had one. */
  smsc?: string;
}

/**
 * The destination (and SMSC) of an SMS-SUBMIT that asks for a status report (TP-SRR, first octet bit
 * 0x20); null for anything else (no TP-SRR, an SMS-COMMAND, a PDU that does not decode).
 */
export function submitWantingReport(pduHex: string): SubmitForReport | null {
  try {
    const raw = readPdu(pduHex);
    if (raw.type !== "submit" || (raw.firstOctet & 0x20) === 0) return null;
    const recipient = decodeAddress(raw.da.length, raw.da.toa, raw.da.value);
    const smsc = raw.smsc === undefined ? undefined : decodeSmsc(raw.smsc.toa, raw.smsc.value);
    return smsc === undefined ? { recipient } : { recipient, smsc };
  } catch {
    return null;
  }
}
