/**
 * The ptys of one simulated modem and the power/plug state machine that makes them appear and vanish.
 *
 *   setPower(on) / unplug() / replug() / reset()
 *        │  every change bumps `generation`; a scheduled bring-up only runs if it is unchanged
 *        ▼
 *   powered && plugged ─(boot_ms, reset_ms after a reset)─► bringUp: PtyLinks, device.boot()
 *   otherwise ─────────────────────────────────────────────► bringDown: device.powerOff(), links stop
 *
 * Link changes run one at a time (a promise chain), so a fast off/on never overlaps two socats on one path.
 */
import type { Logger } from "../core/logger.js";
import type { ModemDevice } from "./device.js";
import { PtyLink } from "./pty.js";

/** Options of {@link SimLinks}. */
export interface SimLinksOptions {
  /** First link base name; `ports` > 1 gives `<base>-if00` ... */
  base: string;
  ports: number;
  device: ModemDevice;
  /** Nominal ms from power-on / replug to links up, and from a reset to links up again. */
  bootMs: number;
  resetMs: number;
  /** Multiplies bootMs, resetMs and unplug afterMs. */
  scale: number;
  logger: Logger;
  socat?: string;
  /** `power` ({ on }) and `plugged` ({ plugged, links }) events. */
  emit: (event: "power" | "plugged", payload: unknown) => void;
}

export class SimLinks {
  powered = true;
  plugged = true;
  base: string;
  private readonly links = new Map<number, PtyLink>();
  private stopped = false;
  private generation = 0;
  private readonly pending = new Set<NodeJS.Timeout>();
  private chain: Promise<void> = Promise.resolve();

  constructor(private readonly o: SimLinksOptions) {
    this.base = o.base;
  }

  /** Link paths for a base name: `[base]` for one port, `[base-if00, ...]` for several. */
  paths(base = this.base): string[] {
    if (this.o.ports === 1) return [base];
    return Array.from({ length: this.o.ports }, (_, i) => `${base}-if${String(i).padStart(2, "0")}`);
  }

  /** Paths of the links that exist now. */
  existing(): string[] {
    return [...this.links.values()].filter((l) => l.running).map((l) => l.path);
  }

  /** Bytes to the client of port `port`; dropped while its link is down. */
  write(port: number, data: Buffer): void {
    this.links.get(port)?.write(data);
  }

  /** Brings the links up now if powered (no boot delay: the simulator starts with the modem on). */
  start(): Promise<void> {
    return this.powered ? this.serial(() => this.bringUp()) : Promise.resolve();
  }

  /** Cancels every scheduled change and takes the links down. Idempotent. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.generation++;
    for (const t of this.pending) clearTimeout(t);
    this.pending.clear();
    await this.serial(() => this.bringDown());
  }

  setPower(on: boolean): void {
    if (on === this.powered || this.stopped) return;
    this.powered = on;
    this.generation++;
    this.o.logger.info(`power ${on ? "on" : "off"}`);
    this.o.emit("power", { on });
    if (on) this.upAfter(this.o.bootMs);
    else void this.serial(() => this.bringDown());
  }

  /** Links vanish now; with `replugAs`/`afterMs` the modem comes back (afterMs nominal, default 0). */
  async unplug(opts: { replugAs?: string; afterMs?: number } = {}): Promise<void> {
    this.plugged = false;
    this.generation++;
    const done = this.serial(() => this.bringDown());
    if (opts.replugAs !== undefined || opts.afterMs !== undefined) {
      this.timer(opts.afterMs ?? 0, () => void this.replug(opts.replugAs));
    }
    await done;
  }

  /** Plugs back, optionally under another base name; resolves once the links exist (boot_ms later). */
  async replug(base?: string): Promise<void> {
    if (base !== undefined) this.base = base;
    if (this.plugged) return;
    this.plugged = true;
    this.generation++;
    if (!this.powered) return;
    await new Promise<void>((resolve) => this.upAfter(this.o.bootMs, resolve));
  }

  /** AT+CFUN=1,1 answered: links vanish for reset_ms, then come back and the device boots again. */
  reset(): void {
    this.generation++;
    const gen = this.generation;
    void this.serial(() => this.bringDown()).then(() => {
      if (gen === this.generation) this.upAfter(this.o.resetMs);
    });
  }

  private timer(nominalMs: number, fn: () => void): void {
    const t = setTimeout(
      () => {
        this.pending.delete(t);
        fn();
      },
      Math.round(nominalMs * this.o.scale),
    );
    this.pending.add(t);
  }

  private upAfter(nominalMs: number, done?: () => void): void {
    const gen = this.generation;
    this.timer(nominalMs, () => {
      if (gen !== this.generation) return done?.();
      void this.serial(() => this.bringUp()).finally(() => done?.());
    });
  }

  private serial(fn: () => Promise<void>): Promise<void> {
    const next = this.chain.then(fn, fn);
    this.chain = next.catch((err) => this.o.logger.error(`link change failed: ${String(err)}`));
    return next;
  }

  private async bringUp(): Promise<void> {
    if (this.stopped || !this.powered || !this.plugged || this.links.size > 0) return;
    const paths = this.paths();
    try {
      for (const [i, path] of paths.entries()) {
        const link = new PtyLink({ path, socat: this.o.socat });
        link.on("data", (d: Buffer) => this.o.device.input(i, d));
        link.on("exit", (code) => this.o.logger.warn(`socat for ${path} exited (${code})`));
        this.links.set(i, link);
        await link.start();
      }
    } catch (err) {
      await this.stopLinks();
      throw err;
    }
    this.o.device.boot();
    this.o.logger.info(`links up: ${paths.join(", ")}`);
    this.o.emit("plugged", { plugged: true, links: paths });
  }

  private async bringDown(): Promise<void> {
    this.o.device.powerOff();
    if (this.links.size === 0) return;
    await this.stopLinks();
    this.o.emit("plugged", { plugged: false, links: [] });
  }

  private async stopLinks(): Promise<void> {
    const links = [...this.links.values()];
    this.links.clear();
    await Promise.all(links.map((l) => l.stop()));
  }
}
