import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { configKeyTable, DOC_TABLE_END, DOC_TABLE_START } from "../../src/config/docTable.js";
import { defaultConfig, validateConfig } from "../../src/config/load.js";
import { CONFIG_SCHEMA, type JsonSchema, requiresRestart, schemaAt } from "../../src/config/schema.js";
import { isCidr, isHostPort } from "../../src/config/schemaParts.js";

const root = new URL("../../", import.meta.url);

const SCHEMA_FIX =
  `node --import tsx -e "import('./src/config/schema.ts').then((m) => require('node:fs').writeFileSync(` +
  `'src/config/schema.json', JSON.stringify(m.CONFIG_SCHEMA, null, 2) + '\\n'))"`;

/** Every named key of the schema, with its path and whether its parent requires it. */
function allKeys(node: JsonSchema, prefix = ""): { path: string; node: JsonSchema; required: boolean }[] {
  const out: { path: string; node: JsonSchema; required: boolean }[] = [];
  for (const [name, child] of Object.entries(node.properties ?? {})) {
    const path = prefix === "" ? name : `${prefix}.${name}`;
    out.push({ path, node: child, required: node.required?.includes(name) ?? false });
    out.push(...allKeys(child, path));
    if (child.items) out.push(...allKeys(child.items, `${path}[]`));
  }
  return out;
}

describe("config schema", () => {
  it("is written out identically in src/config/schema.json", () => {
    const onDisk = readFileSync(new URL("src/config/schema.json", root), "utf8");
    assert.ok(
      onDisk === `${JSON.stringify(CONFIG_SCHEMA, null, 2)}\n`,
      `src/config/schema.json is out of date with src/config/schema.ts; regenerate it with:\n  ${SCHEMA_FIX}`,
    );
  });

  it("gives every key a title, a description, and a default unless required or unset_means", () => {
    const keys = allKeys(CONFIG_SCHEMA);
    assert.ok(keys.length > 80, `only ${keys.length} keys found`);
    for (const { path, node, required } of keys) {
      assert.ok(node.title, `${path} has no title`);
      assert.ok(node.description, `${path} has no description`);
      const hasDefault = node.default !== undefined || node.unset_means !== undefined;
      assert.ok(required || hasDefault, `${path} has neither a default nor unset_means`);
      assert.ok(!(required && node.default !== undefined), `${path} is required and has a default`);
    }
  });

  it("gives every leaf key requires_restart, and every duration its unit", () => {
    for (const { path, node } of allKeys(CONFIG_SCHEMA)) {
      if (node.type === "object" && node.properties) continue;
      assert.equal(typeof node.requires_restart, "boolean", `${path} has no requires_restart`);
      if (path.endsWith("_ms")) assert.equal(node.unit, "ms", `${path} has no unit ms`);
      if (path.endsWith("_s")) assert.equal(node.unit, "s", `${path} has no unit s`);
      if (path.endsWith("baud")) assert.equal(node.unit, "baud", `${path} has no unit baud`);
    }
  });

  it("rejects unknown keys in every map except the free-form ones", () => {
    const freeForm = new Set(["sip.auth.users", "log.levels"]);
    for (const { path, node } of allKeys(CONFIG_SCHEMA)) {
      if (node.type !== "object") continue;
      if (freeForm.has(path)) assert.equal(typeof node.additionalProperties, "object", path);
      else assert.equal(node.additionalProperties, false, `${path} accepts unknown keys`);
    }
  });

  it("has defaults that validate, including those of list items", () => {
    const result = validateConfig({ site: { id: "x" }, modems: [{}], networks: [{ name: "n" }] });
    assert.ok(result.ok, result.ok ? "" : result.problems.join("\n"));
    assert.deepEqual(result.config.modems[0], {
      port: "auto",
      baud: 115200,
      networks: [],
      rate_per_minute: 0,
      daily_limit: 0,
      power_off_ms: 2000,
      boot_wait_ms: 30000,
      profile: "auto",
    });
    assert.deepEqual(result.config.networks, [{ name: "n", prefixes: ["+"], max_per_loop: 10 }]);
  });

  it("has the contract's defaults", () => {
    const config = defaultConfig("site-042");
    assert.equal(config.site.id, "site-042");
    assert.equal(config.storage.dir, "/var/lib/bts-site");
    assert.equal(config.sip.listen, "0.0.0.0:5060");
    assert.equal(config.web.listen, "0.0.0.0:80");
    assert.equal(config.mqtt.base_topic, "bts");
    assert.equal(config.mqtt.protocol_version, 5);
    assert.equal(config.mqtt.url, undefined);
    assert.deepEqual(config.services, { echo: "9189", register: "101" });
    assert.deepEqual(config.modems, []);
    assert.deepEqual(config.networks, [{ name: "local", prefixes: ["+"], max_per_loop: 10 }]);
    assert.deepEqual(config.supervisor, {
      probe_interval_ms: 30000,
      command_timeout_ms: 5000,
      failures_before_recovery: 2,
      searching_recovery_ms: 1800000,
      step_timeout_ms: 60000,
      faulted_backoff_ms: 60000,
      faulted_backoff_max_ms: 1800000,
    });
    assert.deepEqual(config.discovery.globs, ["/dev/serial/by-id/*", "/dev/ttyUSB*", "/dev/ttyACM*"]);
    assert.deepEqual(config.gpio, { driver: "onoff", sim_dir: "/run/bts-gpio" });
    assert.deepEqual(config.log, { level: "info", levels: {} });
    assert.equal(config.sip.upstream, undefined);
  });

  it("is documented key by key in docs/configuration.md", () => {
    const docs = readFileSync(new URL("docs/configuration.md", root), "utf8");
    const start = docs.indexOf(DOC_TABLE_START);
    const end = docs.indexOf(DOC_TABLE_END);
    assert.ok(start >= 0 && end > start, "docs/configuration.md has no generated key table markers");
    const fix =
      `node --import tsx -e "import('./src/config/docTable.ts').then((m) => { const fs = require('node:fs'); ` +
      `const d = fs.readFileSync('docs/configuration.md', 'utf8'); const s = d.indexOf(m.DOC_TABLE_START); ` +
      `const e = d.indexOf(m.DOC_TABLE_END) + m.DOC_TABLE_END.length; ` +
      `fs.writeFileSync('docs/configuration.md', d.slice(0, s) + m.configKeyTable() + d.slice(e)); })"`;
    assert.ok(
      docs.slice(start, end + DOC_TABLE_END.length) === configKeyTable(),
      `the key table of docs/configuration.md is out of date; regenerate it with:\n  ${fix}`,
    );
  });
});

describe("schema lookups", () => {
  const restartCases: [string, boolean][] = [
    ["sip.listen", true],
    ["sms.max_parts", false],
    ["modems[0].baud", true],
    ["modems", true],
    ["log.levels.sip", false],
    ["sip.auth.users.core", false],
    ["sms", false],
    ["sip", true],
    ["nonsense.key", true],
  ];
  for (const [path, expected] of restartCases) {
    it(`says ${path} ${expected ? "requires" : "does not require"} a restart`, () => {
      assert.equal(requiresRestart(path), expected);
    });
  }

  it("finds the schema of a key inside a list item and a free-form map", () => {
    assert.equal(schemaAt("modems[3].power_off_ms")?.unit, "ms");
    assert.deepEqual(schemaAt(["log", "levels", "modem:*"])?.enum, [
      "trace",
      "debug",
      "info",
      "warn",
      "error",
    ]);
    assert.equal(schemaAt("mqtt.urll"), undefined);
  });
});

describe("custom formats", () => {
  const hostPorts: [string, boolean][] = [
    ["0.0.0.0:5060", true],
    ["[::]:5060", true],
    ["localhost:0", true],
    ["127.0.0.1:65535", true],
    ["5060", false],
    ["0.0.0.0:65536", false],
    ["[zz]:80", false],
    ["host:port", false],
  ];
  for (const [value, expected] of hostPorts) {
    it(`${expected ? "accepts" : "rejects"} ${JSON.stringify(value)} as host:port`, () => {
      assert.equal(isHostPort(value), expected);
    });
  }
  const cidrs: [string, boolean][] = [
    ["10.8.0.0/16", true],
    ["192.168.1.10", true],
    ["fd00::/8", true],
    ["10.0.0.0/33", false],
    ["10.0.0/8", false],
    ["10.0.0.0/8/8", false],
    ["fd00::/129", false],
  ];
  for (const [value, expected] of cidrs) {
    it(`${expected ? "accepts" : "rejects"} ${JSON.stringify(value)} as a CIDR range`, () => {
      assert.equal(isCidr(value), expected);
    });
  }
});
