/**
 * Decoder for PDUs read from a modem (`+CMGR`, `+CMGL`, `+CMT`, `+CDS`; SMSC field first): wraps
 * node-pdu and repairs what it gets wrong on real PDUs (evidence in docs/pdu.md and
 * test/unit/smsPduNodePdu.test.ts).
 *
 *   hex ─► readPdu (bounds-checked walk, raw fields)      malformed/truncated → SiteError("sms.decode")
 *       ─► node-pdu parse()    → TP-MR, TP-ST, TP-PID, concatenation IE (8- and 16-bit reference)
 *       ─► own decoding        → addresses (+, * # a b c), timestamps (ISO 8601, half hours, UTC
 *                                offset 0), GSM 7-bit text (§, form feed, ESC fallback), TP-DCS
 *                                (MWI groups, class), TP-VP
 *       ─► DecodedPdu
 */
import { type Deliver, parse, Report, Submit } from "node-pdu";
import { isSiteError, SiteError } from "../../core/errors.js";
import { decodeAddress, decodeSmsc } from "./address.js";
import { type Alphabet, interpretDcs } from "./dcs.js";
import { type RawPdu, type RawUserData, readPdu } from "./frame.js";
import { fromGsm7Septets, unpackSeptets } from "./gsm7.js";
import { statusMeaning } from "./status.js";
import { decodeTimestamp } from "./timestamp.js";
import { relativeValidityMinutes } from "./validity.js";

export interface Concat {
  /** Reference shared by all parts of one message. */
  ref: number;
  refBits: 8 | 16;
  /** Number of parts, 1..255. */
  total: number;
  /** This part, 1..total. */
  seq: number;
}

/** A received short message (SMS-DELIVER). */
export interface DecodedDeliver {
  kind: "deliver";
  /** Sender: `+` and digits when international, else digits/`*#abc`, or alphanumeric ("InternetSMS"). */
  from: string;
  smsc?: string;
  /** SMSC time stamp, ISO 8601 with the SMSC's offset, e.g. `2011-02-28T11:50:50-05:00`. */
  timestamp: string;
  text: string;
  /** `8bit` text holds one character (U+0000..U+00FF) per octet. */
  encoding: Alphabet;
  concat?: Concat;
  dcsClass?: 0 | 1 | 2 | 3;
  /** TP-PID (0x40 = "type 0", to be acknowledged and discarded). */
  pid: number;
  /** The PDU as received, upper-case hex. */
  raw: string;
}

/** A delivery report (SMS-STATUS-REPORT) for a message we sent with TP-SRR. */
export interface DecodedStatusReport {
  kind: "status_report";
  smsc?: string;
  /** TP-MR of the SMS-SUBMIT it reports on (the `+CMGS: <mr>` value). */
  mr: number;
  recipient: string;
  /** When the SMSC accepted the message (ISO 8601). */
  scts: string;
  /** When the status below was reached (ISO 8601). */
  dischargeTime: string;
  status: number;
  statusText: string;
  /** Final success (0x00..0x1F). */
  delivered: boolean;
  /** Final failure (0x40..0x7F, and reserved 0x80..0xFF). */
  failed: boolean;
  /** SMSC still trying (0x20..0x3F); another report follows. */
  pending: boolean;
  raw: string;
}

/** An SMS-SUBMIT as stored on the SIM ("STO SENT"/"STO UNSENT"), or one of ours read back in tests. */
export interface DecodedSubmit {
  kind: "submit";
  to: string;
  smsc?: string;
  mr: number;
  text: string;
  encoding: Alphabet;
  concat?: Concat;
  dcsClass?: 0 | 1 | 2 | 3;
  statusReport: boolean;
  /** Relative TP-VP in minutes; absent when there is none or it is absolute/enhanced. */
  validityMinutes?: number;
  raw: string;
}

export type DecodedPdu = DecodedDeliver | DecodedStatusReport | DecodedSubmit;

/**
 * Decodes one PDU (hex, SMSC field first). Never throws anything but `SiteError("sms.decode")`.
 */
export function decodePdu(hex: string): DecodedPdu {
  try {
    return decodeRaw(readPdu(hex));
  } catch (err) {
    if (isSiteError(err)) throw err;
    throw new SiteError("sms.decode", `PDU not decodable: ${err instanceof Error ? err.message : err}`, {
      cause: err,
      detail: { reason: "library" },
    });
  }
}

function decodeRaw(raw: RawPdu): DecodedPdu {
  const smsc = raw.smsc === undefined ? undefined : decodeSmsc(raw.smsc.toa, raw.smsc.value);
  const withSmsc = smsc === undefined ? {} : { smsc };
  if (raw.type === "status_report") {
    const recipient = decodeAddress(raw.ra.length, raw.ra.toa, raw.ra.value);
    const scts = decodeTimestamp(raw.scts, "TP-SCTS");
    const dischargeTime = decodeTimestamp(raw.dt, "TP-DT");
    const report = parse(raw.libraryHex);
    if (!(report instanceof Report)) throw unexpected("SMS-STATUS-REPORT", report);
    const status = report.status;
    return {
      kind: "status_report",
      ...withSmsc,
      mr: report.reference,
      recipient,
      scts,
      dischargeTime,
      status,
      ...statusMeaning(status),
      raw: raw.hex,
    };
  }

  if (raw.type === "deliver") {
    const from = decodeAddress(raw.oa.length, raw.oa.toa, raw.oa.value);
    const timestamp = decodeTimestamp(raw.scts, "TP-SCTS");
    const pdu = parse(raw.libraryHex);
    if (pdu instanceof Report || pdu instanceof Submit) throw unexpected("SMS-DELIVER", pdu);
    return {
      kind: "deliver",
      from,
      ...withSmsc,
      timestamp,
      ...userData(raw.userData, pdu),
      pid: pdu.protocolIdentifier.getValue(),
      raw: raw.hex,
    };
  }

  const to = decodeAddress(raw.da.length, raw.da.toa, raw.da.value);
  const pdu = parse(raw.libraryHex);
  if (!(pdu instanceof Submit)) throw unexpected("SMS-SUBMIT", pdu);
  const vpf = (raw.firstOctet >> 3) & 0x03;
  const vp = vpf === 2 ? raw.vp?.[0] : undefined;
  return {
    kind: "submit",
    to,
    ...withSmsc,
    mr: pdu.messageReference,
    ...userData(raw.userData, pdu),
    statusReport: pdu.type.statusReportRequest === 1,
    ...(vp === undefined ? {} : { validityMinutes: relativeValidityMinutes(vp) }),
    raw: raw.hex,
  };
}

/** node-pdu and our framing disagree on the message type (both read TP-MTI; not seen in practice). */
function unexpected(wanted: string, got: Deliver | Report | Submit): SiteError {
  const read =
    got instanceof Report ? "SMS-STATUS-REPORT" : got instanceof Submit ? "SMS-SUBMIT" : "SMS-DELIVER";
  return new SiteError("sms.decode", `node-pdu read an ${read} where ${wanted} was framed`, {
    detail: { reason: "library" },
  });
}

type TextFields = Pick<DecodedDeliver, "text" | "encoding" | "concat" | "dcsClass">;

/** Text from the raw octets (own alphabet), concatenation from node-pdu's UDH parse. */
function userData(ud: RawUserData, pdu: Deliver | Submit): TextFields {
  const coding = interpretDcs(ud.dcs);
  const out: TextFields = { text: decodeText(ud, coding.alphabet), encoding: coding.alphabet };
  if (coding.messageClass !== undefined) out.dcsClass = coding.messageClass;
  const header = pdu.getParts()[0]?.header;
  const iei = header?.getType();
  const ref = header?.getPointer();
  const total = header?.getSegments();
  const seq = header?.getCurrent();
  const wellFormed = ud.ies.some((ie) => ie.iei === iei && ie.data.length === (iei === 0x00 ? 3 : 4));
  // 23.040 §9.2.3.24.1: a zero count or sequence number, or one past the count, voids the IE.
  if (
    wellFormed &&
    ref !== undefined &&
    total !== undefined &&
    seq !== undefined &&
    total > 0 &&
    seq > 0 &&
    seq <= total
  ) {
    out.concat = { ref, refBits: iei === 0x08 ? 16 : 8, total, seq };
  }
  return out;
}

function decodeText(ud: RawUserData, alphabet: Alphabet): string {
  if (alphabet === "gsm7") {
    // Septet k starts at bit 7k, so the header and its fill bits are the first ceil(8h/7) septets.
    const headerSeptets = Math.ceil((ud.headerOctets * 8) / 7);
    return fromGsm7Septets(unpackSeptets(ud.ud, ud.udl).slice(headerSeptets));
  }
  const body = ud.ud.subarray(ud.headerOctets);
  if (alphabet === "8bit") return String.fromCharCode(...body);
  let text = "";
  // An odd trailing octet (a broken sender) is dropped rather than turned into half a character.
  for (let i = 0; i + 1 < body.length; i += 2)
    text += String.fromCharCode(((body[i] ?? 0) << 8) | (body[i + 1] ?? 0));
  return text;
}
