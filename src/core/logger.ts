/**
 * Namespaced structured logger. One JSON line per record on stdout (journald keeps it), with
 * per-namespace levels (`modem:*` → debug, the rest info). Formatting is lazy: a message may be
 * a function, called only when the record is written, so hot paths cost nothing at debug off.
 *
 * Phone numbers and message texts are personal data: fields named in {@link SENSITIVE_FIELDS}
 * are masked at info and above; {@link maskNumber} / {@link maskText} do the same for callers.
 */
export type Level = "trace" | "debug" | "info" | "warn" | "error" | "silent";

const LEVEL_RANK: Record<Level, number> = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, silent: 99 };

export const LEVELS: readonly Level[] = ["trace", "debug", "info", "warn", "error", "silent"];

export const SENSITIVE_FIELDS = new Set(["from", "to", "text", "number", "msisdn", "imsi", "pin", "pdu"]);

export interface LogRecord {
  time: string;
  level: Exclude<Level, "silent">;
  ns: string;
  msg: string;
  [field: string]: unknown;
}

export type LogSink = (record: LogRecord) => void;

/** Masks all but the last three digits of a phone number: `+256712345678` → `+256******678`. */
export function maskNumber(value: string): string {
  if (value.length <= 6) return "*".repeat(value.length);
  const keepHead = value.startsWith("+") ? 4 : 3;
  return value.slice(0, keepHead) + "*".repeat(Math.max(0, value.length - keepHead - 3)) + value.slice(-3);
}

/** A message text is replaced by its length. */
export function maskText(value: string): string {
  return `<${[...value].length} chars>`;
}

function maskField(key: string, value: unknown): unknown {
  if (typeof value !== "string") return value;
  if (key === "text" || key === "pdu" || key === "pin") return maskText(value);
  return maskNumber(value);
}

export class LogLevels {
  private readonly byNamespace = new Map<string, Level>();
  constructor(private defaultLevel: Level = "info") {}

  set(level: Level, namespace?: string): void {
    if (namespace === undefined || namespace === "" || namespace === "*") {
      this.defaultLevel = level;
      this.byNamespace.clear();
    } else {
      this.byNamespace.set(namespace.replace(/\*$/, ""), level);
    }
  }

  /** The level of the longest configured prefix of `ns`, else the default. */
  levelOf(ns: string): Level {
    let best: Level = this.defaultLevel;
    let bestLen = -1;
    for (const [prefix, level] of this.byNamespace) {
      if (ns.startsWith(prefix) && prefix.length > bestLen) {
        best = level;
        bestLen = prefix.length;
      }
    }
    return best;
  }
}

const stdoutSink: LogSink = (record) => {
  process.stdout.write(`${JSON.stringify(record)}\n`);
};

export class Logger {
  constructor(
    readonly ns: string,
    private readonly levels: LogLevels = new LogLevels(),
    private readonly sink: LogSink = stdoutSink,
  ) {}

  /** The levels shared by this logger and its children (`log/level` changes them). */
  get levelControl(): LogLevels {
    return this.levels;
  }

  child(ns: string): Logger {
    return new Logger(ns, this.levels, this.sink);
  }

  enabled(level: Exclude<Level, "silent">): boolean {
    return LEVEL_RANK[level] >= LEVEL_RANK[this.levels.levelOf(this.ns)];
  }

  trace(msg: string | (() => string), fields?: Record<string, unknown>): void {
    this.write("trace", msg, fields);
  }
  debug(msg: string | (() => string), fields?: Record<string, unknown>): void {
    this.write("debug", msg, fields);
  }
  info(msg: string | (() => string), fields?: Record<string, unknown>): void {
    this.write("info", msg, fields);
  }
  warn(msg: string | (() => string), fields?: Record<string, unknown>): void {
    this.write("warn", msg, fields);
  }
  error(msg: string | (() => string), fields?: Record<string, unknown>): void {
    this.write("error", msg, fields);
  }

  private write(
    level: Exclude<Level, "silent">,
    msg: string | (() => string),
    fields?: Record<string, unknown>,
  ) {
    if (!this.enabled(level)) return;
    const record: LogRecord = { time: new Date().toISOString(), level, ns: this.ns, msg: "" };
    if (fields) {
      const mask = LEVEL_RANK[level] >= LEVEL_RANK.info;
      for (const [key, value] of Object.entries(fields)) {
        record[key] = mask && SENSITIVE_FIELDS.has(key) ? maskField(key, value) : value;
      }
    }
    record.msg = typeof msg === "function" ? msg() : msg;
    this.sink(record);
  }
}

/** A logger that writes nothing (for tests and library defaults). */
export function silentLogger(): Logger {
  const levels = new LogLevels("silent");
  return new Logger("silent", levels, () => {});
}

/** A logger that keeps its records in memory, for tests that check what was logged. */
export function memoryLogger(level: Level = "trace"): { logger: Logger; records: LogRecord[] } {
  const records: LogRecord[] = [];
  const logger = new Logger("test", new LogLevels(level), (r) => records.push(r));
  return { logger, records };
}
