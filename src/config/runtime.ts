/**
 * `config/get` and `config/set` (contract, section 2 and 3): the NOC's layer of the config.
 *
 *   patch (RFC 7386) ─► applied to the runtime layer ─► merged with the file and boot layers,
 *   defaulted, validated (a problem: config.invalid, nothing written, nothing changed)
 *   ─► written to <storage.dir>/config.runtime.json (temp file, fsync, rename)
 *   ─► the changed keys: those marked requires_restart wait for the next start (`restart_required`),
 *      the others are copied into the live config objects the parts read, and `onApplied` runs
 *      (log levels, the SIP trust list, telemetry timing...)
 */
import { closeSync, fsyncSync, openSync, renameSync, writeSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { dirname } from "node:path";
import { SiteError } from "../core/errors.js";
import { isMap } from "./keyPath.js";
import type { LoadedConfig } from "./load.js";
import { resolveLayers } from "./load.js";
import { type ConfigLayer, LAYER_ORDER } from "./merge.js";
import { CONFIG_SCHEMA } from "./schema.js";
import type { JsonSchema } from "./schemaParts.js";
import type { ConfigSource, SiteConfig } from "./types.js";

/** RFC 7386 JSON merge patch: objects merge, `null` deletes, anything else replaces. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isMap(patch)) return patch;
  const out: Record<string, unknown> = isMap(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

/** Leaf paths (lists are leaves) whose values differ between two configs. */
export function changedKeys(a: unknown, b: unknown, prefix = ""): string[] {
  if (isMap(a) && isMap(b)) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    return [...keys].flatMap((k) => changedKeys(a[k], b[k], prefix === "" ? k : `${prefix}.${k}`));
  }
  return JSON.stringify(a) === JSON.stringify(b) ? [] : [prefix];
}

/** The schema node of a dotted key path (`sms.max_parts`, `modems`), or undefined. */
function schemaAt(path: string): JsonSchema | undefined {
  let node: JsonSchema | undefined = CONFIG_SCHEMA;
  for (const name of path.split(".")) {
    const props: Record<string, JsonSchema> | undefined = node?.properties;
    let next: JsonSchema | undefined = props?.[name];
    if (next === undefined && node?.additionalProperties && typeof node.additionalProperties === "object") {
      next = node.additionalProperties as JsonSchema;
    }
    node = next;
    if (node === undefined) return undefined;
  }
  return node;
}

/**
 * Whether a change of `path` needs a restart: its own flag, else the nearest flag above it; a list of
 * maps (`modems`, `networks`) needs one when any of its item keys does. Unknown: yes.
 */
export function requiresRestart(path: string): boolean {
  const segments = path.split(".");
  for (let n = segments.length; n > 0; n--) {
    const node = schemaAt(segments.slice(0, n).join("."));
    if (node === undefined) continue;
    if (node.requires_restart !== undefined) return node.requires_restart;
    if (node.items?.properties) {
      return Object.values(node.items.properties).some((p) => (p as JsonSchema).requires_restart !== false);
    }
  }
  return true;
}

/** Keys never shown whole by `config/get`. */
const SECRET = /(^|\.)(password|users\.[^.]+)$/;

function redact(value: unknown, prefix = ""): unknown {
  if (isMap(value)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      const path = prefix === "" ? k : `${prefix}.${k}`;
      out[k] = typeof v === "string" && SECRET.test(path) ? "***" : redact(v, path);
    }
    return out;
  }
  return value;
}

/** Copies `next` into `live` in place (maps key by key, lists and scalars replaced), so holders of `live`'s objects see it. */
function assignDeep(live: Record<string, unknown>, next: Record<string, unknown>): void {
  for (const k of Object.keys(live)) if (!(k in next)) delete live[k];
  for (const [k, v] of Object.entries(next)) {
    const cur = live[k];
    if (isMap(cur) && isMap(v)) assignDeep(cur, v);
    else live[k] = v;
  }
}

function writeFileDurably(path: string, text: string): void {
  const tmp = `${path}.tmp`;
  const fd = openSync(tmp, "w", 0o600);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
  const dir = openSync(dirname(path), "r");
  try {
    fsyncSync(dir);
  } finally {
    closeSync(dir);
  }
}

export interface ConfigControlOptions {
  loaded: LoadedConfig;
  /** The config object the running parts hold (changed in place for runtime keys). */
  live: SiteConfig;
  /** Runs after runtime keys were applied, with the keys that changed. */
  onApplied?: (changed: string[], config: SiteConfig) => void;
}

export interface ConfigSetResult {
  restart_required: boolean;
  /** Changed keys (dotted paths). */
  changed: string[];
  /** Of those, the ones that take effect at the next start. */
  pending_restart: string[];
}

export class ConfigControl {
  private layers: ConfigLayer[];
  private sources: Record<string, ConfigSource>;
  /** Keys changed since start that need a restart (for `info.restart_required`). */
  private readonly awaitingRestart = new Set<string>();
  private chain: Promise<unknown> = Promise.resolve();

  constructor(private readonly o: ConfigControlOptions) {
    this.layers = [...o.loaded.layers];
    this.sources = o.loaded.sources;
  }

  get restartRequired(): boolean {
    return this.awaitingRestart.size > 0;
  }

  get(): { config: unknown; source: Record<string, ConfigSource> } {
    return { config: redact(this.o.live), source: this.sources };
  }

  /** One `config/set` at a time (each re-reads the layers the previous one wrote). */
  set(patch: Record<string, unknown>): Promise<ConfigSetResult> {
    const run = this.chain.then(() => this.apply(patch));
    this.chain = run.catch(() => {});
    return run;
  }

  private async apply(patch: Record<string, unknown>): Promise<ConfigSetResult> {
    const file = this.o.loaded.runtimeFile;
    if (file === undefined) throw new SiteError("config.invalid", "this site has no runtime config layer");
    const current = this.layers.find((l) => l.source === "runtime");
    const data = mergePatch(current?.data ?? {}, patch);
    if (!isMap(data)) throw new SiteError("config.invalid", "the patch must be a JSON object");
    const layer: ConfigLayer = { source: "runtime", data, label: file };
    const layers = [...this.layers.filter((l) => l.source !== "runtime"), layer].sort(
      (a, b) => LAYER_ORDER.indexOf(a.source) - LAYER_ORDER.indexOf(b.source),
    );
    const result = resolveLayers(layers);
    if (!result.ok) {
      throw new SiteError("config.invalid", result.problems.join("; "), {
        detail: { problems: result.problems },
      });
    }
    const changed = changedKeys(this.o.live, result.config);
    await mkdir(dirname(file), { recursive: true });
    writeFileDurably(file, `${JSON.stringify(data, null, 2)}\n`);
    this.layers = layers;
    this.sources = result.sources;
    const pending = changed.filter(requiresRestart);
    for (const k of pending) this.awaitingRestart.add(k);
    const now = changed.filter((k) => !requiresRestart(k));
    if (now.length > 0) {
      // Only runtime keys change in place; a restart key keeps its running value until the next start.
      const next = structuredClone(result.config) as unknown as Record<string, unknown>;
      for (const k of pending) setPath(next, k, getPath(this.o.live, k));
      assignDeep(this.o.live as unknown as Record<string, unknown>, next);
      this.o.onApplied?.(now, this.o.live);
    }
    return { restart_required: pending.length > 0, changed, pending_restart: pending };
  }
}

function getPath(obj: unknown, path: string): unknown {
  let cur = obj;
  for (const k of path.split(".")) cur = isMap(cur) ? cur[k] : undefined;
  return cur;
}

function setPath(obj: Record<string, unknown>, path: string, value: unknown): void {
  const parts = path.split(".");
  let cur: Record<string, unknown> = obj;
  for (const k of parts.slice(0, -1)) {
    const next = cur[k];
    if (!isMap(next)) return;
    cur = next;
  }
  const last = parts[parts.length - 1] as string;
  if (value === undefined) delete cur[last];
  else cur[last] = structuredClone(value);
}
