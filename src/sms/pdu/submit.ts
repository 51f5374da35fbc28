/**
 * SMS-SUBMIT encoder (3GPP TS 23.040 §9.2.2.2), our own: node-pdu's encoder gets the validity
 * period, `§` and part sizes wrong (docs/pdu.md).
 *
 *   SMSC │ FO │ MR │ DA          │ PID │ DCS │ VP │ UDL │ UD
 *   00   │ 11 │ 00 │ 0B 91 64…F8 │ 00  │ 00  │ AA │ 0A  │ E8 32 9B FD 46 97 D9 EC 37
 *        └─ first octet: MTI 01, VPF 10 (relative) 0x10, SRR 0x20, UDHI 0x40
 *
 * Concatenated parts carry UDH 05 00 03 <ref> <total> <seq> (IEI 0x00, 8-bit reference). In 7-bit
 * the 6 header octets are followed by 1 fill bit, and TP-UDL counts 7 header septets + the text.
 * TP-MR is 0x00: the modem assigns the real reference and reports it in `+CMGS: <mr>`.
 */
import { SiteError } from "../../core/errors.js";
import { encodeDestination, encodeSmsc } from "./address.js";
import { packSeptets } from "./gsm7.js";
import { toHex } from "./octets.js";
import { type Encoding, segmentText } from "./segment.js";
import { encodeRelativeValidity } from "./validity.js";

export interface SubmitRequest {
  /** Destination: `+` and digits (international) or digits, `*`, `#` (unknown/national); ≤ 20 digits. */
  to: string;
  text: string;
  /** Concatenation reference 0..255, shared by all parts of this message (unused for one part). */
  reference: number;
  /** Ask the SMSC for an SMS-STATUS-REPORT (TP-SRR). Default false. */
  statusReport?: boolean;
  /** Relative validity in minutes, rounded up to what TP-VP can express (max 63 weeks). Default: none. */
  validityMinutes?: number;
  /** SMSC number to put in the PDU; default: none (length 00, the modem uses the SIM's SMSC). */
  smsc?: string;
  /** Refuse (`sms.encode`, detail `{ parts }`) when the text needs more parts than this. */
  maxParts?: number;
}

export interface SubmitPart {
  /** The whole PDU in upper-case hex, SMSC field first, as typed after the `> ` prompt. */
  pdu: string;
  /** Octets after the SMSC field: the `<length>` of `AT+CMGS=<length>`. */
  tpduLength: number;
}

export interface EncodedSubmit {
  parts: SubmitPart[];
  encoding: Encoding;
  /** Septets (gsm7) or UTF-16 code units (ucs2) of the whole text. */
  septetsOrUnits: number;
}

const FO_SUBMIT = 0x01;
const FO_VPF_RELATIVE = 0x10;
const FO_SRR = 0x20;
const FO_UDHI = 0x40;
const DCS_GSM7 = 0x00;
const DCS_UCS2 = 0x08;
/** The concatenation UDH is 6 octets; in 7-bit it takes 7 septets (48 bits + 1 fill bit). */
const UDH_SEPTETS = 7;
const UDH_FILL_BITS = 1;

/** Encodes one text message as one or more SMS-SUBMIT PDUs. Throws `SiteError("sms.encode")`. */
export function encodeSubmit(request: SubmitRequest): EncodedSubmit {
  const { reference } = request;
  if (!Number.isInteger(reference) || reference < 0 || reference > 255) {
    throw new SiteError("sms.encode", `concatenation reference must be 0..255, got ${reference}`, {
      detail: { field: "reference" },
    });
  }
  const smsc = encodeSmsc(request.smsc);
  const destination = encodeDestination(request.to);
  const vp = request.validityMinutes === undefined ? [] : [encodeRelativeValidity(request.validityMinutes)];
  const { encoding, total, parts } = segmentText(request.text);
  const { maxParts = 255 } = request;
  if (!Number.isInteger(maxParts) || maxParts < 1) {
    throw new SiteError("sms.encode", `maxParts must be a positive integer, got ${maxParts}`, {
      detail: { field: "maxParts" },
    });
  }
  const limit = Math.min(maxParts, 255);
  if (parts.length > limit) {
    throw new SiteError("sms.encode", `text needs ${parts.length} parts, more than ${limit}`, {
      detail: { parts: parts.length, maxParts: limit },
    });
  }

  const concatenated = parts.length > 1;
  let firstOctet = FO_SUBMIT;
  if (vp.length > 0) firstOctet |= FO_VPF_RELATIVE;
  if (request.statusReport) firstOctet |= FO_SRR;
  if (concatenated) firstOctet |= FO_UDHI;
  const head = [firstOctet, 0x00, ...destination, 0x00, encoding === "gsm7" ? DCS_GSM7 : DCS_UCS2, ...vp];
  const smscHex = toHex(Uint8Array.from(smsc));

  const out = parts.map((units, index) => {
    const udh = concatenated ? [0x05, 0x00, 0x03, reference, parts.length, index + 1] : undefined;
    const tpdu = encoding === "gsm7" ? gsm7Tpdu(head, units, udh) : ucs2Tpdu(head, units, udh);
    return { pdu: smscHex + toHex(tpdu), tpduLength: tpdu.length };
  });
  return { parts: out, encoding, septetsOrUnits: total };
}

/** head + TP-UDL (septets, header included) + UDH + fill bit + packed septets. */
function gsm7Tpdu(
  head: readonly number[],
  septets: number[],
  udh: readonly number[] | undefined,
): Uint8Array {
  const packed = packSeptets(septets, udh === undefined ? 0 : UDH_FILL_BITS);
  const udhLength = udh?.length ?? 0;
  const tpdu = new Uint8Array(head.length + 1 + udhLength + packed.length);
  tpdu.set(head);
  tpdu[head.length] = (udh === undefined ? 0 : UDH_SEPTETS) + septets.length;
  if (udh !== undefined) tpdu.set(udh, head.length + 1);
  tpdu.set(packed, head.length + 1 + udhLength);
  return tpdu;
}

/** head + TP-UDL (octets, header included) + UDH + UTF-16BE code units. */
function ucs2Tpdu(head: readonly number[], units: number[], udh: readonly number[] | undefined): Uint8Array {
  const udhLength = udh?.length ?? 0;
  const start = head.length + 1 + udhLength;
  const tpdu = new Uint8Array(start + 2 * units.length);
  tpdu.set(head);
  tpdu[head.length] = udhLength + 2 * units.length;
  if (udh !== undefined) tpdu.set(udh, head.length + 1);
  for (let i = 0; i < units.length; i++) {
    const u = units[i] ?? 0;
    tpdu[start + 2 * i] = u >> 8;
    tpdu[start + 2 * i + 1] = u & 0xff;
  }
  return tpdu;
}
