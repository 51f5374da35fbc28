/**
 * Hex ↔ octets and a bounds-checked octet reader for the PDU decoder. Every failure here is a
 * `SiteError("sms.decode")` naming the field and offset, so a truncated or garbled PDU from a modem
 * never escapes as a RangeError or an `undefined` deep inside the decoder.
 */
import { SiteError } from "../../core/errors.js";

/** Upper-case hex of `octets` (the form `AT+CMGS` and our tests use). */
export function toHex(octets: Uint8Array): string {
  return Buffer.from(octets.buffer, octets.byteOffset, octets.byteLength).toString("hex").toUpperCase();
}

/**
 * Parses a PDU as a modem prints it: hex digits, either case, white space (the CR LF around a
 * `+CMGR` body) ignored. Empty, odd-length or non-hex input is a `sms.decode` error.
 */
export function fromHex(text: string): Uint8Array {
  const hex = text.replace(/\s+/g, "");
  if (hex.length === 0) throw new SiteError("sms.decode", "empty PDU", { detail: { reason: "empty" } });
  if (!/^[0-9A-Fa-f]+$/.test(hex)) {
    throw new SiteError("sms.decode", "PDU holds non-hex characters", { detail: { reason: "not_hex" } });
  }
  if (hex.length % 2 !== 0) {
    throw new SiteError("sms.decode", "PDU has an odd number of hex digits", {
      detail: { reason: "odd_length" },
    });
  }
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** Reads a PDU front to back; each read names its field so a short PDU says what was missing. */
export class OctetReader {
  private pos = 0;

  constructor(private readonly octets: Uint8Array) {}

  get offset(): number {
    return this.pos;
  }

  get remaining(): number {
    return this.octets.length - this.pos;
  }

  /** One octet (0..255). */
  u8(field: string): number {
    return this.take(1, field)[0] ?? 0;
  }

  /** `count` octets as a view into the PDU. */
  take(count: number, field: string): Uint8Array {
    if (count > this.remaining) {
      throw new SiteError(
        "sms.decode",
        `PDU truncated: ${field} needs ${count} octet(s) at offset ${this.pos}, ${this.remaining} left`,
        { detail: { reason: "truncated", field, offset: this.pos } },
      );
    }
    const out = this.octets.subarray(this.pos, this.pos + count);
    this.pos += count;
    return out;
  }
}

/** A `sms.decode` error for a field whose value (not its length) is impossible. */
export function invalidField(field: string, message: string, extra: Record<string, unknown> = {}): SiteError {
  return new SiteError("sms.decode", `PDU ${field}: ${message}`, {
    detail: { reason: "invalid", field, ...extra },
  });
}
