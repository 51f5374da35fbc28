import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { parseConfigText, validateConfig } from "../../src/config/load.js";

const fixture = (name: string) => new URL(`../fixtures/config/${name}`, import.meta.url);
const site = { id: "site-042" };

describe("validateConfig accepts", () => {
  const valid: [string, Record<string, unknown>][] = [
    [
      "the contract's full example",
      parseConfigText(readFileSync(fixture("contract-example.yaml"), "utf8"), "x"),
    ],
    ["the minimal config", { site: { id: "x" } }],
    ["a JSON file indented with tabs", parseConfigText(readFileSync(fixture("minimal.json"), "utf8"), "x")],
    [
      "the simulated GPIO driver",
      { site, gpio: { driver: "sim", sim_dir: "/tmp/gpio", chip_label: "pinctrl-bcm2711" } },
    ],
    [
      "IPv6 and port 0 listen addresses",
      { site, sip: { listen: "[::]:5060" }, web: { listen: "127.0.0.1:0" } },
    ],
    [
      "a modem bound by IMEI on any port",
      { site, modems: [{ imei: "35693803564380", profile: "quectel-ec25" }] },
    ],
    ["MQTT 3.1.1 over websockets", { site, mqtt: { url: "wss://noc.example/mqtt", protocol_version: 4 } }],
    [
      "per-namespace log levels",
      { site, log: { level: "warn", levels: { "modem:*": "debug", sip: "trace" } } },
    ],
    ["numeric SIP user names", { site, sip: { auth: { users: { "1001": "pw" } } } }],
    ["short codes turned off", { site, services: { echo: "", register: "" } }],
  ];
  for (const [name, input] of valid) {
    it(name, () => {
      const result = validateConfig(input);
      assert.ok(result.ok, result.ok ? "" : result.problems.join("\n"));
    });
  }

  it("fills defaults without changing its input", () => {
    const input = { site: { id: "x" }, sms: { max_parts: 2 } };
    const result = validateConfig(input);
    assert.ok(result.ok);
    assert.deepEqual(input, { site: { id: "x" }, sms: { max_parts: 2 } });
    assert.equal(result.config.sms.max_parts, 2);
    assert.equal(result.config.sms.queue_limit, 10000);
  });
});

describe("validateConfig reports", () => {
  const invalid: [string, unknown, string[]][] = [
    ["a missing site.id", {}, ["site.id: is required"]],
    ["an empty site section", { site: {} }, ["site.id: is required"]],
    [
      "a site id with capitals",
      { site: { id: "Site_42" } },
      ['site.id: must be 1 to 32 characters: lowercase letters, digits and "-"'],
    ],
    [
      "an unusual baud rate",
      { site, modems: [{ baud: 115000 }] },
      ["modems[0].baud: must be one of 9600, 19200, 38400, 57600, 115200, 230400, 460800, 921600"],
    ],
    [
      "a baud rate that is not a number, once",
      { site, modems: [{ baud: "fast" }] },
      ["modems[0].baud: must be a whole number"],
    ],
    ["a listen address without host", { site, sip: { listen: "5060" } }, ['sip.listen: must be "host:port"']],
    ["a port over 65535", { site, web: { listen: "0.0.0.0:70000" } }, ['web.listen: must be "host:port"']],
    [
      "an IMEI written without quotes",
      { site, modems: [{ imei: 356938035643809 }] },
      ["modems[0].imei: must be text: put the value in quotes"],
    ],
    ["a short PIN", { site, modems: [{ pin: "12" }] }, ["modems[0].pin: must be 4 to 8 digits"]],
    ["a GPIO line out of range", { site, leds: { status: 2000 } }, ["leds.status: must be at most 1023"]],
    [
      "a negative GPIO line",
      { site, modems: [{ led_gpio: -1 }] },
      ["modems[0].led_gpio: must be at least 0"],
    ],
    [
      "a too short power-off",
      { site, modems: [{ power_off_ms: 50 }] },
      ["modems[0].power_off_ms: must be at least 100 ms"],
    ],
    [
      "a fractional timeout",
      { site, supervisor: { step_timeout_ms: 1.5 } },
      ["supervisor.step_timeout_ms: must be a whole number"],
    ],
    [
      "a bad CIDR",
      { site, sip: { trusted: ["10.8.0.0/16", "10.8.0.0/40"] } },
      ['sip.trusted[1]: must be an address or a CIDR range such as "10.8.0.0/16"'],
    ],
    [
      "a repeated trusted range",
      { site, sip: { trusted: ["10.0.0.1", "10.0.0.1"] } },
      ['sip.trusted: lists "10.0.0.1" twice'],
    ],
    [
      "a SIP URI without scheme",
      { site, sip: { inbound_default: "sms@core.example" } },
      ['sip.inbound_default: must be a SIP URI starting with "sip:" or "sips:"'],
    ],
    [
      "an http broker URL",
      { site, mqtt: { url: "http://noc.example" } },
      ["mqtt.url: must be a URL starting with mqtt://, mqtts://, ws://, wss://, tcp:// or tls://"],
    ],
    ["MQTT 3.1", { site, mqtt: { protocol_version: 3 } }, ["mqtt.protocol_version: must be one of 4, 5"]],
    [
      "an unknown GPIO driver",
      { site, gpio: { driver: "sysfs" } },
      ['gpio.driver: must be one of "onoff", "sim"'],
    ],
    ["too many parts", { site, sms: { max_parts: 11 } }, ["sms.max_parts: must be at most 10"]],
    [
      "a key left empty in YAML",
      { site, sms: { too_long: null } },
      ["sms.too_long: has no value: give it one or remove the key"],
    ],
    ["a section that is not a map", { site, sms: 5 }, ["sms: must be a map of keys"]],
    ["a list that is a map", { site, modems: { port: "auto" } }, ["modems: must be a list"]],
    ["an empty networks list", { site, networks: [] }, ["networks: must not be an empty list"]],
    [
      "a network without name",
      { site, networks: [{ prefixes: ["+256"] }] },
      ["networks[0].name: is required"],
    ],
    [
      "an upstream without uri",
      { site, sip: { upstream: { register: true } } },
      ["sip.upstream.uri: is required"],
    ],
    [
      "a bad number prefix",
      { site, networks: [{ name: "n", prefixes: ["256"] }] },
      ['networks[0].prefixes[0]: must be "+" followed by up to 15 digits ("+" alone matches every number)'],
    ],
    [
      "an unknown log level",
      { site, log: { levels: { "modem:*": "loud" } } },
      ['log.levels["modem:*"]: must be one of "trace", "debug", "info", "warn", "error"'],
    ],
    [
      "a bad log namespace",
      { site, log: { levels: { "modem m1": "debug" } } },
      [
        'log.levels["modem m1"]: is not a valid key here: keys must be a log namespace such as "modem:m1", "sip" or "at:*"',
      ],
    ],
    ["a top level that is a list", [], ["(top level): must be a map of keys"]],
  ];
  for (const [name, input, expected] of invalid) {
    it(name, () => {
      const result = validateConfig(input);
      assert.equal(result.ok, false);
      assert.deepEqual(result.ok ? [] : result.problems, expected);
    });
  }

  it("every problem of a config at once", () => {
    const result = validateConfig(
      parseConfigText(readFileSync(fixture("invalid.yaml"), "utf8"), "invalid.yaml"),
    );
    assert.deepEqual(result.ok ? [] : result.problems, [
      "modems[0].baud: must be one of 9600, 19200, 38400, 57600, 115200, 230400, 460800, 921600",
      'sip.listen: must be "host:port"',
      'mqtt.urll: unknown key (did you mean "url"?)',
    ]);
  });
});

describe("validateConfig reports unknown keys", () => {
  const unknown: [string, Record<string, unknown>, string][] = [
    ["at the top, with a suggestion", { site, modms: [] }, 'modms: unknown key (did you mean "modems"?)'],
    ["at the top, without one", { site, zzz: 1 }, "zzz: unknown key"],
    ["in a section", { site, mqtt: { urll: "mqtt://x" } }, 'mqtt.urll: unknown key (did you mean "url"?)'],
    [
      "in a list item",
      { site, modems: [{ powr_gpio: 17 }] },
      'modems[0].powr_gpio: unknown key (did you mean "power_gpio"?)',
    ],
    [
      "in a network",
      { site, networks: [{ name: "n", prefix: ["+"] }] },
      'networks[0].prefix: unknown key (did you mean "prefixes"?)',
    ],
    [
      "two levels down",
      { site, sip: { numbering: { contry_code: "256" } } },
      'sip.numbering.contry_code: unknown key (did you mean "country_code"?)',
    ],
    [
      "three levels down",
      { site, sip: { upstream: { uri: "sip:core", fallbak: [] } } },
      'sip.upstream.fallbak: unknown key (did you mean "fallback"?)',
    ],
    [
      "with different case",
      { site, mqtt: { URL: "mqtt://x" } },
      'mqtt.URL: unknown key (did you mean "url"?)',
    ],
    ["too far from any key", { site, mqtt: { ca: "/ca.pem", id: "x" } }, "mqtt.id: unknown key"],
  ];
  for (const [name, input, expected] of unknown) {
    it(name, () => {
      const result = validateConfig(input);
      assert.deepEqual(result.ok ? [] : result.problems, [expected]);
    });
  }
});

describe("validateConfig cross-checks", () => {
  const cases: [string, Record<string, unknown>, string[]][] = [
    [
      "two modems with one id",
      { site, modems: [{ id: "m1" }, { id: "m1" }] },
      ['modems[1].id: "m1" is already used by modems[0]'],
    ],
    [
      "two modems on one port",
      { site, modems: [{ port: "/dev/ttyUSB2" }, { port: "auto" }, { port: "/dev/ttyUSB2" }] },
      ['modems[2].port: "/dev/ttyUSB2" is already used by modems[0]'],
    ],
    [
      "two modems with one IMEI",
      { site, modems: [{ imei: "356938035643809" }, { imei: "356938035643809" }] },
      ["modems[1].imei: IMEI 356938035643809 is already used by modems[0]"],
    ],
    [
      "a modem naming a missing network",
      { site, modems: [{ networks: ["local", "lcoal"] }] },
      ['modems[0].networks[1]: no network is named "lcoal" (did you mean "local"?)'],
    ],
    [
      "a default network that does not exist",
      { site, sms: { default_network: "uganda" } },
      ['sms.default_network: no network is named "uganda" (networks: local)'],
    ],
    [
      "two networks with one name",
      { site, networks: [{ name: "a" }, { name: "a" }] },
      ['networks[1].name: "a" is already used by networks[0]'],
    ],
    [
      "one GPIO line used twice",
      { site, modems: [{ power_gpio: 17, led_gpio: 22 }], leds: { status: 17 } },
      ["leds.status: GPIO line 17 is already used by modems[0].power_gpio"],
    ],
  ];
  for (const [name, input, expected] of cases) {
    it(`reports ${name}`, () => {
      const result = validateConfig(input);
      assert.deepEqual(result.ok ? [] : result.problems, expected);
    });
  }

  it("reports schema and cross-key problems together", () => {
    const result = validateConfig({ site, modems: [{ baud: 1, networks: ["nope"] }] });
    assert.deepEqual(result.ok ? [] : result.problems, [
      "modems[0].baud: must be one of 9600, 19200, 38400, 57600, 115200, 230400, 460800, 921600",
      'modems[0].networks[0]: no network is named "nope" (networks: local)',
    ]);
  });
});

describe("validateConfig with hostile keys", () => {
  it("treats __proto__ as an unknown key, not as a prototype", () => {
    const input = JSON.parse('{"site": {"id": "x"}, "__proto__": {"polluted": true}}');
    const result = validateConfig(input);
    assert.deepEqual(result.ok ? [] : result.problems, ["__proto__: unknown key"]);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });
});
