/**
 * The page's login: one password, stored as a salted scrypt hash in `web.password_hash`
 * (`bts-site hash-password` makes one), sessions in memory, attempts rate-limited per address.
 *
 *   scrypt$<log2 N>$<r>$<p>$<salt, base64url>$<key, base64url>     e.g. scrypt$15$8$1$....$....
 *
 * No I/O but node:crypto.
 */
import { randomBytes, scrypt, timingSafeEqual } from "node:crypto";

const KEY_BYTES = 32;
const DEFAULT = { logN: 15, r: 8, p: 1 };

function scryptAsync(password: string, salt: Buffer, n: number, r: number, p: number): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(password, salt, KEY_BYTES, { N: n, r, p, maxmem: 256 * n * r + 1024 * 1024 }, (err, key) =>
      err ? reject(err) : resolve(key),
    ),
  );
}

/** A new `web.password_hash` for `password` (about 0.1 s on a Raspberry Pi 4 with the defaults). */
export async function hashPassword(
  password: string,
  o: { logN?: number; r?: number; p?: number } = {},
): Promise<string> {
  const { logN, r, p } = { ...DEFAULT, ...o };
  const salt = randomBytes(16);
  const key = await scryptAsync(password, salt, 2 ** logN, r, p);
  return `scrypt$${logN}$${r}$${p}$${salt.toString("base64url")}$${key.toString("base64url")}`;
}

/** True when `password` matches `hash`; false for a wrong password or a hash it cannot read. */
export async function verifyPassword(password: string, hash: string): Promise<boolean> {
  const m = /^scrypt\$(\d{1,2})\$(\d{1,3})\$(\d{1,3})\$([A-Za-z0-9_-]+)\$([A-Za-z0-9_-]+)$/.exec(hash);
  if (!m) return false;
  const [logN, r, p] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (logN < 10 || logN > 20 || r < 1 || p < 1) return false;
  const expected = Buffer.from(m[5]!, "base64url");
  if (expected.length !== KEY_BYTES) return false;
  const key = await scryptAsync(password, Buffer.from(m[4]!, "base64url"), 2 ** logN, r, p);
  return timingSafeEqual(key, expected);
}

/** Login attempts allowed per address in a window, and the window, ms. */
export const LOGIN_ATTEMPTS = 5;
export const LOGIN_WINDOW_MS = 60_000;
/** A session lives this long without use, ms. */
export const SESSION_IDLE_MS = 30 * 60_000;

export class Sessions {
  private readonly sessions = new Map<string, number>();
  private readonly attempts = new Map<string, number[]>();

  constructor(private readonly now: () => number = Date.now) {}

  /** A new session id (256 bits). */
  open(): string {
    const id = randomBytes(32).toString("base64url");
    this.sessions.set(id, this.now());
    return id;
  }

  /** True (and the session kept alive) when `id` is a live session. */
  valid(id: string | undefined): boolean {
    if (id === undefined) return false;
    const last = this.sessions.get(id);
    if (last === undefined) return false;
    if (this.now() - last > SESSION_IDLE_MS) {
      this.sessions.delete(id);
      return false;
    }
    this.sessions.set(id, this.now());
    return true;
  }

  close(id: string | undefined): void {
    if (id !== undefined) this.sessions.delete(id);
  }

  /** ms to wait before `address` may try again, 0 when it may try now (the attempt is counted). */
  attempt(address: string): number {
    const now = this.now();
    const recent = (this.attempts.get(address) ?? []).filter((t) => now - t < LOGIN_WINDOW_MS);
    if (recent.length >= LOGIN_ATTEMPTS) {
      this.attempts.set(address, recent);
      return LOGIN_WINDOW_MS - (now - (recent[0] ?? now));
    }
    recent.push(now);
    this.attempts.set(address, recent);
    if (this.attempts.size > 1000) this.attempts.clear();
    return 0;
  }

  /** A good password clears the address's count. */
  succeeded(address: string): void {
    this.attempts.delete(address);
  }
}
