/**
 * Which part a free modem sends next: routing and fairness, in memory, no I/O (the store is the truth;
 * this is its index of open work, rebuilt from it at start).
 *
 * Routing follows OpenSER's sms module: a message belongs to the first network whose prefix matches its
 * number (else `sms.default_network`); each modem sends for its ordered list of networks (`[]`: all),
 * taking at most `max_per_loop` messages from one network before the next one gets a turn, so one busy
 * network cannot starve the others. Within a network, oldest first; a message waiting for its retry
 * time is skipped, never blocks the ones behind it.
 *
 *   take(modem):  1. the next part of a message this modem has started (parts of one message go through
 *                    one SIM: the recipient's phone joins them by sender number and reference)
 *                 2. a message asked of this modem by name (`sms/send {modem}`)
 *                 3. round robin over the modem's networks, max_per_loop messages per turn
 */
import type { NetworkConfig } from "../config/types.js";

export interface JobPart {
  part: number;
  pdu: string;
  tpduLength: number;
  state: "queued" | "sending" | "sent" | "delivered" | "failed" | "unknown";
  attempts: number;
}

export interface Job {
  seq: number;
  id: string;
  to: string;
  network: string;
  /** Only this modem may send it. */
  wantModem: string | null;
  /** The modem that sent its first part: the rest go through it too. */
  modem: string | null;
  /** When the modem above started it (ms). */
  boundAt: number | null;
  nextAt: number;
  expiresAt: number;
  parts: JobPart[];
  /** A part is with a modem right now. */
  inflight: boolean;
  /** Set while its row is being committed: a sender may ask for the prompt; the PDU waits for this. */
  commit?: Promise<void> | undefined;
  /** modem → until when it must not take this message (ms). */
  excluded: Map<string, number>;
}

export interface Route {
  modem: string;
  /** Network names in order; [] = every network. */
  networks: readonly string[];
}

export type TakeResult = { job: Job; part: JobPart } | { job?: undefined; wakeAt: number | undefined };

/** The network of a number: first network with a matching literal prefix ("+" matches all). */
export function routeNumber(to: string, networks: readonly NetworkConfig[], defaultNetwork: string): string {
  for (const n of networks) if (n.prefixes.some((p) => to.startsWith(p))) return n.name;
  if (defaultNetwork && networks.some((n) => n.name === defaultNetwork)) return defaultNetwork;
  return networks[0]?.name ?? "local";
}

export class Scheduler {
  private readonly byNetwork = new Map<string, Map<number, Job>>();
  private readonly jobs = new Map<number, Job>();
  private readonly pinned = new Map<string, Map<number, Job>>();
  private readonly boundTo = new Map<string, Map<number, Job>>();
  private readonly cursors = new Map<string, { idx: number; used: number }>();
  private networks: readonly NetworkConfig[];

  constructor(networks: readonly NetworkConfig[]) {
    this.networks = networks;
  }

  setNetworks(networks: readonly NetworkConfig[]): void {
    this.networks = networks;
  }

  get size(): number {
    return this.jobs.size;
  }

  get(seq: number): Job | undefined {
    return this.jobs.get(seq);
  }

  all(): IterableIterator<Job> {
    return this.jobs.values();
  }

  add(job: Job): void {
    this.remove(job.seq);
    this.jobs.set(job.seq, job);
    const net = this.networks.some((n) => n.name === job.network) ? job.network : this.fallbackNetwork();
    job.network = net;
    mapOf(this.byNetwork, net).set(job.seq, job);
    if (job.wantModem) mapOf(this.pinned, job.wantModem).set(job.seq, job);
    if (job.modem) mapOf(this.boundTo, job.modem).set(job.seq, job);
  }

  remove(seq: number): void {
    const job = this.jobs.get(seq);
    if (!job) return;
    this.jobs.delete(seq);
    this.byNetwork.get(job.network)?.delete(seq);
    if (job.wantModem) this.pinned.get(job.wantModem)?.delete(seq);
    if (job.modem) this.boundTo.get(job.modem)?.delete(seq);
  }

  /** The message's first part went to `modem`: the rest follow it. */
  bind(job: Job, modem: string, now: number): void {
    if (job.modem === modem) return;
    if (job.modem) this.boundTo.get(job.modem)?.delete(job.seq);
    job.modem = modem;
    job.boundAt = now;
    mapOf(this.boundTo, modem).set(job.seq, job);
  }

  /** Forgets the binding (failover, or no part was sent after all). */
  unbind(job: Job): void {
    if (job.modem) this.boundTo.get(job.modem)?.delete(job.seq);
    job.modem = null;
    job.boundAt = null;
  }

  /** Messages started by `modem` (for failover). */
  boundBy(modem: string): Job[] {
    return [...(this.boundTo.get(modem)?.values() ?? [])];
  }

  /** The next part for `route.modem`, or when to ask again. */
  take(route: Route, now: number): TakeResult {
    const wake = { at: undefined as number | undefined };
    const bound = this.boundTo.get(route.modem);
    if (bound)
      for (const job of bound.values()) {
        const part = this.eligible(job, route.modem, now, wake);
        if (part) return this.hand(job, part);
      }
    const pinned = this.pinned.get(route.modem);
    if (pinned)
      for (const job of pinned.values()) {
        const part = this.eligible(job, route.modem, now, wake);
        if (part) return this.hand(job, part);
      }
    const nets = this.modemNetworks(route);
    const n = nets.length;
    if (n > 0) {
      const cur = this.cursors.get(route.modem) ?? { idx: 0, used: 0 };
      this.cursors.set(route.modem, cur);
      for (let k = 0; k <= n; k++) {
        const net = nets[(cur.idx + k) % n]!;
        const fresh = k > 0;
        if (!fresh && cur.used >= net.max_per_loop) continue;
        const list = this.byNetwork.get(net.name);
        if (!list) continue;
        for (const job of list.values()) {
          if (job.modem !== null || job.wantModem !== null) continue;
          const part = this.eligible(job, route.modem, now, wake);
          if (part) {
            cur.idx = (cur.idx + k) % n;
            cur.used = (fresh ? 0 : cur.used) + 1;
            return this.hand(job, part);
          }
        }
      }
    }
    return { wakeAt: wake.at };
  }

  private hand(job: Job, part: JobPart): TakeResult {
    job.inflight = true;
    return { job, part };
  }

  private eligible(
    job: Job,
    modem: string,
    now: number,
    wake: { at: number | undefined },
  ): JobPart | undefined {
    if (job.inflight) return undefined;
    if (job.modem !== null && job.modem !== modem) return undefined;
    if (job.wantModem !== null && job.wantModem !== modem) return undefined;
    const part = job.parts.find((p) => p.state === "queued");
    if (!part) return undefined;
    let ready = job.nextAt;
    const ex = job.excluded.get(modem);
    if (ex !== undefined) {
      if (ex <= now) job.excluded.delete(modem);
      else ready = Math.max(ready, ex);
    }
    if (ready > now) {
      wake.at = wake.at === undefined ? ready : Math.min(wake.at, ready);
      return undefined;
    }
    return part;
  }

  private modemNetworks(route: Route): NetworkConfig[] {
    if (route.networks.length === 0) return [...this.networks];
    const out: NetworkConfig[] = [];
    for (const name of route.networks) {
      const n = this.networks.find((x) => x.name === name);
      if (n) out.push(n);
    }
    return out;
  }

  private fallbackNetwork(): string {
    return this.networks[0]?.name ?? "local";
  }

  /** Whether some configured route could ever send this job. */
  routable(job: Job, routes: readonly Route[]): boolean {
    return routes.some(
      (r) =>
        (job.wantModem === null || job.wantModem === r.modem) &&
        (job.wantModem !== null || r.networks.length === 0 || r.networks.includes(job.network)),
    );
  }
}

function mapOf<K, V>(m: Map<string, Map<K, V>>, key: string): Map<K, V> {
  const v = m.get(key) ?? new Map<K, V>();
  if (!m.has(key)) m.set(key, v);
  return v;
}
