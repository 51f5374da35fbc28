/**
 * Addresses in semi-octets (3GPP TS 23.040 §9.1.2.3 and §9.1.2.5): TP-DA/TP-OA/TP-RA count their
 * length in digits, the SMSC field (24.011 RP-Address, as 27.005 puts it in front of the TPDU) in
 * octets including the type-of-address octet.
 *
 *   "+46708251358" → 0B 91 64 07 28 15 53 F8     (11 digits, TON international, F filler)
 *   "0123456789*#abc" ↔ 0F 81 10 32 54 76 98 BA DC FE   (semi-octets A..E are * # a b c)
 */
import { SiteError } from "../../core/errors.js";
import { fromGsm7Septets, unpackSeptets } from "./gsm7.js";

/** Type of address: international (TON 1) / unknown (TON 0), numbering plan ISDN/E.164. */
export const TOA_INTERNATIONAL = 0x91;
export const TOA_UNKNOWN = 0x81;
const TON_INTERNATIONAL = 1;
const TON_ALPHANUMERIC = 5;

/** At most 20 digits fit in an address value of 10 octets (23.040 §9.1.2.5). */
export const MAX_ADDRESS_DIGITS = 20;

const SEMI_OCTET_OF: Readonly<Record<string, number>> = { "*": 0xa, "#": 0xb, a: 0xc, b: 0xd, c: 0xe };
const DIGIT_OF_SEMI_OCTET = "0123456789*#abc";

/**
 * The number part of an address: `+` and 1..20 digits → international, else 1..20 of `0-9 * #` →
 * unknown/national. Anything else (spaces, letters, an empty string) is a `sms.encode` error.
 */
function parseNumber(number: string, what: string): { toa: number; digits: string } {
  if (/^\+[0-9]{1,20}$/.test(number)) return { toa: TOA_INTERNATIONAL, digits: number.slice(1) };
  if (/^[0-9*#]{1,20}$/.test(number)) return { toa: TOA_UNKNOWN, digits: number };
  throw new SiteError("sms.encode", `invalid ${what} number ${JSON.stringify(number)}`, {
    detail: { field: what },
  });
}

function packDigits(digits: string): number[] {
  const out: number[] = [];
  for (let i = 0; i < digits.length; i += 2) {
    const low = semiOctet(digits[i] ?? "");
    const high = i + 1 < digits.length ? semiOctet(digits[i + 1] ?? "") : 0xf;
    out.push((high << 4) | low);
  }
  return out;
}

function semiOctet(ch: string): number {
  return SEMI_OCTET_OF[ch] ?? Number(ch);
}

/** TP-DA of an SMS-SUBMIT: digit count, type of address, semi-octets. */
export function encodeDestination(number: string): number[] {
  const { toa, digits } = parseNumber(number, "destination");
  return [digits.length, toa, ...packDigits(digits)];
}

/** The SMSC field in front of the TPDU: `[0x00]` (use the SIM's SMSC) or length, type, semi-octets. */
export function encodeSmsc(number: string | undefined): number[] {
  if (number === undefined || number === "") return [0x00];
  const { toa, digits } = parseNumber(number, "smsc");
  const value = packDigits(digits);
  return [1 + value.length, toa, ...value];
}

/**
 * Semi-octets → digits: A..E become `* # a b c`, F is filler (skipped), `+` is added for an
 * international type of number. `digitCount` bounds the digits read (TP address length).
 */
export function decodeDigits(toa: number, value: Uint8Array, digitCount: number): string {
  let out = "";
  for (let i = 0; i < digitCount; i++) {
    const octet = value[i >> 1] ?? 0xff;
    const nibble = i % 2 === 0 ? octet & 0x0f : octet >> 4;
    if (nibble !== 0xf) out += DIGIT_OF_SEMI_OCTET[nibble];
  }
  return ((toa >> 4) & 0x07) === TON_INTERNATIONAL && out !== "" ? `+${out}` : out;
}

/**
 * A TP-OA/TP-DA/TP-RA value: `length` is the address length field (semi-octets used), `toa` its
 * type of address. Alphanumeric addresses (TON 5, e.g. "InternetSMS") are packed GSM 7-bit.
 */
export function decodeAddress(length: number, toa: number, value: Uint8Array): string {
  if (((toa >> 4) & 0x07) === TON_ALPHANUMERIC) {
    return fromGsm7Septets(unpackSeptets(value, Math.floor((length * 4) / 7)));
  }
  return decodeDigits(toa, value, length);
}

/** The SMSC field's number (`value` = the semi-octets after the type octet), or undefined if absent. */
export function decodeSmsc(toa: number, value: Uint8Array): string | undefined {
  if (((toa >> 4) & 0x07) === TON_ALPHANUMERIC) {
    return fromGsm7Septets(unpackSeptets(value, Math.floor((value.length * 8) / 7)));
  }
  const number = decodeDigits(toa, value, value.length * 2);
  return number === "" ? undefined : number;
}
