/**
 * SIP messages as the `sip` package (0.0.6) represents them, parsed or to be sent, as seen through
 * our stack (`src/sip/stack.ts`): every string is a normal JavaScript string (UTF-8 decoded from the
 * wire), never the package's one-char-per-byte form.
 *
 * Header names are lower case, compact forms expanded (`i` → `call-id`). The headers the package
 * parses are objects (below); any other header is a string, several occurrences joined with ",".
 */

/** `sip:user:password@host:port;params?headers`. `port` is absent when the URI names none. */
export interface SipUri {
  schema: string;
  user?: string;
  password?: string;
  host: string;
  port?: number;
  params: Record<string, string | null>;
  headers: Record<string, string>;
}

/** Parameters of a header value: `;tag=abc` → `{ tag: "abc" }`, `;lr` → `{ lr: null }`. */
export type SipParams = Record<string, string | null | undefined>;

/**
 * A name-addr of To, From, Contact: `"Name" <sip:…>;tag=…`. `uri` is the URI text (the package
 * does not parse it for these headers).
 */
export interface SipNameAddr {
  name?: string;
  uri: string;
  params: SipParams;
}

/** An entry of Route, Record-Route, Path: the URI is parsed (undefined when it would not parse). */
export interface SipRouteEntry {
  name?: string;
  uri: SipUri | string | undefined;
  params?: SipParams;
}

/** One Via: `SIP/2.0/UDP host:port;branch=z9hG4bK…;received=…;rport=…`. */
export interface SipVia {
  version?: string;
  protocol?: string;
  host?: string;
  port?: number;
  params: SipParams;
}

export interface SipCSeq {
  seq: number;
  method: string;
}

export interface SipHeaders {
  /** Topmost first. A request to be sent starts with `[]`: the stack adds its own Via. */
  via: SipVia[];
  to: SipNameAddr;
  from: SipNameAddr;
  "call-id": string;
  cseq: SipCSeq;
  contact?: SipNameAddr[] | "*";
  route?: SipRouteEntry[];
  "record-route"?: SipRouteEntry[];
  "content-type"?: string;
  /** As received. On send it is always replaced by the UTF-8 byte length of `content`. */
  "content-length"?: number;
  "max-forwards"?: string | number;
  [name: string]: unknown;
}

export interface SipRequest {
  method: string;
  uri: string | SipUri;
  version?: string;
  headers: SipHeaders;
  /** The body, decoded from UTF-8 (a body that is not valid UTF-8 is read as Latin-1). */
  content?: string;
  /** The body's bytes as received (requests the stack received only). */
  rawContent?: Buffer;
}

export interface SipResponse {
  status: number;
  reason: string;
  version?: string;
  headers: SipHeaders;
  content?: string;
}

export type SipMessage = SipRequest | SipResponse;

export type SipProtocol = "UDP" | "TCP";

/** Where a request came from. */
export interface SipRemote {
  protocol: SipProtocol;
  address: string;
  port: number;
}

export function isSipResponse(msg: SipMessage): msg is SipResponse {
  return typeof (msg as SipResponse).status === "number";
}
