/**
 * The numbering plan (`sip.numbering`): what a SIP user part names.
 *
 *   input (user part, or a whole sip:/sips:/tel: URI)
 *     ─► scheme, host (after "@"), parameters (after ";") and headers (after "?") cut off,
 *        %XX unescaped (RFC 3261 §25.1 allows escaped characters in the user part)
 *     ─► "IMSI" + 6..15 digits                             → imsi   (how OpenBTS names handsets)
 *     ─► visual separators - . ( ) and white space removed (RFC 3966 §5.1.1 visual-separator)
 *     ─► "+" + 7..15 digits                               → e164
 *     ─► 1..6 digits (SHORT_CODE_MAX_DIGITS)              → short  (services, 101, 9189, 112)
 *     ─► international prefix + digits                    → e164   "+" + digits
 *     ─► national prefix + digits, country code set       → e164   "+" + cc + digits
 *     ─► national prefix + digits, no country code        → national, unchanged
 *     ─► country code + digits, 8..15 in all              → e164   ("256772…" written without "+")
 *     ─► other digits (7..20)                             → national, unchanged
 *     ─► anything else (letters, *, #, empty)              SiteError("sip.number")
 *
 * E.164 allows at most 15 digits (ITU-T E.164 §6); 7 is the shortest real international number
 * (country code + subscriber number, e.g. +290 1234). Parameters such as `;phone-context=` and
 * `;user=phone` are ignored: the plan's own prefixes decide.
 */
import type { SipNumberingConfig } from "../config/types.js";
import { SiteError } from "../core/errors.js";

export type NormalizedNumber =
  | { kind: "e164"; number: string }
  | { kind: "short"; number: string }
  | { kind: "national"; number: string }
  | { kind: "imsi"; number: string };

/** A digit string of at most this many digits is a short code (site services, operator codes). */
export const SHORT_CODE_MAX_DIGITS = 6;
const E164_MIN_DIGITS = 7;
const E164_MAX_DIGITS = 15;
/** TP-DA holds at most 20 digits (23.040 §9.1.2.5). */
const MAX_DIGITS = 20;

function numberError(input: string, reason: string, message: string): SiteError {
  return new SiteError("sip.number", `${JSON.stringify(input)} ${message}`, { detail: { input, reason } });
}

/** The user part of a URI or user part: scheme, host, parameters and headers removed, unescaped. */
function userOf(input: string): string {
  let user = input.trim();
  const scheme = /^(?:sips?|tel):/i.exec(user);
  if (scheme !== null) user = user.slice(scheme[0].length);
  // A tel: URI has no host; a user part never holds an unescaped "@", ";" or "?" (RFC 3261 §25.1).
  const end = user.search(/[@;?]/);
  if (end >= 0) user = user.slice(0, end);
  if (user.includes("%")) {
    try {
      user = decodeURIComponent(user);
    } catch {
      throw numberError(input, "escape", "has a broken %-escape");
    }
  }
  return user;
}

function e164(input: string, digits: string): NormalizedNumber {
  if (digits.length < E164_MIN_DIGITS || digits.length > E164_MAX_DIGITS) {
    throw numberError(
      input,
      "length",
      `is not an E.164 number (+${digits}: ${digits.length} digits, ${E164_MIN_DIGITS}..${E164_MAX_DIGITS})`,
    );
  }
  return { kind: "e164", number: `+${digits}` };
}

/**
 * Normalizes a SIP user part (or sip:/tel: URI) by `plan`. Throws `SiteError("sip.number")` for what is
 * neither a number nor a short code nor an IMSI.
 */
export function normalizeNumber(userPart: string, plan: SipNumberingConfig): NormalizedNumber {
  if (typeof userPart !== "string") throw numberError(String(userPart), "type", "is not a string");
  const countryCode = plan.country_code ?? "";
  const nationalPrefix = plan.national_prefix ?? "";
  const internationalPrefix = plan.international_prefix ?? "";
  for (const [name, value] of [
    ["country_code", countryCode],
    ["national_prefix", nationalPrefix],
    ["international_prefix", internationalPrefix],
  ] as const) {
    if (!/^[0-9]*$/.test(value)) {
      throw new SiteError(
        "sip.number",
        `sip.numbering.${name} must be digits, got ${JSON.stringify(value)}`,
        {
          detail: { reason: "plan", field: name },
        },
      );
    }
  }

  const user = userOf(userPart);
  // OpenBTS names handsets "IMSI" + the IMSI: its CLI builds "MESSAGE sip:IMSI%s@127.0.0.1"
  // (RangeNetworks/openbts CLI/CLI.cpp, sendsimple), and a handset's MESSAGE comes From
  // "sip:IMSI460010018073482@127.0.0.1" (kheimerl/libvbts libvbts/YateMessenger.py).
  const imsi = /^imsi([0-9]{6,15})$/i.exec(user);
  if (imsi !== null) return { kind: "imsi", number: imsi[1] ?? "" };

  const compact = user.replace(/[\s\-.()]/g, "");
  if (compact === "") throw numberError(userPart, "empty", "holds no number");
  if (compact.startsWith("+")) {
    const digits = compact.slice(1);
    if (!/^[0-9]+$/.test(digits)) throw numberError(userPart, "not_digits", "is not a number");
    return e164(userPart, digits);
  }
  if (!/^[0-9]+$/.test(compact)) throw numberError(userPart, "not_digits", "is not a number");
  if (compact.length > MAX_DIGITS) {
    throw numberError(userPart, "length", `has ${compact.length} digits, more than ${MAX_DIGITS}`);
  }
  if (compact.length <= SHORT_CODE_MAX_DIGITS) return { kind: "short", number: compact };

  // The international prefix first: "00" also starts with the national prefix "0".
  if (internationalPrefix !== "" && compact.startsWith(internationalPrefix)) {
    return e164(userPart, compact.slice(internationalPrefix.length));
  }
  if (nationalPrefix !== "" && compact.startsWith(nationalPrefix)) {
    if (countryCode === "") return { kind: "national", number: compact };
    return e164(userPart, countryCode + compact.slice(nationalPrefix.length));
  }
  if (
    countryCode !== "" &&
    compact.startsWith(countryCode) &&
    compact.length > countryCode.length + 4 &&
    compact.length >= E164_MIN_DIGITS + 1 &&
    compact.length <= E164_MAX_DIGITS
  ) {
    return { kind: "e164", number: `+${compact}` };
  }
  return { kind: "national", number: compact };
}
