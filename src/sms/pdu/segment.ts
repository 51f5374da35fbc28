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
import { gsm7SeptetsOf, isGsm7 } from "./gsm7.js";

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

function tokens(text: string, encoding: Encoding): number[][] {
  const out: number[][] = [];
  for (const ch of text) {
    if (encoding === "gsm7") out.push([...(gsm7SeptetsOf(ch) ?? [])]);
    else {
      const units: number[] = [];
      for (let i = 0; i < ch.length; i++) units.push(ch.charCodeAt(i));
      out.push(units);
    }
  }
  return out;
}

/** Encodes `text` (GSM 7-bit if it can, else UCS2) and cuts it into parts without cutting a token. */
export function segmentText(text: string): SegmentedText {
  const encoding: Encoding = isGsm7(text) ? "gsm7" : "ucs2";
  const list = tokens(text, encoding);
  const total = list.reduce((sum, t) => sum + t.length, 0);
  if (total <= SINGLE_PART_CAPACITY[encoding]) return { encoding, total, parts: [list.flat()] };
  const capacity = CONCAT_PART_CAPACITY[encoding];
  const parts: number[][] = [];
  let current: number[] = [];
  for (const token of list) {
    if (current.length + token.length > capacity) {
      parts.push(current);
      current = [];
    }
    current.push(...token);
  }
  parts.push(current);
  return { encoding, total, parts };
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
