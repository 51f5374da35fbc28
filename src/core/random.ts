/**
 * Random bytes for identifiers (message ids, SIP branches, tags, Call-IDs), drawn from the same
 * CSPRNG as `crypto.randomBytes` but a pool at a time: one `randomFillSync` of 4 KiB serves a few
 * hundred ids instead of one native call (and one Buffer) per id. Never for keys or nonces that must
 * not be seen twice in memory: those use `randomBytes` directly.
 */
import { randomFillSync } from "node:crypto";

const POOL_SIZE = 4096;
let pool: Buffer | undefined;
let offset = POOL_SIZE;

function take(n: number): number {
  if (n > POOL_SIZE) throw new RangeError(`at most ${POOL_SIZE} random bytes at a time`);
  if (pool === undefined) pool = Buffer.allocUnsafe(POOL_SIZE);
  if (offset + n > POOL_SIZE) {
    randomFillSync(pool);
    offset = 0;
  }
  const start = offset;
  offset += n;
  return start;
}

/** `n` random bytes as 2n lower-case hex digits. */
export function randomHex(n: number): string {
  const start = take(n);
  return (pool as Buffer).toString("hex", start, start + n);
}

/** A random unsigned 32-bit integer. */
export function randomUint32(): number {
  const start = take(4);
  return (pool as Buffer).readUInt32BE(start);
}
