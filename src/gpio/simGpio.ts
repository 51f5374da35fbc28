/**
 * The simulated GPIO driver: line N is the file `<simDir>/gpio<N>` holding `0` or `1`.
 *
 *   site (this driver)                       modem simulator (another process)
 *   write(1) → gpio17.<pid>.<n>.tmp ─rename→ gpio17 ←── watchSimLine() polls every intervalMs
 *
 * Writes go to a temporary file in the same folder and are renamed over the line file, so a reader
 * sees either the old or the new content, never an empty or half-written file. Writers write `0`/`1`
 * without a newline; readers accept both forms. Closing a line leaves its file in place: the other
 * side keeps seeing the last level, as a real pin keeps its level until something drives it.
 */
import { readFileSync } from "node:fs";
import { mkdir, readFile, rename, unlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { SiteError } from "../core/errors.js";
import { type GpioDriver, type GpioLine, type GpioValue, isValidLineNumber, parseGpioValue } from "./gpio.js";

/** The path of line `line`'s file inside `simDir`. */
export function simLinePath(simDir: string, line: number): string {
  return join(simDir, `gpio${line}`);
}

let tempCounter = 0;

/** Writes `value` to line `line`'s file atomically (temporary file + rename in the same folder). */
export async function writeSimLine(simDir: string, line: number, value: GpioValue): Promise<void> {
  const target = simLinePath(simDir, line);
  tempCounter += 1;
  const temp = join(simDir, `.gpio${line}.${process.pid}.${tempCounter}.tmp`);
  try {
    await writeFile(temp, value === 1 ? "1" : "0");
    await rename(temp, target);
  } catch (err) {
    await unlink(temp).catch(() => {});
    throw err;
  }
}

/** Options of {@link SimGpioDriver}. */
export interface SimGpioOptions {
  /** Folder holding the line files; created (recursively) on the first `output()`. */
  simDir: string;
}

/** GPIO driver `sim`: see the file header for the file format. */
export class SimGpioDriver implements GpioDriver {
  readonly name = "sim";
  private readonly lines = new Map<number, SimGpioLine>();
  private readonly simDir: string;

  constructor(options: SimGpioOptions) {
    this.simDir = options.simDir;
  }

  /** Nothing to prepare: the folder is created on the first `output()`. Present for symmetry with onoff. */
  async start(): Promise<void> {}

  async output(line: number, initial: GpioValue): Promise<GpioLine> {
    if (!isValidLineNumber(line)) {
      throw new SiteError("gpio.unavailable", `GPIO line ${line} is not a valid line number (0-1023)`);
    }
    if (this.lines.has(line)) {
      throw new SiteError("gpio.unavailable", `GPIO line ${line} is already claimed by this driver`);
    }
    try {
      await mkdir(this.simDir, { recursive: true });
      await writeSimLine(this.simDir, line, initial);
    } catch (err) {
      throw new SiteError("gpio.unavailable", `cannot create simulated GPIO line ${line} in ${this.simDir}`, {
        cause: err,
      });
    }
    const handle = new SimGpioLine(this.simDir, line, () => this.lines.delete(line));
    this.lines.set(line, handle);
    return handle;
  }

  async close(): Promise<void> {
    await Promise.all([...this.lines.values()].map((l) => l.close()));
  }
}

class SimGpioLine implements GpioLine {
  private closed = false;
  /** Writes are chained so that the file ends with the level of the last write, whatever the fs timing. */
  private queue: Promise<void> = Promise.resolve();

  constructor(
    private readonly simDir: string,
    readonly line: number,
    private readonly onClose: () => void,
  ) {}

  write(value: GpioValue): Promise<void> {
    if (this.closed) {
      return Promise.reject(new SiteError("gpio.write", `simulated GPIO line ${this.line} is closed`));
    }
    const next = this.queue.then(async () => {
      try {
        await writeSimLine(this.simDir, this.line, value);
      } catch (err) {
        throw new SiteError("gpio.write", `cannot write simulated GPIO line ${this.line}`, { cause: err });
      }
    });
    this.queue = next.catch(() => {});
    return next;
  }

  async read(): Promise<GpioValue> {
    const path = simLinePath(this.simDir, this.line);
    let text: string;
    try {
      text = await readFile(path, "utf8");
    } catch (err) {
      throw new SiteError("gpio.unavailable", `cannot read simulated GPIO line ${this.line} (${path})`, {
        cause: err,
      });
    }
    const value = parseGpioValue(text);
    if (value === undefined) {
      throw new SiteError(
        "gpio.unavailable",
        `simulated GPIO line ${this.line} holds ${JSON.stringify(text)}`,
        {
          detail: { path },
        },
      );
    }
    return value;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.onClose();
    await this.queue;
  }
}

/** Options of {@link watchSimLine}. */
export interface WatchSimLineOptions {
  /** Polling period in milliseconds; default 50, at least 1. Pulses shorter than this may be missed. */
  intervalMs?: number;
}

/** A running {@link watchSimLine}. */
export interface SimLineWatch {
  /** Stops polling. Idempotent; no callback is made after it returns. */
  stop(): void;
  /** The last valid level read, or undefined while the file is missing. */
  current(): GpioValue | undefined;
}

/**
 * The other side of the sim driver (used by the modem simulator, usually in another process):
 * polls `<simDir>/gpio<line>` and calls `onChange` whenever the level differs from what
 * `current()` last reported. The level found at start is read synchronously and is not reported
 * (read it with `current()`); a file that appears later is reported. A missing file means "no
 * value yet" (`current()` is undefined); content other than `0`/`1` is ignored. The polling timer
 * keeps the process alive until `stop()`.
 */
export function watchSimLine(
  simDir: string,
  line: number,
  onChange: (value: GpioValue) => void,
  options: WatchSimLineOptions = {},
): SimLineWatch {
  const intervalMs = Math.max(1, options.intervalMs ?? 50);
  const path = simLinePath(simDir, line);
  let value: GpioValue | undefined;
  let stopped = false;
  let busy = false;

  const apply = (text: string | undefined) => {
    if (stopped) return;
    if (text === undefined) {
      value = undefined;
      return;
    }
    const next = parseGpioValue(text);
    if (next === undefined || next === value) return;
    value = next;
    onChange(next);
  };

  value = parseGpioValue(readFileSyncOrUndefined(path) ?? "");

  const timer = setInterval(() => {
    if (busy) return;
    busy = true;
    readFile(path, "utf8").then(
      (text) => {
        busy = false;
        apply(text);
      },
      (err: NodeJS.ErrnoException) => {
        busy = false;
        if (err.code === "ENOENT") apply(undefined);
      },
    );
  }, intervalMs);

  return {
    stop() {
      stopped = true;
      clearInterval(timer);
    },
    current: () => value,
  };
}

function readFileSyncOrUndefined(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
}
