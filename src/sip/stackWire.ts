/**
 * Bytes on the wire ⇄ the strings of the `sip` package. No I/O.
 *
 * sip.js reads and writes every message as a "binary" string: one char per byte (UDP:
 * `toString('binary')`, TCP: `setEncoding('binary')`, send: `Buffer.from(s, 'binary')`). Its
 * Content-Length is `content.length`. Both are right only for strings in that form; a JavaScript
 * string with "é" or an emoji gets a Content-Length counted in UTF-16 units and bytes cut to
 * their low 8 bits, and a received UTF-8 body comes out as Latin-1 mojibake. So every message
 * crosses {@link toWire} on its way in to sip.js and {@link fromWire} on its way out.
 *
 * {@link StreamFramer} frames a TCP byte stream into messages by Content-Length before sip.js's
 * own stream parser sees it (that parser waits forever on a non-numeric Content-Length, drops a
 * message without one silently, and reads the bytes after a too-short Content-Length as part of
 * the next message).
 */

/** Longest header section accepted (start line to the blank line). */
export const MAX_HEAD_BYTES = 32 * 1024;
/** Largest body accepted. A MESSAGE body is a few hundred bytes; RFC 3428 caps UDP ones at 1300. */
export const MAX_BODY_BYTES = 64 * 1024;

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** A JavaScript string → its UTF-8 bytes, one char per byte. */
export function utf8ToWire(text: string): string {
  return /[^\x00-\x7f]/.test(text) ? Buffer.from(text, "utf8").toString("latin1") : text;
}

/** One char per byte → the UTF-8 text; bytes that are not valid UTF-8 are read as Latin-1. */
export function wireToUtf8(wire: string): string {
  if (!/[\x80-\xff]/.test(wire)) return wire;
  try {
    return utf8.decode(Buffer.from(wire, "latin1"));
  } catch {
    return wire;
  }
}

function mapStrings(value: unknown, f: (s: string) => string): unknown {
  if (typeof value === "string") return f(value);
  if (Array.isArray(value)) return value.map((v) => mapStrings(v, f));
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [key, v] of Object.entries(value)) out[key] = mapStrings(v, f);
    return out;
  }
  return value;
}

function anyString(value: unknown, test: RegExp): boolean {
  if (typeof value === "string") return test.test(value);
  if (Array.isArray(value)) return value.some((v) => anyString(v, test));
  if (value !== null && typeof value === "object") {
    for (const key in value) if (anyString((value as Record<string, unknown>)[key], test)) return true;
  }
  return false;
}

/**
 * `value` itself when all its strings are ASCII (the byte form is the same), else {@link toWire}'s
 * copy. Only for what sip.js does not change: responses (its `send` only serialises them).
 */
export function toWireShared<T>(value: T): T {
  return anyString(value, /[^\x00-\x7f]/) ? toWire(value) : value;
}

/** A deep copy of a message (or any part of one) with every string in sip.js's byte form. */
export function toWire<T>(value: T): T {
  return mapStrings(value, utf8ToWire) as T;
}

/** A deep copy of a message from sip.js with every string decoded from UTF-8. */
export function fromWire<T>(value: T): T {
  return mapStrings(value, wireToUtf8) as T;
}

/** A request line or a status line (the first line of every SIP message). */
export const START_LINE =
  /^(?:[A-Za-z0-9.!%*_+`'~-]+[ \t]+\S+[ \t]+SIP\/\d+\.\d+|SIP\/\d+\.\d+[ \t]+\d{3}(?:[ \t].*)?)[ \t]*$/;

/**
 * The Content-Length of a header section: a number, "missing", or "invalid" (not digits, or
 * several that differ). Compact form `l:` included.
 */
export function contentLengthOf(head: string): number | "missing" | "invalid" {
  let found: string | undefined;
  for (const line of head.split("\r\n").slice(1)) {
    const m = /^(?:content-length|l)[ \t]*:[ \t]*(.*?)[ \t]*$/i.exec(line);
    if (!m) continue;
    const value = m[1] ?? "";
    if (found !== undefined && found !== value) return "invalid";
    found = value;
  }
  if (found === undefined) return "missing";
  if (!/^\d{1,9}$/.test(found)) return "invalid";
  return Number(found);
}

export type FramedItem =
  /** One whole message, head and body, in byte form. */
  | { kind: "message"; text: string }
  /** The stream cannot be framed any more; `head` is the header section when there was one. */
  | { kind: "error"; reason: string; status: 400 | 513; head?: string };

/**
 * Frames a SIP byte stream (RFC 3261 §18.3: Content-Length is mandatory on streams). Feed it the
 * byte-form chunks as they come; a multi-byte character split between chunks is no concern, it is
 * only decoded once the whole message is there. CRLF keep-alives between messages are skipped.
 * After an error it returns nothing more: the caller closes the connection.
 */
export class StreamFramer {
  private buffer = "";
  private failed = false;

  push(chunk: string): FramedItem[] {
    if (this.failed) return [];
    this.buffer += chunk;
    const out: FramedItem[] = [];
    for (;;) {
      const start = /^[\r\n]*/.exec(this.buffer)?.[0].length ?? 0;
      if (start > 0) this.buffer = this.buffer.slice(start);
      if (this.buffer === "") break;

      const lineEnd = this.buffer.indexOf("\r\n");
      const startsWell = /^[A-Za-z0-9.!%*_+`'~-]/.test(this.buffer);
      if (!startsWell || (lineEnd >= 0 && !START_LINE.test(this.buffer.slice(0, lineEnd)))) {
        return this.fail(out, "not a SIP start line (bytes left over from a wrong Content-Length?)", 400);
      }
      const headEnd = this.buffer.indexOf("\r\n\r\n");
      if (headEnd < 0) {
        if (this.buffer.length > MAX_HEAD_BYTES) return this.fail(out, "header section too long", 513);
        break;
      }
      const head = this.buffer.slice(0, headEnd);
      if (headEnd > MAX_HEAD_BYTES) return this.fail(out, "header section too long", 513, head);
      const length = contentLengthOf(head);
      if (length === "missing") return this.fail(out, "no Content-Length on a stream", 400, head);
      if (length === "invalid") return this.fail(out, "invalid Content-Length", 400, head);
      if (length > MAX_BODY_BYTES) return this.fail(out, `body of ${length} bytes too large`, 513, head);
      const end = headEnd + 4 + length;
      if (this.buffer.length < end) break;
      out.push({ kind: "message", text: this.buffer.slice(0, end) });
      this.buffer = this.buffer.slice(end);
    }
    return out;
  }

  /** Bytes held that are not a whole message yet. */
  get pending(): number {
    return this.buffer.length;
  }

  private fail(out: FramedItem[], reason: string, status: 400 | 513, head?: string): FramedItem[] {
    this.failed = true;
    this.buffer = "";
    out.push(
      head === undefined ? { kind: "error", reason, status } : { kind: "error", reason, status, head },
    );
    return out;
  }
}
