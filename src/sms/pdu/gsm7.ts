/**
 * The GSM 7-bit default alphabet and its extension table (3GPP TS 23.038 §6.2.1 and §6.2.1.1), both
 * directions, plus septet packing (§6.1.2.1.1: septets packed LSB first, with fill bits in front
 * when a user data header precedes them, 23.040 §9.2.3.24).
 *
 *   text ──toGsm7Septets──► septets (ESC 0x1B + code for € { } [ ] ~ \ ^ | and form feed)
 *        ◄──fromGsm7Septets──          │  packSeptets(fillBits) / unpackSeptets
 *                                      ▼
 *                                   octets
 *
 * No national language shift tables: an SMS that needs one is sent as UCS2 instead.
 */

/** 0x00..0x7F of the default alphabet. 0x1B is ESC (escape to the extension table). */
// biome-ignore format: one row per 16 code points, as in the 23.038 table
export const GSM7_DEFAULT: readonly string[] = [
  "@", "£", "$", "¥", "è", "é", "ù", "ì", "ò", "Ç", "\n", "Ø", "ø", "\r", "Å", "å",
  "Δ", "_", "Φ", "Γ", "Λ", "Ω", "Π", "Ψ", "Σ", "Θ", "Ξ", "\u001b", "Æ", "æ", "ß", "É",
  " ", "!", '"', "#", "¤", "%", "&", "'", "(", ")", "*", "+", ",", "-", ".", "/",
  "0", "1", "2", "3", "4", "5", "6", "7", "8", "9", ":", ";", "<", "=", ">", "?",
  "¡", "A", "B", "C", "D", "E", "F", "G", "H", "I", "J", "K", "L", "M", "N", "O",
  "P", "Q", "R", "S", "T", "U", "V", "W", "X", "Y", "Z", "Ä", "Ö", "Ñ", "Ü", "§",
  "¿", "a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l", "m", "n", "o",
  "p", "q", "r", "s", "t", "u", "v", "w", "x", "y", "z", "ä", "ö", "ñ", "ü", "à",
];

/** The extension table: code after ESC → character (23.038 §6.2.1.1). */
export const GSM7_EXTENSION: ReadonlyMap<number, string> = new Map([
  [0x0a, "\f"],
  [0x14, "^"],
  [0x28, "{"],
  [0x29, "}"],
  [0x2f, "\\"],
  [0x3c, "["],
  [0x3d, "~"],
  [0x3e, "]"],
  [0x40, "|"],
  [0x65, "€"],
]);

export const ESC = 0x1b;

const ENCODE: ReadonlyMap<string, readonly number[]> = (() => {
  const map = new Map<string, readonly number[]>();
  GSM7_DEFAULT.forEach((ch, code) => {
    if (code !== ESC) map.set(ch, [code]);
  });
  for (const [code, ch] of GSM7_EXTENSION) map.set(ch, [ESC, code]);
  return map;
})();

/** No GSM 7-bit character has a UTF-16 code above this one (€, U+20AC). */
const HIGHEST_CODE = 0x20ac;
/** A character not in the alphabet, in {@link septetCodes}. */
export const NOT_GSM7 = -1;
/** Extension-table characters are stored as EXTENDED | code (two septets: ESC, code). */
export const EXTENDED = 0x100;
let codes: Int16Array | undefined;

/**
 * UTF-16 code unit → its septet (0..127), `EXTENDED | code` for the extension table, or
 * {@link NOT_GSM7}; indexed up to U+20AC (built on first use, 16 KiB). The fast path of the
 * encoders: one array read per character instead of a string and a Map lookup.
 */
export function septetCodes(): Int16Array {
  if (codes === undefined) {
    const table = new Int16Array(HIGHEST_CODE + 1).fill(NOT_GSM7);
    GSM7_DEFAULT.forEach((ch, code) => {
      if (code !== ESC) table[ch.charCodeAt(0)] = code;
    });
    for (const [code, ch] of GSM7_EXTENSION) table[ch.charCodeAt(0)] = EXTENDED | code;
    codes = table;
  }
  return codes;
}

/** The septet code of one UTF-16 unit (see {@link septetCodes}). */
export function septetCodeOf(table: Int16Array, unit: number): number {
  return unit <= HIGHEST_CODE ? (table[unit] ?? NOT_GSM7) : NOT_GSM7;
}

/**
 * The septets of one character (one code point): one for the default table, two (ESC + code) for the
 * extension table, `undefined` when the character is not in GSM 7-bit at all.
 */
export function gsm7SeptetsOf(ch: string): readonly number[] | undefined {
  return ENCODE.get(ch);
}

/** True when every character of `text` is in the default alphabet or its extension table. */
export function isGsm7(text: string): boolean {
  const table = septetCodes();
  for (let i = 0; i < text.length; i++)
    if (septetCodeOf(table, text.charCodeAt(i)) === NOT_GSM7) return false;
  return true;
}

/**
 * Septets → text. ESC + a code the extension table does not define shows the default-table
 * character of that code; ESC ESC and an ESC at the very end show a space (23.038 §6.2.1 note 1 and
 * §6.2.1.1).
 */
export function fromGsm7Septets(septets: ArrayLike<number>): string {
  let out = "";
  for (let i = 0; i < septets.length; i++) {
    const code = (septets[i] ?? 0) & 0x7f;
    if (code !== ESC) {
      out += GSM7_DEFAULT[code];
      continue;
    }
    const next = i + 1 < septets.length ? (septets[i + 1] ?? 0) & 0x7f : undefined;
    i++;
    if (next === undefined || next === ESC) out += " ";
    else out += GSM7_EXTENSION.get(next) ?? GSM7_DEFAULT[next];
  }
  return out;
}

/**
 * Packs septets LSB first into octets, after `fillBits` zero bits (0..6). With a user data header of
 * n octets the fill is `(7 - (8n % 7)) % 7` bits so the first character starts on a septet boundary.
 */
export function packSeptets(septets: readonly number[], fillBits = 0): Uint8Array {
  const out = new Uint8Array(Math.ceil((fillBits + septets.length * 7) / 8));
  let bit = fillBits;
  for (const septet of septets) {
    const index = bit >> 3;
    const shift = bit & 7;
    out[index] = (out[index] ?? 0) | ((septet << shift) & 0xff);
    if (shift > 1) out[index + 1] = (out[index + 1] ?? 0) | (septet >> (8 - shift));
    bit += 7;
  }
  return out;
}

/**
 * Unpacks `count` septets from packed octets, septet k starting at bit 7k. Septets the octets do not
 * reach read as far as they go (callers check lengths first).
 */
export function unpackSeptets(octets: Uint8Array, count: number): number[] {
  const out: number[] = [];
  for (let k = 0; k < count; k++) {
    const bit = 7 * k;
    const index = bit >> 3;
    const shift = bit & 7;
    let value = (octets[index] ?? 0) >> shift;
    if (shift > 1) value |= (octets[index + 1] ?? 0) << (8 - shift);
    out.push(value & 0x7f);
  }
  return out;
}
