/**
 * Turns ajv's validation errors into problems an operator can act on:
 *
 *   ajv error (instancePath, keyword, params, parentSchema)
 *     → { path: ["modems", 0, "baud"], message: "must be one of 9600, 19200, ..." }
 *     → "modems[0].baud: must be one of 9600, 19200, ..."
 *
 * No ajv wording reaches the operator. Combinator noise (anyOf, oneOf, if) is dropped, and only
 * the first problem of each key is kept.
 */
import type { ErrorObject } from "ajv/dist/2020.js";
import { formatPath, type KeySegment, pointerSegments, suggestion } from "./keyPath.js";
import { FORMATS, type JsonSchema, PATTERNS } from "./schemaParts.js";

/** One thing wrong with a config: where, and what. */
export interface Problem {
  path: KeySegment[];
  message: string;
}

/** `path.to.key: what is wrong` (`(top level): ...` for the document itself). */
export function formatProblem(problem: Problem): string {
  return `${formatPath(problem.path) || "(top level)"}: ${problem.message}`;
}

const PATTERN_TEXT = new Map<string, string>(Object.values(PATTERNS).map((def) => [def.pattern, def.text]));

const TYPE_TEXT: Record<string, string> = {
  string: "must be text",
  integer: "must be a whole number",
  number: "must be a number",
  boolean: "must be true or false",
  array: "must be a list",
  object: "must be a map of keys",
};

const IGNORED_KEYWORDS = new Set(["anyOf", "oneOf", "allOf", "if", "then", "else", "not"]);

function showValue(value: unknown): string {
  return typeof value === "string" ? JSON.stringify(value) : String(value);
}

function withUnit(limit: unknown, schema: JsonSchema | undefined): string {
  return schema?.unit && schema.unit !== "baud" ? `${limit} ${schema.unit}` : String(limit);
}

function typeMessage(expected: string, data: unknown): string {
  if (data === null) return "has no value: give it one or remove the key";
  if (expected === "string" && (typeof data === "number" || typeof data === "boolean")) {
    return "must be text: put the value in quotes";
  }
  return TYPE_TEXT[expected] ?? `must be of type ${expected}`;
}

/** The path a missing required key reports: down to the first required key inside it. */
function requiredPath(base: KeySegment[], missing: string, parent: JsonSchema | undefined): KeySegment[] {
  const path = [...base, missing];
  let node = parent?.properties?.[missing];
  while (node?.required?.[0] !== undefined) {
    path.push(node.required[0]);
    node = node.properties?.[node.required[0]];
  }
  return path;
}

/** Maps one ajv error to a problem, or `undefined` for an error another one already explains. */
export function problemFromAjv(error: ErrorObject, root: unknown): Problem | undefined {
  if (IGNORED_KEYWORDS.has(error.keyword) || error.propertyName !== undefined) return undefined;
  const base = pointerSegments(error.instancePath, root);
  const schema = error.parentSchema as JsonSchema | undefined;
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case "required":
      return { path: requiredPath(base, String(params.missingProperty), schema), message: "is required" };
    case "additionalProperties": {
      const name = String(params.additionalProperty);
      const known = Object.keys(schema?.properties ?? {});
      return { path: [...base, name], message: `unknown key${suggestion(name, known)}` };
    }
    case "propertyNames": {
      const pattern = schema?.propertyNames?.pattern ?? "";
      const text = PATTERN_TEXT.get(pattern) ?? `must match ${pattern}`;
      return {
        path: [...base, String(params.propertyName)],
        message: `is not a valid key here: keys ${text}`,
      };
    }
    case "type":
      return { path: base, message: typeMessage(String(params.type), error.data) };
    case "enum":
      return {
        path: base,
        message: `must be one of ${(params.allowedValues as unknown[]).map(showValue).join(", ")}`,
      };
    case "pattern": {
      const pattern = String(params.pattern);
      const quoteHint = typeof error.data === "number" ? ": put the value in quotes" : "";
      return { path: base, message: (PATTERN_TEXT.get(pattern) ?? `must match ${pattern}`) + quoteHint };
    }
    case "format": {
      const format = String(params.format);
      return { path: base, message: FORMATS[format]?.text ?? `must be a valid ${format}` };
    }
    case "minimum":
      return { path: base, message: `must be at least ${withUnit(params.limit, schema)}` };
    case "maximum":
      return { path: base, message: `must be at most ${withUnit(params.limit, schema)}` };
    case "minLength":
      return {
        path: base,
        message: params.limit === 1 ? "must not be empty" : `must be at least ${params.limit} characters`,
      };
    case "maxLength":
      return { path: base, message: `must be at most ${params.limit} characters` };
    case "minItems":
      return {
        path: base,
        message:
          params.limit === 1 ? "must not be an empty list" : `must list at least ${params.limit} items`,
      };
    case "maxItems":
      return { path: base, message: `must list at most ${params.limit} items` };
    case "uniqueItems": {
      const value = Array.isArray(error.data) ? error.data[Number(params.i)] : undefined;
      return { path: base, message: `lists ${showValue(value)} twice` };
    }
    default:
      return { path: base, message: `is not valid (${error.keyword})` };
  }
}

/** All problems of one validation run: translated, deduplicated, at most one per key. */
export function problemsFromAjv(errors: readonly ErrorObject[], root: unknown): Problem[] {
  const byKey = new Map<string, Problem>();
  for (const error of errors) {
    const problem = problemFromAjv(error, root);
    if (!problem) continue;
    const id = formatPath(problem.path);
    if (!byKey.has(id)) byKey.set(id, problem);
  }
  return [...byKey.values()];
}
