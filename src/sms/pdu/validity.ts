/**
 * TP-VP in relative format (3GPP TS 23.040 §9.2.3.12.1), one octet:
 *
 *   0..143    (VP + 1) × 5 min          5 min .. 12 h
 *   144..167  12 h + (VP − 143) × 30 min  12 h 30 .. 24 h
 *   168..196  (VP − 166) × 1 day         2 .. 30 days
 *   197..255  (VP − 192) × 1 week        5 .. 63 weeks
 */
import { SiteError } from "../../core/errors.js";

const DAY = 24 * 60;
const WEEK = 7 * DAY;

/** The longest relative validity, 63 weeks, in minutes. */
export const MAX_VALIDITY_MINUTES = 63 * WEEK;

/**
 * The TP-VP octet for a validity of `minutes`, rounded up to the next representable value (so the
 * SMSC keeps a message at least as long as asked). Above 63 weeks it stays at 63 weeks (0xFF).
 * A non-finite or non-positive duration is a `sms.encode` error.
 */
export function encodeRelativeValidity(minutes: number): number {
  if (!Number.isFinite(minutes) || minutes <= 0) {
    throw new SiteError("sms.encode", `validity must be a positive number of minutes, got ${minutes}`, {
      detail: { field: "validityMinutes" },
    });
  }
  if (minutes <= 12 * 60) return Math.ceil(minutes / 5) - 1;
  if (minutes <= DAY) return 143 + Math.ceil((minutes - 12 * 60) / 30);
  if (minutes <= 30 * DAY) return 166 + Math.max(2, Math.ceil(minutes / DAY));
  return 192 + Math.min(63, Math.max(5, Math.ceil(minutes / WEEK)));
}

/** The validity in minutes that a TP-VP octet (0..255) stands for. */
export function relativeValidityMinutes(vp: number): number {
  if (vp <= 143) return (vp + 1) * 5;
  if (vp <= 167) return 12 * 60 + (vp - 143) * 30;
  if (vp <= 196) return (vp - 166) * DAY;
  return (vp - 192) * WEEK;
}
