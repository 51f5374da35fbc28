/**
 * The modem fleet: every slot, the power lines, and discovery that hands ports to slots.
 *
 *   every discovery.interval_ms:
 *     list candidates (globs + configured ports) ─► skip claimed ports, siblings of attached modems,
 *     and ports that recently failed a probe (backoff) ─► probe (AT, identity, IMEI)
 *     ─► group by IMEI, pick the AT port (profile's USB interface, EC25: if02) ─► offer to a slot:
 *          1. the slot bound to that IMEI (config `imei`, or learnt earlier)
 *          2. the slot configured with that port
 *          3. a slot with `port: auto` and no IMEI yet (the registry remembers the binding)
 *          4. with `modems: []`, a new slot named after the registry's id or the IMEI
 *
 * Power lines are driven on (1) before the first probe (contract, section 2).
 */

import type { DiscoveryConfig, ModemConfig, SupervisorConfig } from "../config/types.js";
import { errorText } from "../core/errors.js";
import type { EventBus } from "../core/events.js";
import type { Logger } from "../core/logger.js";
import type { GpioDriver, GpioLine } from "../gpio/gpio.js";
import type { ModemRegistry } from "../storage/siteDb.js";
import type { SerialOpener } from "../transport/serial/serialTransport.js";
import type { ModemIdentity } from "./driver.js";
import { listCandidates, type PortCandidate, pathExists } from "./ports.js";
import { probePort } from "./probe.js";
import type { ProfileSet } from "./profile.js";
import { ModemSlot, type ModemSnapshot, type ModemStore } from "./slot.js";
import { Waker } from "./waker.js";

export type FleetStore = ModemStore & Pick<ModemRegistry, "byImei">;

export interface FleetDeps {
  modems: ModemConfig[];
  supervisor: SupervisorConfig;
  discovery: DiscoveryConfig;
  profiles: ProfileSet;
  opener: SerialOpener;
  gpio: GpioDriver | undefined;
  store: FleetStore;
  bus: EventBus;
  logger: Logger;
  /** Root for sysfs reads (tests point it at a fake tree). Default "/". */
  sysRoot?: string;
}

const DEFAULT_MODEM: Omit<ModemConfig, "baud"> = {
  port: "auto",
  networks: [],
  rate_per_minute: 0,
  daily_limit: 0,
  power_off_ms: 2000,
  boot_wait_ms: 30_000,
  profile: "auto",
};

export class ModemFleet {
  private readonly slots: ModemSlot[] = [];
  /** realPath → the slot using it. */
  private readonly claims = new Map<string, ModemSlot>();
  /** deviceKey → IMEI of an attached multi-port modem (its other ttys are not probed). */
  private readonly siblings = new Map<string, string>();
  /** realPath → { next probe time, current backoff }. */
  private readonly failedProbes = new Map<string, { at: number; backoff: number }>();
  private readonly waker = new Waker();
  private stopped = false;
  private loop: Promise<void> | undefined;
  private unused = new Set<string>();

  constructor(private readonly d: FleetDeps) {}

  async start(): Promise<void> {
    for (const [i, m] of this.d.modems.entries()) {
      const id = m.id ?? (m.imei ? (this.d.store.byImei(m.imei)?.id ?? m.imei) : `modem${i + 1}`);
      let power: GpioLine | undefined;
      if (m.power_gpio !== undefined && this.d.gpio) {
        try {
          power = await this.d.gpio.output(m.power_gpio, 1);
        } catch (err) {
          this.d.logger.error(
            `modem ${id}: power line GPIO${m.power_gpio} unusable, no power cycling: ${errorText(err)}`,
          );
        }
      }
      this.addSlot(id, m, power);
    }
    this.loop = this.discoveryLoop();
  }

  /**
   * Stops discovery and every slot, in parallel. Power lines are left driven on, not released: a modem
   * must not lose power because the controller restarts (released sysfs lines fall back to the SoC's
   * default pull, which is down on most Raspberry Pi pins).
   */
  async stop(): Promise<void> {
    this.stopped = true;
    this.waker.wake();
    await Promise.all([this.loop, ...this.slots.map((s) => s.stop())]);
  }

  list(): ModemSlot[] {
    return [...this.slots];
  }

  get(id: string): ModemSlot | undefined {
    return this.slots.find((s) => s.id === id);
  }

  snapshots(): ModemSnapshot[] {
    return this.slots.map((s) => s.snapshot());
  }

  /** Runs one discovery pass now (tests, and after a slot lets its port go). */
  rescan(): void {
    this.waker.wake();
  }

  private addSlot(id: string, config: ModemConfig, power: GpioLine | undefined): ModemSlot {
    const slot = new ModemSlot({
      id,
      config,
      supervisor: this.d.supervisor,
      profiles: this.d.profiles,
      opener: this.d.opener,
      power,
      store: this.d.store,
      bus: this.d.bus,
      logger: this.d.logger.child(`modem:${id}`),
      releasePort: (s) => this.release(s),
    });
    this.slots.push(slot);
    slot.start();
    return slot;
  }

  private release(slot: ModemSlot): void {
    for (const [real, s] of this.claims) if (s === slot) this.claims.delete(real);
    for (const [key, imei] of this.siblings) if (imei === slot.imei) this.siblings.delete(key);
    this.rescan();
  }

  private async discoveryLoop(): Promise<void> {
    while (!this.stopped) {
      try {
        await this.scan();
      } catch (err) {
        this.d.logger.warn(`discovery pass failed: ${errorText(err)}`);
      }
      await this.waker.sleep(this.d.discovery.interval_ms);
    }
  }

  private async scan(): Promise<void> {
    const explicit = this.d.modems.map((m) => m.port).filter((p) => p !== "auto");
    const candidates = await listCandidates([...explicit, ...this.d.discovery.globs], this.d.sysRoot);
    const present = new Set(candidates.map((c) => c.realPath));
    // serialport does not always report a vanished tty (a 0-byte read is retried, no 'close'): a slot
    // whose port is no longer listed is told so here.
    for (const slot of this.slots) {
      const port = slot.port;
      if (port && !present.has(port.realPath) && !(await pathExists(port.path))) slot.portVanished();
    }
    for (const real of this.failedProbes.keys()) if (!present.has(real)) this.failedProbes.delete(real);
    for (const [real, slot] of this.claims) if (!present.has(real) && !slot.port) this.claims.delete(real);
    const liveKeys = new Set(candidates.map((c) => c.deviceKey));
    for (const key of this.siblings.keys()) if (!liveKeys.has(key)) this.siblings.delete(key);

    const now = Date.now();
    const found = new Map<string, { identity: ModemIdentity; ports: PortCandidate[] }>();
    for (const c of candidates) {
      if (this.stopped) return;
      if (this.claims.has(c.realPath) || this.siblings.has(c.deviceKey)) continue;
      const failed = this.failedProbes.get(c.realPath);
      if (failed && failed.at > now) continue;
      if (!this.slots.some((s) => s.wantsPort) && this.d.modems.length > 0) continue;
      const identity = await probePort(c.path, {
        opener: this.d.opener,
        profiles: this.d.profiles,
        baud: this.d.discovery.baud,
        timeoutMs: this.d.discovery.probe_timeout_ms,
        logger: this.d.logger.child("discovery"),
      });
      if (!identity?.imei) {
        const backoff = Math.min((failed?.backoff ?? this.d.discovery.interval_ms / 2) * 2, 60_000);
        this.failedProbes.set(c.realPath, { at: Date.now() + backoff, backoff });
        continue;
      }
      this.failedProbes.delete(c.realPath);
      const group = found.get(identity.imei) ?? { identity, ports: [] };
      group.ports.push(c);
      found.set(identity.imei, group);
    }
    for (const [imei, { identity, ports }] of found) this.assign(imei, identity, ports, candidates);
  }

  /** The profile's AT interface when it is among `ports`, else the lowest interface number. */
  private pickPort(wanted: number | null, ports: PortCandidate[]): PortCandidate {
    const byIf = wanted === null ? undefined : ports.find((p) => p.usbInterface === wanted);
    if (byIf) return byIf;
    return [...ports].sort((a, b) => (a.usbInterface ?? 99) - (b.usbInterface ?? 99))[0]!;
  }

  private assign(imei: string, identity: ModemIdentity, ports: PortCandidate[], all: PortCandidate[]): void {
    const profile = this.d.profiles.select({ usbId: ports[0]?.usbId, ...identity });
    const wanted = profile.atPortInterface;
    if (wanted !== null && !ports.some((p) => p.usbInterface === wanted)) {
      // The primary AT port exists but did not answer this time (still booting): wait for it rather
      // than settle for a secondary port that may not carry the URCs.
      const primary = all.find((c) => c.deviceKey === ports[0]?.deviceKey && c.usbInterface === wanted);
      if (primary) {
        this.failedProbes.delete(primary.realPath);
        return;
      }
    }
    const port = this.pickPort(wanted, ports);
    const matchesPort = (m: ModemConfig) =>
      m.port !== "auto" && ports.some((p) => p.path === m.port || p.realPath === m.port);
    let slot = this.slots.find((s) => s.imei === imei);
    if (!slot) {
      const known = this.d.store.byImei(imei)?.id;
      slot = this.slots.find((s, i) => {
        const m = this.d.modems[i];
        return (
          m !== undefined &&
          !s.imei &&
          (matchesPort(m) || (m.port === "auto" && (known === undefined || known === s.id)))
        );
      });
    }
    if (!slot && this.d.modems.length === 0) {
      const id = this.d.store.byImei(imei)?.id ?? imei;
      slot = this.addSlot(id, { ...DEFAULT_MODEM, baud: this.d.discovery.baud }, undefined);
    }
    if (!slot) {
      if (!this.unused.has(imei)) {
        this.unused.add(imei);
        this.d.logger.warn(`modem IMEI ${imei} on ${port.path} matches no configured modem: left alone`);
      }
      return;
    }
    const config = this.d.modems[this.slots.indexOf(slot)];
    if (config && config.port !== "auto" && !matchesPort(config) && slot.imei !== imei) return;
    if (!slot.offer(port, identity)) return;
    this.claims.set(port.realPath, slot);
    // The other ttys of a multi-port modem are not probed while it is attached. Only for profiles
    // that name their AT interface: four SIM800s on one 4-port UART chip share a USB device.
    if (wanted !== null && port.deviceKey !== port.realPath) this.siblings.set(port.deviceKey, imei);
    this.d.logger.info(`modem ${slot.id} found on ${port.path}`, { imei });
  }
}
