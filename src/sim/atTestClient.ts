/**
 * A deliberately small AT client over the real `serialport` package, for the simulator's own tests and
 * for poking a simulator by hand. It keeps everything received as one text (latin1) and waits for
 * regular expressions in it; it knows nothing of URCs or queues (the site's at/ layer does that).
 */
import { SerialPort } from "serialport";
import { SiteError } from "../core/errors.js";
import type { ModemSimulator } from "./simulator.js";

/** Matches the end of a command's answer: a final result (verbose) or the SMS prompt. */
export const FINAL_OR_PROMPT = /\r\n(OK|ERROR|COMMAND NOT SUPPORT|\+CM[ES] ERROR: [^\r\n]*)\r\n|\r\n> $/;

export interface CommandResult {
  /** Everything received from the write up to the end of the final result, echo included. */
  raw: string;
  /** `raw` split into non-empty lines. */
  lines: string[];
}

export class AtTestClient {
  /** Everything received so far. */
  text = "";
  /** Resolves when the port closes; `disconnected` when the pty vanished under it. */
  readonly closed: Promise<{ disconnected: boolean }>;
  private readonly waiters = new Set<() => void>();

  private constructor(readonly port: SerialPort) {
    this.closed = new Promise((resolve) => {
      port.on("close", (err?: { disconnected?: boolean }) =>
        resolve({ disconnected: err?.disconnected === true }),
      );
    });
    port.on("data", (d: Buffer) => {
      this.text += d.toString("latin1");
      for (const w of [...this.waiters]) w();
    });
    port.on("error", () => {});
  }

  /** Opens `path` at 115200 bps; rejects with `serial.open` when it cannot. */
  static async open(path: string): Promise<AtTestClient> {
    const port = new SerialPort({ path, baudRate: 115200, autoOpen: false });
    await new Promise<void>((resolve, reject) =>
      port.open((err) =>
        err ? reject(new SiteError("serial.open", `cannot open ${path}`, { cause: err })) : resolve(),
      ),
    );
    return new AtTestClient(port);
  }

  /** Current length of {@link text}: pass it as `from` to look only at what comes next. */
  mark(): number {
    return this.text.length;
  }

  async write(data: string | Buffer): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.port.write(typeof data === "string" ? Buffer.from(data, "latin1") : data, (err) =>
        err ? reject(err) : this.port.drain(() => resolve()),
      );
    });
  }

  /** Resolves with the first match of `re` in the text after `from`; rejects after `timeoutMs` (default 2000). */
  waitFor(re: RegExp, opts: { from?: number; timeoutMs?: number } = {}): Promise<RegExpExecArray> {
    const from = opts.from ?? 0;
    const timeoutMs = opts.timeoutMs ?? 2000;
    return new Promise((resolve, reject) => {
      const check = () => {
        const m = re.exec(this.text.slice(from));
        if (!m) return false;
        done();
        resolve(m);
        return true;
      };
      const timer = setTimeout(() => {
        done();
        reject(
          new SiteError(
            "at.timeout",
            `no ${re} within ${timeoutMs} ms; got ${JSON.stringify(this.text.slice(from))}`,
          ),
        );
      }, timeoutMs);
      const waiter = () => void check();
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(waiter);
      };
      this.waiters.add(waiter);
      check();
    });
  }

  /**
   * Sends `line` + `eol` (default `\r`; pass `""` after a PDU ending in Ctrl-Z) and waits for `until`
   * (default: a final result or the prompt) in what follows.
   */
  async command(
    line: string,
    opts: { timeoutMs?: number; until?: RegExp; eol?: string } = {},
  ): Promise<CommandResult> {
    const from = this.mark();
    await this.write(`${line}${opts.eol ?? "\r"}`);
    const m = await this.waitFor(opts.until ?? FINAL_OR_PROMPT, { from, timeoutMs: opts.timeoutMs });
    const raw = this.text.slice(from, from + m.index + m[0].length);
    return { raw, lines: raw.split(/[\r\n]+/).filter((l) => l.length > 0) };
  }

  /** Waits `ms` real ms and returns what arrived meanwhile. */
  async collect(ms: number): Promise<string> {
    const from = this.mark();
    await new Promise((r) => setTimeout(r, ms));
    return this.text.slice(from);
  }

  /** Closes the port if it is still open. */
  async close(): Promise<void> {
    if (!this.port.isOpen) return;
    await new Promise<void>((resolve) => this.port.close(() => resolve()));
  }
}

function escapeRe(text: string): RegExp {
  return new RegExp(`${text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}\r\n`);
}

/**
 * Waits until `at` has read the last boot URC `sim`'s profile sends for its current SIM state (after
 * `from`); returns at once for a profile without boot URCs.
 */
export async function waitBootUrcs(sim: ModemSimulator, at: AtTestClient, from = 0): Promise<void> {
  const status = sim.state().sim;
  const simUrcs =
    sim.profile.sim_urcs[status === "ready" ? "ready" : status === "absent" ? "absent" : "locked"];
  const last = [...sim.profile.boot_urcs, ...simUrcs].sort((a, b) => a.delay_ms - b.delay_ms).at(-1);
  if (last) await at.waitFor(escapeRe(last.line), { from, timeoutMs: 5000 });
}

/** Starts `sim`, opens its primary link (or `path`) and waits until the boot URCs have been read. */
export async function startAndOpen(sim: ModemSimulator, path?: string): Promise<AtTestClient> {
  const booted = sim.waitFor("booted", () => true, 10_000);
  await sim.start();
  const at = await AtTestClient.open(path ?? sim.primaryLink());
  await booted;
  await waitBootUrcs(sim, at);
  return at;
}
