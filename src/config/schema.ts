/**
 * The configuration schema (JSON Schema draft 2020-12), the single description of every key:
 * type, constraints, `default`, `unit`, `requires_restart`, or `unset_means` for an optional key
 * without a default. `src/config/schema.json` is this object written out (kept in sync by a unit
 * test) and shipped in the package for tools and people.
 *
 * Sections appear in the order an operator sets a site up.
 */
import {
  DISCOVERY_SCHEMA,
  GPIO_SCHEMA,
  LEDS_SCHEMA,
  MODEMS_SCHEMA,
  SUPERVISOR_SCHEMA,
} from "./schemaHardware.js";
import { MQTT_SCHEMA, WEB_SCHEMA } from "./schemaLinks.js";
import { NETWORKS_SCHEMA, SERVICES_SCHEMA, SIP_SCHEMA, SMS_SCHEMA } from "./schemaMessaging.js";
import { type JsonSchema, key, LOG_LEVEL_NAMES, PATTERNS, section } from "./schemaParts.js";

export type { JsonSchema, Unit } from "./schemaParts.js";

const SITE_SCHEMA: JsonSchema = section(
  "Site",
  "Who this site is.",
  {
    id: key("Site id", "Stable id of the site: MQTT topics, the SIP AOR, logs. Required.", {
      type: "string",
      pattern: PATTERNS.siteId.pattern,
      requires_restart: true,
      examples: ["site-042"],
    }),
    name: key("Site name", 'Human name shown on the status page and in `info`. "": the id is shown.', {
      type: "string",
      maxLength: 100,
      default: "",
      requires_restart: false,
      examples: ["Kamuli hill"],
    }),
  },
  { required: ["id"], noDefault: true },
);

const STORAGE_SCHEMA: JsonSchema = section("Storage", "Where the site keeps its state.", {
  dir: key("Data folder", "SQLite database, the NOC's runtime config (config.runtime.json), state.", {
    type: "string",
    pattern: PATTERNS.absPath.pattern,
    default: "/var/lib/bts-site",
    requires_restart: true,
  }),
});

const LOG_SCHEMA: JsonSchema = section("Logging", "Log levels; also changed at runtime by `log/level`.", {
  level: key("Level", "Level of every namespace not named in `levels`.", {
    type: "string",
    enum: LOG_LEVEL_NAMES,
    default: "info",
    requires_restart: false,
  }),
  levels: key(
    "Levels by namespace",
    'Namespace (or prefix ending in "*") → level, e.g. {"modem:*": debug}.',
    {
      type: "object",
      propertyNames: { pattern: PATTERNS.logNamespace.pattern },
      additionalProperties: { type: "string", enum: LOG_LEVEL_NAMES },
      default: {},
      requires_restart: false,
    },
  ),
});

/** The whole configuration schema. Only `site.id` is required. */
export const CONFIG_SCHEMA: JsonSchema = {
  $schema: "https://json-schema.org/draft/2020-12/schema",
  title: "bts-site configuration",
  description:
    "Configuration of a bts-site controller. YAML or JSON, snake_case keys; unknown keys are errors. " +
    "Precedence, lowest first: these defaults < the main file < the NOC's runtime changes < the boot-partition file.",
  type: "object",
  additionalProperties: false,
  required: ["site"],
  properties: {
    site: SITE_SCHEMA,
    storage: STORAGE_SCHEMA,
    modems: MODEMS_SCHEMA,
    networks: NETWORKS_SCHEMA,
    sms: SMS_SCHEMA,
    gpio: GPIO_SCHEMA,
    leds: LEDS_SCHEMA,
    sip: SIP_SCHEMA,
    services: SERVICES_SCHEMA,
    mqtt: MQTT_SCHEMA,
    web: WEB_SCHEMA,
    supervisor: SUPERVISOR_SCHEMA,
    discovery: DISCOVERY_SCHEMA,
    log: LOG_SCHEMA,
  },
};

/** Splits `"modems[0].baud"` into `["modems", "baud"]`: list indexes do not change the schema. */
function segmentsOf(path: string | readonly string[]): string[] {
  if (typeof path !== "string") return path.filter((s) => !/^[0-9]+$/.test(s));
  return path
    .replace(/\[[0-9]+\]/g, "")
    .split(".")
    .filter((s) => s !== "");
}

/**
 * The schema of the key at `path` (dotted string, list indexes allowed, or segments), or
 * `undefined` for a key the schema does not know. Entries of free-form maps (`log.levels.sip`)
 * resolve to the map's value schema.
 */
export function schemaAt(path: string | readonly string[]): JsonSchema | undefined {
  let node: JsonSchema | undefined = CONFIG_SCHEMA;
  for (const segment of segmentsOf(path)) {
    while (node?.type === "array") node = node.items;
    if (!node) return undefined;
    const named: JsonSchema | undefined = node.properties?.[segment];
    if (named) node = named;
    else if (typeof node.additionalProperties === "object") node = node.additionalProperties;
    else return undefined;
  }
  return node;
}

function anyRestart(node: JsonSchema): boolean {
  if (node.requires_restart !== undefined) return node.requires_restart;
  const children = Object.values(node.properties ?? {});
  return children.some(anyRestart) || (node.items !== undefined && anyRestart(node.items));
}

/**
 * Whether changing the key at `path` takes effect only after a restart: the nearest
 * `requires_restart` at or above the key; for a section, whether any key inside it needs one.
 * An unknown key answers `true` (the safe answer).
 */
export function requiresRestart(path: string | readonly string[]): boolean {
  const segments = segmentsOf(path);
  const target = schemaAt(segments);
  if (target?.requires_restart === undefined && (target?.properties || target?.items))
    return anyRestart(target);
  for (let n = segments.length; n >= 0; n--) {
    const flag = schemaAt(segments.slice(0, n))?.requires_restart;
    if (flag !== undefined) return flag;
  }
  return true;
}
