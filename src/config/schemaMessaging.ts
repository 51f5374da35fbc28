/**
 * Schema of the message-carrying keys: `networks`, `sms`, `services` and `sip`.
 * Assembled into the whole schema by `schema.ts`.
 */
import { type JsonSchema, key, PATTERNS, section } from "./schemaParts.js";

const NETWORK_ITEM: JsonSchema = section(
  "Network",
  "An OpenSER-style network: the numbers it carries and how many SMS it sends in one turn.",
  {
    name: key("Name", "Referred to by `modems[].networks` and `sms.default_network`.", {
      type: "string",
      pattern: PATTERNS.networkName.pattern,
      requires_restart: false,
    }),
    prefixes: key(
      "Number prefixes",
      'Literal prefixes of the E.164 number this network carries; "+" = all.',
      {
        type: "array",
        items: { type: "string", pattern: PATTERNS.numberPrefix.pattern },
        minItems: 1,
        uniqueItems: true,
        default: ["+"],
        requires_restart: false,
      },
    ),
    max_per_loop: key(
      "SMS per turn",
      "At most this many queued SMS are sent before other networks get a turn.",
      {
        type: "integer",
        minimum: 1,
        maximum: 1000,
        default: 10,
        requires_restart: false,
      },
    ),
  },
  { required: ["name"], noDefault: true },
);

/** `networks`: a list, replaced whole by a higher layer. */
export const NETWORKS_SCHEMA: JsonSchema = key(
  "Networks",
  "Where outgoing SMS may go, matched by number prefix. The first network whose prefix matches wins.",
  {
    type: "array",
    items: NETWORK_ITEM,
    minItems: 1,
    default: [{ name: "local", prefixes: ["+"], max_per_loop: 10 }],
    requires_restart: false,
  },
);

export const SMS_SCHEMA: JsonSchema = section("SMS", "Outgoing SMS policy.", {
  max_parts: key("Maximum parts", "Most parts (concatenated SMS) one message may take.", {
    type: "integer",
    minimum: 1,
    maximum: 10,
    default: 4,
    requires_restart: false,
  }),
  too_long: key(
    "Too long",
    'A text over `max_parts`: "reject" it (SIP 413) or "truncate" it and tell the sender.',
    {
      type: "string",
      enum: ["reject", "truncate"],
      default: "reject",
      requires_restart: false,
    },
  ),
  delivery_reports: key("Delivery reports", "Ask for status reports and tell the SIP sender the outcome.", {
    type: "boolean",
    default: true,
    requires_restart: false,
  }),
  default_network: key(
    "Default network",
    'Network for a number no prefix matches. "": the first of `networks`.',
    {
      type: "string",
      pattern: PATTERNS.defaultNetwork.pattern,
      default: "",
      requires_restart: false,
    },
  ),
  queue_limit: key(
    "Queue limit",
    "Pending SMS above which new ones are refused (SIP 503 with Retry-After).",
    {
      type: "integer",
      minimum: 1,
      maximum: 1000000,
      default: 10000,
      requires_restart: false,
    },
  ),
  max_attempts: key(
    "Attempts per part",
    "Sends of one part that may fail with a temporary error (network, SMSC) before the message fails.",
    { type: "integer", minimum: 1, maximum: 100, default: 5, requires_restart: false },
  ),
  retry_base_s: key("First retry delay", "Wait after the first temporary failure; doubles each time.", {
    type: "integer",
    minimum: 1,
    maximum: 86400,
    default: 30,
    unit: "s",
    requires_restart: false,
  }),
  retry_max_s: key("Longest retry delay", "Upper bound of the doubling retry delay.", {
    type: "integer",
    minimum: 1,
    maximum: 86400,
    default: 900,
    unit: "s",
    requires_restart: false,
  }),
  expiry_s: key(
    "Queue expiry",
    "A message not handed to the network this long after it was accepted expires.",
    { type: "integer", minimum: 60, maximum: 2592000, default: 259200, unit: "s", requires_restart: false },
  ),
  validity_minutes: key(
    "Validity period",
    "TP-VP asked of the SMSC: how long it keeps trying to deliver. 0: none (the SMSC's default).",
    { type: "integer", minimum: 0, maximum: 635040, default: 4320, requires_restart: false },
  ),
  report_window_s: key(
    "Delivery report window",
    "How long after sending a status report is still matched to its message (TP-MR wraps at 256).",
    { type: "integer", minimum: 60, maximum: 2592000, default: 259200, unit: "s", requires_restart: false },
  ),
  failover_after_s: key(
    "Failover delay",
    "A message whose first parts went out through a modem that then stopped waits this long for it, then is sent whole through another.",
    { type: "integer", minimum: 0, maximum: 86400, default: 300, unit: "s", requires_restart: false },
  ),
  reassembly_timeout_s: key(
    "Reassembly timeout",
    "How long the parts of an incoming concatenated SMS wait for the missing ones before it is delivered with a marker.",
    { type: "integer", minimum: 10, maximum: 604800, default: 3600, unit: "s", requires_restart: false },
  ),
  retention_days: key(
    "Retention",
    "Settled SMS (sent, delivered, failed, expired, unknown) and received ones are deleted from the database this many days after.",
    { type: "integer", minimum: 1, maximum: 3650, default: 30, requires_restart: false },
  ),
  sweep_interval_s: key(
    "Storage sweep interval",
    "Time between two reads of each modem's SMS storage for messages whose notification was missed.",
    { type: "integer", minimum: 5, maximum: 86400, default: 60, unit: "s", requires_restart: false },
  ),
});

export const SERVICES_SCHEMA: JsonSchema = section("Services", 'Site short codes; "" turns one off.', {
  echo: key("Echo", "Short code that answers every SMS with its own text.", {
    type: "string",
    pattern: PATTERNS.shortCode.pattern,
    default: "9189",
    requires_restart: false,
  }),
  register: key("Register", "Short code a phone texts to be told its number and registration.", {
    type: "string",
    pattern: PATTERNS.shortCode.pattern,
    default: "101",
    requires_restart: false,
  }),
});

const NUMBERING: JsonSchema = section("Numbering", "How national numbers become E.164 (+CC...).", {
  country_code: key("Country code", 'Without "+". "": national numbers are not rewritten.', {
    type: "string",
    pattern: PATTERNS.countryCode.pattern,
    default: "",
    requires_restart: false,
    examples: ["256"],
  }),
  national_prefix: key("National prefix", "Trunk prefix replaced by +<country_code>.", {
    type: "string",
    pattern: PATTERNS.dialPrefix.pattern,
    default: "0",
    requires_restart: false,
  }),
  international_prefix: key("International prefix", "Dialled prefix replaced by +.", {
    type: "string",
    pattern: PATTERNS.dialPrefix.pattern,
    default: "00",
    requires_restart: false,
  }),
});

const AUTH: JsonSchema = section(
  "Digest authentication",
  "Credentials for inbound requests from sources outside `trusted` (answered with a 401 challenge).",
  {
    realm: key("Realm", "Digest realm of the challenges.", {
      type: "string",
      pattern: PATTERNS.nonEmpty.pattern,
      requires_restart: false,
      unset_means: "the site id",
    }),
    users: key("Users", "User name → password.", {
      type: "object",
      propertyNames: { pattern: PATTERNS.sipUser.pattern },
      additionalProperties: { type: "string", minLength: 1 },
      default: {},
      requires_restart: false,
    }),
  },
  { unset_means: "no authentication: requests from outside `trusted` get 403" },
);

const seconds = (title: string, description: string, def: number, min: number, max: number) =>
  key(title, description, {
    type: "integer",
    minimum: min,
    maximum: max,
    default: def,
    unit: "s",
    requires_restart: true,
  });

const UPSTREAM: JsonSchema = section(
  "Upstream",
  "The core (FreeSWITCH, OpenSIPS, Kamailio): outbound proxy for MESSAGEs from phones, failover in order.",
  {
    uri: key("URI", "The core's SIP URI.", {
      type: "string",
      pattern: PATTERNS.sipUri.pattern,
      requires_restart: true,
    }),
    fallback: key("Fallbacks", "Tried in order while `uri` is down.", {
      type: "array",
      items: { type: "string", pattern: PATTERNS.sipUri.pattern },
      uniqueItems: true,
      default: [],
      requires_restart: true,
    }),
    register: key("Register", "REGISTER sip:<site.id>@<sip.domain> there, refreshed.", {
      type: "boolean",
      default: false,
      requires_restart: true,
    }),
    username: key("User name", "Digest user name towards the upstream.", {
      type: "string",
      pattern: PATTERNS.nonEmpty.pattern,
      requires_restart: true,
      unset_means: "the site id",
    }),
    password: key("Password", "Digest password towards the upstream. Never logged.", {
      type: "string",
      minLength: 1,
      requires_restart: true,
      unset_means: "challenges from the upstream are not answered",
    }),
    register_expires_s: seconds("Registration lifetime", "Expires asked for in REGISTER.", 3600, 60, 86400),
    keepalive_s: seconds("Keepalive interval", "Time between two OPTIONS to each upstream.", 30, 5, 3600),
    expiry_s: seconds(
      "Message expiry",
      "How long a MESSAGE to the upstream is retried.",
      259200,
      60,
      2592000,
    ),
  },
  {
    required: ["uri"],
    unset_means: "no outbound proxy: MESSAGEs go to their Request-URI's host; no REGISTER",
  },
);

export const SIP_SCHEMA: JsonSchema = section("SIP", "The SIP MESSAGE ⇄ SMS gateway (contract, section 4).", {
  listen: key("Listen address", "UDP and TCP address of the gateway.", {
    type: "string",
    format: "host-port",
    default: "0.0.0.0:5060",
    requires_restart: true,
  }),
  domain: key("Domain", "Domain of the site's SIP URIs (From of SMS from phones, the REGISTERed AOR).", {
    type: "string",
    pattern: PATTERNS.domain.pattern,
    requires_restart: true,
    unset_means: "the host of sip.upstream.uri; with no upstream, the site id",
  }),
  numbering: NUMBERING,
  trusted: key(
    "Trusted sources",
    "Addresses or CIDR ranges allowed without authentication (the local BTS).",
    {
      type: "array",
      items: { type: "string", format: "cidr" },
      uniqueItems: true,
      default: ["127.0.0.0/8", "::1/128"],
      requires_restart: false,
    },
  ),
  auth: AUTH,
  upstream: UPSTREAM,
  inbound_default: key(
    "Default inbound target",
    "Request-URI for SMS from phones that name no other target.",
    {
      type: "string",
      pattern: PATTERNS.sipUri.pattern,
      requires_restart: false,
      unset_means:
        "an SMS naming no target, from a modem without inbound_to, has nowhere to go and is reported",
    },
  ),
});
