/**
 * The key reference of docs/configuration.md, generated from `CONFIG_SCHEMA` so the two cannot
 * drift (a unit test compares them). One row per key, list items as `modems[].port`.
 */
import { CONFIG_SCHEMA } from "./schema.js";
import type { JsonSchema } from "./schemaParts.js";

/** Markers around the generated table in docs/configuration.md. */
export const DOC_TABLE_START = "<!-- config-keys:start (generated from src/config/schema.ts) -->";
export const DOC_TABLE_END = "<!-- config-keys:end -->";

function cell(text: string): string {
  return text.replace(/\|/g, "\\|").replace(/\n/g, " ");
}

function code(value: unknown): string {
  return `\`${JSON.stringify(value)}\``;
}

function typeText(node: JsonSchema): string {
  if (node.enum && node.enum.length > 4) return `${node.type}: ${node.enum.join(", ")}`;
  if (node.enum) return node.enum.map((v) => code(v)).join(" or ");
  const range =
    node.minimum !== undefined || node.maximum !== undefined
      ? ` ${node.minimum ?? ""}..${node.maximum ?? ""}`
      : "";
  switch (node.type) {
    case "array":
      return node.items?.type === "object"
        ? "list of maps"
        : `list of ${node.items ? typeText(node.items) : "values"}s`;
    case "object": {
      const values = node.additionalProperties;
      return node.properties || typeof values !== "object" ? "map" : `map: name → ${typeText(values)}`;
    }
    case "integer":
      return `integer${range}`;
    case "boolean":
      return "true/false";
    default:
      return node.format === "host-port" ? '"host:port"' : (node.type ?? "any");
  }
}

function defaultText(node: JsonSchema, required: string): string {
  if (required) return required;
  if (node.default !== undefined) {
    if (node.type === "object" && node.properties) return "";
    return code(node.default);
  }
  return node.unset_means ? `unset: ${node.unset_means}` : "";
}

/** `within`: "" at the top, else how a required key inside reads ("required in each item"). */
function rows(node: JsonSchema, prefix: string, within: string, out: string[]): void {
  for (const [name, child] of Object.entries(node.properties ?? {})) {
    const path = prefix === "" ? name : `${prefix}.${name}`;
    const required = node.required?.includes(name) ? within || "**required**" : "";
    const restart = child.requires_restart === undefined ? "" : child.requires_restart ? "yes" : "no";
    const title = child.title ?? "";
    const description = child.description ? `${title}. ${child.description}` : title;
    out.push(
      `| \`${path}\` | ${cell(typeText(child))} | ${cell(defaultText(child, required))} | ${child.unit ?? ""} | ` +
        `${restart} | ${cell(description)} |`,
    );
    const inner = required === "**required**" ? "" : within || "required when the section is set";
    if (child.properties) rows(child, path, inner, out);
    if (child.items?.properties) rows(child.items, `${path}[]`, "required in each item", out);
  }
}

/** The markdown table of every key, between {@link DOC_TABLE_START} and {@link DOC_TABLE_END}. */
export function configKeyTable(): string {
  const out = [
    DOC_TABLE_START,
    "| key | type | default | unit | restart | description |",
    "|---|---|---|---|---|---|",
  ];
  rows(CONFIG_SCHEMA, "", "", out);
  out.push(DOC_TABLE_END);
  return out.join("\n");
}
