/**
 * Pure PDU checks the simulated modem does on `AT+CMGS` (3GPP TS 27.005 §3.5.1, PDU mode) and on
 * injected messages. A PDU as the TE sends it is hex: `<SMSC length octet><SMSC...><TPDU...>`, and
 * `AT+CMGS=<length>` counts the TPDU octets only (the SMSC part is excluded).
 *
 *   "0001000B912143658709F1000003C8341B"  with AT+CMGS=16
 *    ^^ SMSC length 0 → no SMSC octets; TPDU = 16 octets (SMS-SUBMIT, MTI 01) → accepted
 */

/** Why a PDU was refused; the modem answers all of them with `+CMS ERROR: 304`. */
export type PduProblem =
  | "empty"
  | "not_hex"
  | "odd_length"
  | "smsc_length"
  | "length_mismatch"
  | "not_submit";

export type PduCheck =
  | { ok: true; smscOctets: number; tpduLength: number; hex: string }
  | { ok: false; problem: PduProblem; detail: string };

/** Removes white space (a CR/LF a client sends before Ctrl-Z) and upper-cases the hex digits. */
export function normalizeHex(text: string): string {
  return text.replace(/\s+/g, "").toUpperCase();
}

/**
 * The TPDU length in octets of a full PDU (SMSC part included), or null when it is not valid hex or
 * its SMSC length octet points past the end.
 */
export function tpduLength(pduHex: string): number | null {
  const hex = normalizeHex(pduHex);
  if (hex.length < 2 || hex.length % 2 !== 0 || !/^[0-9A-F]+$/.test(hex)) return null;
  const smsc = Number.parseInt(hex.slice(0, 2), 16);
  const total = hex.length / 2;
  if (1 + smsc > total) return null;
  return total - 1 - smsc;
}

/**
 * Checks a PDU typed after the `> ` prompt against the `<length>` given in `AT+CMGS=<length>`.
 * Accepts SMS-SUBMIT (MTI 01) and SMS-COMMAND (MTI 10), as 27.005 allows both through +CMGS.
 */
export function checkSubmitPdu(body: string, declaredLength: number): PduCheck {
  const hex = normalizeHex(body);
  if (hex.length === 0) return { ok: false, problem: "empty", detail: "no PDU before Ctrl-Z" };
  if (!/^[0-9A-F]+$/.test(hex))
    return { ok: false, problem: "not_hex", detail: "PDU holds non-hex characters" };
  if (hex.length % 2 !== 0)
    return { ok: false, problem: "odd_length", detail: "PDU has an odd number of digits" };
  const smscOctets = Number.parseInt(hex.slice(0, 2), 16);
  const total = hex.length / 2;
  if (1 + smscOctets >= total) {
    return { ok: false, problem: "smsc_length", detail: `SMSC length ${smscOctets} leaves no TPDU` };
  }
  const length = total - 1 - smscOctets;
  if (length !== declaredLength) {
    return {
      ok: false,
      problem: "length_mismatch",
      detail: `TPDU is ${length} octets, AT+CMGS said ${declaredLength}`,
    };
  }
  const firstOctet = Number.parseInt(hex.slice(2 + smscOctets * 2, 4 + smscOctets * 2), 16);
  const mti = firstOctet & 0x03;
  if (mti !== 0x01 && mti !== 0x02) {
    return { ok: false, problem: "not_submit", detail: `TP-MTI ${mti} is not SMS-SUBMIT or SMS-COMMAND` };
  }
  return { ok: true, smscOctets, tpduLength: length, hex };
}
