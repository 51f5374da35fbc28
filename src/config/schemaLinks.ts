/**
 * Schema of the keys for the site's links to people: `mqtt` (the NOC) and `web` (the local page).
 * Assembled into the whole schema by `schema.ts`.
 */
import { type JsonSchema, key, PATTERNS, section } from "./schemaParts.js";

const filePath = (title: string, description: string, unsetMeans: string): JsonSchema =>
  key(title, description, {
    type: "string",
    pattern: PATTERNS.absPath.pattern,
    requires_restart: true,
    unset_means: unsetMeans,
  });

export const MQTT_SCHEMA: JsonSchema = section("MQTT", "The link to the NOC (contract, section 3).", {
  url: key("Broker URL", "mqtt://, mqtts:// (TLS), ws://, wss://, tcp:// or tls:// with host and port.", {
    type: "string",
    pattern: PATTERNS.mqttUrl.pattern,
    requires_restart: true,
    unset_means: "no NOC link",
    examples: ["mqtts://noc.example:8883"],
  }),
  base_topic: key("Base topic", "Topics are <base_topic>/<site.id>/...", {
    type: "string",
    pattern: PATTERNS.baseTopic.pattern,
    default: "bts",
    requires_restart: true,
  }),
  protocol_version: key("Protocol version", "MQTT 3.1.1 (4) or MQTT 5 (5).", {
    type: "integer",
    enum: [4, 5],
    default: 5,
    requires_restart: true,
  }),
  username: key("User name", "Broker user name.", {
    type: "string",
    minLength: 1,
    requires_restart: true,
    unset_means: "no user name is sent",
  }),
  password: key("Password", "Broker password. Never logged.", {
    type: "string",
    minLength: 1,
    requires_restart: true,
    unset_means: "no password is sent",
  }),
  ca: filePath(
    "CA certificate",
    "PEM file of the CA that signed the broker's certificate.",
    "the system's CAs",
  ),
  cert: filePath(
    "Client certificate",
    "PEM file of the site's certificate (mutual TLS).",
    "no client certificate",
  ),
  key: filePath("Client key", "PEM file of the private key of `cert`.", "no client key"),
  client_id: key("Client id", "MQTT client identifier.", {
    type: "string",
    pattern: PATTERNS.clientId.pattern,
    requires_restart: true,
    unset_means: "bts-site-<site.id>",
  }),
  keepalive_s: key(
    "Keepalive",
    "MQTT keepalive; the broker declares the site offline after 1.5 times this.",
    {
      type: "integer",
      minimum: 5,
      maximum: 65535,
      default: 60,
      unit: "s",
      requires_restart: true,
    },
  ),
  telemetry_interval_s: key(
    "Telemetry interval",
    "How often the system figures and counters are sampled for `telemetry`; a sample is sent only when a figure moved past its deadband (docs/noc.md), or when `telemetry_max_interval_s` passed since the last one sent.",
    {
      type: "integer",
      minimum: 10,
      maximum: 86400,
      default: 300,
      unit: "s",
      requires_restart: false,
    },
  ),
  telemetry_max_interval_s: key(
    "Telemetry maximum interval",
    "Longest time between two `telemetry` messages, changed or not.",
    { type: "integer", minimum: 60, maximum: 604800, default: 3600, unit: "s", requires_restart: false },
  ),
  state_min_interval_s: key(
    "State rate limit",
    "Shortest time between two publications of `state`, and of one `modem/<id>`; changes in between are sent together when it has passed.",
    { type: "integer", minimum: 1, maximum: 3600, default: 10, unit: "s", requires_restart: false },
  ),
  reconnect_min_s: key(
    "Reconnect delay",
    "First wait before connecting again after the broker was lost; doubles at each failure up to `reconnect_max_s`, and each wait is a random 50–100 % of that, so many sites do not all come back in the same second.",
    { type: "integer", minimum: 1, maximum: 3600, default: 5, unit: "s", requires_restart: true },
  ),
  reconnect_max_s: key(
    "Longest reconnect delay",
    "Cap of the doubling wait between two connection attempts.",
    {
      type: "integer",
      minimum: 1,
      maximum: 86400,
      default: 300,
      unit: "s",
      requires_restart: true,
    },
  ),
  outbox_limit: key(
    "Event outbox limit",
    "Most events kept on disk while the broker is unreachable; past it the oldest are dropped, counted and reported as `event/outbox_overflow` when the link is back.",
    { type: "integer", minimum: 100, maximum: 1000000, default: 10000, requires_restart: false },
  ),
});

export const WEB_SCHEMA: JsonSchema = section(
  "Web page",
  "The local status page and its API (contract, section 5).",
  {
    listen: key("Listen address", "HTTP address of the page.", {
      type: "string",
      format: "host-port",
      default: "0.0.0.0:80",
      requires_restart: true,
    }),
    password_hash: key("Password hash", "Hash of the password that unlocks actions on the page.", {
      type: "string",
      pattern: PATTERNS.passwordHash.pattern,
      requires_restart: false,
      unset_means: "the page is read-only",
    }),
  },
);
