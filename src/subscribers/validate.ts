/**
 * Checks on what comes into the subscriber cache: one subscriber (`subscriber/upsert`, code
 * `sub.invalid`) and a whole sync request (`subscriber/sync`, code `sync.invalid`). Pure functions:
 * every error names the field (and, in a sync, the list and index) so the NOC can fix the source.
 *
 *   imsi    14-15 digits                     "641100123456789"
 *   msisdn  "+", then 6-15 digits, no 0 first "+256772000001"   (E.164 with its country code)
 *   name    0-256 characters, no control characters (no line break: the canonical form is by line)
 *   status  "active" | "suspended"
 */
import { SiteError, type SiteErrorCode } from "../core/errors.js";

export type SubscriberStatus = "active" | "suspended";
export const SUBSCRIBER_STATUSES: readonly SubscriberStatus[] = ["active", "suspended"];

export const IMSI_PATTERN = /^\d{14,15}$/;
export const MSISDN_PATTERN = /^\+[1-9]\d{5,14}$/;
/** Longest name kept, in characters (code points). */
export const NAME_MAX = 256;
/** Most subscribers one `list()` call returns. */
export const LIST_MAX = 1000;

/** Printable ASCII up to NAME_MAX: a name that needs no closer look. */
const PLAIN_NAME = new RegExp(`^[\\x20-\\x7e]{0,${NAME_MAX}}$`);
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
const LONE_SURROGATE = /\p{Cs}/u;
const HASH_PATTERN = /^[0-9a-fA-F]{64}$/;

/** What `subscriber/upsert` carries. Omitted `name`/`status`: kept for a known IMSI, `''`/`active` for a new one. */
export interface SubscriberInput {
  imsi: string;
  msisdn: string;
  name?: string | undefined;
  status?: SubscriberStatus | undefined;
}

/** One subscriber in a sync: a whole row of the core's table. */
export interface SyncEntry {
  imsi: string;
  msisdn: string;
  /** Default `''`. */
  name?: string;
  /** Default `active`. */
  status?: SubscriberStatus;
}

/** `subscriber/sync` as the contract (section 3) defines it. */
export interface SyncRequest {
  mode: "full" | "delta";
  /** The version this delta applies to; ignored (may be left out) in a full sync. */
  from_version?: number | null;
  /** The version the site is at once this is applied. */
  version: number;
  /** SHA-256 (hex) of the canonical text of the whole table after applying. */
  hash: string;
  subscribers: SyncEntry[];
  /** IMSIs to delete (delta only; ignored in a full sync). */
  removed?: string[];
}

/** A sync request once checked: entries complete, hash in lower case. */
export interface CheckedSync {
  mode: "full" | "delta";
  fromVersion: number | null;
  version: number;
  hash: string;
  subscribers: Required<SyncEntry>[];
  removed: string[];
}

/** Why a value is not acceptable, or undefined when it is. */
export function imsiProblem(v: unknown): string | undefined {
  if (typeof v !== "string") return "must be a string of 14-15 digits";
  if (!IMSI_PATTERN.test(v)) return `must be 14-15 digits, got ${JSON.stringify(v)}`;
  return undefined;
}

export function msisdnProblem(v: unknown): string | undefined {
  if (typeof v !== "string") return 'must be a string, "+" and 6-15 digits';
  if (!MSISDN_PATTERN.test(v)) {
    return `must be E.164: "+", then 6-15 digits not starting with 0, got ${JSON.stringify(v)}`;
  }
  return undefined;
}

export function nameProblem(v: unknown): string | undefined {
  if (typeof v !== "string") return "must be a string";
  if (v.length > NAME_MAX && [...v].length > NAME_MAX) return `must be at most ${NAME_MAX} characters`;
  if (CONTROL.test(v)) return "must not contain control characters (line breaks, tabs...)";
  if (LONE_SURROGATE.test(v)) return "must be valid Unicode (it has a lone surrogate)";
  return undefined;
}

export function statusProblem(v: unknown): string | undefined {
  if (typeof v === "string" && (SUBSCRIBER_STATUSES as readonly string[]).includes(v)) return undefined;
  return `must be one of ${SUBSCRIBER_STATUSES.join(", ")}, got ${JSON.stringify(v)}`;
}

function fail(code: SiteErrorCode, where: string, problem: string, detail: Record<string, unknown>): never {
  throw new SiteError(code, `${where}: ${problem}`, { detail });
}

function entryFail(index: number, field: string, problem: string | undefined): never {
  fail("sync.invalid", `subscribers[${index}].${field}`, problem ?? "is not valid", {
    list: "subscribers",
    index,
    field,
  });
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Checks an IMSI argument; throws `sub.invalid` naming the field. */
export function checkImsi(imsi: unknown, field = "imsi"): string {
  const p = imsiProblem(imsi);
  if (p) fail("sub.invalid", field, p, { field });
  return imsi as string;
}

/** Checks an MSISDN argument; throws `sub.invalid` naming the field. */
export function checkMsisdn(msisdn: unknown, field = "msisdn"): string {
  const p = msisdnProblem(msisdn);
  if (p) fail("sub.invalid", field, p, { field });
  return msisdn as string;
}

/** Checks `subscriber/upsert` arguments; throws `sub.invalid` naming the first bad field. */
export function checkSubscriberInput(input: unknown): SubscriberInput {
  if (!isObject(input)) fail("sub.invalid", "subscriber", "must be an object", { field: "subscriber" });
  const imsi = checkImsi(input.imsi);
  const msisdn = checkMsisdn(input.msisdn);
  const out: SubscriberInput = { imsi, msisdn };
  // null is "not given", as JSON senders often write it.
  if (input.name !== undefined && input.name !== null) {
    const p = nameProblem(input.name);
    if (p) fail("sub.invalid", "name", p, { field: "name" });
    out.name = input.name as string;
  }
  if (input.status !== undefined && input.status !== null) {
    const p = statusProblem(input.status);
    if (p) fail("sub.invalid", "status", p, { field: "status" });
    out.status = input.status as SubscriberStatus;
  }
  return out;
}

function checkVersion(v: unknown, field: string): number {
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 0) {
    fail("sync.invalid", field, `must be an integer >= 0, got ${JSON.stringify(v)}`, { field });
  }
  return v;
}

/**
 * Checks a `subscriber/sync` request completely, before anything is written. Throws `sync.invalid`
 * naming the field (`detail: {field}`), or the list, index and field of an entry
 * (`detail: {list, index, field}`): a bad type, a bad value, an IMSI twice, or one MSISDN for two IMSIs.
 */
export function checkSyncRequest(req: unknown): CheckedSync {
  if (!isObject(req)) fail("sync.invalid", "request", "must be an object", { field: "request" });
  const mode = req.mode;
  if (mode !== "full" && mode !== "delta") {
    fail("sync.invalid", "mode", `must be "full" or "delta", got ${JSON.stringify(mode)}`, { field: "mode" });
  }
  const version = checkVersion(req.version, "version");
  let fromVersion: number | null = null;
  if (mode === "delta") {
    fromVersion = checkVersion(req.from_version, "from_version");
    if (version <= fromVersion) {
      fail("sync.invalid", "version", `must be greater than from_version (${fromVersion}), got ${version}`, {
        field: "version",
      });
    }
  }
  if (typeof req.hash !== "string" || !HASH_PATTERN.test(req.hash)) {
    fail("sync.invalid", "hash", "must be a SHA-256 in hex (64 characters)", { field: "hash" });
  }
  const hash = req.hash.toLowerCase();

  if (!Array.isArray(req.subscribers)) {
    fail("sync.invalid", "subscribers", "must be a list", { field: "subscribers" });
  }
  const list: unknown[] = req.subscribers;
  const subscribers: Required<SyncEntry>[] = new Array(list.length);
  // Written for 100,000 entries in V8's lite mode (no optimizing compiler): one regex per field on the
  // common path, the readable problem computed only for a bad entry, an entry copied only when a
  // default fills a field.
  const imsis = new Set<string>();
  const msisdns = new Set<string>();
  for (let index = 0; index < list.length; index++) {
    const e = list[index];
    if (!isObject(e)) {
      fail("sync.invalid", `subscribers[${index}]`, "must be an object", { list: "subscribers", index });
    }
    const { imsi, msisdn, name, status } = e;
    if (typeof imsi !== "string" || !IMSI_PATTERN.test(imsi)) entryFail(index, "imsi", imsiProblem(imsi));
    if (typeof msisdn !== "string" || !MSISDN_PATTERN.test(msisdn)) {
      entryFail(index, "msisdn", msisdnProblem(msisdn));
    }
    if (name !== undefined && name !== null && (typeof name !== "string" || !PLAIN_NAME.test(name))) {
      const np = nameProblem(name);
      if (np) entryFail(index, "name", np);
    }
    if (status !== undefined && status !== null && status !== "active" && status !== "suspended") {
      entryFail(index, "status", statusProblem(status));
    }
    if (imsis.has(imsi)) {
      const first = subscribers.findIndex((x) => x?.imsi === imsi);
      entryFail(index, "imsi", `${imsi} is also subscribers[${first}]`);
    }
    if (msisdns.has(msisdn)) {
      const first = subscribers.findIndex((x) => x?.msisdn === msisdn);
      const other = subscribers[first]?.imsi;
      entryFail(index, "msisdn", `${msisdn} is also the number of subscribers[${first}] (IMSI ${other})`);
    }
    imsis.add(imsi);
    msisdns.add(msisdn);
    subscribers[index] =
      typeof name === "string" && typeof status === "string"
        ? (e as unknown as Required<SyncEntry>)
        : {
            imsi,
            msisdn,
            name: (name as string | null) ?? "",
            status: (status as SubscriberStatus | null) ?? "active",
          };
  }

  const removed: string[] = [];
  if (req.removed !== undefined && req.removed !== null) {
    if (!Array.isArray(req.removed))
      fail("sync.invalid", "removed", "must be a list of IMSIs", { field: "removed" });
    const seen = new Set<string>();
    req.removed.forEach((imsi: unknown, index: number) => {
      const p = imsiProblem(imsi);
      if (p) fail("sync.invalid", `removed[${index}]`, p, { list: "removed", index, field: "imsi" });
      if (!seen.has(imsi as string)) removed.push(imsi as string);
      seen.add(imsi as string);
    });
  }
  return { mode, fromVersion, version, hash, subscribers, removed: mode === "delta" ? removed : [] };
}

/**
 * The IMSI in a SIP user part as OpenBTS writes it (`IMSI641100123456789`), or a bare IMSI;
 * undefined for anything else.
 */
export function imsiFromSipUser(user: string): string | undefined {
  const digits = /^imsi/i.test(user) ? user.slice(4) : user;
  return IMSI_PATTERN.test(digits) ? digits : undefined;
}
