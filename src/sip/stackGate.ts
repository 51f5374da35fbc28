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
import { MAX_BODY_BYTES, MAX_HEAD_BYTES, START_LINE } from "./stackWire.js";
import type { SipRequest, SipVia } from "./types.js";

export type GateVerdict =
  /**
   * Hand `text` (in byte form, the body cut to its Content-Length) to sip.js. `ascii`: no byte of
   * it is above 0x7F, so its strings need no UTF-8 decoding.
   */
  | { kind: "pass"; text: string; ascii: boolean }
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

/** sip.js's own Via pattern (parseVia): version, protocol, host. */
const VIA_VALUE = /^SIP\s*\/\s*[\d.]+\s*\/\s*\S+\s+[^\s;:]+/i;
const CSEQ_VALUE = /^(\d+)\s+(\S+)\s*$/;

interface QuickScan {
  contentLength: number | "missing" | "invalid";
  /** Every mandatory header is there and well formed: the method of the CSeq. */
  cseqMethod?: string;
}

/**
 * One pass over the header lines: the Content-Length (as {@link contentLengthOf}) and whether
 * Via, Call-ID, From, To and CSeq are there in a form sip.js's parser takes. Only when they are not
 * (or lines are folded) does the full parse run, to say which one is wrong. Most messages are good:
 * this spares them a second sip.js parse.
 */
function quickScan(head: string): QuickScan {
  let length: string | undefined;
  let lengthInvalid = false;
  let viaSeen = false;
  let via = false;
  let callId = false;
  let from = false;
  let to = false;
  let cseqMethod: string | undefined;
  let cseqBad = false;
  let folded = false;
  let pos = head.indexOf("\r\n");
  while (pos >= 0) {
    const start = pos + 2;
    const next = head.indexOf("\r\n", start);
    const line = next < 0 ? head.slice(start) : head.slice(start, next);
    pos = next;
    const first = line.charCodeAt(0);
    if (first === 0x20 || first === 0x09) {
      folded = true;
      continue;
    }
    const colon = line.indexOf(":");
    if (colon < 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    switch (name) {
      case "content-length":
      case "l":
        if (length !== undefined && length !== value) lengthInvalid = true;
        length = value;
        break;
      case "via":
      case "v":
        if (!viaSeen) via = VIA_VALUE.test(value);
        viaSeen = true;
        break;
      case "call-id":
      case "i":
        callId = value !== "";
        break;
      case "from":
      case "f":
        from = value !== "";
        break;
      case "to":
      case "t":
        to = value !== "";
        break;
      case "cseq": {
        const m = CSEQ_VALUE.exec(value);
        if (m === null || cseqMethod !== undefined) cseqBad = true;
        else cseqMethod = m[2];
        break;
      }
    }
  }
  let contentLength: QuickScan["contentLength"];
  if (lengthInvalid) contentLength = "invalid";
  else if (length === undefined) contentLength = "missing";
  else contentLength = /^\d{1,9}$/.test(length) ? Number(length) : "invalid";
  const complete = via && callId && from && to && !cseqBad && !folded && cseqMethod !== undefined;
  return complete ? { contentLength, cseqMethod } : { contentLength };
}

/**
 * The verdict on one message in byte form: a whole datagram (`datagram`: its Content-Length, when
 * there is one, is checked against the bytes that came), or one message framed off a stream.
 */
export function inspectMessage(raw: string, datagram: boolean): GateVerdict {
  const text = raw.replace(/^[\r\n\t \0]+/, "");
  if (text === "") return { kind: "ignore" };
  const lineEnd = text.indexOf("\r\n");
  const startLine = lineEnd < 0 ? text.slice(0, 200) : text.slice(0, lineEnd);
  if (!START_LINE.test(startLine)) return { kind: "drop", reason: "not a SIP start line" };
  const headEnd = text.indexOf("\r\n\r\n");
  if (headEnd < 0) return { kind: "drop", reason: "no blank line after the headers (truncated?)" };
  const head = text.slice(0, headEnd);
  let body = text.slice(headEnd + 4);
  if (headEnd > MAX_HEAD_BYTES) return refuse(head, 513, "Message Too Large", "header section too long");

  const scan = quickScan(head);
  const length = scan.contentLength;
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

  // A request line's method; undefined for a status line.
  const method = startLine.startsWith("SIP/") ? undefined : startLine.slice(0, startLine.search(/[ \t]/));
  let cseqMethod = scan.cseqMethod;
  if (cseqMethod === undefined) {
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
    cseqMethod = (m.headers.cseq as { method: string }).method;
  }
  if (method !== undefined && cseqMethod !== method) {
    const what = `CSeq method ${cseqMethod} in a ${method}`;
    const reply = refusal(head, 400, "Bad Request (CSeq method does not match)");
    return reply === undefined
      ? { kind: "drop", reason: what }
      : { kind: "reject", reason: what, status: 400, reply };
  }
  const passed = `${head}\r\n\r\n${body}`;
  return { kind: "pass", text: passed, ascii: !/[\x80-\xff]/.test(passed) };
}
