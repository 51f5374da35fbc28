/**
 * HTTP Digest authentication as SIP uses it (RFC 3261 §22.4 on RFC 2617 / RFC 7616, SHA-256 for SIP
 * by RFC 8760): `DigestAuth` checks MESSAGE/REGISTER from outside `sip.trusted` (server side), and
 * `authorize` answers the upstream's challenge to our REGISTER (client side).
 *
 *   HA1      = H(username ":" realm ":" password)            (-sess: H(HA1 ":" nonce ":" cnonce))
 *   HA2      = H(method ":" uri)                              (qop=auth)
 *   response = H(HA1 ":" nonce ":" nc ":" cnonce ":" qop ":" HA2)    RFC 7616 §3.4.1
 *            = H(HA1 ":" nonce ":" HA2)                        (no qop, RFC 2069; client side only)
 *
 * Server nonces are stateless and signed (docs/sip-bodies.md):
 *
 *   <issued ms, 12 hex> "." <random, 16 hex> "." <HMAC-SHA-256(secret, issued "." random "." realm),
 *                                                first 16 octets, 32 hex>
 *
 * so any nonce we issued can be checked without keeping it, and it expires `nonceTtlMs` after
 * issue (then `stale=TRUE`: the client retries with a fresh nonce without asking its user again,
 * RFC 7616 §3.3). The one piece of state is replay protection: per nonce in use, the highest nc
 * accepted; a request must bring a higher one (so each (nonce, nc) is accepted once). The table is
 * bounded (`maxNonces`): entries leave when their nonce expires, and when it is full the oldest entry
 * is dropped and every nonce issued up to that one is then answered as stale, never trusted afresh.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { SiteError } from "../core/errors.js";

export type DigestAlgorithm = "MD5" | "SHA-256";

export interface DigestAuthOptions {
  realm: string;
  /** User name → password. */
  users: Record<string, string>;
  /** Lifetime of a nonce from its issue, ms. */
  nonceTtlMs: number;
  /** Clock, ms since the epoch. Default Date.now. */
  now?: () => number;
  /** Offered algorithms, most preferred first (RFC 8760). Default ["SHA-256", "MD5"]. */
  algorithms?: DigestAlgorithm[];
  /** HMAC key of the nonces. Default: 32 random octets per process (nonces do not survive a restart). */
  secret?: string | Uint8Array;
  /** Most nonces tracked for replay protection. Default 10000. */
  maxNonces?: number;
}

export type DigestVerifyResult = { ok: true; user: string } | { ok: false; stale?: boolean; reason: string };

export interface AuthorizeOptions {
  username: string;
  password: string;
  method: string;
  /** The digest-uri: for SIP the Request-URI, e.g. `sip:registrar.example.org`. */
  uri: string;
  /** Default: 16 random hex digits. */
  cnonce?: string;
  /** Nonce count, 1 for the first request with a nonce, then 2, 3, … */
  nc: number;
}

const HASH_OF: Readonly<Record<string, string>> = {
  MD5: "md5",
  "MD5-SESS": "md5",
  "SHA-256": "sha256",
  "SHA-256-SESS": "sha256",
};

function hash(algorithm: string, text: string): string {
  const name = HASH_OF[algorithm.toUpperCase()];
  if (name === undefined) throw new SiteError("sip.auth", `unsupported digest algorithm ${algorithm}`);
  return createHash(name).update(text, "utf8").digest("hex");
}

export interface DigestResponseInput {
  algorithm: string;
  username: string;
  realm: string;
  password: string;
  method: string;
  uri: string;
  nonce: string;
  /** With qop: "auth" (auth-int is not supported). Without: the RFC 2069 form. */
  qop?: string;
  /** 8 hex digits, e.g. "00000001" (with qop). */
  nc?: string;
  cnonce?: string;
}

/** The `response` value (RFC 7616 §3.4.1; -sess per §3.4.2). */
export function digestResponse(input: DigestResponseInput): string {
  const { algorithm, username, realm, password, method, uri, nonce, qop, nc = "", cnonce = "" } = input;
  let ha1 = hash(algorithm, `${username}:${realm}:${password}`);
  if (algorithm.toUpperCase().endsWith("-SESS")) ha1 = hash(algorithm, `${ha1}:${nonce}:${cnonce}`);
  const ha2 = hash(algorithm, `${method}:${uri}`);
  if (qop === undefined) return hash(algorithm, `${ha1}:${nonce}:${ha2}`);
  return hash(algorithm, `${ha1}:${nonce}:${nc}:${cnonce}:${qop}:${ha2}`);
}

// ---------------------------------------------------------------------------------------------
// Header parsing: `Digest` auth-param *( "," auth-param ), auth-param = token "=" (token / quoted)
// (RFC 7235 §2.1, RFC 3261 §25.1). Names are case-insensitive; each at most once.

const TOKEN = /[!#$%&'*+\-.^_`|~0-9A-Za-z]/;

/**
 * The parameters of the first `Digest` challenge or credentials in a header value (lower-case names).
 * Returns undefined when the value holds no well-formed Digest parameter list.
 */
export function parseDigestParams(header: string): Record<string, string> | undefined {
  if (typeof header !== "string") return undefined;
  const start = /(?:^|[\s,])Digest\s+/i.exec(header);
  if (start === null) return undefined;
  let i = start.index + start[0].length;
  const params: Record<string, string> = Object.create(null);
  let count = 0;
  const skip = (chars: RegExp) => {
    while (i < header.length && chars.test(header[i] ?? "")) i++;
  };
  for (;;) {
    skip(/[\s,]/);
    if (i >= header.length) break;
    const nameStart = i;
    while (i < header.length && TOKEN.test(header[i] ?? "")) i++;
    const name = header.slice(nameStart, i).toLowerCase();
    if (name === "") return undefined;
    skip(/\s/);
    // A token not followed by "=" starts the next challenge (e.g. `, Basic realm=…`).
    if (header[i] !== "=") {
      if (count === 0) return undefined;
      break;
    }
    i++;
    skip(/\s/);
    let value = "";
    if (header[i] === '"') {
      i++;
      let closed = false;
      while (i < header.length) {
        const ch = header[i] ?? "";
        if (ch === "\\" && i + 1 < header.length) {
          value += header[i + 1];
          i += 2;
        } else if (ch === '"') {
          i++;
          closed = true;
          break;
        } else {
          value += ch;
          i++;
        }
      }
      if (!closed) return undefined;
    } else {
      const valueStart = i;
      while (i < header.length && TOKEN.test(header[i] ?? "")) i++;
      value = header.slice(valueStart, i);
      if (value === "") return undefined;
    }
    if (name in params) return undefined;
    params[name] = value;
    count++;
    skip(/\s/);
    if (i < header.length && header[i] !== ",") return undefined;
  }
  return count === 0 ? undefined : params;
}

function quote(value: string): string {
  return `"${value.replace(/[\\"]/g, (ch) => `\\${ch}`)}"`;
}

// ---------------------------------------------------------------------------------------------
// Client side.

/**
 * The Authorization (or Proxy-Authorization) value answering `challengeHeader` (a WWW-Authenticate or
 * Proxy-Authenticate value). qop=auth when offered, else the RFC 2069 form; MD5, SHA-256 and their
 * -sess variants. Throws `SiteError("sip.auth")` for a challenge it cannot answer.
 */
export function authorize(challengeHeader: string, options: AuthorizeOptions): string {
  const challenge = parseDigestParams(challengeHeader);
  if (challenge === undefined) {
    throw new SiteError("sip.auth", "not a Digest challenge", { detail: { reason: "parse" } });
  }
  const { realm, nonce } = challenge;
  if (realm === undefined || nonce === undefined) {
    throw new SiteError("sip.auth", "Digest challenge without realm or nonce", {
      detail: { reason: "parse" },
    });
  }
  const algorithm = challenge["algorithm"] ?? "MD5";
  if (HASH_OF[algorithm.toUpperCase()] === undefined) {
    throw new SiteError("sip.auth", `unsupported digest algorithm ${algorithm}`, {
      detail: { reason: "algorithm", algorithm },
    });
  }
  const { username, password, method, uri, nc } = options;
  if (!Number.isInteger(nc) || nc < 1 || nc > 0xffffffff) {
    throw new SiteError("sip.auth", `nc must be 1..ffffffff, got ${nc}`, { detail: { reason: "nc" } });
  }
  const offered = (challenge["qop"] ?? "").split(",").map((q) => q.trim().toLowerCase());
  const useQop = challenge["qop"] !== undefined;
  if (useQop && !offered.includes("auth")) {
    throw new SiteError("sip.auth", `only qop=auth is supported, offered ${challenge["qop"]}`, {
      detail: { reason: "qop" },
    });
  }
  const cnonce = options.cnonce ?? randomBytes(8).toString("hex");
  const ncText = nc.toString(16).padStart(8, "0");
  const response = digestResponse({
    algorithm,
    username,
    realm,
    password,
    method,
    uri,
    nonce,
    ...(useQop ? { qop: "auth", nc: ncText, cnonce } : {}),
  });
  const parts = [
    `username=${quote(username)}`,
    `realm=${quote(realm)}`,
    `nonce=${quote(nonce)}`,
    `uri=${quote(uri)}`,
    `response=${quote(response)}`,
  ];
  if (challenge["algorithm"] !== undefined) parts.push(`algorithm=${algorithm}`);
  if (useQop) parts.push(`cnonce=${quote(cnonce)}`, "qop=auth", `nc=${ncText}`);
  if (challenge["opaque"] !== undefined) parts.push(`opaque=${quote(challenge["opaque"])}`);
  return `Digest ${parts.join(", ")}`;
}

// ---------------------------------------------------------------------------------------------
// Server side.

const NONCE_FORMAT = /^([0-9a-f]{12})\.([0-9a-f]{16})\.([0-9a-f]{32})$/;
/** A nonce "issued" this far in the future is not one of ours (clock steps aside). */
const FUTURE_SKEW_MS = 5_000;
const PRUNE_INTERVAL_MS = 1_000;

interface Tracked {
  issuedAt: number;
  expiresAt: number;
  lastNc: number;
}

export class DigestAuth {
  private readonly realm: string;
  private readonly users: Record<string, string>;
  private readonly ttl: number;
  private readonly now: () => number;
  private readonly algorithms: DigestAlgorithm[];
  private readonly secret: Buffer;
  private readonly maxNonces: number;
  /** nonce → replay state, in order of first use. */
  private readonly tracked = new Map<string, Tracked>();
  /** Nonces issued at or before this time that are not tracked were evicted: stale. */
  private evictedUpTo = Number.NEGATIVE_INFINITY;
  private lastPrune = Number.NEGATIVE_INFINITY;

  constructor(options: DigestAuthOptions) {
    const { realm, users, nonceTtlMs, now = Date.now, algorithms = ["SHA-256", "MD5"], maxNonces } = options;
    if (typeof realm !== "string" || realm === "") {
      throw new SiteError("sip.auth", "digest realm must be a non-empty string", {
        detail: { reason: "config" },
      });
    }
    if (!Number.isFinite(nonceTtlMs) || nonceTtlMs <= 0) {
      throw new SiteError("sip.auth", `nonceTtlMs must be positive, got ${nonceTtlMs}`, {
        detail: { reason: "config" },
      });
    }
    if (algorithms.length === 0 || algorithms.some((a) => a !== "MD5" && a !== "SHA-256")) {
      throw new SiteError("sip.auth", `algorithms must be MD5 and/or SHA-256, got ${algorithms.join(",")}`, {
        detail: { reason: "config" },
      });
    }
    this.realm = realm;
    this.users = { ...users };
    this.ttl = nonceTtlMs;
    this.now = now;
    this.algorithms = [...algorithms];
    this.secret =
      options.secret === undefined
        ? randomBytes(32)
        : typeof options.secret === "string"
          ? Buffer.from(options.secret, "utf8")
          : Buffer.from(options.secret);
    this.maxNonces = maxNonces ?? 10_000;
  }

  /** A fresh nonce: issue time, random, HMAC (see the file comment). */
  private newNonce(): string {
    const issued = Math.max(0, Math.floor(this.now())).toString(16).padStart(12, "0");
    const random = randomBytes(8).toString("hex");
    return `${issued}.${random}.${this.mac(issued, random)}`;
  }

  private mac(issued: string, random: string): string {
    return createHmac("sha256", this.secret)
      .update(`${issued}.${random}.${this.realm}`, "utf8")
      .digest()
      .subarray(0, 16)
      .toString("hex");
  }

  /** The issue time of a nonce we made, or undefined. */
  private nonceIssuedAt(nonce: string): number | undefined {
    const m = NONCE_FORMAT.exec(nonce);
    if (m === null) return undefined;
    const [, issued = "", random = "", mac = ""] = m;
    const expected = Buffer.from(this.mac(issued, random), "hex");
    if (!timingSafeEqual(expected, Buffer.from(mac, "hex"))) return undefined;
    return Number.parseInt(issued, 16);
  }

  /**
   * One WWW-Authenticate value per offered algorithm, most preferred first, each with its own
   * fresh nonce; send them all as separate headers (RFC 7616 §3.7, RFC 8760).
   */
  challenges(stale = false): string[] {
    return this.algorithms.map((algorithm) => {
      const parts = [
        `realm=${quote(this.realm)}`,
        `nonce=${quote(this.newNonce())}`,
        `algorithm=${algorithm}`,
      ];
      parts.push('qop="auth"');
      if (stale) parts.push("stale=TRUE");
      return `Digest ${parts.join(", ")}`;
    });
  }

  /** The most preferred challenge alone (see `challenges`). */
  challenge(stale = false): string {
    return this.challenges(stale)[0] ?? "";
  }

  /** Checks an Authorization value of a request `method` to `uri` (the Request-URI). Never throws. */
  verify(method: string, uri: string, authorizationHeader: string | undefined): DigestVerifyResult {
    const p = authorizationHeader === undefined ? undefined : parseDigestParams(authorizationHeader);
    if (p === undefined) return { ok: false, reason: "no Digest credentials" };
    const { username, realm, nonce, response, qop, nc, cnonce } = p;
    const digestUri = p["uri"];
    if (
      username === undefined ||
      realm === undefined ||
      nonce === undefined ||
      digestUri === undefined ||
      response === undefined
    ) {
      return { ok: false, reason: "credentials lack username, realm, nonce, uri or response" };
    }
    if (realm !== this.realm) return { ok: false, reason: `wrong realm ${JSON.stringify(realm)}` };
    const algorithm = (p["algorithm"] ?? "MD5").toUpperCase();
    const offered = this.algorithms.find((a) => a === algorithm);
    if (offered === undefined) return { ok: false, reason: `algorithm ${algorithm} not offered` };
    if (qop === undefined || qop.toLowerCase() !== "auth") return { ok: false, reason: "qop=auth required" };
    if (nc === undefined || !/^[0-9a-fA-F]{8}$/.test(nc) || cnonce === undefined || cnonce === "") {
      return { ok: false, reason: "nc (8 hex digits) and cnonce required" };
    }
    // RFC 3261 §22.4: the digest-uri must be the Request-URI.
    if (digestUri !== uri) return { ok: false, reason: "digest uri is not the Request-URI" };
    if (typeof method !== "string" || method === "") return { ok: false, reason: "no method" };
    if (!Object.hasOwn(this.users, username))
      return { ok: false, reason: `unknown user ${JSON.stringify(username)}` };
    const password = this.users[username] ?? "";
    const expected = digestResponse({
      algorithm: offered,
      username,
      realm,
      password,
      method,
      uri: digestUri,
      nonce,
      qop: "auth",
      nc,
      cnonce,
    });
    const given = Buffer.from(response.toLowerCase(), "utf8");
    const wanted = Buffer.from(expected, "utf8");
    if (given.length !== wanted.length || !timingSafeEqual(given, wanted)) {
      return { ok: false, reason: "wrong password or digest" };
    }

    // The client knows the password; from here on a refusal of the nonce is "stale".
    const now = this.now();
    const issuedAt = this.nonceIssuedAt(nonce);
    if (issuedAt === undefined) return { ok: false, stale: true, reason: "nonce not issued here" };
    if (issuedAt > now + FUTURE_SKEW_MS) return { ok: false, stale: true, reason: "nonce from the future" };
    if (now - issuedAt > this.ttl) return { ok: false, stale: true, reason: "nonce expired" };

    this.prune(now);
    const count = Number.parseInt(nc, 16);
    const entry = this.tracked.get(nonce);
    if (entry === undefined) {
      if (issuedAt <= this.evictedUpTo) return { ok: false, stale: true, reason: "nonce no longer tracked" };
      if (count < 1) return { ok: false, reason: "nc must start at 00000001" };
      this.track(nonce, { issuedAt, expiresAt: issuedAt + this.ttl, lastNc: count });
      return { ok: true, user: username };
    }
    if (count <= entry.lastNc) {
      return {
        ok: false,
        reason: `nc ${nc} not above ${entry.lastNc.toString(16).padStart(8, "0")} (replay)`,
      };
    }
    entry.lastNc = count;
    return { ok: true, user: username };
  }

  /** Nonces tracked for replay protection (for tests and state). */
  get trackedNonces(): number {
    return this.tracked.size;
  }

  private track(nonce: string, entry: Tracked): void {
    while (this.tracked.size >= this.maxNonces) {
      const oldest = this.tracked.entries().next();
      if (oldest.done === true) break;
      const [key, value] = oldest.value;
      this.tracked.delete(key);
      this.evictedUpTo = Math.max(this.evictedUpTo, value.issuedAt);
    }
    this.tracked.set(nonce, entry);
  }

  /** Drops entries whose nonce has expired (refused as expired anyway); at most once a second. */
  private prune(now: number): void {
    if (now - this.lastPrune < PRUNE_INTERVAL_MS && this.tracked.size < this.maxNonces) return;
    this.lastPrune = now;
    for (const [key, value] of this.tracked) {
      if (value.expiresAt < now) this.tracked.delete(key);
    }
  }
}
