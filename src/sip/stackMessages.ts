/**
 * Building SIP messages: strong identifiers, responses with a To-tag, URIs, and one message ⇄
 * bytes. No I/O (the tag key is drawn from node:crypto on first use).
 *
 * sip.js 0.0.6 makes branch ids as `z9hG4bK` + `Math.round(Math.random() * 1000000)`, at most
 * a million values (about 20 bits: two live transactions share one with even odds after ~1200),
 * and its `makeResponse` copies To without ever adding a tag. Ours: 96-bit branch ids, 64-bit
 * tags, 128-bit Call-IDs from node:crypto, and a To-tag on every response above 100.
 */
import { createHmac, randomBytes } from "node:crypto";
import sip from "sip";
import { SiteError } from "../core/errors.js";
import { randomHex } from "../core/random.js";
import { fromWire, toWire } from "./stackWire.js";
import {
  isSipResponse,
  type SipHeaders,
  type SipMessage,
  type SipNameAddr,
  type SipRequest,
  type SipResponse,
  type SipUri,
} from "./types.js";

/** RFC 3261 magic cookie + 24 random hex digits. */
export function newBranch(): string {
  return `z9hG4bK${randomHex(12)}`;
}

/** A From/To tag: 16 random hex digits. */
export function newTag(): string {
  return randomHex(8);
}

/** A Call-ID: 32 random hex digits `@host`. */
export function newCallId(host: string): string {
  return `${randomHex(16)}@${host}`;
}

let tagKey: Buffer | undefined;

function hasTag(addr: SipNameAddr | undefined): boolean {
  const tag = addr?.params?.tag;
  return typeof tag === "string" && tag !== "";
}

/**
 * The To-tag this side gives to the responses of a request (or of a response's request): the
 * same for all responses of one transaction and for retransmissions of its request, since it is
 * keyed on what identifies the transaction (Call-ID, From-tag, CSeq, topmost Via's branch and
 * sent-by), and unguessable, since the key is random per process. Kept nowhere.
 */
export function toTagFor(msg: SipMessage): string {
  tagKey ??= randomBytes(32);
  const h = msg.headers as Partial<SipHeaders>;
  const via = h.via?.[0];
  const parts = [
    h["call-id"],
    h.from?.params?.tag,
    h.cseq?.seq,
    h.cseq?.method,
    via?.params?.branch,
    via?.host,
    via?.port,
  ];
  return createHmac("sha256", tagKey).update(JSON.stringify(parts)).digest("hex").slice(0, 16);
}

/** `msg` itself, or a copy whose To has the tag of {@link toTagFor}, for a response above 100. */
export function withToTag(msg: SipResponse): SipResponse {
  const to = msg.headers.to as SipNameAddr | undefined;
  if (msg.status <= 100 || to === undefined || hasTag(to)) return msg;
  return {
    ...msg,
    headers: { ...msg.headers, to: { ...to, params: { ...to.params, tag: toTagFor(msg) } } },
  };
}

export interface SipResponseExtra {
  /** Headers to add or replace (lower-case names), e.g. `{ "retry-after": "60" }`. */
  headers?: Record<string, unknown>;
  /** The body (UTF-8 on the wire). */
  content?: string;
}

/**
 * A response to `req`: Via, From, Call-ID, CSeq copied, To copied with a tag added when it has
 * none and `status` is above 100 (the same tag for every response to the same request).
 */
export function makeResponse(
  req: SipRequest,
  status: number,
  reason: string,
  extra?: SipResponseExtra,
): SipResponse {
  const h = req.headers as Partial<SipHeaders>;
  const headers: Record<string, unknown> = {
    via: (h.via ?? []).map((v) => ({ ...v, params: { ...v.params } })),
    to: h.to === undefined ? undefined : { ...h.to, params: { ...h.to.params } },
    from: h.from,
    "call-id": h["call-id"],
    cseq: h.cseq === undefined ? undefined : { ...h.cseq },
  };
  if (extra?.headers) Object.assign(headers, extra.headers);
  const res: SipResponse = { status, reason, headers: headers as SipHeaders };
  if (req.version !== undefined) res.version = req.version;
  if (extra?.content !== undefined) res.content = extra.content;
  return withToTag(res);
}

/** A SIP or SIPS URI, `port` left out when it names none; undefined when `text` is not one. */
export function parseUri(text: string | SipUri): SipUri | undefined {
  if (typeof text !== "string") return text;
  const u = sip.parseUri(text);
  if (u === undefined) return undefined;
  const uri: SipUri = { schema: u.schema, host: u.host, params: u.params, headers: u.headers };
  if (u.user !== undefined) uri.user = u.user;
  if (u.password !== undefined) uri.password = u.password;
  if (Number.isFinite(u.port)) uri.port = u.port;
  return uri;
}

export function stringifyUri(uri: string | SipUri): string {
  return sip.stringifyUri(uri);
}

/**
 * One message from its bytes (a datagram, or one framed message of a stream), strings decoded
 * from UTF-8. Throws `sip.parse` when the bytes are no SIP message.
 */
export function parseSipMessage(data: Buffer): SipMessage {
  const m = sip.parse(data.toString("latin1"));
  if (m === undefined) {
    throw new SiteError("sip.parse", "not a SIP message", {
      detail: { start: data.subarray(0, 80).toString("latin1").split("\r\n")[0] },
    });
  }
  return fromWire(m) as unknown as SipMessage;
}

/** The bytes of a message: strings in UTF-8, Content-Length the byte length of the body. */
export function stringifySipMessage(msg: SipMessage): Buffer {
  const wire = toWire(msg) as unknown as Parameters<typeof sip.stringify>[0];
  return Buffer.from(sip.stringify(wire), "latin1");
}

export { isSipResponse };
