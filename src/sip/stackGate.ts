/**
 * What the stack lets through to sip.js's parsers, and what it answers itself. No I/O.
 *
 * sip.js 0.0.6 drops a message missing Call-ID, To, From, CSeq or Via without a word, delivers a
 * datagram whose body is shorter than its Content-Length with the body cut (RFC 3261 §18.3: a
 * request gets 400, a response is discarded), and keeps the bytes after a Content-Length of 0 as
 * the body. Every datagram and every framed stream message passes {@link inspectMessage} first.
 */
import sip, { type SipWireMessage } from "sip";
import { makeResponse } from "./stackMessages.js";
import { contentLengthOf, MAX_BODY_BYTES, MAX_HEAD_BYTES, START_LINE } from "./stackWire.js";
import type { SipRequest, SipVia } from "./types.js";

export type GateVerdict =
  /** Hand `text` (in byte form, the body cut to its Content-Length) to sip.js. */
  | { kind: "pass"; text: string }
  /** Blank: a CRLF keep-alive. */
  | { kind: "ignore" }
  /** Not answerable: log and forget. */
  | { kind: "drop"; reason: string }
  /** A request we answer ourselves with `reply` (the response's bytes), never seen by sip.js. */
  | { kind: "reject"; reason: string; status: number; reply: string };

function mandatoryMissing(m: SipWireMessage): string[] {
  const h = m.headers;
  const missing: string[] = [];
  const via = h.via as SipVia[] | undefined;
  if (!Array.isArray(via) || via.length === 0 || !via[0]?.host || !via[0]?.protocol) missing.push("Via");
  if (typeof h["call-id"] !== "string" || h["call-id"] === "") missing.push("Call-ID");
  if (!h.from) missing.push("From");
  if (!h.to) missing.push("To");
  const cseq = h.cseq as { seq?: number; method?: string } | undefined;
  if (!cseq || !Number.isFinite(cseq.seq) || !cseq.method) missing.push("CSeq");
  return missing;
}

/**
 * The bytes of a `status` response to the request whose header section is `head` (byte form), or
 * undefined when it is no request that can be answered: a response, an ACK, no usable Via.
 */
export function refusal(head: string, status: number, reason: string): string | undefined {
  const m = sip.parse(`${head}\r\n\r\n`);
  return m === undefined ? undefined : refusalOf(m, status, reason);
}

function refusalOf(m: SipWireMessage, status: number, reason: string): string | undefined {
  if (m.method === undefined || m.method === "ACK") return undefined;
  const via = m.headers.via as SipVia[] | undefined;
  if (!Array.isArray(via) || !via[0]?.host || !via[0]?.protocol) return undefined;
  const res = makeResponse(m as unknown as SipRequest, status, reason);
  return sip.stringify(res as unknown as SipWireMessage);
}

function refuse(head: string, status: number, reason: string, why: string): GateVerdict {
  const reply = refusal(head, status, reason);
  return reply === undefined ? { kind: "drop", reason: why } : { kind: "reject", reason: why, status, reply };
}

/**
 * The verdict on one message in byte form: a whole datagram (`datagram`: its Content-Length, when
 * there is one, is checked against the bytes that came), or one message framed off a stream.
 */
export function inspectMessage(raw: string, datagram: boolean): GateVerdict {
  const text = raw.replace(/^[\r\n\t \0]+/, "");
  if (text === "") return { kind: "ignore" };
  const lineEnd = text.indexOf("\r\n");
  if (!START_LINE.test(lineEnd < 0 ? text.slice(0, 200) : text.slice(0, lineEnd))) {
    return { kind: "drop", reason: "not a SIP start line" };
  }
  const headEnd = text.indexOf("\r\n\r\n");
  if (headEnd < 0) return { kind: "drop", reason: "no blank line after the headers (truncated?)" };
  const head = text.slice(0, headEnd);
  let body = text.slice(headEnd + 4);
  if (headEnd > MAX_HEAD_BYTES) return refuse(head, 513, "Message Too Large", "header section too long");

  const length = contentLengthOf(head);
  if (length === "invalid")
    return refuse(head, 400, "Bad Request (invalid Content-Length)", "invalid Content-Length");
  if (typeof length === "number") {
    if (length > body.length) {
      return refuse(
        head,
        400,
        "Bad Request (body shorter than Content-Length)",
        `Content-Length ${length}, body ${body.length} bytes`,
      );
    }
    body = body.slice(0, length);
  } else if (!datagram) {
    return refuse(head, 400, "Bad Request (no Content-Length)", "no Content-Length on a stream");
  }
  if (body.length > MAX_BODY_BYTES) return refuse(head, 513, "Message Too Large", "body too large");

  const m = sip.parse(`${head}\r\n\r\n`);
  if (m === undefined) return { kind: "drop", reason: "malformed header section" };
  const missing = mandatoryMissing(m);
  if (missing.length > 0) {
    const what = `missing or malformed ${missing.join(", ")}`;
    const reply = refusalOf(m, 400, `Bad Request (${what})`);
    return reply === undefined
      ? { kind: "drop", reason: what }
      : { kind: "reject", reason: what, status: 400, reply };
  }
  const cseq = m.headers.cseq as { method: string };
  if (m.method !== undefined && cseq.method !== m.method) {
    const what = `CSeq method ${cseq.method} in a ${m.method}`;
    const reply = refusalOf(m, 400, "Bad Request (CSeq method does not match)");
    return reply === undefined
      ? { kind: "drop", reason: what }
      : { kind: "reject", reason: what, status: 400, reply };
  }
  return { kind: "pass", text: `${head}\r\n\r\n${body}` };
}
