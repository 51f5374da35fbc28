/**
 * Message ids: 16 characters, sortable by creation time, unique without coordination.
 *
 *   01JD3K8Z2M  7Q4X9C
 *   └ ms time ┘ └ random (30 bits) ┘   Crockford base 32 (no I, L, O, U)
 *
 * Short on purpose: ids travel over thin backhaul in every MQTT event and SIP notice.
 */
import { randomUint32 } from "../core/random.js";

const ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

function base32(value: number, length: number): string {
  let out = "";
  let v = value;
  for (let i = 0; i < length; i++) {
    out = ALPHABET[v % 32] + out;
    v = Math.floor(v / 32);
  }
  return out;
}

/** A new id for the time `now` (ms since the epoch). */
export function newMessageId(now: number = Date.now()): string {
  const r = randomUint32() >>> 2;
  return base32(now, 10) + base32(r, 6);
}

/** True for a string shaped like an id of {@link newMessageId}. */
export function isMessageId(text: string): boolean {
  return /^[0-9A-HJKMNP-TV-Z]{16}$/.test(text);
}
