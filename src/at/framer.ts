/**
 * AT line framer: bytes in, tokens out. Pure (no I/O), fed by the serial transport.
 *
 *   bytes ──► strip NUL ──► split on CR / LF ──► { line } tokens
 *                              └── partial "> " at the end of the buffer ──► { prompt }
 *
 * - Lines end at CR or LF; `\r\n`, `\r\r\n` (Huawei E1752 +CLAC) and bare `\n` all work; empty lines drop.
 * - The `AT+CMGS` prompt is `> ` with no line end. ModemManager requires a CRLF before it
 *   (mm-serial-parsers.c `regex_sms "\r\n>\s*$"`); python-gsmmodem does not (serial_comms.py waits for a
 *   buffer ending in `'> '`); the SIMCom SIM7670G sends `\r\n>\r\n` (gammu issue #1176). All three are
 *   accepted: a pending `>` / `> ` once the chunk is consumed, or a whole line that is just `>`.
 * - Leading NUL bytes are skipped (ModemManager does the same).
 * - A line over {@link MAX_LINE} characters without an end is cut and flagged, so garbage cannot grow the
 *   buffer without bound.
 * - A line holding control characters, or high bytes that are not UTF-8, is flagged `garbage` for the
 *   channel to log and drop; valid UTF-8 (an operator name) is decoded.
 */
export const MAX_LINE = 4096;

export type AtToken = { kind: "line"; text: string; garbage: boolean } | { kind: "prompt" };

// Control characters other than TAB, and DEL: never in a real AT reply line.
const CONTROL = /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]/;

/** A line (bytes as latin1 characters) with control characters, or high bytes that are not UTF-8. */
export function isGarbageLine(text: string): boolean {
  if (CONTROL.test(text)) return true;
  return /[\x80-\xff]/.test(text) && Buffer.from(text, "latin1").toString("utf8").includes("\ufffd");
}

/** Valid UTF-8 (an operator name, say) becomes its characters; ASCII stays as it is. */
function decodeLine(text: string): string {
  return /[\x80-\xff]/.test(text) ? Buffer.from(text, "latin1").toString("utf8") : text;
}

export class AtFramer {
  private pending = "";

  /** Feeds bytes; returns the tokens they complete, in order. */
  push(chunk: Buffer | string): AtToken[] {
    const text = typeof chunk === "string" ? chunk : chunk.toString("latin1");
    const out: AtToken[] = [];
    let buf = this.pending + text;
    let start = 0;
    for (let i = 0; i < buf.length; i++) {
      const c = buf.charCodeAt(i);
      if (c === 13 || c === 10) {
        this.emitLine(buf.slice(start, i), out);
        start = i + 1;
      }
    }
    buf = buf.slice(start);
    if (buf.length > 0 && /^\x00*>\s?$/.test(buf)) {
      out.push({ kind: "prompt" });
      buf = "";
    } else if (buf.length > MAX_LINE) {
      out.push({ kind: "line", text: buf, garbage: true });
      buf = "";
    }
    this.pending = buf;
    return out;
  }

  /** Drops any partial line (after a reopen or a cancelled prompt). */
  reset(): void {
    this.pending = "";
  }

  private emitLine(raw: string, out: AtToken[]): void {
    const line = raw.replace(/^\x00+/, "").trim();
    if (line.length === 0) return;
    if (line === ">") {
      out.push({ kind: "prompt" });
      return;
    }
    const garbage = isGarbageLine(line);
    out.push({ kind: "line", text: garbage ? line : decodeLine(line), garbage });
  }
}
