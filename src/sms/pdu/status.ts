/**
 * TP-Status of an SMS-STATUS-REPORT (3GPP TS 23.040 §9.2.3.15):
 *
 *   0x00..0x1F  short message transaction completed            → delivered (final)
 *   0x20..0x3F  temporary error, SC still trying to transfer    → pending (another report follows)
 *   0x40..0x5F  permanent error, SC is not making more attempts → failed (final)
 *   0x60..0x7F  temporary error, SC is not making more attempts → failed (final)
 *   0x80..0xFF  reserved                                        → failed (our choice: treat as final)
 *
 * Values reserved or "specific to each SC" inside a block take the meaning of their block.
 */

export interface StatusMeaning {
  statusText: string;
  delivered: boolean;
  failed: boolean;
  pending: boolean;
}

const TEXTS: ReadonlyMap<number, string> = new Map([
  [0x00, "short message received by the SME"],
  [0x01, "short message forwarded by the SC to the SME but the SC is unable to confirm delivery"],
  [0x02, "short message replaced by the SC"],
  [0x20, "congestion"],
  [0x21, "SME busy"],
  [0x22, "no response from SME"],
  [0x23, "service rejected"],
  [0x24, "quality of service not available"],
  [0x25, "error in SME"],
  [0x40, "remote procedure error"],
  [0x41, "incompatible destination"],
  [0x42, "connection rejected by SME"],
  [0x43, "not obtainable"],
  [0x44, "quality of service not available"],
  [0x45, "no interworking available"],
  [0x46, "SM validity period expired"],
  [0x47, "SM deleted by originating SME"],
  [0x48, "SM deleted by SC administration"],
  [0x49, "SM does not exist"],
  [0x60, "congestion"],
  [0x61, "SME busy"],
  [0x62, "no response from SME"],
  [0x63, "service rejected"],
  [0x64, "quality of service not available"],
  [0x65, "error in SME"],
]);

const BLOCKS = [
  { upTo: 0x1f, label: "transaction completed", delivered: true, failed: false, pending: false },
  { upTo: 0x3f, label: "temporary error, SC still trying", delivered: false, failed: false, pending: true },
  { upTo: 0x5f, label: "permanent error", delivered: false, failed: true, pending: false },
  { upTo: 0x7f, label: "temporary error, SC stopped trying", delivered: false, failed: true, pending: false },
  { upTo: 0xff, label: "reserved", delivered: false, failed: true, pending: false },
] as const;

/** What a TP-Status octet (0..255) means for the message it reports on. */
export function statusMeaning(status: number): StatusMeaning {
  const block = BLOCKS.find((b) => status <= b.upTo) ?? BLOCKS[4];
  const specific = TEXTS.get(status);
  const hex = `0x${status.toString(16).padStart(2, "0")}`;
  let statusText: string;
  if (specific) statusText = `${block.label}: ${specific}`;
  else if (status >= 0x80) statusText = `reserved value ${hex}`;
  else statusText = `${block.label} (${(status & 0x1f) >= 0x10 ? "SC-specific" : "reserved"} value ${hex})`;
  return { statusText, delivered: block.delivered, failed: block.failed, pending: block.pending };
}
