/**
 * Building blocks of the configuration schema: the schema node type, the shared value patterns
 * (each with the readable sentence a problem report uses), the custom formats, and two small
 * builders that keep every key's annotations in the same order:
 * `title, description, type, constraints, default, unit, requires_restart, unset_means`.
 *
 * Custom keywords (registered with ajv as annotations, no validation of their own):
 * - `unit`: the unit of a number (`ms`, `s`, `bytes`, `baud`).
 * - `requires_restart`: a change takes effect only after the controller restarts.
 * - `unset_means`: for an optional key without a default, what leaving it out does.
 */
import { isIPv4, isIPv6 } from "node:net";

export type Unit = "ms" | "s" | "bytes" | "baud";

/** The subset of JSON Schema (draft 2020-12) the configuration uses, plus the custom keywords. */
export interface JsonSchema {
  $schema?: string;
  title?: string;
  description?: string;
  type?: "object" | "array" | "string" | "integer" | "boolean";
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
  propertyNames?: JsonSchema;
  items?: JsonSchema;
  enum?: readonly (string | number)[];
  pattern?: string;
  format?: string;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  uniqueItems?: boolean;
  default?: unknown;
  unit?: Unit;
  requires_restart?: boolean;
  unset_means?: string;
  examples?: unknown[];
}

/** Serial speeds a modem or a probe may use, in baud. */
export const BAUD_RATES: readonly number[] = [9600, 19200, 38400, 57600, 115200, 230400, 460800, 921600];

/** Log levels a config may name (the logger's `silent` is for tests only). */
export const LOG_LEVEL_NAMES = ["trace", "debug", "info", "warn", "error"] as const;

/** Highest GPIO line number accepted (global numbering: chip base + offset). */
export const GPIO_MAX = 1023;

interface PatternDef {
  pattern: string;
  /** Completes the sentence `<path>: ...` when a value does not match. */
  text: string;
}

function p(pattern: string, text: string): PatternDef {
  return { pattern, text };
}

/** Value patterns shared by the schema and the problem reports. */
export const PATTERNS = {
  siteId: p("^[a-z0-9-]{1,32}$", 'must be 1 to 32 characters: lowercase letters, digits and "-"'),
  modemId: p("^[A-Za-z0-9_-]{1,32}$", 'must be 1 to 32 characters: letters, digits, "_" and "-"'),
  networkName: p("^[A-Za-z0-9_-]{1,32}$", 'must be 1 to 32 characters: letters, digits, "_" and "-"'),
  defaultNetwork: p(
    "^([A-Za-z0-9_-]{1,32})?$",
    'must be "" or a network name (letters, digits, "_" and "-")',
  ),
  domain: p("^[A-Za-z0-9.-]{1,253}$", "must be a domain name or an address, such as site-042.bts.example"),
  clientId: p(
    "^[A-Za-z0-9_.:-]{1,64}$",
    'must be 1 to 64 characters: letters, digits, "_", ".", ":" and "-"',
  ),
  imei: p("^[0-9]{14,16}$", "must be 14 to 16 digits"),
  pin: p("^[0-9]{4,8}$", "must be 4 to 8 digits"),
  port: p("^(auto|/\\S+)$", 'must be "auto" or an absolute device path such as "/dev/ttyUSB2"'),
  absPath: p("^/\\S*$", 'must be an absolute path (starting with "/")'),
  profile: p(
    "^[A-Za-z0-9_.-]{1,64}$",
    'must be "auto" or a quirk profile name (letters, digits, "_", "-", ".")',
  ),
  sipUri: p("^sips?:\\S+$", 'must be a SIP URI starting with "sip:" or "sips:"'),
  mqttUrl: p(
    "^(mqtt|mqtts|ws|wss|tcp|tls)://\\S+$",
    "must be a URL starting with mqtt://, mqtts://, ws://, wss://, tcp:// or tls://",
  ),
  numberPrefix: p(
    "^\\+[0-9]{0,15}$",
    'must be "+" followed by up to 15 digits ("+" alone matches every number)',
  ),
  shortCode: p("^[0-9*#]{0,15}$", 'must be up to 15 digits, "*" or "#" ("" turns the service off)'),
  countryCode: p("^([1-9][0-9]{0,2})?$", 'must be 1 to 3 digits without "+", such as "256" (or "")'),
  dialPrefix: p("^[0-9]{0,4}$", "must be up to 4 digits"),
  baseTopic: p(
    "^[^/#+\\s]([^#+\\s]*[^/#+\\s])?$",
    'must be an MQTT topic without "#", "+", spaces, or a leading or trailing "/"',
  ),
  passwordHash: p("^[a-z0-9-]+\\$\\S+$", 'must be "<algorithm>$<hash>", such as "scrypt$..."'),
  logNamespace: p("^[A-Za-z0-9:_./*-]{1,64}$", 'must be a log namespace such as "modem:m1", "sip" or "at:*"'),
  sipUser: p(
    "^[A-Za-z0-9._~+-]{1,64}$",
    'must be a user name of letters, digits, ".", "_", "~", "+" and "-"',
  ),
  nonEmpty: p("^\\S.*$", "must not be empty or start with a space"),
} satisfies Record<string, PatternDef>;

/** `host:port`: an IPv4 address, a host name or a bracketed IPv6 address, and a port 0..65535. */
export function isHostPort(value: string): boolean {
  const match = /^(\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9.-]+)):([0-9]{1,5})$/.exec(value);
  if (!match) return false;
  if (match[2] !== undefined && !isIPv6(match[2])) return false;
  return Number(match[4]) <= 65535;
}

/** An IPv4 or IPv6 address, alone or as a CIDR range (`10.8.0.0/16`, `fd00::/8`). */
export function isCidr(value: string): boolean {
  const [address = "", bits, extra] = value.split("/");
  if (extra !== undefined) return false;
  const max = isIPv4(address) ? 32 : isIPv6(address) ? 128 : -1;
  if (max < 0) return false;
  if (bits === undefined) return true;
  return /^[0-9]{1,3}$/.test(bits) && Number(bits) <= max;
}

/** Custom `format` values: validator and the sentence for a value that fails it. */
export const FORMATS: Record<string, { validate: (value: string) => boolean; text: string }> = {
  "host-port": { validate: isHostPort, text: 'must be "host:port"' },
  cidr: { validate: isCidr, text: 'must be an address or a CIDR range such as "10.8.0.0/16"' },
};

type KeySpec = Omit<JsonSchema, "title" | "description">;

/** One configuration key: its annotations first, then the rest of its schema. */
export function key(title: string, description: string, spec: KeySpec): JsonSchema {
  return { title, description, ...spec };
}

/**
 * A map of keys that rejects unknown keys. Its default is `{}` (every key of the section takes
 * its own default) unless `unset_means` makes it an optional section, or `noDefault` says it
 * has none (a list's items; a section with a required key).
 */
export function section(
  title: string,
  description: string,
  properties: Record<string, JsonSchema>,
  opts: { required?: string[]; unset_means?: string; noDefault?: boolean } = {},
): JsonSchema {
  const node: JsonSchema = { title, description, type: "object", additionalProperties: false, properties };
  if (opts.required) node.required = opts.required;
  if (opts.unset_means !== undefined) node.unset_means = opts.unset_means;
  else if (!opts.noDefault) node.default = {};
  return node;
}

/** A GPIO line number (global numbering), optional. */
export function gpioLine(title: string, description: string, unsetMeans: string): JsonSchema {
  return key(title, description, {
    type: "integer",
    minimum: 0,
    maximum: GPIO_MAX,
    requires_restart: true,
    unset_means: unsetMeans,
  });
}
