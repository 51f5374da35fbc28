/**
 * A real pseudo-terminal for one simulated modem port, made by a `socat` child:
 *
 *   client (serialport) ⇄ /dev/pts/N ← symlink `path` ⇄ socat PTY,link=path,rawer STDIO ⇄ this process
 *
 * `start()` resolves once the symlink exists; `stop()` kills socat (SIGTERM: socat removes the link and
 * the client's port gets `close` with `disconnected: true`). Every live socat is also killed when this
 * process exits, and socat exits by itself when its stdin closes (this process died).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { EventEmitter } from "node:events";
import { unlinkSync } from "node:fs";
import { lstat, unlink } from "node:fs/promises";
import { SiteError } from "../core/errors.js";

/** Output queued towards a pty nobody reads is dropped past this many bytes (like a USB tty). */
const MAX_BACKLOG = 64 * 1024;
/** How long start() waits for socat to create the link, ms. */
const START_TIMEOUT_MS = 5000;
/** How long stop() waits after SIGTERM before SIGKILL, ms. */
const STOP_TIMEOUT_MS = 2000;
/**
 * stop() kills socat only after this long (real ms) without writing, so the client has read everything
 * (and a client that just opened has started waiting) and sits in poll() when the hang-up comes. serialport 13 (bindings-cpp unix-read.js)
 * treats a 0-byte read as "read again": a client that reads right at the hang-up gets 0 forever and
 * never emits `close`; one waiting in poll() gets POLLERR and closes with `disconnected: true`.
 */
const SETTLE_MS = 50;

const live = new Map<ChildProcess, string>();
let exitHookInstalled = false;

function killAllOnExit(): void {
  for (const [child, path] of live) {
    child.kill("SIGKILL");
    try {
      unlinkSync(path);
    } catch {
      // already gone
    }
  }
  live.clear();
}

async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch {
    return false;
  }
}

/** Options of {@link PtyLink}. */
export interface PtyLinkOptions {
  /** The symlink socat creates, e.g. `/tmp/sim/modem1-if02`. Its folder must exist. */
  path: string;
  /** The socat binary; default `socat` on PATH. */
  socat?: string;
}

/** One pty. Events: `data` (Buffer written by the client), `exit` (socat ended; unexpected unless stopping). */
export class PtyLink extends EventEmitter {
  readonly path: string;
  private readonly socat: string;
  private child: ChildProcess | null = null;
  private stopping = false;
  /** Bytes dropped because nobody read the pty. */
  dropped = 0;

  constructor(opts: PtyLinkOptions) {
    super();
    this.path = opts.path;
    this.socat = opts.socat ?? "socat";
  }

  get running(): boolean {
    return this.child !== null;
  }

  async start(): Promise<void> {
    if (this.child) return;
    // A symlink left by a killed run would make socat fail; a regular file is not ours to remove.
    const stale = await lstat(this.path).catch(() => null);
    if (stale?.isSymbolicLink()) await unlink(this.path).catch(() => {});
    if (!exitHookInstalled) {
      process.on("exit", killAllOnExit);
      exitHookInstalled = true;
    }
    const child = spawn(this.socat, [`PTY,link=${this.path},rawer`, "STDIO"], {
      stdio: ["pipe", "pipe", "pipe"],
    });
    this.child = child;
    this.stopping = false;
    live.set(child, this.path);
    let stderr = "";
    child.stderr?.on("data", (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-2000);
    });
    child.stdout?.on("data", (d: Buffer) => this.emit("data", d));
    child.stdin?.on("error", () => {});
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    child.once("exit", (code) => {
      live.delete(child);
      if (this.child === child) this.child = null;
      if (!this.stopping) this.emit("exit", code);
    });
    const spawnError = new Promise<Error>((resolve) => child.once("error", resolve));
    const deadline = Date.now() + START_TIMEOUT_MS;
    while (!(await exists(this.path))) {
      const early = await Promise.race([exited, spawnError, new Promise((r) => setTimeout(r, 10, "wait"))]);
      if (early !== "wait" || Date.now() > deadline) {
        child.kill("SIGKILL");
        this.child = null;
        const why = early instanceof Error ? early.message : `socat: ${stderr.trim() || "no link created"}`;
        throw new SiteError("serial.open", `cannot create pty ${this.path}: ${why}`);
      }
    }
  }

  /** Writes to the client. Dropped silently when socat is gone or nobody reads (backlog over 64 KiB). */
  write(data: Buffer): void {
    const stdin = this.child?.stdin;
    if (!stdin || stdin.destroyed) return;
    if (stdin.writableLength > MAX_BACKLOG) {
      this.dropped += data.length;
      return;
    }
    if (!this.stopping) stdin.write(data);
  }

  /**
   * Kills socat and waits for it to exit and the link to vanish. Waits {@link SETTLE_MS} first (nothing
   * is written meanwhile: the device is already off), so the last bytes (the OK before a reset) reach
   * the client and its serialport sees the hang-up.
   */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child) return;
    this.stopping = true;
    await new Promise((r) => setTimeout(r, SETTLE_MS));
    const exited = new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) resolve();
      else child.once("exit", () => resolve());
    });
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), STOP_TIMEOUT_MS);
    await exited;
    clearTimeout(timer);
    this.child = null;
    await unlink(this.path).catch(() => {});
  }
}
