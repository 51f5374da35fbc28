/**
 * The SIP outbox, `<storage.dir>/sip.db`: every MESSAGE the site must get through (a received SMS going
 * upstream, a delivery notice to a SIP sender, an SMS for a handset of this site going to the local
 * BTS), kept until a 2xx, a final refusal or its expiry, across restarts.
 *
 *   queued ──► sending ──► done (2xx)
 *     ▲           │ 5xx, 408, 429, timeout, no upstream: retry with backoff
 *     └───────────┘
 *                 └──► failed (other 4xx, 6xx)      queued/sending past expires_at ──► expired
 *
 * `origin` is unique: handing the same thing over twice (after a crash between the store of a received
 * SMS and its hand-over here) queues it once.
 */
import { join } from "node:path";
import { type Database, openDatabase } from "../storage/db.js";
import type { Migration } from "../storage/migrate.js";

export const SIP_DB_FILE = "sip.db";

export type SipOutKind = "upstream" | "notice" | "local";
export type SipOutState = "queued" | "sending" | "done" | "failed" | "expired";

export const SIP_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: "outbox",
    up: `
      CREATE TABLE outbox (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL UNIQUE,
        origin TEXT NOT NULL UNIQUE,
        kind TEXT NOT NULL CHECK (kind IN ('upstream','notice','local')),
        target TEXT NOT NULL,
        from_uri TEXT NOT NULL,
        body TEXT NOT NULL,
        content_type TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('queued','sending','done','failed','expired')),
        attempts INTEGER NOT NULL DEFAULT 0,
        next_at INTEGER NOT NULL,
        created_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL,
        done_at INTEGER,
        last_status INTEGER,
        last_error TEXT,
        call_id TEXT
      );
      CREATE INDEX outbox_open ON outbox(state, next_at) WHERE state IN ('queued','sending');
    `,
  },
];

export function openSipDatabase(dir: string): Database {
  return openDatabase(join(dir, SIP_DB_FILE), SIP_MIGRATIONS);
}

export interface NewSipOut {
  id: string;
  /** What this MESSAGE carries, unique: `sms:<incoming id>`, `notice:<sms id>:<status>`, `local:<...>`. */
  origin: string;
  kind: SipOutKind;
  /** Request-URI. */
  target: string;
  fromUri: string;
  body: string;
  contentType: string;
  createdAt: number;
  expiresAt: number;
  /** A stable Call-ID, so that a retry after a restart is recognisably the same MESSAGE. */
  callId: string;
}

export interface SipOutRow {
  seq: number;
  id: string;
  origin: string;
  kind: SipOutKind;
  target: string;
  fromUri: string;
  body: string;
  contentType: string;
  state: SipOutState;
  attempts: number;
  nextAt: number;
  createdAt: number;
  expiresAt: number;
  doneAt: number | null;
  lastStatus: number | null;
  lastError: string | null;
  callId: string;
}

interface Raw {
  seq: number;
  id: string;
  origin: string;
  kind: SipOutKind;
  target: string;
  from_uri: string;
  body: string;
  content_type: string;
  state: SipOutState;
  attempts: number;
  next_at: number;
  created_at: number;
  expires_at: number;
  done_at: number | null;
  last_status: number | null;
  last_error: string | null;
  call_id: string;
}

function row(r: Raw): SipOutRow {
  return {
    seq: r.seq,
    id: r.id,
    origin: r.origin,
    kind: r.kind,
    target: r.target,
    fromUri: r.from_uri,
    body: r.body,
    contentType: r.content_type,
    state: r.state,
    attempts: r.attempts,
    nextAt: r.next_at,
    createdAt: r.created_at,
    expiresAt: r.expires_at,
    doneAt: r.done_at,
    lastStatus: r.last_status,
    lastError: r.last_error,
    callId: r.call_id,
  };
}

export class SipOutbox {
  private readonly s;

  constructor(readonly db: Database) {
    const p = (sql: string) => db.prepare(sql);
    this.s = {
      insert: p(`INSERT OR IGNORE INTO outbox (id, origin, kind, target, from_uri, body, content_type, state,
        next_at, created_at, expires_at, call_id) VALUES (@id, @origin, @kind, @target, @from_uri, @body,
        @content_type, 'queued', @created_at, @created_at, @expires_at, @call_id)`),
      byOrigin: p("SELECT * FROM outbox WHERE origin = ?"),
      byId: p("SELECT * FROM outbox WHERE id = ?"),
      open: p("SELECT * FROM outbox WHERE state IN ('queued','sending') ORDER BY seq"),
      sending: p("UPDATE outbox SET state = 'sending', attempts = attempts + 1 WHERE seq = ?"),
      done: p(
        "UPDATE outbox SET state = 'done', done_at = ?, last_status = ?, last_error = NULL WHERE seq = ?",
      ),
      failed: p(
        "UPDATE outbox SET state = 'failed', done_at = ?, last_status = ?, last_error = ? WHERE seq = ?",
      ),
      retry: p(
        "UPDATE outbox SET state = 'queued', next_at = ?, last_status = ?, last_error = ? WHERE seq = ?",
      ),
      expire:
        p(`UPDATE outbox SET state = 'expired', done_at = ?, last_error = COALESCE(last_error, 'expired')
        WHERE seq = ?`),
      reset: p("UPDATE outbox SET state = 'queued' WHERE state = 'sending'"),
      counts: p(
        "SELECT kind, state, COUNT(*) AS n, MIN(created_at) AS oldest FROM outbox GROUP BY kind, state",
      ),
      prune: p("DELETE FROM outbox WHERE done_at IS NOT NULL AND done_at < ?"),
      retryNow: p(`UPDATE outbox SET next_at = ? WHERE state = 'queued' AND kind IN ('upstream','notice')
        AND next_at > ?`),
    };
  }

  /** Queues one MESSAGE (one fsync); a second hand-over of the same origin is ignored. */
  add(m: NewSipOut): { row: SipOutRow; added: boolean } {
    const r = this.s.insert.run({
      id: m.id,
      origin: m.origin,
      kind: m.kind,
      target: m.target,
      from_uri: m.fromUri,
      body: m.body,
      content_type: m.contentType,
      created_at: m.createdAt,
      expires_at: m.expiresAt,
      call_id: m.callId,
    });
    return { row: row(this.s.byOrigin.get(m.origin) as Raw), added: r.changes === 1 };
  }

  get(id: string): SipOutRow | undefined {
    const r = this.s.byId.get(id) as Raw | undefined;
    return r ? row(r) : undefined;
  }

  byOrigin(origin: string): SipOutRow | undefined {
    const r = this.s.byOrigin.get(origin) as Raw | undefined;
    return r ? row(r) : undefined;
  }

  /** Open MESSAGEs, oldest first. After a restart, `sending` ones are queued again first. */
  open(): SipOutRow[] {
    return (this.s.open.all() as Raw[]).map(row);
  }

  /** At start: whatever was being sent when the process stopped is sent again (a MESSAGE may repeat). */
  resetSending(): number {
    return this.s.reset.run().changes;
  }

  markSending(seq: number): void {
    this.s.sending.run(seq);
  }

  markDone(seq: number, status: number, now: number): void {
    this.s.done.run(now, status, seq);
  }

  markFailed(seq: number, status: number | null, error: string, now: number): void {
    this.s.failed.run(now, status, error, seq);
  }

  markRetry(seq: number, nextAt: number, status: number | null, error: string): void {
    this.s.retry.run(nextAt, status, error, seq);
  }

  markExpired(seq: number, now: number): void {
    this.s.expire.run(now, seq);
  }

  /** The upstream is back: every MESSAGE waiting for it is due now rather than at its backoff time. */
  retryUpstreamNow(now: number): number {
    return this.s.retryNow.run(now, now).changes;
  }

  prune(before: number): number {
    return this.s.prune.run(before).changes;
  }

  /** Open MESSAGEs per kind, and the oldest one's creation time. */
  stats(): Record<SipOutKind, { pending: number; oldestAt: number | null; failed: number; expired: number }> {
    const out = {
      upstream: { pending: 0, oldestAt: null as number | null, failed: 0, expired: 0 },
      notice: { pending: 0, oldestAt: null as number | null, failed: 0, expired: 0 },
      local: { pending: 0, oldestAt: null as number | null, failed: 0, expired: 0 },
    };
    for (const r of this.s.counts.all() as {
      kind: SipOutKind;
      state: SipOutState;
      n: number;
      oldest: number;
    }[]) {
      const k = out[r.kind];
      if (r.state === "queued" || r.state === "sending") {
        k.pending += r.n;
        k.oldestAt = k.oldestAt === null ? r.oldest : Math.min(k.oldestAt, r.oldest);
      } else if (r.state === "failed") k.failed += r.n;
      else if (r.state === "expired") k.expired += r.n;
    }
    return out;
  }
}
