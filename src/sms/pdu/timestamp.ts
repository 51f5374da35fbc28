/**
 * TP-SCTS / TP-DT (3GPP TS 23.040 §9.2.3.11): seven octets of swapped BCD — year, month, day, hour,
 * minute, second, time zone. The time zone counts quarter hours from GMT; bit 3 of its octet (the
 * tens digit's high bit) is the sign.
 *
 *   11 10 10 21 43 65 00  →  2011-01-01T12:34:56+00:00
 *   .. .. .. .. .. .. 22  →  +05:30 (22 quarters)      .. 49 → −03:30 (14 quarters, sign bit set)
 *
 * The result is the SMSC's local time with its offset, exactly as sent (no conversion to UTC).
 */
import { invalidField } from "./octets.js";

function bcd(octet: number, field: string): number {
  const tens = octet & 0x0f;
  const units = octet >> 4;
  if (tens > 9 || units > 9) {
    throw invalidField(field, `not a BCD value (0x${octet.toString(16).padStart(2, "0")})`);
  }
  return tens * 10 + units;
}

const pad = (n: number): string => String(n).padStart(2, "0");

/**
 * Seven timestamp octets → ISO 8601 with the offset, e.g. `2024-01-02T03:04:05+05:30`. Years are
 * 2000 + yy. Non-BCD digits or an impossible date/time are a `sms.decode` error naming `field`.
 */
export function decodeTimestamp(octets: Uint8Array, field: string): string {
  const [y, mo, d, h, mi, s, tz] = Array.from(octets, (o) => o);
  const year = 2000 + bcd(y ?? 0, field);
  const month = bcd(mo ?? 0, field);
  const day = bcd(d ?? 0, field);
  const hour = bcd(h ?? 0, field);
  const minute = bcd(mi ?? 0, field);
  const second = bcd(s ?? 0, field);
  const check = new Date(Date.UTC(year, month - 1, day, hour, minute, second));
  if (
    check.getUTCMonth() !== month - 1 ||
    check.getUTCDate() !== day ||
    hour > 23 ||
    minute > 59 ||
    second > 59
  ) {
    throw invalidField(
      field,
      `impossible date ${year}-${pad(month)}-${pad(day)} ${hour}:${minute}:${second}`,
    );
  }
  const zone = tz ?? 0;
  const quarters = bcd(zone & 0xf7, field);
  // A negative zero ("-00:00", which ISO 8601 does not allow) is written +00:00.
  const sign = zone & 0x08 && quarters > 0 ? "-" : "+";
  const offset = `${sign}${pad(Math.floor(quarters / 4))}:${pad((quarters % 4) * 15)}`;
  return `${year}-${pad(month)}-${pad(day)}T${pad(hour)}:${pad(minute)}:${pad(second)}${offset}`;
}
