/**
 * The site's commands (contract, section 3: `request/<command>` → `response/<command>`), one
 * function each over a {@link CommandContext}; the same functions serve the web page's actions.
 * Each returns the response's `data` or throws a SiteError whose code is the response's `code`:
 *
 *   request.invalid   arguments missing or of the wrong type (the message names the argument)
 *   command.unknown   no such command
 *   modem.unknown     no modem with that id
 *   sms.*             from the SMS path (sms.invalid, sms.too_long, sms.queue_full, sms.not_found)
 *   sub.*, sync.*     from the subscriber cache (sub.invalid, sub.not_found, sync.gap, sync.hash)
 *   config.invalid    a `config/set` patch that would not validate: nothing changed
 *   leds.unavailable  no status LED configured
 */
import type { ConfigSource } from "../config/types.js";
import { SiteError } from "../core/errors.js";
import type { Level, LogLevels } from "../core/logger.js";
import { LEVELS } from "../core/logger.js";
import type { HealthReport } from "../health/checks.js";
import type { ModemSnapshot } from "../modem/slot.js";
import type { SendAccepted, SendRequest, SmsStatus } from "../sms/service.js";
import type { Subscriber, SyncRequest, SyncResult } from "../subscribers/index.js";
import { isResyncError } from "../subscribers/store.js";

export interface CommandContext {
  info(): Record<string, unknown>;
  health(): HealthReport;
  sms: {
    enqueue(req: SendRequest): Promise<SendAccepted>;
    status(id: string): SmsStatus | undefined;
  };
  modems: {
    get(id: string): { restart(): void; powerCycle(): void; snapshot(): ModemSnapshot } | undefined;
  };
  subscribers?: {
    upsert(input: {
      imsi: string;
      msisdn: string;
      name?: string;
      status?: "active" | "suspended";
    }): Subscriber;
    remove(imsi: string): Subscriber;
    get(query: { imsi?: unknown; msisdn?: unknown }): Subscriber;
    applySync(req: SyncRequest): SyncResult;
  };
  config: {
    get(): { config: unknown; source: Record<string, ConfigSource> };
    /** Validates, persists and applies what can change at runtime; throws config.invalid. */
    set(patch: Record<string, unknown>): Promise<{ restart_required: boolean; changed: string[] }>;
  };
  logLevels: LogLevels;
  leds?: { identify(seconds: number): void };
  /** A sync was refused for a gap or a bad hash: publish `event/subscriber_resync {version}`. */
  resyncNeeded(version: number): void;
}

/** Who sent an `sms/send`: its idempotency key within the SMS queue is the request's transaction. */
export interface CommandMeta {
  transaction?: string;
}

export type Command = (
  ctx: CommandContext,
  args: Record<string, unknown>,
  meta: CommandMeta,
) => Promise<unknown> | unknown;

function str(args: Record<string, unknown>, name: string, opts: { optional: true }): string | undefined;
function str(args: Record<string, unknown>, name: string): string;
function str(args: Record<string, unknown>, name: string, opts?: { optional: true }): string | undefined {
  const v = args[name];
  if (v === undefined && opts?.optional) return undefined;
  if (typeof v !== "string" || v === "") {
    throw new SiteError(
      "request.invalid",
      `${name}: ${v === undefined ? "missing" : "must be a non-empty string"}`,
    );
  }
  return v;
}

function modemOf(ctx: CommandContext, args: Record<string, unknown>) {
  const id = str(args, "modem");
  const m = ctx.modems.get(id);
  if (!m) throw new SiteError("modem.unknown", `no modem ${JSON.stringify(id)}`);
  return { id, m };
}

function needSubscribers(ctx: CommandContext): NonNullable<CommandContext["subscribers"]> {
  if (!ctx.subscribers) throw new SiteError("sub.unavailable", "the subscriber cache is not running");
  return ctx.subscribers;
}

export const COMMANDS: Record<string, Command> = {
  health_check: (ctx) => ctx.health(),

  info: (ctx) => ctx.info(),

  "sms/send": async (ctx, args, meta) => {
    const req: SendRequest = {
      to: str(args, "to"),
      text: typeof args.text === "string" ? args.text : "",
      source: "mqtt",
    };
    if (typeof args.text !== "string")
      throw new SiteError("request.invalid", "text: missing or not a string");
    const modem = str(args, "modem", { optional: true });
    if (modem !== undefined) {
      if (!ctx.modems.get(modem)) throw new SiteError("modem.unknown", `no modem ${JSON.stringify(modem)}`);
      req.modem = modem;
    }
    if (meta.transaction !== undefined) req.sourceRef = meta.transaction;
    const accepted = await ctx.sms.enqueue(req);
    return { id: accepted.id, parts: accepted.parts, ...(accepted.truncated ? { truncated: true } : {}) };
  },

  "sms/status": (ctx, args) => {
    const id = str(args, "id");
    const s = ctx.sms.status(id);
    if (!s) throw new SiteError("sms.not_found", `no SMS ${JSON.stringify(id)}`);
    return s;
  },

  "modem/restart": (ctx, args) => {
    const { id, m } = modemOf(ctx, args);
    m.restart();
    return { modem: id, state: m.snapshot().state };
  },

  "modem/power_cycle": (ctx, args) => {
    const { id, m } = modemOf(ctx, args);
    m.powerCycle();
    return { modem: id, state: m.snapshot().state };
  },

  "subscriber/upsert": (ctx, args) => {
    const input: Parameters<NonNullable<CommandContext["subscribers"]>["upsert"]>[0] = {
      imsi: args.imsi as string,
      msisdn: args.msisdn as string,
    };
    if (args.name !== undefined) input.name = args.name as string;
    if (args.status !== undefined) input.status = args.status as "active" | "suspended";
    return needSubscribers(ctx).upsert(input);
  },

  "subscriber/remove": (ctx, args) => {
    const removed = needSubscribers(ctx).remove(args.imsi as string);
    return { imsi: removed.imsi };
  },

  "subscriber/get": (ctx, args) => needSubscribers(ctx).get({ imsi: args.imsi, msisdn: args.msisdn }),

  "subscriber/sync": (ctx, args) => {
    try {
      const r = needSubscribers(ctx).applySync(args as unknown as SyncRequest);
      return { version: r.version, count: r.count };
    } catch (err) {
      if (isResyncError(err)) {
        const version = err.detail.version;
        if (typeof version === "number") ctx.resyncNeeded(version);
      }
      throw err;
    }
  },

  "config/get": (ctx) => ctx.config.get(),

  "config/set": async (ctx, args) => {
    const patch = args.patch;
    if (patch === null || typeof patch !== "object" || Array.isArray(patch)) {
      throw new SiteError("request.invalid", "patch: missing or not a JSON object (RFC 7386 merge patch)");
    }
    return ctx.config.set(patch as Record<string, unknown>);
  },

  "log/level": (ctx, args) => {
    const level = str(args, "level");
    if (!(LEVELS as readonly string[]).includes(level)) {
      throw new SiteError("request.invalid", `level: must be one of ${LEVELS.join(", ")}`);
    }
    const namespace = str(args, "namespace", { optional: true });
    ctx.logLevels.set(level as Level, namespace);
    return namespace === undefined ? { level } : { level, namespace };
  },

  "leds/identify": (ctx, args) => {
    const seconds = args.seconds === undefined ? 30 : args.seconds;
    if (typeof seconds !== "number" || !Number.isFinite(seconds) || seconds < 1 || seconds > 3600) {
      throw new SiteError("request.invalid", "seconds: must be a number from 1 to 3600");
    }
    if (!ctx.leds) throw new SiteError("leds.unavailable", "no status LED is configured (leds.status)");
    ctx.leds.identify(seconds);
    return {};
  },
};

/** Runs `command` (throws `command.unknown` for a name not in {@link COMMANDS}). */
export async function runCommand(
  ctx: CommandContext,
  command: string,
  args: Record<string, unknown>,
  meta: CommandMeta = {},
): Promise<unknown> {
  const fn = Object.hasOwn(COMMANDS, command) ? COMMANDS[command] : undefined;
  if (!fn) {
    throw new SiteError(
      "command.unknown",
      `no command ${JSON.stringify(command)}; known: ${Object.keys(COMMANDS).join(", ")}`,
    );
  }
  return fn(ctx, args, meta);
}
