/**
 * systemd's notify protocol (`Type=notify`, `WatchdogSec=`): READY when the site is up, WATCHDOG
 * pings at half of `WATCHDOG_USEC`, STOPPING on shutdown. Node cannot open the notify socket (a Unix
 * datagram socket) itself, so each message is sent by the `systemd-notify` command, which the unit
 * must allow with `NotifyAccess=all` (board/common/bts-site.service).
 *
 *   NOTIFY_SOCKET unset ─► nothing (run by hand, in tests, in the demo)
 *   READY=1 ─► setInterval(WATCHDOG=1, WATCHDOG_USEC / 2) ─► STOPPING=1
 *
 * The pings come from a timer on the event loop: a loop stuck in a busy JavaScript loop or a
 * synchronous call sends none, and systemd restarts the service after `WatchdogSec`. That is the
 * point; nothing here tries to ping from another thread.
 */
import { spawn as spawnChild } from "node:child_process";
import { errorText } from "../core/errors.js";
import type { Logger } from "../core/logger.js";

export interface SystemdNotifierOptions {
  logger: Logger;
  /** Default process.env. */
  env?: Record<string, string | undefined>;
  /** Runs `systemd-notify` with these arguments; resolves with its exit code. Default: the real command. */
  run?: (args: string[], env: Record<string, string | undefined>) => Promise<number | null>;
  /** Default process.pid. */
  pid?: number;
}

function runSystemdNotify(args: string[], env: Record<string, string | undefined>): Promise<number | null> {
  return new Promise((resolve) => {
    const child = spawnChild("systemd-notify", args, { stdio: "ignore", env: env as NodeJS.ProcessEnv });
    child.on("error", () => resolve(null));
    child.on("exit", (code) => resolve(code));
  });
}

export class SystemdNotifier {
  private timer: NodeJS.Timeout | undefined;
  private readonly env: Record<string, string | undefined>;
  private readonly pid: number;
  private readonly run: NonNullable<SystemdNotifierOptions["run"]>;
  private failures = 0;

  constructor(private readonly o: SystemdNotifierOptions) {
    this.env = o.env ?? process.env;
    this.pid = o.pid ?? process.pid;
    this.run = o.run ?? runSystemdNotify;
  }

  /** True when started by systemd with a notify socket. */
  get enabled(): boolean {
    return (this.env.NOTIFY_SOCKET ?? "") !== "";
  }

  /**
   * The watchdog ping interval, ms: half of `WATCHDOG_USEC`, or undefined when there is no watchdog
   * (or it watches another process: `WATCHDOG_PID`).
   */
  get pingIntervalMs(): number | undefined {
    const usec = Number(this.env.WATCHDOG_USEC);
    if (!this.enabled || !Number.isFinite(usec) || usec <= 0) return undefined;
    const forPid = this.env.WATCHDOG_PID;
    if (forPid !== undefined && forPid !== "" && Number(forPid) !== this.pid) return undefined;
    return Math.max(1, Math.floor(usec / 2000));
  }

  /** READY=1 with a status line, then the watchdog pings. */
  async ready(status: string): Promise<void> {
    if (!this.enabled) return;
    await this.send(["READY=1", `STATUS=${status}`]);
    const every = this.pingIntervalMs;
    if (every === undefined) return;
    this.o.logger.info("systemd watchdog on", { ping_every_ms: every });
    this.timer = setInterval(() => void this.send(["WATCHDOG=1"]), every);
    this.timer.unref();
  }

  async status(text: string): Promise<void> {
    if (this.enabled) await this.send([`STATUS=${text}`]);
  }

  /** STOPPING=1; the pings end. */
  async stopping(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    if (this.enabled) await this.send(["STOPPING=1", "STATUS=stopping"]);
  }

  private async send(assignments: string[]): Promise<void> {
    // --pid: the message speaks for the main process (this one), not for the short-lived command.
    const args = ["--no-block", `--pid=${this.pid}`, ...assignments];
    try {
      const code = await this.run(args, this.env);
      if (code === 0) {
        this.failures = 0;
        return;
      }
      this.failures++;
      if (this.failures === 1 || this.failures % 100 === 0)
        this.o.logger.warn("systemd-notify failed", {
          code,
          message: assignments[0],
          failures: this.failures,
        });
    } catch (err) {
      this.o.logger.warn("systemd-notify failed", { error: errorText(err) });
    }
  }
}
