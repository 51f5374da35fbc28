/**
 * Validation of a merged configuration:
 *
 *   merged layers ──clone──► apply schema defaults ──► ajv (schema) ─┐
 *                                                  └─► cross-checks ─┴─► problems | SiteConfig
 *
 * Defaults are applied before validation, so a missing section is filled in and a missing
 * required key is reported where it belongs (`site.id: is required`). The ajv validator is
 * compiled ahead of time into validator.generated.js (by scripts/gen-validator.ts, kept in sync
 * by a unit test), so ajv's compiler is never loaded at run time.
 */
import { crossCheck } from "./crossChecks.js";
import { formatPath, isMap, setOwnKey } from "./keyPath.js";
import { formatProblem, type Problem, problemsFromAjv } from "./problems.js";
import { CONFIG_SCHEMA } from "./schema.js";
import type { JsonSchema } from "./schemaParts.js";
import type { SiteConfig } from "./types.js";
import { validate } from "./validator.generated.js";

/** The outcome of {@link validateConfig}. */
export type ValidationResult = { ok: true; config: SiteConfig } | { ok: false; problems: string[] };

/**
 * Fills in, in place, every missing key that has a `default` in `schema`, descending into maps
 * and list items. Values of the wrong type are left alone (validation reports them).
 */
export function applyDefaults(schema: JsonSchema, value: unknown): void {
  if (Array.isArray(value)) {
    if (schema.items) for (const item of value) applyDefaults(schema.items, item);
    return;
  }
  if (!isMap(value) || !schema.properties) return;
  for (const [name, sub] of Object.entries(schema.properties)) {
    if (value[name] === undefined && sub.default !== undefined) value[name] = structuredClone(sub.default);
    if (value[name] !== undefined) applyDefaults(sub, value[name]);
  }
}

/** A deep copy of plain data (maps, lists, scalars), dropping `undefined` values. */
function cloneData(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(cloneData);
  if (!isMap(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [name, item] of Object.entries(value)) {
    if (item !== undefined) setOwnKey(out, name, cloneData(item));
  }
  return out;
}

/**
 * Validates a merged configuration and fills in its defaults, returning structured problems
 * (for callers that add context, such as which file set a key). `input` is not modified.
 */
export function checkConfigData(input: unknown): { config: SiteConfig | undefined; problems: Problem[] } {
  if (!isMap(input)) return { config: undefined, problems: [{ path: [], message: "must be a map of keys" }] };
  const data = cloneData(input) as Record<string, unknown>;
  applyDefaults(CONFIG_SCHEMA, data);
  const problems = validate(data) ? [] : problemsFromAjv(validate.errors ?? [], data);
  const seen = new Set(problems.map((p) => formatPath(p.path)));
  for (const problem of crossCheck(data)) {
    if (!seen.has(formatPath(problem.path))) problems.push(problem);
  }
  return { config: problems.length === 0 ? (data as unknown as SiteConfig) : undefined, problems };
}

/**
 * Validates a merged configuration (a plain object, as parsed from YAML or JSON) against
 * `CONFIG_SCHEMA` plus the cross-key checks, and fills in every default.
 * Problems read `path.to.key: what is wrong`, one per key, in schema order.
 */
export function validateConfig(input: unknown): ValidationResult {
  const { config, problems } = checkConfigData(input);
  if (config) return { ok: true, config };
  return { ok: false, problems: problems.map(formatProblem) };
}
