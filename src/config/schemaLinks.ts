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
  telemetry_interval_s: key("Telemetry interval", "Time between two `telemetry` messages.", {
    type: "integer",
    minimum: 10,
    maximum: 86400,
    default: 300,
    unit: "s",
    requires_restart: false,
  }),
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
