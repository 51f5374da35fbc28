/**
 * TP-DCS → alphabet and message class (3GPP TS 23.038 §4, "SMS Data Coding Scheme").
 *
 *   00xx xxxx / 01xx xxxx  general data coding (01: marked for automatic deletion)
 *                          bit 5 compressed, bit 4 class present, bits 3-2 alphabet, bits 1-0 class
 *   1000 .. 1011           reserved coding groups
 *   1100 / 1101            message waiting indication, discard / store, GSM 7-bit
 *   1110                   message waiting indication, store, UCS2
 *   1111                   bit 2 alphabet (0 GSM 7-bit, 1 8-bit data), bits 1-0 class (always)
 *
 * "Any reserved codings shall be assumed to be the GSM 7 bit default alphabet" (§4), so reserved
 * groups and the reserved alphabet 11 decode as GSM 7-bit.
 */

export type Alphabet = "gsm7" | "8bit" | "ucs2";

export interface DataCoding {
  alphabet: Alphabet;
  /** 0 flash, 1 ME-specific, 2 SIM-specific, 3 TE-specific; absent when the DCS gives none. */
  messageClass?: 0 | 1 | 2 | 3;
  /** Compressed text (23.042): we cannot inflate it, the octets are handed on as 8-bit data. */
  compressed: boolean;
}

const ALPHABETS: readonly Alphabet[] = ["gsm7", "8bit", "ucs2", "gsm7"];

/** Interprets one TP-DCS octet. */
export function interpretDcs(dcs: number): DataCoding {
  const group = dcs >> 4;
  const messageClass = (dcs & 0x03) as 0 | 1 | 2 | 3;
  if (group <= 0x7) {
    const compressed = (dcs & 0x20) !== 0;
    const alphabet = compressed ? "8bit" : (ALPHABETS[(dcs >> 2) & 0x03] ?? "gsm7");
    return dcs & 0x10 ? { alphabet, messageClass, compressed } : { alphabet, compressed };
  }
  if (group === 0xe) return { alphabet: "ucs2", compressed: false };
  if (group === 0xf) return { alphabet: dcs & 0x04 ? "8bit" : "gsm7", messageClass, compressed: false };
  return { alphabet: "gsm7", compressed: false };
}
