/**
 * A bounds-checked walk over a PDU as a modem prints it (SMSC field first, 27.005 §3.1), giving the
 * raw fields of an SMS-DELIVER, SMS-SUBMIT or SMS-STATUS-REPORT TPDU (23.040 §9.2.2). It checks every
 * length before anything else looks at the octets, so whatever follows (node-pdu included) only
 * sees structurally sound PDUs; anything else is `SiteError("sms.decode")`.
 *
 *   SMSC len │ SMSC │ FO │ MTI 00 DELIVER:       OA │ PID │ DCS │ SCTS(7) │ UDL │ UD
 *                        │ MTI 01 SUBMIT:   MR │ DA │ PID │ DCS │ VP(0/1/7) │ UDL │ UD
 *                        │ MTI 10 STATUS-REPORT: MR │ RA │ SCTS(7) │ DT(7) │ ST │ (optional, ignored)
 */
import { MAX_ADDRESS_DIGITS } from "./address.js";
import { interpretDcs } from "./dcs.js";
import { fromHex, invalidField, OctetReader, toHex } from "./octets.js";

export interface RawAddress {
  /** The length field: semi-octets used (digits), or for alphanumeric the useful semi-octets. */
  length: number;
  toa: number;
  value: Uint8Array;
}

export interface RawUserData {
  dcs: number;
  /** Offset of the TP-DCS octet in the PDU. */
  dcsOffset: number;
  /** TP-UDL: septets for GSM 7-bit, octets otherwise; header included. */
  udl: number;
  /** The user data octets that TP-UDL covers (header included). */
  ud: Uint8Array;
  /** UDHL + 1 when TP-UDHI is set, else 0. */
  headerOctets: number;
  /** The header's information elements, in order. */
  ies: { iei: number; data: Uint8Array }[];
}

interface RawCommon {
  /** The PDU in upper-case hex without white space. */
  hex: string;
  /**
   * The same PDU as handed to node-pdu: TP-DCS rewritten to the plain code of its alphabet (00, 04,
   * 08) and an enhanced TP-VPF (01) to absolute (11, also 7 octets), because node-pdu throws on
   * reserved DCS alphabets and on enhanced validity although both are valid 23.040/23.038 PDUs.
   * We decode DCS and VP ourselves, so nothing node-pdu reports depends on the rewritten fields.
   */
  libraryHex: string;
  smsc?: { toa: number; value: Uint8Array };
  firstOctet: number;
}

export type RawPdu =
  | (RawCommon & { type: "deliver"; oa: RawAddress; pid: number; scts: Uint8Array; userData: RawUserData })
  | (RawCommon & {
      type: "submit";
      mr: number;
      da: RawAddress;
      pid: number;
      vp?: Uint8Array;
      userData: RawUserData;
    })
  | (RawCommon & {
      type: "status_report";
      mr: number;
      ra: RawAddress;
      scts: Uint8Array;
      dt: Uint8Array;
      st: number;
    });

/** RP-Address: at most 11 octets after its length octet (24.011 §8.2.5.1/2). */
const MAX_SMSC_OCTETS = 11;
/** TP-UD holds at most 140 octets (160 septets). */
const MAX_UD_OCTETS = 140;

function readAddress(reader: OctetReader, field: string): RawAddress {
  const length = reader.u8(`${field} length`);
  if (length > MAX_ADDRESS_DIGITS) throw invalidField(field, `length ${length} exceeds 20 semi-octets`);
  const toa = reader.u8(`${field} type`);
  return { length, toa, value: reader.take(Math.ceil(length / 2), field) };
}

function readUserData(reader: OctetReader, dcs: number, dcsOffset: number, udhi: boolean): RawUserData {
  const udl = reader.u8("TP-UDL");
  const gsm7 = interpretDcs(dcs).alphabet === "gsm7";
  const octets = gsm7 ? Math.ceil((udl * 7) / 8) : udl;
  if (octets > MAX_UD_OCTETS) throw invalidField("TP-UDL", `${udl} exceeds 140 octets`, { udl });
  const ud = reader.take(octets, "TP-UD");
  if (!udhi) return { dcs, dcsOffset, udl, ud, headerOctets: 0, ies: [] };

  const udhl = ud[0];
  if (udhl === undefined || udhl + 1 > ud.length) throw invalidField("UDH", "header longer than user data");
  const headerOctets = udhl + 1;
  if (gsm7 && Math.ceil((headerOctets * 8) / 7) > udl) {
    throw invalidField("UDH", "header longer than TP-UDL septets");
  }
  const ies: RawUserData["ies"] = [];
  let at = 1;
  while (at < headerOctets) {
    const iei = ud[at];
    const len = ud[at + 1];
    if (iei === undefined || len === undefined || at + 2 + len > headerOctets) {
      throw invalidField("UDH", `information element at offset ${at} overruns the header`);
    }
    ies.push({ iei, data: ud.subarray(at + 2, at + 2 + len) });
    at += 2 + len;
  }
  return { dcs, dcsOffset, udl, ud, headerOctets, ies };
}

const CANONICAL_DCS = { gsm7: 0x00, "8bit": 0x04, ucs2: 0x08 } as const;

function forLibrary(octets: Uint8Array, firstOctetOffset: number, dcsOffset?: number): string {
  const copy = Uint8Array.from(octets);
  if (dcsOffset !== undefined) copy[dcsOffset] = CANONICAL_DCS[interpretDcs(copy[dcsOffset] ?? 0).alphabet];
  const fo = copy[firstOctetOffset] ?? 0;
  if ((fo & 0x03) === 0x01 && ((fo >> 3) & 0x03) === 0x01) copy[firstOctetOffset] = fo | 0x18;
  return toHex(copy);
}

/** Parses hex and walks the PDU. Throws `SiteError("sms.decode")` for anything malformed. */
export function readPdu(text: string): RawPdu {
  const octets = fromHex(text);
  const hex = toHex(octets);
  const reader = new OctetReader(octets);
  const smscLength = reader.u8("SMSC length");
  if (smscLength > MAX_SMSC_OCTETS) throw invalidField("SMSC", `length ${smscLength} exceeds 11 octets`);
  let smsc: RawCommon["smsc"];
  if (smscLength > 0) {
    const toa = reader.u8("SMSC type");
    smsc = { toa, value: reader.take(smscLength - 1, "SMSC") };
  }
  const foOffset = reader.offset;
  const firstOctet = reader.u8("first octet");
  const udhi = (firstOctet & 0x40) !== 0;
  const common = { hex, smsc, firstOctet };
  const library = (dcsOffset?: number) => ({ libraryHex: forLibrary(octets, foOffset, dcsOffset) });

  switch (firstOctet & 0x03) {
    case 0x00: {
      const oa = readAddress(reader, "TP-OA");
      const pid = reader.u8("TP-PID");
      const dcsOffset = reader.offset;
      const dcs = reader.u8("TP-DCS");
      const scts = reader.take(7, "TP-SCTS");
      const userData = readUserData(reader, dcs, dcsOffset, udhi);
      return { ...common, ...library(dcsOffset), type: "deliver", oa, pid, scts, userData };
    }
    case 0x01: {
      const mr = reader.u8("TP-MR");
      const da = readAddress(reader, "TP-DA");
      const pid = reader.u8("TP-PID");
      const dcsOffset = reader.offset;
      const dcs = reader.u8("TP-DCS");
      const vpf = (firstOctet >> 3) & 0x03;
      const vp = vpf === 0 ? undefined : reader.take(vpf === 2 ? 1 : 7, "TP-VP");
      const userData = readUserData(reader, dcs, dcsOffset, udhi);
      return { ...common, ...library(dcsOffset), type: "submit", mr, da, pid, vp, userData };
    }
    case 0x02: {
      const mr = reader.u8("TP-MR");
      const ra = readAddress(reader, "TP-RA");
      const scts = reader.take(7, "TP-SCTS");
      const dt = reader.take(7, "TP-DT");
      const st = reader.u8("TP-ST");
      return { ...common, ...library(), type: "status_report", mr, ra, scts, dt, st };
    }
    default:
      throw invalidField("first octet", "reserved message type indicator 11", { firstOctet });
  }
}
