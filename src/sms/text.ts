/**
 * Checks on what may be queued: destination numbers and texts that fit `sms.max_parts`.
 */
import { countParts } from "./pdu/segment.js";

/** A destination the encoder takes: `+` and up to 20 digits, or digits with `*` and `#` (short codes). */
export const NUMBER_PATTERN = /^(?:\+\d{1,20}|[0-9*#]{1,20})$/;

/** Removes the separators people type (spaces, dashes, dots, brackets). */
export function cleanNumber(to: string): string {
  return to.replace(/[\s\-.()]/g, "");
}

/** The longest prefix of `text` (whole characters) that fits in `maxParts` parts. */
export function truncateToParts(text: string, maxParts: number): string {
  if (countParts(text).parts <= maxParts) return text;
  const chars = [...text];
  let lo = 0;
  let hi = chars.length;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (countParts(chars.slice(0, mid).join("")).parts <= maxParts) lo = mid;
    else hi = mid - 1;
  }
  return chars.slice(0, lo).join("");
}
