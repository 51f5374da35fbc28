/**
 * One AT interface of a simulated modem: bytes in, framed bytes out (V.250 §5).
 *
 *   bytes ─► [command mode] echo (ATE1) ─► line up to \r ─► host.execute ─► Reply
 *                                                                  │ delay (reply + setDelay)
 *            [prompt mode]  body up to Ctrl-Z ─► reply.prompt(body) ◄┘ \r\n> when reply.prompt
 *            [busy]         input queued until the pending reply is written
 *
 * Verbose (ATV1) frames every line `\r\n<line>\r\n`; numeric (ATV0) sends info as `<line>\r\n` and
 * OK/ERROR as `0\r`/`4\r`. URCs that arrive while the client types a PDU are held until the answer.
 */
import { isFinalResult } from "./atParse.js";
import type { PortSettings, Reply } from "./commands/index.js";
import type { ScaledTimers } from "./timers.js";

/** What the port needs from its device. */
export interface PortHost {
  execute(port: AtPort, line: string): Reply;
  write(port: number, text: string): void;
  isHung(): boolean;
  /** Extra nominal delay of every answer, ms (the `setDelay` fault). */
  extraDelayMs(): number;
  readonly timers: ScaledTimers;
}

/** Longest command line (and PDU body) kept; longer input is discarded (real modems cap it too). */
const MAX_LINE = 2048;
const CTRL_Z = 0x1a;
const ESC = 0x1b;

const NUMERIC: Record<string, string> = { OK: "0", CONNECT: "1", "NO CARRIER": "3", ERROR: "4", BUSY: "7" };

export class AtPort implements PortSettings {
  echo: boolean;
  verbose = true;
  private mode: "command" | "prompt" | "busy" = "command";
  private line = "";
  private promptBody = "";
  private promptHandler: ((body: string) => Reply) | null = null;
  private queued: Buffer[] = [];
  private heldUrcs: string[] = [];

  constructor(
    readonly index: number,
    private readonly host: PortHost,
    private readonly defaultEcho: boolean,
  ) {
    this.echo = defaultEcho;
  }

  /** Power-on state: echo per profile, verbose, nothing pending. */
  reset(): void {
    this.echo = this.defaultEcho;
    this.verbose = true;
    this.mode = "command";
    this.line = "";
    this.promptBody = "";
    this.promptHandler = null;
    this.queued = [];
    this.heldUrcs = [];
  }

  /** ATZ / AT&F: echo and verbose back to their defaults, the rest untouched. */
  resetSettings(): void {
    this.echo = this.defaultEcho;
    this.verbose = true;
  }

  input(data: Buffer): void {
    if (this.host.isHung()) return;
    let echo = "";
    for (let i = 0; i < data.length; i++) {
      if (this.mode === "busy") {
        this.queued.push(data.subarray(i));
        break;
      }
      const b = data[i]!;
      const ch = String.fromCharCode(b);
      if (this.mode === "prompt") {
        if (b === CTRL_Z || b === ESC) {
          if (echo) this.host.write(this.index, echo);
          echo = "";
          this.endPrompt(b === CTRL_Z);
        } else if (this.promptBody.length < MAX_LINE) {
          this.promptBody += ch;
          if (this.echo) echo += ch;
        }
        continue;
      }
      if (this.echo) echo += ch;
      if (b === 0x0d) {
        if (echo) this.host.write(this.index, echo);
        echo = "";
        const line = this.line;
        this.line = "";
        this.commandLine(line);
      } else if (b === 0x08) {
        this.line = this.line.slice(0, -1);
      } else if (this.line.length < MAX_LINE) {
        this.line += ch;
      } else {
        this.line = "";
      }
    }
    if (echo) this.host.write(this.index, echo);
  }

  /** An unsolicited line: sent now, or after the answer when the client is typing a PDU. */
  urc(line: string): void {
    if (this.mode === "prompt") this.heldUrcs.push(line);
    else this.host.write(this.index, this.frame([line]));
  }

  private commandLine(raw: string): void {
    // V.250 §5.2.1: characters before "AT" are ignored; a line without it is not a command.
    const at = raw.search(/at/i);
    if (at < 0) return;
    this.deliver(this.host.execute(this, raw.slice(at)));
  }

  private endPrompt(submit: boolean): void {
    const body = this.promptBody;
    const handler = this.promptHandler;
    this.promptBody = "";
    this.promptHandler = null;
    this.mode = "command";
    if (submit && handler) this.deliver(handler(body));
    else this.flushHeld();
  }

  private deliver(reply: Reply): void {
    const delay = (reply.delayMs ?? 0) + this.host.extraDelayMs();
    if (delay <= 0) {
      this.send(reply);
      return;
    }
    this.mode = "busy";
    this.host.timers.after(delay, () => {
      this.mode = "command";
      this.send(reply);
    });
  }

  private send(reply: Reply): void {
    if (reply.lines.length > 0) this.host.write(this.index, this.frame(reply.lines));
    if (reply.prompt) {
      this.host.write(this.index, "\r\n> ");
      this.mode = "prompt";
      this.promptHandler = reply.prompt;
    } else {
      reply.after?.();
      this.flushHeld();
    }
    const queued = Buffer.concat(this.queued);
    this.queued = [];
    if (queued.length > 0) this.input(queued);
  }

  private flushHeld(): void {
    const held = this.heldUrcs;
    this.heldUrcs = [];
    if (held.length > 0) this.host.write(this.index, this.frame(held));
  }

  private frame(lines: string[]): string {
    if (this.verbose) return lines.map((l) => `\r\n${l}\r\n`).join("");
    return lines.map((l) => (isFinalResult(l) && NUMERIC[l] ? `${NUMERIC[l]}\r` : `${l}\r\n`)).join("");
  }
}
