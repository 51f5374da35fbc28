/**
 * The NOC link's durable state, in `<storage.dir>/site.db` (WAL, synchronous=FULL):
 *
 *   events        the event outbox: every `event/<kind>` in the order it happened, kept until the
 *                 broker acknowledged it (QoS 1 PUBACK), bounded by `mqtt.outbox_limit` (the oldest go
 *                 first; what went is counted in `meta` and reported as `event/outbox_overflow`)
 *   transactions  the first answer to each request that carried a `transaction`, for 24 h: a repeat
 *                 (a QoS 1 redelivery, a retry from the NOC) gets it again instead of running twice
 *   meta          counters that must survive a restart (events dropped, their time span and kinds)
 *
 * Events are added in batches (one transaction per event-loop turn), so a burst of SMS costs one fsync.
 */
import type { Database } from "../storage/db.js";
import { openSiteDatabase } from "../storage/siteDb.js";

/**
 * The NOC link's tables live in `site.db` (migration 2 of `src/storage/siteDb.ts`): one SQLite
 * connection less, about 0.9 MB of resident memory (docs/performance.md).
 */
export function openNocDatabase(dir: string): Database {
  return openSiteDatabase(dir);
}

export interface StoredEvent {
  seq: number;
  event_id: string;
  kind: string;
  /** The whole payload as published (compact JSON, `event_id` and `at` included). */
  payload: string;
}

/** What the bound on the outbox threw away since it was last reported. */
export interface Overflow {
  dropped: number;
  /** ms since the epoch of the oldest and newest event dropped. */
  first_at: number;
  last_at: number;
  /** Dropped events per kind. */
  kinds: Record<string, number>;
}

/** How long a request's first answer is kept for repeats, ms (contract: 24 h). */
export const TRANSACTION_TTL_MS = 24 * 3600_000;

export class NocStore {
  private readonly s;

  constructor(readonly db: Database) {
    const p = (sql: string) => db.prepare(sql);
    this.s = {
      insert: p("INSERT OR IGNORE INTO events (event_id, kind, payload, created_at) VALUES (?, ?, ?, ?)"),
      count: p("SELECT COUNT(*) FROM events").pluck(),
      oldest: p("SELECT seq, kind, created_at FROM events ORDER BY seq LIMIT ?"),
      deleteUpTo: p("DELETE FROM events WHERE seq <= ?"),
      deleteOne: p("DELETE FROM events WHERE seq = ?"),
      after: p("SELECT seq, event_id, kind, payload FROM events WHERE seq > ? ORDER BY seq LIMIT ?"),
      first: p("SELECT created_at FROM events ORDER BY seq LIMIT 1").pluck(),
      getMeta: p("SELECT value FROM meta WHERE key = ?").pluck(),
      setMeta: p(
        "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
      ),
      deleteMeta: p("DELETE FROM meta WHERE key = ?"),
      getTx: p("SELECT response FROM transactions WHERE key = ? AND at > ?").pluck(),
      putTx: p("INSERT OR IGNORE INTO transactions (key, response, at) VALUES (?, ?, ?)"),
      pruneTx: p("DELETE FROM transactions WHERE at <= ?"),
    };
  }

  /**
   * Adds events (one transaction), then drops the oldest beyond `limit`, counting them in the
   * overflow record. Returns how many were dropped now.
   */
  add(
    events: readonly { event_id: string; kind: string; payload: string; at: number }[],
    limit: number,
  ): number {
    let dropped = 0;
    this.db.transaction(() => {
      for (const e of events) this.s.insert.run(e.event_id, e.kind, e.payload, e.at);
      const over = (this.s.count.get() as number) - limit;
      if (over > 0) {
        const rows = this.s.oldest.all(over) as { seq: number; kind: string; created_at: number }[];
        const o = this.overflow() ?? {
          dropped: 0,
          first_at: rows[0]?.created_at ?? 0,
          last_at: 0,
          kinds: {},
        };
        for (const r of rows) {
          o.dropped++;
          o.last_at = r.created_at;
          o.kinds[r.kind] = (o.kinds[r.kind] ?? 0) + 1;
        }
        const last = rows[rows.length - 1];
        if (last) this.s.deleteUpTo.run(last.seq);
        this.s.setMeta.run("overflow", JSON.stringify(o));
        dropped = rows.length;
      }
    })();
    return dropped;
  }

  /** Up to `limit` events after `seq`, oldest first. */
  after(seq: number, limit: number): StoredEvent[] {
    return this.s.after.all(seq, limit) as StoredEvent[];
  }

  /** The broker has it: gone from the outbox. */
  acknowledge(seq: number): void {
    this.s.deleteOne.run(seq);
  }

  pending(): number {
    return this.s.count.get() as number;
  }

  /** ms since the epoch of the oldest event still waiting, or null. */
  oldestAt(): number | null {
    return (this.s.first.get() as number | undefined) ?? null;
  }

  overflow(): Overflow | undefined {
    const v = this.s.getMeta.get("overflow") as string | undefined;
    return v === undefined ? undefined : (JSON.parse(v) as Overflow);
  }

  /** The overflow was reported (its event is in the outbox): start counting again. */
  clearOverflow(): void {
    this.s.deleteMeta.run("overflow");
  }

  /** The stored answer to a repeated request, or undefined. */
  transaction(key: string, now: number): string | undefined {
    return this.s.getTx.get(key, now - TRANSACTION_TTL_MS) as string | undefined;
  }

  /** Keeps the first answer only (a later one for the same key is ignored). */
  rememberTransaction(key: string, response: string, now: number): void {
    this.s.putTx.run(key, response, now);
  }

  pruneTransactions(now: number): number {
    return this.s.pruneTx.run(now - TRANSACTION_TTL_MS).changes;
  }
}
