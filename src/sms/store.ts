/**
 * The SMS store, `<storage.dir>/sms.db`: the outgoing queue and the received messages, in SQLite
 * (WAL, synchronous=FULL: a commit is on disk when `run()` returns). Synchronous, like better-sqlite3.
 *
 *   outgoing message ─┬─ part 1 ─ queued ─► sending ─► sent ─► delivered
 *                     ├─ part 2        (handed)   │     └──► failed (negative report)
 *                     └─ ...                      └─► unknown (crash or timeout after the modem took it)
 *
 *   message state: queued ─► sending ─► sent ─► delivered
 *                     │          ├──────────────► failed   (permanent error, attempts used up, report)
 *                     ├──────────┴──────────────► unknown  (never resent blindly)
 *                     └─────────────────────────► expired  (not sent within sms.expiry_s)
 *
 * A part is `sending` from the moment the modem's `> ` prompt came and the PDU is about to be written
 * (`handed_at`), committed before the write: after a crash, a `sending` part is one the modem may have
 * sent, so it becomes `unknown`; a part still `queued` was never typed and is sent again.
 *
 * Incoming parts are kept raw (the PDU as read) and de-duplicated twice: the same PDU seen again, and
 * the same (originator, SMSC time stamp, reference, part) in a different PDU (a resend by the network).
 */
import { createHash } from "node:crypto";
import { join } from "node:path";
import { type Database, openDatabase } from "../storage/db.js";
import type { Migration } from "../storage/migrate.js";

export const SMS_DB_FILE = "sms.db";

export type OutState = "queued" | "sending" | "sent" | "delivered" | "failed" | "expired" | "unknown";
export type PartState = "queued" | "sending" | "sent" | "delivered" | "failed" | "unknown";
/** States a message leaves no more. */
export const FINAL_STATES: ReadonlySet<OutState> = new Set(["delivered", "failed", "expired", "unknown"]);

export const SMS_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: "outgoing queue, incoming messages",
    up: `
      CREATE TABLE out_messages (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL UNIQUE,
        source TEXT NOT NULL,
        source_ref TEXT,
        origin TEXT,
        to_number TEXT NOT NULL,
        text TEXT NOT NULL,
        network TEXT NOT NULL,
        encoding TEXT NOT NULL,
        parts INTEGER NOT NULL,
        truncated INTEGER NOT NULL DEFAULT 0,
        status_report INTEGER NOT NULL,
        want_modem TEXT,
        state TEXT NOT NULL CHECK (state IN
          ('queued','sending','sent','delivered','failed','expired','unknown')),
        modem TEXT,
        bound_at INTEGER,
        next_at INTEGER NOT NULL,
        created_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL,
        done_at INTEGER,
        error_code TEXT,
        error TEXT
      );
      CREATE UNIQUE INDEX out_source_ref ON out_messages(source, source_ref) WHERE source_ref IS NOT NULL;
      CREATE INDEX out_open ON out_messages(state) WHERE state IN ('queued','sending');
      CREATE TABLE out_parts (
        message_seq INTEGER NOT NULL REFERENCES out_messages(seq) ON DELETE CASCADE,
        part INTEGER NOT NULL,
        pdu TEXT NOT NULL,
        tpdu_length INTEGER NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('queued','sending','sent','delivered','failed','unknown')),
        attempts INTEGER NOT NULL DEFAULT 0,
        modem TEXT,
        mr INTEGER,
        handed_at INTEGER,
        sent_at INTEGER,
        report_status INTEGER,
        report_at INTEGER,
        error TEXT,
        PRIMARY KEY (message_seq, part)
      );
      CREATE INDEX out_parts_mr ON out_parts(modem, mr) WHERE mr IS NOT NULL;
      -- Every PDU handed to a modem (retries included): what a SIM plan's daily cap counts.
      CREATE TABLE handovers (modem TEXT NOT NULL, at INTEGER NOT NULL);
      CREATE INDEX handovers_modem_at ON handovers(modem, at);
      CREATE TABLE in_parts (
        id INTEGER PRIMARY KEY,
        modem TEXT NOT NULL,
        pdu_sha TEXT NOT NULL UNIQUE,
        dedupe_key TEXT UNIQUE,
        pdu TEXT NOT NULL,
        received_at INTEGER NOT NULL,
        originator TEXT,
        scts TEXT,
        ref INTEGER,
        total INTEGER,
        seq INTEGER,
        text TEXT,
        error TEXT,
        message_seq INTEGER
      );
      CREATE INDEX in_parts_open ON in_parts(modem, originator, ref, total)
        WHERE message_seq IS NULL AND error IS NULL;
      CREATE TABLE in_messages (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL UNIQUE,
        modem TEXT NOT NULL,
        from_number TEXT NOT NULL,
        to_number TEXT,
        text TEXT NOT NULL,
        parts INTEGER NOT NULL,
        missing INTEGER NOT NULL DEFAULT 0,
        sent_at TEXT,
        received_at INTEGER NOT NULL,
        state TEXT NOT NULL DEFAULT 'stored'
      );
    `,
  },
  {
    version: 2,
    name: "outgoing SMS by destination (replies go back to the SIP sender)",
    up: `
      CREATE INDEX out_to ON out_messages(to_number, seq);
    `,
  },
];

/** Opens (creating and migrating) `<dir>/sms.db`. */
export function openSmsDatabase(dir: string): Database {
  return openDatabase(join(dir, SMS_DB_FILE), SMS_MIGRATIONS);
}

// ── rows ──────────────────────────────────────────────────────────────────────────────────────

export interface NewOutgoing {
  /** Row number to use; default: the next one SQLite gives. */
  seq?: number;
  id: string;
  source: string;
  sourceRef?: string | undefined;
  /** Who asked, for replies and delivery notices (JSON-able). */
  origin?: unknown;
  to: string;
  text: string;
  network: string;
  encoding: string;
  truncated: boolean;
  statusReport: boolean;
  wantModem?: string | undefined;
  parts: { pdu: string; tpduLength: number }[];
  createdAt: number;
  expiresAt: number;
}

export interface OutPartRow {
  part: number;
  pdu: string;
  tpduLength: number;
  state: PartState;
  attempts: number;
  modem: string | null;
  mr: number | null;
  handedAt: number | null;
  sentAt: number | null;
  reportStatus: number | null;
  error: string | null;
}

export interface OutMessageRow {
  seq: number;
  id: string;
  source: string;
  sourceRef: string | null;
  origin: unknown;
  to: string;
  text: string;
  network: string;
  encoding: string;
  truncated: boolean;
  statusReport: boolean;
  wantModem: string | null;
  state: OutState;
  modem: string | null;
  boundAt: number | null;
  nextAt: number;
  createdAt: number;
  expiresAt: number;
  doneAt: number | null;
  errorCode: string | null;
  error: string | null;
  parts: OutPartRow[];
}

export interface InMessageRow {
  seq: number;
  id: string;
  modem: string;
  from: string;
  to: string | null;
  text: string;
  parts: number;
  missing: number;
  sentAt: string | null;
  receivedAt: number;
  state: string;
}

/** A received part, decoded (or not: `error` says why, and the raw PDU is kept all the same). */
export interface IncomingPart {
  modem: string;
  pdu: string;
  receivedAt: number;
  decoded?: {
    from: string;
    scts: string;
    text: string;
    /** -1 for a message in one part. */
    ref: number;
    total: number;
    seq: number;
  };
  error?: string;
}

export type StoreIncomingResult =
  | { kind: "duplicate" }
  | { kind: "undecodable" }
  | { kind: "part"; waiting: number }
  | { kind: "message"; message: InMessageRow };

interface RawOutMessage {
  seq: number;
  id: string;
  source: string;
  source_ref: string | null;
  origin: string | null;
  to_number: string;
  text: string;
  network: string;
  encoding: string;
  parts: number;
  truncated: number;
  status_report: number;
  want_modem: string | null;
  state: OutState;
  modem: string | null;
  bound_at: number | null;
  next_at: number;
  created_at: number;
  expires_at: number;
  done_at: number | null;
  error_code: string | null;
  error: string | null;
}

interface RawOutPart {
  message_seq: number;
  part: number;
  pdu: string;
  tpdu_length: number;
  state: PartState;
  attempts: number;
  modem: string | null;
  mr: number | null;
  handed_at: number | null;
  sent_at: number | null;
  report_status: number | null;
  error: string | null;
}

interface RawInMessage {
  seq: number;
  id: string;
  modem: string;
  from_number: string;
  to_number: string | null;
  text: string;
  parts: number;
  missing: number;
  sent_at: string | null;
  received_at: number;
  state: string;
}

function partRow(r: RawOutPart): OutPartRow {
  return {
    part: r.part,
    pdu: r.pdu,
    tpduLength: r.tpdu_length,
    state: r.state,
    attempts: r.attempts,
    modem: r.modem,
    mr: r.mr,
    handedAt: r.handed_at,
    sentAt: r.sent_at,
    reportStatus: r.report_status,
    error: r.error,
  };
}

function messageRow(r: RawOutMessage, parts: OutPartRow[]): OutMessageRow {
  let origin: unknown = null;
  if (r.origin) {
    try {
      origin = JSON.parse(r.origin);
    } catch {
      origin = r.origin;
    }
  }
  return {
    seq: r.seq,
    id: r.id,
    source: r.source,
    sourceRef: r.source_ref,
    origin,
    to: r.to_number,
    text: r.text,
    network: r.network,
    encoding: r.encoding,
    truncated: r.truncated === 1,
    statusReport: r.status_report === 1,
    wantModem: r.want_modem,
    state: r.state,
    modem: r.modem,
    boundAt: r.bound_at,
    nextAt: r.next_at,
    createdAt: r.created_at,
    expiresAt: r.expires_at,
    doneAt: r.done_at,
    errorCode: r.error_code,
    error: r.error,
    parts,
  };
}

function inRow(r: RawInMessage): InMessageRow {
  return {
    seq: r.seq,
    id: r.id,
    modem: r.modem,
    from: r.from_number,
    to: r.to_number,
    text: r.text,
    parts: r.parts,
    missing: r.missing,
    sentAt: r.sent_at,
    receivedAt: r.received_at,
    state: r.state,
  };
}

/** The marker put in place of a part that never came. */
export function missingPartMarker(seq: number, total: number): string {
  return `[part ${seq} of ${total} missing]`;
}

function digitsOf(number: string): string {
  return number.replace(/^\+/, "");
}

/** The TPDU of a PDU (without its SMSC field), for "the same PDU seen again". */
function tpduOf(pdu: string): string {
  const hex = pdu.replace(/\s+/g, "").toUpperCase();
  const smsc = Number.parseInt(hex.slice(0, 2), 16);
  return Number.isNaN(smsc) ? hex : hex.slice(2 + smsc * 2);
}

function sha(text: string): string {
  return createHash("sha256").update(text).digest("hex").slice(0, 32);
}

export interface QueueStats {
  /** Messages per state, over the whole table. */
  byState: Record<OutState, number>;
  /** Messages not yet sent (queued or sending). */
  pending: number;
  /** Creation time of the oldest pending message, ms since the epoch. */
  oldestPendingAt: number | null;
}

export class SmsStore {
  private readonly s;

  constructor(readonly db: Database) {
    const p = (sql: string) => db.prepare(sql);
    this.s = {
      insertMsg: p(`INSERT INTO out_messages
        (seq, id, source, source_ref, origin, to_number, text, network, encoding, parts, truncated,
         status_report, want_modem, state, next_at, created_at, expires_at)
        VALUES (@seq, @id, @source, @source_ref, @origin, @to, @text, @network, @encoding, @parts, @truncated,
         @status_report, @want_modem, 'queued', @created_at, @created_at, @expires_at)`),
      insertPart: p(`INSERT INTO out_parts (message_seq, part, pdu, tpdu_length, state)
        VALUES (?, ?, ?, ?, 'queued')`),
      bySourceRef: p("SELECT id, seq, parts FROM out_messages WHERE source = ? AND source_ref = ?"),
      msgById: p("SELECT * FROM out_messages WHERE id = ?"),
      lastTo: p(`SELECT origin FROM out_messages WHERE to_number = ? AND source = ? AND created_at >= ?
        ORDER BY seq DESC LIMIT 1`),
      lastSeq: p("SELECT seq FROM sqlite_sequence WHERE name = 'out_messages'"),
      maxSeq: p("SELECT MAX(seq) AS seq FROM out_messages"),
      msgBySeq: p("SELECT * FROM out_messages WHERE seq = ?"),
      partsOf: p("SELECT * FROM out_parts WHERE message_seq = ? ORDER BY part"),
      openMsgs: p("SELECT * FROM out_messages WHERE state IN ('queued','sending') ORDER BY seq"),
      openParts: p(`SELECT p.* FROM out_parts p JOIN out_messages m ON m.seq = p.message_seq
        WHERE m.state IN ('queued','sending') ORDER BY p.message_seq, p.part`),
      handedParts: p("SELECT message_seq, part FROM out_parts WHERE state = 'sending'"),
      setPart: p(
        `UPDATE out_parts SET state = @state, error = @error WHERE message_seq = @seq AND part = @part`,
      ),
      handPart: p(`UPDATE out_parts SET state = 'sending', modem = @modem, handed_at = @at,
        attempts = attempts + 1, error = NULL WHERE message_seq = @seq AND part = @part`),
      bindMsg: p(`UPDATE out_messages SET state = 'sending', modem = COALESCE(modem, @modem),
        bound_at = COALESCE(bound_at, @at) WHERE seq = @seq AND state IN ('queued','sending')`),
      handover: p("INSERT INTO handovers (modem, at) VALUES (?, ?)"),
      sentPart: p(`UPDATE out_parts SET state = 'sent', mr = @mr, sent_at = @at, error = NULL
        WHERE message_seq = @seq AND part = @part`),
      countParts: p(`SELECT state, COUNT(*) AS n FROM out_parts WHERE message_seq = ? GROUP BY state`),
      setOpenMsgState: p(`UPDATE out_messages SET state = @state, done_at = @done_at
        WHERE seq = @seq AND state IN ('queued','sending')`),
      setMsgState: p(`UPDATE out_messages SET state = @state, done_at = @done_at,
        error_code = COALESCE(@error_code, error_code), error = COALESCE(@error, error) WHERE seq = @seq`),
      retryPart: p(
        `UPDATE out_parts SET state = 'queued', error = @error WHERE message_seq = @seq AND part = @part`,
      ),
      retryMsg: p(`UPDATE out_messages SET next_at = @next_at, error = @error,
        state = CASE WHEN EXISTS (SELECT 1 FROM out_parts WHERE message_seq = @seq AND state = 'sent')
          THEN 'sending' ELSE 'queued' END,
        modem = CASE WHEN EXISTS (SELECT 1 FROM out_parts WHERE message_seq = @seq AND state = 'sent')
          THEN modem ELSE NULL END,
        bound_at = CASE WHEN EXISTS (SELECT 1 FROM out_parts WHERE message_seq = @seq AND state = 'sent')
          THEN bound_at ELSE NULL END
        WHERE seq = @seq AND state IN ('queued','sending')`),
      failOpenParts: p(`UPDATE out_parts SET state = 'failed', error = COALESCE(@error, error)
        WHERE message_seq = @seq AND state IN ('queued','sending')`),
      unknownParts: p(`UPDATE out_parts SET state = 'unknown', error = @error
        WHERE message_seq = @seq AND state = 'sending'`),
      rebindParts: p(`UPDATE out_parts SET state = 'queued', modem = NULL, mr = NULL, handed_at = NULL,
        sent_at = NULL WHERE message_seq = ?`),
      rebindMsg: p(`UPDATE out_messages SET state = 'queued', modem = NULL, bound_at = NULL, next_at = ?
        WHERE seq = ?`),
      byMr: p(`SELECT p.message_seq, p.part FROM out_parts p
        WHERE p.modem = ? AND p.mr = ? AND p.sent_at >= ? AND p.state IN ('sent','delivered','failed')
        ORDER BY p.sent_at DESC LIMIT 1`),
      unknownFor: p(`SELECT p.message_seq, p.part, p.handed_at FROM out_parts p
        JOIN out_messages m ON m.seq = p.message_seq
        WHERE p.modem = ? AND p.state = 'unknown' AND p.handed_at >= ?
          AND replace(m.to_number, '+', '') = ?`),
      report: p(`UPDATE out_parts SET state = @state, report_status = @status, report_at = @at
        WHERE message_seq = @seq AND part = @part`),
      reportPending: p(`UPDATE out_parts SET report_status = @status, report_at = @at
        WHERE message_seq = @seq AND part = @part`),
      stats: p("SELECT state, COUNT(*) AS n FROM out_messages GROUP BY state"),
      oldest: p("SELECT MIN(created_at) AS t FROM out_messages WHERE state IN ('queued','sending')"),
      pendingCount: p("SELECT COUNT(*) AS n FROM out_messages WHERE state IN ('queued','sending')"),
      handedSince: p("SELECT COUNT(*) AS n FROM handovers WHERE modem = ? AND at >= ?"),
      pruneHandovers: p("DELETE FROM handovers WHERE at < ?"),
      pruneOut: p(`DELETE FROM out_messages WHERE done_at IS NOT NULL AND done_at < ?
        AND state IN ('sent','delivered','failed','expired','unknown')`),
      pruneInParts: p(`DELETE FROM in_parts WHERE received_at < ?
        AND (message_seq IS NOT NULL OR error IS NOT NULL)`),
      pruneIn: p("DELETE FROM in_messages WHERE received_at < ?"),
      // incoming
      inInsert: p(`INSERT OR IGNORE INTO in_parts
        (modem, pdu_sha, dedupe_key, pdu, received_at, originator, scts, ref, total, seq, text, error)
        VALUES (@modem, @pdu_sha, @dedupe_key, @pdu, @received_at, @originator, @scts, @ref, @total, @seq,
         @text, @error)`),
      inGroup: p(`SELECT id, seq, text, scts, received_at FROM in_parts
        WHERE modem = ? AND originator = ? AND ref = ? AND total = ? AND message_seq IS NULL AND error IS NULL
        ORDER BY seq, id`),
      inMsgInsert: p(`INSERT INTO in_messages (id, modem, from_number, to_number, text, parts, missing,
        sent_at, received_at) VALUES (@id, @modem, @from, @to, @text, @parts, @missing, @sent_at, @received_at)`),
      inAssign: p("UPDATE in_parts SET message_seq = ? WHERE id = ?"),
      inMsgBySeq: p("SELECT * FROM in_messages WHERE seq = ?"),
      inMsgById: p("SELECT * FROM in_messages WHERE id = ?"),
      inStale: p(`SELECT modem, originator, ref, total, MIN(received_at) AS first FROM in_parts
        WHERE message_seq IS NULL AND error IS NULL AND total > 1
        GROUP BY modem, originator, ref, total HAVING MIN(received_at) <= ?`),
      inOpenCount: p("SELECT COUNT(*) AS n FROM in_parts WHERE message_seq IS NULL AND error IS NULL"),
      inList: p("SELECT * FROM in_messages WHERE seq > ? ORDER BY seq LIMIT ?"),
      inSetState: p("UPDATE in_messages SET state = ? WHERE id = ?"),
      inCount: p("SELECT COUNT(*) AS n FROM in_messages"),
      inUndecodable: p("SELECT COUNT(*) AS n FROM in_parts WHERE error IS NOT NULL"),
    };
  }

  // ── outgoing ────────────────────────────────────────────────────────────────────────────────

  /**
   * Inserts messages in one transaction (one fsync for the batch). A message whose (source, sourceRef)
   * is already there is not inserted again: its existing id comes back with `existing: true`.
   */
  insertOutgoing(
    batch: readonly NewOutgoing[],
  ): { id: string; seq: number; existing: boolean; parts: number }[] {
    const tx = this.db.transaction((items: readonly NewOutgoing[]) => {
      const out: { id: string; seq: number; existing: boolean; parts: number }[] = [];
      for (const m of items) {
        if (m.sourceRef !== undefined) {
          const prior = this.s.bySourceRef.get(m.source, m.sourceRef) as
            | { id: string; seq: number; parts: number }
            | undefined;
          if (prior) {
            out.push({ id: prior.id, seq: prior.seq, existing: true, parts: prior.parts });
            continue;
          }
        }
        const r = this.s.insertMsg.run({
          seq: m.seq ?? null,
          id: m.id,
          source: m.source,
          source_ref: m.sourceRef ?? null,
          origin: m.origin === undefined ? null : JSON.stringify(m.origin),
          to: m.to,
          text: m.text,
          network: m.network,
          encoding: m.encoding,
          parts: m.parts.length,
          truncated: m.truncated ? 1 : 0,
          status_report: m.statusReport ? 1 : 0,
          want_modem: m.wantModem ?? null,
          created_at: m.createdAt,
          expires_at: m.expiresAt,
        });
        const seq = Number(r.lastInsertRowid);
        for (const [i, part] of m.parts.entries())
          this.s.insertPart.run(seq, i + 1, part.pdu, part.tpduLength);
        out.push({ id: m.id, seq, existing: false, parts: m.parts.length });
      }
      return out;
    });
    return tx(batch);
  }

  /**
   * Who sent the latest SMS to `number` from `source` since `since` (its `origin`): an SMS from that
   * number is taken as the reply to it.
   */
  lastOriginTo(number: string, source: string, since: number): unknown {
    const r = this.s.lastTo.get(number, source, since) as { origin: string | null } | undefined;
    if (!r?.origin) return undefined;
    try {
      return JSON.parse(r.origin);
    } catch {
      return undefined;
    }
  }

  hasSourceRef(source: string, sourceRef: string): boolean {
    return this.s.bySourceRef.get(source, sourceRef) !== undefined;
  }

  /** The highest `out_messages.seq` ever given (deleted rows included: AUTOINCREMENT never reuses). */
  lastSeq(): number {
    const r = this.s.lastSeq.get() as { seq: number } | undefined;
    const m = this.s.maxSeq.get() as { seq: number | null };
    return Math.max(r?.seq ?? 0, m.seq ?? 0);
  }

  message(id: string): OutMessageRow | undefined {
    const r = this.s.msgById.get(id) as RawOutMessage | undefined;
    return r ? messageRow(r, (this.s.partsOf.all(r.seq) as RawOutPart[]).map(partRow)) : undefined;
  }

  messageBySeq(seq: number): OutMessageRow | undefined {
    const r = this.s.msgBySeq.get(seq) as RawOutMessage | undefined;
    return r ? messageRow(r, (this.s.partsOf.all(r.seq) as RawOutPart[]).map(partRow)) : undefined;
  }

  /** Every message still to send (queued or sending), oldest first, with its parts. */
  openMessages(): OutMessageRow[] {
    const parts = new Map<number, OutPartRow[]>();
    for (const r of this.s.openParts.all() as RawOutPart[]) {
      const list = parts.get(r.message_seq) ?? [];
      if (list.length === 0) parts.set(r.message_seq, list);
      list.push(partRow(r));
    }
    return (this.s.openMsgs.all() as RawOutMessage[]).map((r) => messageRow(r, parts.get(r.seq) ?? []));
  }

  /**
   * After a crash or a stop past its deadline: every part that was handed to a modem without an answer
   * (`sending`) becomes `unknown`, and so does its message. Returns the seqs of those messages.
   */
  settleHanded(reason: string, now: number): number[] {
    const tx = this.db.transaction(() => {
      const seqs = new Set((this.s.handedParts.all() as { message_seq: number }[]).map((r) => r.message_seq));
      for (const seq of seqs) this.markUnknownTx(seq, reason, now);
      return [...seqs];
    });
    return tx();
  }

  /**
   * The modem's prompt came: the PDU is about to be written. Committed (fsync) before the write, so a
   * crash from here on leaves the part `sending`, i.e. possibly sent: it is never resent blindly.
   */
  markHanded(seq: number, part: number, modem: string, now: number): void {
    const tx = this.db.transaction(() => {
      this.s.handPart.run({ seq, part, modem, at: now });
      this.s.bindMsg.run({ seq, modem, at: now });
      this.s.handover.run(modem, now);
    });
    tx();
  }

  /** `+CMGS: <mr>` came. Returns the message's new state (`sent` once every part is). */
  markSent(seq: number, part: number, mr: number, now: number): OutState {
    const tx = this.db.transaction((): OutState => {
      this.s.sentPart.run({ seq, part, mr, at: now });
      const counts = this.partCounts(seq);
      const total = Object.values(counts).reduce((a, b) => a + b, 0);
      if ((counts.sent ?? 0) + (counts.delivered ?? 0) === total) {
        // Only from an open state: a message a report already failed stays failed.
        if (this.s.setOpenMsgState.run({ seq, state: "sent", done_at: now }).changes === 1) return "sent";
      }
      return (this.s.msgBySeq.get(seq) as RawOutMessage).state;
    });
    return tx();
  }

  /** A part failed without being sent: back to `queued` until `nextAt`. */
  markRetry(seq: number, part: number, nextAt: number, error: string): void {
    const tx = this.db.transaction(() => {
      this.s.retryPart.run({ seq, part, error });
      this.s.retryMsg.run({ seq, next_at: nextAt, error });
    });
    tx();
  }

  /** The message can never go (or its attempts are used up): `failed`, with its unsent parts. */
  markFailed(seq: number, code: string, error: string, now: number): void {
    const tx = this.db.transaction(() => {
      this.s.failOpenParts.run({ seq, error });
      this.s.setMsgState.run({ seq, state: "failed", done_at: now, error_code: code, error });
    });
    tx();
  }

  /** The modem may have sent the part: `unknown`, never resent blindly. */
  markUnknown(seq: number, reason: string, now: number): void {
    this.db.transaction(() => this.markUnknownTx(seq, reason, now))();
  }

  private markUnknownTx(seq: number, reason: string, now: number): void {
    this.s.unknownParts.run({ seq, error: reason });
    this.s.setMsgState.run({ seq, state: "unknown", done_at: now, error_code: "sms.unknown", error: reason });
  }

  /** Failover of a half-sent message: every part queued again, unbound (sent whole elsewhere). */
  rebind(seq: number, nextAt: number): void {
    this.db.transaction(() => {
      this.s.rebindParts.run(seq);
      this.s.rebindMsg.run(nextAt, seq);
    })();
  }

  /** A message nothing was sent of, past its expiry: `expired`. */
  expire(seq: number, now: number): void {
    this.db.transaction(() => {
      this.s.failOpenParts.run({ seq, error: "expired" });
      this.s.setMsgState.run({
        seq,
        state: "expired",
        done_at: now,
        error_code: "sms.expired",
        error: "not sent before it expired",
      });
    })();
  }

  /**
   * A status report for (modem, TP-MR) sent since `since`. A final status settles the part; the message
   * becomes `delivered` when every part is, `failed` at the first part that failed.
   */
  applyReport(
    modem: string,
    mr: number,
    since: number,
    report: {
      delivered: boolean;
      failed: boolean;
      status: number;
      text: string;
      recipient?: string;
      scts?: number;
    },
    now: number,
  ):
    | {
        seq: number;
        part: number;
        messageState: OutState;
        changed: boolean;
        resolvedUnknown: boolean;
        resumable: boolean;
      }
    | undefined {
    const tx = this.db.transaction(() => {
      let hit = this.s.byMr.get(modem, mr, since) as { message_seq: number; part: number } | undefined;
      let resolvedUnknown = false;
      if (!hit && report.recipient) {
        // No SMS of ours with this TP-MR: it may be one a crash left `unknown` (the modem sent it, we never
        // heard the +CMGS). A report for its recipient from its modem is the evidence that it went.
        const cands = this.s.unknownFor.all(modem, since, digitsOf(report.recipient)) as {
          message_seq: number;
          part: number;
          handed_at: number;
        }[];
        const at = report.scts ?? now;
        cands.sort((a, b) => Math.abs(a.handed_at - at) - Math.abs(b.handed_at - at));
        const c = cands[0];
        if (c) {
          this.s.sentPart.run({ seq: c.message_seq, part: c.part, mr, at: c.handed_at });
          hit = { message_seq: c.message_seq, part: c.part };
          resolvedUnknown = true;
          const counts = this.partCounts(c.message_seq);
          if ((counts.unknown ?? 0) === 0) {
            const queued = (counts.queued ?? 0) > 0;
            this.s.setMsgState.run({
              seq: c.message_seq,
              state: queued ? "sending" : "sent",
              done_at: queued ? null : now,
              error_code: null,
              error: null,
            });
          }
        }
      }
      if (!hit) return undefined;
      const seq = hit.message_seq;
      const before = (this.s.msgBySeq.get(seq) as RawOutMessage).state;
      const resumable = before === "sending" && resolvedUnknown;
      if (!report.delivered && !report.failed) {
        this.s.reportPending.run({ seq, part: hit.part, status: report.status, at: now });
        return {
          seq,
          part: hit.part,
          messageState: before,
          changed: resolvedUnknown,
          resolvedUnknown,
          resumable,
        };
      }
      this.s.report.run({
        seq,
        part: hit.part,
        state: report.delivered ? "delivered" : "failed",
        status: report.status,
        at: now,
      });
      let state: OutState = before;
      if (report.failed && before !== "failed") {
        state = "failed";
        this.s.failOpenParts.run({ seq, error: `part ${hit.part} not delivered: ${report.text}` });
        this.s.setMsgState.run({
          seq,
          state,
          done_at: now,
          error_code: `report.${report.status}`,
          error: report.text,
        });
      } else if (report.delivered && before === "sent") {
        const counts = this.partCounts(seq);
        const total = Object.values(counts).reduce((a, b) => a + b, 0);
        if ((counts.delivered ?? 0) === total) {
          state = "delivered";
          this.s.setMsgState.run({ seq, state, done_at: now, error_code: null, error: null });
        }
      }
      return {
        seq,
        part: hit.part,
        messageState: state,
        changed: state !== before || resolvedUnknown,
        resolvedUnknown,
        resumable: resumable && state === "sending",
      };
    });
    return tx();
  }

  private partCounts(seq: number): Partial<Record<PartState, number>> {
    const out: Partial<Record<PartState, number>> = {};
    for (const r of this.s.countParts.all(seq) as { state: PartState; n: number }[]) out[r.state] = r.n;
    return out;
  }

  /** PDUs handed to `modem` since `since`, every attempt counted (the daily cap counts them). */
  handedSince(modem: string, since: number): number {
    return (this.s.handedSince.get(modem, since) as { n: number }).n;
  }

  /**
   * Deletes settled outgoing messages (with their parts) and received ones older than `before`, and
   * received parts already joined (or undecodable) as old. De-duplication of received SMS therefore
   * reaches back `sms.retention_days`. Returns how many rows went.
   */
  prune(before: number): number {
    return this.db.transaction(() => {
      let n = this.s.pruneOut.run(before).changes;
      n += this.s.pruneInParts.run(before).changes;
      n += this.s.pruneIn.run(before).changes;
      return n;
    })();
  }

  /** Forgets hand-overs older than `before` (only the daily cap reads them). */
  pruneHandovers(before: number): void {
    this.s.pruneHandovers.run(before);
  }

  pendingCount(): number {
    return (this.s.pendingCount.get() as { n: number }).n;
  }

  stats(): QueueStats {
    const byState = {
      queued: 0,
      sending: 0,
      sent: 0,
      delivered: 0,
      failed: 0,
      expired: 0,
      unknown: 0,
    } as Record<OutState, number>;
    for (const r of this.s.stats.all() as { state: OutState; n: number }[]) byState[r.state] = r.n;
    const oldest = (this.s.oldest.get() as { t: number | null }).t;
    return { byState, pending: byState.queued + byState.sending, oldestPendingAt: oldest };
  }

  // ── incoming ────────────────────────────────────────────────────────────────────────────────

  /**
   * Stores one received part (one transaction): nothing when it is a duplicate; the whole message when
   * it was the last part missing (or the only one).
   */
  storeIncoming(p: IncomingPart, newId: () => string, to: string | null): StoreIncomingResult {
    const tx = this.db.transaction((): StoreIncomingResult => {
      const d = p.decoded;
      const dedupeKey = d
        ? [d.from, d.scts, d.ref, d.total, d.seq, d.ref === -1 ? sha(d.text) : ""].join("|")
        : null;
      const r = this.s.inInsert.run({
        modem: p.modem,
        pdu_sha: sha(tpduOf(p.pdu)),
        dedupe_key: dedupeKey,
        pdu: p.pdu,
        received_at: p.receivedAt,
        originator: d?.from ?? null,
        scts: d?.scts ?? null,
        ref: d?.ref ?? null,
        total: d?.total ?? null,
        seq: d?.seq ?? null,
        text: d?.text ?? null,
        error: d ? null : (p.error ?? "not decodable"),
      });
      if (r.changes === 0) return { kind: "duplicate" };
      if (!d) return { kind: "undecodable" };
      const partId = Number(r.lastInsertRowid);
      if (d.total <= 1) {
        const message = this.assemble(
          p.modem,
          d.from,
          to,
          [{ id: partId, seq: 1, text: d.text, scts: d.scts, received_at: p.receivedAt }],
          1,
          newId(),
          p.receivedAt,
        );
        return { kind: "message", message };
      }
      const group = this.s.inGroup.all(p.modem, d.from, d.ref, d.total) as GroupPart[];
      const distinct = new Set(group.map((g) => g.seq));
      if (distinct.size < d.total) return { kind: "part", waiting: d.total - distinct.size };
      return {
        kind: "message",
        message: this.assemble(p.modem, d.from, to, group, d.total, newId(), p.receivedAt),
      };
    });
    return tx();
  }

  private assemble(
    modem: string,
    from: string,
    to: string | null,
    group: GroupPart[],
    total: number,
    id: string,
    now: number,
  ): InMessageRow {
    const bySeq = new Map<number, GroupPart>();
    for (const g of group) if (!bySeq.has(g.seq)) bySeq.set(g.seq, g);
    let text = "";
    let missing = 0;
    for (let i = 1; i <= total; i++) {
      const g = bySeq.get(i);
      if (g) text += g.text;
      else {
        missing++;
        text += missingPartMarker(i, total);
      }
    }
    const first = [...bySeq.values()].sort((a, b) => a.seq - b.seq)[0];
    const r = this.s.inMsgInsert.run({
      id,
      modem,
      from,
      to,
      text,
      parts: total,
      missing,
      sent_at: first?.scts ?? null,
      received_at: now,
    });
    const seq = Number(r.lastInsertRowid);
    // Every row of the group (duplicates of a part included) belongs to the message now.
    for (const g of group) this.s.inAssign.run(seq, g.id);
    return inRow(this.s.inMsgBySeq.get(seq) as RawInMessage);
  }

  /** Groups whose first part came before `before` are delivered as they are, with markers. */
  assembleStale(
    before: number,
    newId: () => string,
    toOf: (modem: string) => string | null,
    now: number,
  ): InMessageRow[] {
    const tx = this.db.transaction(() => {
      const out: InMessageRow[] = [];
      const stale = this.s.inStale.all(before) as {
        modem: string;
        originator: string;
        ref: number;
        total: number;
      }[];
      for (const g of stale) {
        const group = this.s.inGroup.all(g.modem, g.originator, g.ref, g.total) as GroupPart[];
        if (group.length === 0) continue;
        out.push(this.assemble(g.modem, g.originator, toOf(g.modem), group, g.total, newId(), now));
      }
      return out;
    });
    return tx();
  }

  incoming(id: string): InMessageRow | undefined {
    const r = this.s.inMsgById.get(id) as RawInMessage | undefined;
    return r ? inRow(r) : undefined;
  }

  /** Received messages after `afterSeq`, oldest first. */
  incomingAfter(afterSeq: number, limit = 100): InMessageRow[] {
    return (this.s.inList.all(afterSeq, limit) as RawInMessage[]).map(inRow);
  }

  setIncomingState(id: string, state: string): void {
    this.s.inSetState.run(state, id);
  }

  incomingStats(): { messages: number; waitingParts: number; undecodable: number } {
    return {
      messages: (this.s.inCount.get() as { n: number }).n,
      waitingParts: (this.s.inOpenCount.get() as { n: number }).n,
      undecodable: (this.s.inUndecodable.get() as { n: number }).n,
    };
  }
}

interface GroupPart {
  id: number;
  seq: number;
  text: string;
  scts: string;
  received_at: number;
}
