/**
 * The canonical form of the subscriber table (contract, section 3), shared by the site and the core:
 *
 *   one line `imsi,msisdn,name,status` per subscriber, sorted by imsi, joined by "\n"
 *   (no line break after the last line), hashed with SHA-256 over its UTF-8 bytes, in lower-case hex.
 *
 * "Sorted by imsi" compares the IMSI strings byte by byte (SQLite's BINARY collation, JavaScript's
 * default sort, Python's `sorted` on str): "64110012345678" (14 digits) sorts before
 * "641100123456780" (15). An empty table is the empty text, whose hash is {@link EMPTY_HASH}.
 */
import { createHash } from "node:crypto";
import type { SubscriberStatus } from "./validate.js";

/** SHA-256 of "" : the hash of an empty table. */
export const EMPTY_HASH = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/** The four fields the canonical form is made of. */
export interface CanonicalRow {
  imsi: string;
  msisdn: string;
  name: string;
  status: SubscriberStatus;
}

export function canonicalLine(r: CanonicalRow): string {
  return `${r.imsi},${r.msisdn},${r.name},${r.status}`;
}

/** The canonical text of a set of subscribers (any order in, sorted out). */
export function canonicalText(rows: readonly CanonicalRow[]): string {
  return [...rows]
    .sort((a, b) => (a.imsi < b.imsi ? -1 : a.imsi > b.imsi ? 1 : 0))
    .map(canonicalLine)
    .join("\n");
}

/** The canonical hash of a set of subscribers, as a sync request's `hash` must be computed. */
export function canonicalHashOf(rows: readonly CanonicalRow[]): string {
  return createHash("sha256").update(canonicalText(rows), "utf8").digest("hex");
}
