/**
 * Default identities of a simulated modem and its SIM, derived from a seed (the link path) so that the
 * same link gets the same IMEI/IMSI/ICCID on every run. Pure.
 */

/** Uganda, MTN: the home network of the simulated SIM (MCC 641, MNC 10). */
export const HOME_MCC_MNC = "64110";

/** Luhn check digit of a digit string (IMEI and ICCID use it). */
export function luhnDigit(digits: string): string {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = Number(digits[digits.length - 1 - i]);
    if (i % 2 === 0) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return String((10 - (sum % 10)) % 10);
}

/** `count` pseudo-random digits from a string seed (FNV-1a, then a linear congruential stream). */
export function seededDigits(seed: string, count: number): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < seed.length; i++) {
    h ^= seed.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  let out = "";
  for (let i = 0; i < count; i++) {
    h = (Math.imul(h, 1664525) + 1013904223) >>> 0;
    out += String((h >>> 16) % 10);
  }
  return out;
}

/** A 15-digit IMEI: the 8-digit type allocation code, a 6-digit serial from `seed`, the Luhn digit. */
export function makeImei(tac: string, seed: string): string {
  const body = (tac + seededDigits(`imei:${seed}`, 14)).slice(0, 14);
  return body + luhnDigit(body);
}

/** A 15-digit IMSI on {@link HOME_MCC_MNC}. */
export function makeImsi(seed: string): string {
  return HOME_MCC_MNC + seededDigits(`imsi:${seed}`, 10);
}

/** A 19-digit ICCID (89 = telecom, 256 = Uganda, issuer 10) with its Luhn digit. */
export function makeIccid(seed: string): string {
  const body = `8925610${seededDigits(`iccid:${seed}`, 11)}`;
  return body + luhnDigit(body);
}

/**
 * The ICCID as stored on the SIM (EF_ICCID, TS 102 221 §13.2): padded with F to 20 digits and each
 * pair of digits swapped, which is what `AT+CRSM=176,12258,0,0,10` and Huawei `^ICCID` return
 * (`89...` → `98...`; ModemManager `mm_3gpp_parse_iccid` swaps it back).
 */
export function swappedIccid(iccid: string): string {
  const padded = iccid.padEnd(20, "F");
  let out = "";
  for (let i = 0; i < padded.length; i += 2) out += padded[i + 1]! + padded[i]!;
  return out;
}

/** Valid IMEI: 15 digits with a correct Luhn digit. */
export function isValidImei(imei: string): boolean {
  return /^\d{15}$/.test(imei) && luhnDigit(imei.slice(0, 14)) === imei[14];
}
