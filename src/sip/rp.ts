/**
 * `application/vnd.3gpp.sms` bodies: the short message relay layer (RP) messages of 3GPP TS 24.011
 * §7.3 with the information elements of §8.2, as OpenBTS exchanges them with its SMSC (smqueue) and
 * as IMS (TS 24.341) carries them.
 *
 *   RP-DATA   MTI │ ref │ RP-OA (LV) │ RP-DA (LV) │ RP-User-Data (LV: length, TPDU)       §7.3.1
 *   RP-ACK    MTI │ ref │ [41 │ len │ TPDU]                                             §7.3.3
 *   RP-ERROR  MTI │ ref │ RP-Cause (LV: cause [, diagnostic]) │ [41 │ len │ TPDU]      §7.3.4
 *   RP-SMMA   MTI │ ref                                                                 §7.3.2
 *
 *   MTI (§8.2.2, low 3 bits; bits 4-8 spare): 0 DATA ms→n, 1 DATA n→ms, 2 ACK ms→n, 3 ACK n→ms,
 *   4 ERROR ms→n, 5 ERROR n→ms, 6 SMMA ms→n, 7 reserved.
 *   RP address (§8.2.5.1/2): length octet (0 = absent, else ≤ 11), type of address, BCD digits
 *   low nibble first, F filler: "+8613010911500" ↔ 08 91 68 31 10 90 11 05 F0.
 *
 * Two encodings of the same octets are on the wire (see docs/sip-bodies.md):
 *   - OpenBTS and smqueue: the octets as HEX TEXT. OpenBTS's MO path writes `RPDU.hex(body)`
 *     (RangeNetworks/openbts Control/L3SMSControl.cpp, MOSMSMachine::handleRPDU) with
 *     BitVector::hex, i.e. lower-case digits, no separators (CommonLibs/BitVector.cpp); its MT path
 *     reads the body back with `BitVector::unhex` (sscanf "%1x", either case; same file,
 *     MTSMSMachine::createRPData), as does smqueue (RangeNetworks/smqueue smqueue/smsc.cpp pack_tpdu).
 *     A logged OpenBTS P2.8 MO body: kheimerl/libvbts libvbts/YateMessenger.py.
 *   - IMS (Kamailio smsops, TS 24.341): the raw octets (kamailio/kamailio
 *     src/modules/smsops/smsops_impl.c decode_3gpp_sms reads `body.s[p++]` directly).
 * They cannot be confused: a binary body starts with the MTI octet 0x00..0x07, hex text with an
 * ASCII hex digit (0x30..0x39, 0x41..0x46, 0x61..0x66). The parser accepts both and reports which it
 * saw (`format`), so a reply can be written the same way. The encoders return upper-case hex text
 * (OpenBTS's unhex reads either case; Facebook's CommunityCellularManager sends `.upper()`,
 * client/core/sms/freeswitch/_openbts.py); `Buffer.from(hex, "hex")` gives the binary form.
 *
 * Everything malformed is `SiteError("sip.rp")` with `detail.reason`; nothing else escapes.
 */
import { isSiteError, SiteError } from "../core/errors.js";
import { decodeDigits, encodeSmsc } from "../sms/pdu/address.js";
import { type DecodedSubmit, decodePdu } from "../sms/pdu/deliver.js";
import { toHex } from "../sms/pdu/octets.js";

export type RpKind = "rp-data-ms-to-net" | "rp-data-net-to-ms" | "rp-ack" | "rp-error" | "rp-smma";
export type RpBodyFormat = "hex" | "binary";

export interface RpMessage {
  /** RP-Message Type Indicator, 0..6 (24.011 §8.2.2). */
  mti: number;
  kind: RpKind;
  /** True for the network → MS direction (odd MTI). */
  toMs: boolean;
  /** RP-Message Reference, 0..255 (§8.2.3); a reply (RP-ACK/RP-ERROR) carries the same value. */
  reference: number;
  /** RP-Originator Address (RP-DATA n→ms: the SMSC); `+` and digits when international. */
  originator?: string;
  /** RP-Destination Address (RP-DATA ms→n: the SMSC the handset has in its SIM). */
  destination?: string;
  /** The TPDU in upper-case hex: RP-DATA's RP-User-Data, or RP-ACK/RP-ERROR's optional IE 0x41. */
  tpdu?: string;
  /** RP-DATA ms→n only: the SMS-SUBMIT decoded by our PDU layer (decodePdu("00" + tpdu)). */
  submit?: DecodedSubmit;
  /** RP-ERROR only: the cause value, 0..127 (§8.2.5.4, Table 8.4). */
  cause?: number;
  /** RP-ERROR only: the first diagnostic octet, when present. */
  diagnostic?: number;
  /** How the body came: hex text (OpenBTS, smqueue) or raw octets (IMS). */
  format: RpBodyFormat;
  /** The RP message, upper-case hex. */
  raw: string;
}

/** RP-Cause values of 24.011 Table 8.4 (names as in Wireshark's packet-gsm_a_rp.c). */
export const RP_CAUSE = {
  UNASSIGNED_NUMBER: 1,
  OPERATOR_DETERMINED_BARRING: 8,
  CALL_BARRED: 10,
  SM_TRANSFER_REJECTED: 21,
  MEMORY_CAPACITY_EXCEEDED: 22,
  DESTINATION_OUT_OF_ORDER: 27,
  UNIDENTIFIED_SUBSCRIBER: 28,
  FACILITY_REJECTED: 29,
  UNKNOWN_SUBSCRIBER: 30,
  NETWORK_OUT_OF_ORDER: 38,
  TEMPORARY_FAILURE: 41,
  CONGESTION: 42,
  RESOURCES_UNAVAILABLE: 47,
  FACILITY_NOT_SUBSCRIBED: 50,
  FACILITY_NOT_IMPLEMENTED: 69,
  INVALID_REFERENCE: 81,
  SEMANTICALLY_INCORRECT: 95,
  INVALID_MANDATORY_INFORMATION: 96,
  MESSAGE_TYPE_NOT_IMPLEMENTED: 97,
  MESSAGE_NOT_COMPATIBLE: 98,
  IE_NOT_IMPLEMENTED: 99,
  PROTOCOL_ERROR: 111,
  INTERWORKING: 127,
} as const;

const CAUSE_TEXT: Readonly<Record<number, string>> = {
  1: "Unassigned (unallocated) number",
  8: "Operator determined barring",
  10: "Call barred",
  21: "Short message transfer rejected",
  22: "Memory capacity exceeded",
  27: "Destination out of order",
  28: "Unidentified subscriber",
  29: "Facility rejected",
  30: "Unknown subscriber",
  38: "Network out of order",
  41: "Temporary failure",
  42: "Congestion",
  47: "Resources unavailable, unspecified",
  50: "Requested facility not subscribed",
  69: "Requested facility not implemented",
  81: "Invalid short message transfer reference value",
  95: "Semantically incorrect message",
  96: "Invalid mandatory information",
  97: "Message type non-existent or not implemented",
  98: "Message not compatible with short message protocol state",
  99: "Information element non-existent or not implemented",
  111: "Protocol error, unspecified",
  127: "Interworking, unspecified",
};

/** Readable text of an RP-Cause value ("Reserved (n)" for values Table 8.4 does not list). */
export function rpCauseText(cause: number): string {
  return CAUSE_TEXT[cause] ?? `Reserved (${cause})`;
}

const KIND_OF_MTI: readonly (RpKind | undefined)[] = [
  "rp-data-ms-to-net",
  "rp-data-net-to-ms",
  "rp-ack",
  "rp-ack",
  "rp-error",
  "rp-error",
  "rp-smma",
  undefined,
];

/** Address contents (type of address + BCD) are at most 11 octets (§8.2.5.1, §8.2.5.2). */
const MAX_ADDRESS_OCTETS = 11;
/** RP-User-Data of RP-DATA is LV 3..233 octets, so the TPDU is 2..232 octets (Table 7.3.1). */
const MAX_TPDU_OCTETS = 232;
/** IEI of the optional RP-User-Data in RP-ACK and RP-ERROR (§7.3.3, §7.3.4). */
const IEI_RP_USER_DATA = 0x41;

function rpError(reason: string, message: string, extra: Record<string, unknown> = {}): SiteError {
  return new SiteError("sip.rp", `RP message ${message}`, { detail: { reason, ...extra } });
}

/** Body → octets: raw octets when the first one is an MTI (0..7), else hex text. */
function bodyOctets(body: string | Uint8Array): { octets: Uint8Array; format: RpBodyFormat } {
  if (typeof body !== "string" && !(body instanceof Uint8Array)) {
    throw rpError("type", "body must be a string or a Buffer");
  }
  if (body.length === 0) throw rpError("empty", "body is empty");
  const first = typeof body === "string" ? body.charCodeAt(0) : (body[0] ?? 0);
  if (first <= 0x07) {
    if (typeof body !== "string") return { octets: Uint8Array.from(body), format: "binary" };
    // Raw octets handed over as a "binary"/latin1 string.
    const octets = new Uint8Array(body.length);
    for (let i = 0; i < body.length; i++) {
      const code = body.charCodeAt(i);
      if (code > 0xff) throw rpError("not_hex", "body is neither hex text nor octets");
      octets[i] = code;
    }
    return { octets, format: "binary" };
  }
  const text = typeof body === "string" ? body : Buffer.from(body).toString("latin1");
  // OpenBTS sends none, but a stack may add a CR LF after the body.
  const hex = text.replace(/\s+/g, "");
  if (hex.length === 0) throw rpError("empty", "body is empty");
  if (!/^[0-9A-Fa-f]+$/.test(hex)) throw rpError("not_hex", "body is neither hex text nor octets");
  if (hex.length % 2 !== 0) throw rpError("odd_length", "hex body has an odd number of digits");
  const octets = new Uint8Array(hex.length / 2);
  for (let i = 0; i < octets.length; i++) octets[i] = Number.parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return { octets, format: "hex" };
}

class Reader {
  pos = 0;
  constructor(private readonly octets: Uint8Array) {}
  get remaining(): number {
    return this.octets.length - this.pos;
  }
  u8(field: string): number {
    return this.take(1, field)[0] ?? 0;
  }
  take(count: number, field: string): Uint8Array {
    if (count > this.remaining) {
      throw rpError(
        "truncated",
        `truncated: ${field} needs ${count} octet(s) at offset ${this.pos}, ${this.remaining} left`,
        { field, offset: this.pos },
      );
    }
    const out = this.octets.subarray(this.pos, this.pos + count);
    this.pos += count;
    return out;
  }
}

/** An RP-OA/RP-DA (LV): undefined when its length is 0 or it holds no digit. */
function readAddress(reader: Reader, field: string): string | undefined {
  const length = reader.u8(`${field} length`);
  if (length === 0) return undefined;
  if (length > MAX_ADDRESS_OCTETS) {
    throw rpError("invalid", `${field}: length ${length} is over ${MAX_ADDRESS_OCTETS}`, { field });
  }
  const value = reader.take(length, field);
  const toa = value[0] ?? 0;
  const number = decodeDigits(toa, value.subarray(1), (length - 1) * 2);
  return number === "" ? undefined : number;
}

/**
 * Parses an `application/vnd.3gpp.sms` body, hex text or raw octets. For RP-DATA ms→n the TPDU must
 * be an SMS-SUBMIT our PDU layer decodes; it is returned as `submit`. Throws only `SiteError("sip.rp")`.
 */
export function parseRpMessage(body: string | Uint8Array): RpMessage {
  try {
    return parseOctets(bodyOctets(body));
  } catch (err) {
    if (isSiteError(err, "sip.rp")) throw err;
    throw new SiteError("sip.rp", `RP message not decodable: ${err instanceof Error ? err.message : err}`, {
      cause: err,
      detail: { reason: "internal" },
    });
  }
}

function parseOctets({ octets, format }: { octets: Uint8Array; format: RpBodyFormat }): RpMessage {
  const reader = new Reader(octets);
  const mti = reader.u8("RP-MTI") & 0x07;
  const kind = KIND_OF_MTI[mti];
  if (kind === undefined) throw rpError("invalid", "type: reserved RP-MTI 7", { field: "RP-MTI" });
  const reference = reader.u8("RP-Message Reference");
  const out: RpMessage = { mti, kind, toMs: mti % 2 === 1, reference, format, raw: toHex(octets) };

  if (kind === "rp-data-ms-to-net" || kind === "rp-data-net-to-ms") {
    const originator = readAddress(reader, "RP-Originator Address");
    const destination = readAddress(reader, "RP-Destination Address");
    if (originator !== undefined) out.originator = originator;
    if (destination !== undefined) out.destination = destination;
    const length = reader.u8("RP-User-Data length");
    if (length === 0) throw rpError("invalid", "RP-User-Data: empty TPDU", { field: "RP-User-Data" });
    const tpdu = reader.take(length, "RP-User-Data");
    if (reader.remaining > 0) {
      throw rpError("trailing", `has ${reader.remaining} octet(s) after RP-User-Data`);
    }
    out.tpdu = toHex(tpdu);
    if (kind === "rp-data-ms-to-net") out.submit = decodeSubmit(out.tpdu);
    return out;
  }

  if (kind === "rp-error") {
    const length = reader.u8("RP-Cause length");
    if (length === 0) throw rpError("invalid", "RP-Cause: empty", { field: "RP-Cause" });
    const cause = reader.take(length, "RP-Cause");
    // Bit 8 of the cause octet is the extension bit (0 in every defined value).
    out.cause = (cause[0] ?? 0) & 0x7f;
    if (length > 1) out.diagnostic = cause[1] ?? 0;
  }

  if (kind === "rp-smma") {
    if (reader.remaining > 0) throw rpError("trailing", `has ${reader.remaining} octet(s) after RP-SMMA`);
    return out;
  }

  // RP-ACK / RP-ERROR: optional TLV elements; 0x41 is RP-User-Data, any other is skipped.
  while (reader.remaining > 0) {
    const iei = reader.u8("IEI");
    const length = reader.u8(`IE 0x${iei.toString(16)} length`);
    const value = reader.take(length, `IE 0x${iei.toString(16)}`);
    if (iei === IEI_RP_USER_DATA && out.tpdu === undefined && length > 0) out.tpdu = toHex(value);
  }
  return out;
}

function decodeSubmit(tpdu: string): DecodedSubmit {
  let decoded: ReturnType<typeof decodePdu>;
  try {
    decoded = decodePdu(`00${tpdu}`);
  } catch (err) {
    throw new SiteError("sip.rp", `RP-DATA TPDU: ${err instanceof Error ? err.message : err}`, {
      cause: err,
      detail: { reason: "tpdu", field: "RP-User-Data" },
    });
  }
  if (decoded.kind !== "submit") {
    // From a handset, TP-MTI 00 is an SMS-DELIVER-REPORT and 10 an SMS-COMMAND (23.040 §9.2.3.1).
    const what = decoded.kind === "deliver" ? "TP-MTI 00" : "TP-MTI 10 (SMS-COMMAND)";
    throw rpError("tpdu", `RP-DATA from the handset carries ${what}, not an SMS-SUBMIT`, {
      field: "RP-User-Data",
    });
  }
  return decoded;
}

function checkReference(reference: number): void {
  if (!Number.isInteger(reference) || reference < 0 || reference > 255) {
    throw rpError("invalid", `reference must be 0..255, got ${reference}`, { field: "reference" });
  }
}

/** An RP address element (LV) for `number`; `SiteError("sip.rp")` when it is not a number. */
function encodeAddress(number: string, field: string): number[] {
  try {
    return encodeSmsc(number);
  } catch (err) {
    throw new SiteError("sip.rp", `${field}: ${err instanceof Error ? err.message : err}`, {
      cause: err,
      detail: { reason: "invalid", field },
    });
  }
}

/** A TPDU given as hex: 1..232 octets. */
function tpduOctets(hex: string, field: string): Uint8Array {
  const clean = typeof hex === "string" ? hex.replace(/\s+/g, "") : "";
  if (!/^(?:[0-9A-Fa-f]{2})+$/.test(clean)) {
    throw rpError("invalid", `${field}: not a hex TPDU`, { field });
  }
  if (clean.length / 2 > MAX_TPDU_OCTETS) {
    throw rpError("invalid", `${field}: ${clean.length / 2} octets, more than ${MAX_TPDU_OCTETS}`, { field });
  }
  return Uint8Array.from(Buffer.from(clean, "hex"));
}

export interface RpDataToMsRequest {
  /** RP-Message Reference 0..255. */
  reference: number;
  /** The SMSC address shown to the handset (RP-OA): `+` and digits, or digits. Required. */
  originatorSmsc: string;
  /** The SMS-DELIVER (or SMS-STATUS-REPORT) TPDU, hex, without an SMSC field. */
  deliverTpduHex: string;
}

/**
 * RP-DATA network → MS (MTI 1, 24.011 §7.3.1.1): what OpenBTS delivers to a handset when it receives
 * a MESSAGE with this body (Control/L3SMSControl.cpp MTSMSMachine::createRPData). RP-DA is empty.
 * Upper-case hex text, no separators.
 */
export function encodeRpDataToMs(request: RpDataToMsRequest): string {
  const { reference, originatorSmsc, deliverTpduHex } = request;
  checkReference(reference);
  if (typeof originatorSmsc !== "string" || originatorSmsc === "") {
    throw rpError("invalid", "RP-Originator Address: the SMSC address is required", {
      field: "originatorSmsc",
    });
  }
  const oa = encodeAddress(originatorSmsc, "originatorSmsc");
  const tpdu = tpduOctets(deliverTpduHex, "deliverTpduHex");
  // TP-MTI (23.040 §9.2.3.1) towards the MS: 00 SMS-DELIVER, 10 SMS-STATUS-REPORT.
  const tpMti = (tpdu[0] ?? 0) & 0x03;
  if (tpMti !== 0 && tpMti !== 2) {
    throw rpError("invalid", "deliverTpduHex: TP-MTI is not SMS-DELIVER or SMS-STATUS-REPORT", {
      field: "deliverTpduHex",
    });
  }
  return toHex(Uint8Array.from([0x01, reference, ...oa, 0x00, tpdu.length, ...tpdu]));
}

export interface RpDataToNetRequest {
  reference: number;
  /** RP-DA: the SMSC address (the one in the handset's SIM). Required. */
  smsc: string;
  /** The SMS-SUBMIT TPDU, hex, without an SMSC field. */
  submitTpduHex: string;
}

/**
 * RP-DATA MS → network (MTI 0, §7.3.1.2), as OpenBTS forwards a handset's message: RP-OA empty,
 * RP-DA the SMSC. For simulating the BTS in tests and on the bench.
 */
export function encodeRpDataToNet(request: RpDataToNetRequest): string {
  const { reference, smsc, submitTpduHex } = request;
  checkReference(reference);
  if (typeof smsc !== "string" || smsc === "") {
    throw rpError("invalid", "RP-Destination Address: the SMSC address is required", { field: "smsc" });
  }
  const da = encodeAddress(smsc, "smsc");
  const tpdu = tpduOctets(submitTpduHex, "submitTpduHex");
  if (((tpdu[0] ?? 0) & 0x03) !== 1) {
    throw rpError("invalid", "submitTpduHex: TP-MTI is not SMS-SUBMIT", { field: "submitTpduHex" });
  }
  return toHex(Uint8Array.from([0x00, reference, 0x00, ...da, tpdu.length, ...tpdu]));
}

/** RP-ACK (§7.3.3) without RP-User-Data: MTI 3 towards the MS, 2 towards the network. */
export function encodeRpAck(reference: number, toMs: boolean): string {
  checkReference(reference);
  return toHex(Uint8Array.from([toMs ? 0x03 : 0x02, reference]));
}

/**
 * RP-ERROR (§7.3.4) with RP-Cause (§8.2.5.4, 0..127, see RP_CAUSE) and an optional diagnostic
 * octet: MTI 5 towards the MS, 4 towards the network.
 */
export function encodeRpError(reference: number, cause: number, toMs: boolean, diagnostic?: number): string {
  checkReference(reference);
  if (!Number.isInteger(cause) || cause < 0 || cause > 127) {
    throw rpError("invalid", `RP-Cause must be 0..127, got ${cause}`, { field: "cause" });
  }
  if (diagnostic !== undefined && (!Number.isInteger(diagnostic) || diagnostic < 0 || diagnostic > 255)) {
    throw rpError("invalid", `RP-Cause diagnostic must be 0..255, got ${diagnostic}`, {
      field: "diagnostic",
    });
  }
  const causeValue = diagnostic === undefined ? [0x01, cause] : [0x02, cause, diagnostic];
  return toHex(Uint8Array.from([toMs ? 0x05 : 0x04, reference, ...causeValue]));
}
