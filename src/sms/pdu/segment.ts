/**
 * Choosing the encoding and cutting text into SMS parts.
 *
 *   text ─► every character in GSM 7-bit (incl. extension)?  yes → gsm7, else ucs2 (UTF-16BE)
 *        ─► tokens: one per character = its septets (1, or 2 for ESC + code)
 *                                     or its UTF-16 code units (1, or 2 for a surrogate pair)
 *        ─► parts: whole tokens, greedily, up to the capacity of a part
 *
 * Capacity (3GPP TS 23.040 §9.2.3.16, 140 octets of user data):
 *   single part           160 septets | 70 code units
 *   with concatenation    153 septets | 67 code units   (6-octet UDH = 7 septets | 3 code units)
 * A token is never cut, so an escape pair or a surrogate pair that would straddle a boundary moves
 * whole into the next part, which may then hold 152 septets / 66 code units.
 */
import { ESC, EXTENDED, NOT_GSM7, septetCodeOf, septetCodes } from "./gsm7.js";

export type Encoding = "gsm7" | "ucs2";

/** Septets (gsm7) or UTF-16 code units (ucs2) per part. */
export const SINGLE_PART_CAPACITY: Readonly<Record<Encoding, number>> = { gsm7: 160, ucs2: 70 };
export const CONCAT_PART_CAPACITY: Readonly<Record<Encoding, number>> = { gsm7: 153, ucs2: 67 };

export interface SegmentedText {
  encoding: Encoding;
  /** Septets or UTF-16 code units of the whole text. */
  total: number;
  /** Per part: its septets (gsm7) or code units (ucs2). */
  parts: number[][];
}

/** The GSM 7-bit septet count of `text` (ESC pairs count 2), or -1 when a character is not in it. */
function gsm7Length(text: string, table: Int16Array): number {
  let total = 0;
  for (let i = 0; i < text.length; i++) {
    const code = septetCodeOf(table, text.charCodeAt(i));
    if (code === NOT_GSM7) return -1;
    total += code & EXTENDED ? 2 : 1;
  }
  return total;
}

function gsm7Parts(text: string, table: Int16Array, single: boolean): number[][] {
  const capacity = CONCAT_PART_CAPACITY.gsm7;
  const parts: number[][] = [];
  let current: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const code = septetCodeOf(table, text.charCodeAt(i));
    const width = code & EXTENDED ? 2 : 1;
    if (!single && current.length + width > capacity) {
      parts.push(current);
      current = [];
    }
    if (width === 2) current.push(ESC, code & 0x7f);
    else current.push(code);
  }
  parts.push(current);
  return parts;
}

function ucs2Parts(text: string, single: boolean): number[][] {
  const capacity = CONCAT_PART_CAPACITY.ucs2;
  const parts: number[][] = [];
  let current: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    const next = i + 1 < text.length ? text.charCodeAt(i + 1) : 0;
    // A surrogate pair is one token: it never straddles two parts.
    const pair = unit >= 0xd800 && unit <= 0xdbff && next >= 0xdc00 && next <= 0xdfff;
    const width = pair ? 2 : 1;
    if (!single && current.length + width > capacity) {
      parts.push(current);
      current = [];
    }
    current.push(unit);
    if (pair) {
      current.push(next);
      i++;
    }
  }
  parts.push(current);
  return parts;
}

/** Encodes `text` (GSM 7-bit if it can, else UCS2) and cuts it into parts without cutting a token. */
export function segmentText(text: string): SegmentedText {
  const table = septetCodes();
  const septets = gsm7Length(text, table);
  if (septets >= 0) {
    const single = septets <= SINGLE_PART_CAPACITY.gsm7;
    return { encoding: "gsm7", total: septets, parts: gsm7Parts(text, table, single) };
  }
  const single = text.length <= SINGLE_PART_CAPACITY.ucs2;
  return { encoding: "ucs2", total: text.length, parts: ucs2Parts(text, single) };
}

export interface PartCount {
  /** Number of SMS parts the text needs. */
  parts: number;
  encoding: Encoding;
  /** Capacity of one part in septets or code units: 160/70 for a single part, else 153/67. */
  perPart: number;
  /** Septets or UTF-16 code units of the whole text. */
  total: number;
}

/** How many parts `text` takes, for `sms.max_parts` checks before anything is queued. */
export function countParts(text: string): PartCount {
  const { encoding, total, parts } = segmentText(text);
  const perPart = parts.length === 1 ? SINGLE_PART_CAPACITY[encoding] : CONCAT_PART_CAPACITY[encoding];
  return { parts: parts.length, encoding, perPart, total };
}
