import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { checkConfigCommand } from "../../src/config/checkConfig.js";
import {
  bootConfigPath,
  DEFAULT_CONFIG_PATH,
  defaultConfig,
  type LoadConfigOptions,
  loadConfig,
  mergeLayers,
  parseConfigText,
} from "../../src/config/load.js";
import { isSiteError, SiteError } from "../../src/core/errors.js";

const BOOT = "/boot/firmware/bts-site.yaml";
const MAIN = "/etc/bts-site/site.yaml";

/** A file reader over an in-memory tree; a missing file rejects with ENOENT like fs does. */
function fakeFiles(files: Record<string, string>): LoadConfigOptions["readFile"] {
  return (path) => {
    const text = files[path];
    if (text !== undefined) return Promise.resolve(text);
    return Promise.reject(
      Object.assign(new Error(`ENOENT: no such file, open '${path}'`), { code: "ENOENT" }),
    );
  };
}

function problemsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    assert.ok(isSiteError(err, "config.invalid"), String(err));
    return err.detail.problems as string[];
  }
  assert.fail("no error thrown");
}

async function rejection(promise: Promise<unknown>): Promise<SiteError> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof SiteError, String(err));
    return err;
  }
  assert.fail("no error thrown");
}

describe("parseConfigText", () => {
  it("reports a YAML syntax error with its line and column", () => {
    assert.deepEqual(
      problemsOf(() => parseConfigText("site:\n  id: x\n name: y\n", "a.yaml")),
      ["a.yaml: line 3, column 1: All mapping items must start at the same column"],
    );
  });

  it("reports a key written twice", () => {
    assert.deepEqual(
      problemsOf(() => parseConfigText("site: {id: x}\nsms: {}\nsms: {}\n", "a.yaml")),
      ["a.yaml: line 3, column 1: Map keys must be unique"],
    );
  });

  it("reads JSON, also when indented with tabs", () => {
    assert.deepEqual(parseConfigText('{"site": {"id": "x"}}', "a.json"), { site: { id: "x" } });
    assert.deepEqual(parseConfigText('{\n\t"site": {\n\t\t"id": "x"\n\t}\n}\n', "a.json"), {
      site: { id: "x" },
    });
  });

  it("reports a key written twice in JSON too", () => {
    assert.deepEqual(
      problemsOf(() => parseConfigText('{\n\t"sms": {},\n\t"sms": {}\n}', "a.json")),
      ["a.json: line 3, column 2: Map keys must be unique"],
    );
  });

  it("reads YAML 1.2: yes is text, 0123 is a number", () => {
    assert.deepEqual(parseConfigText("a: yes\nb: 0123\n", "a.yaml"), { a: "yes", b: 123 });
  });

  it("reads an empty or comments-only file as an empty map", () => {
    assert.deepEqual(parseConfigText("", "a.yaml"), {});
    assert.deepEqual(parseConfigText("# site: {id: x}\n", "a.yaml"), {});
  });

  it("reports a top level that is not a map", () => {
    assert.deepEqual(
      problemsOf(() => parseConfigText("- site\n", "a.yaml")),
      ['a.yaml: the top level must be a map of keys (such as "site:"), not a list'],
    );
    assert.deepEqual(
      problemsOf(() => parseConfigText("site-042\n", "a.yaml")),
      ['a.yaml: the top level must be a map of keys (such as "site:"), not a text'],
    );
  });
});

describe("mergeLayers", () => {
  it("merges maps key by key and replaces lists and scalars whole", () => {
    const { value } = mergeLayers(
      {
        source: "file",
        data: { sip: { listen: "0.0.0.0:5060", trusted: ["10.0.0.0/8", "::1"] }, modems: [{}, {}] },
      },
      { source: "boot", data: { sip: { trusted: ["192.168.0.0/16"] }, modems: [{ port: "auto" }] } },
    );
    assert.deepEqual(value, {
      sip: { listen: "0.0.0.0:5060", trusted: ["192.168.0.0/16"] },
      modems: [{ port: "auto" }],
    });
  });

  it("unsets a key on null in the runtime layer only", () => {
    const file = { source: "file" as const, data: { leds: { status: 5, uplink: 6 } } };
    assert.deepEqual(mergeLayers(file, { source: "runtime", data: { leds: { status: null } } }).value, {
      leds: { uplink: 6 },
    });
    assert.deepEqual(mergeLayers(file, { source: "boot", data: { leds: { status: null } } }).value, {
      leds: { status: null, uplink: 6 },
    });
  });

  it("does not modify its layers", () => {
    const lower = { source: "file" as const, data: { sms: { max_parts: 2 } } };
    mergeLayers(lower, { source: "boot", data: { sms: { queue_limit: 5 } } });
    assert.deepEqual(lower.data, { sms: { max_parts: 2 } });
  });
});

describe("loadConfig", () => {
  const mainYaml = [
    "site: {id: site-042, name: Kamuli}",
    "sip: {listen: '0.0.0.0:5060', domain: site-042.bts.example}",
    "modems:",
    "  - {id: m1, port: /dev/ttyUSB2}",
    "  - {id: m2, port: /dev/ttyUSB5}",
    "mqtt: {url: 'mqtt://noc:1883', base_topic: bts}",
    "",
  ].join("\n");

  it("layers boot over runtime over file over defaults, and says where each key came from", async () => {
    const readFile = fakeFiles({
      [MAIN]: mainYaml,
      [BOOT]:
        "sip: {listen: '0.0.0.0:5070'}\nmodems: [{id: m9, port: /dev/ttyACM0}]\nmqtt: {base_topic: lab}\n",
      "/var/lib/bts-site/config.runtime.json": '{"sms": {"max_parts": 2}, "mqtt": {"base_topic": "noc"}}',
    });
    const { config, sources, runtimeFile } = await loadConfig({ mainFile: MAIN, bootFile: BOOT, readFile });
    assert.equal(config.sip.listen, "0.0.0.0:5070");
    assert.equal(config.sip.domain, "site-042.bts.example");
    assert.deepEqual(
      config.modems.map((m) => m.id),
      ["m9"],
    );
    assert.equal(config.mqtt.base_topic, "lab");
    assert.equal(config.sms.max_parts, 2);
    assert.equal(runtimeFile, "/var/lib/bts-site/config.runtime.json");
    assert.equal(sources["sip.listen"], "boot");
    assert.equal(sources["sip.domain"], "file");
    assert.equal(sources["sip.numbering.national_prefix"], "default");
    assert.equal(sources.modems, "boot");
    assert.equal(sources["mqtt.base_topic"], "boot");
    assert.equal(sources["mqtt.url"], "file");
    assert.equal(sources["sms.max_parts"], "runtime");
    assert.equal(sources["sms.queue_limit"], "default");
    assert.equal(sources["log.levels"], "default");
    assert.equal(sources["modems[0].id"], undefined, "a list is one leaf");
  });

  it("reads the runtime layer from the storage.dir the boot file sets", async () => {
    const readFile = fakeFiles({
      [MAIN]: "site: {id: x}\n",
      [BOOT]: "storage: {dir: /data/bts}\n",
      "/data/bts/config.runtime.json": '{"site": {"name": "from the NOC"}}',
    });
    const { config, sources } = await loadConfig({ mainFile: MAIN, bootFile: BOOT, readFile });
    assert.equal(config.site.name, "from the NOC");
    assert.equal(sources["site.name"], "runtime");
  });

  it("lets the NOC unset a key of the main file with null", async () => {
    const readFile = fakeFiles({
      [MAIN]: "site: {id: x}\nleds: {status: 5}\nsms: {max_parts: 2}\n",
      "/var/lib/bts-site/config.runtime.json": '{"leds": {"status": null}, "sms": {"max_parts": null}}',
    });
    const { config, sources } = await loadConfig({ mainFile: MAIN, bootFile: null, readFile });
    assert.equal(config.leds.status, undefined);
    assert.equal(config.sms.max_parts, 4);
    assert.equal(sources["sms.max_parts"], "default");
  });

  it("refuses a runtime layer that moves storage.dir", async () => {
    const readFile = fakeFiles({ [MAIN]: "site: {id: x}\n", "/rt.json": '{"storage": {"dir": "/tmp"}}' });
    const err = await rejection(
      loadConfig({ mainFile: MAIN, bootFile: null, runtimeFile: "/rt.json", readFile }),
    );
    assert.deepEqual(err.detail.problems, [
      "storage.dir: cannot be changed by the NOC: set it in the config file (/rt.json)",
    ]);
  });

  it("runs from the boot file alone when the default main file is missing", async () => {
    const readFile = fakeFiles({ [BOOT]: "site: {id: fresh-site}\n" });
    const { config, sources } = await loadConfig({ bootFile: BOOT, readFile });
    assert.equal(config.site.id, "fresh-site");
    assert.equal(sources["site.id"], "boot");
  });

  it("fails with config.read when the default main file and the boot file are both missing", async () => {
    const err = await rejection(loadConfig({ bootFile: BOOT, readFile: fakeFiles({}) }));
    assert.equal(err.code, "config.read");
    assert.equal(err.message, `cannot read ${DEFAULT_CONFIG_PATH}: no such file`);
  });

  it("fails with config.read when a named main file is missing, even with a boot file", async () => {
    const readFile = fakeFiles({ [BOOT]: "site: {id: x}\n" });
    const err = await rejection(loadConfig({ mainFile: "/nope.yaml", bootFile: BOOT, readFile }));
    assert.equal(err.code, "config.read");
  });

  it("fails with config.read on a file it may not read", async () => {
    const readFile = () =>
      Promise.reject(Object.assign(new Error("EACCES: permission denied"), { code: "EACCES" }));
    const err = await rejection(loadConfig({ mainFile: MAIN, bootFile: null, readFile }));
    assert.equal(err.code, "config.read");
    assert.equal(err.message, `cannot read ${MAIN}: EACCES: permission denied`);
  });

  it("accepts a reader that answers undefined for a missing file", async () => {
    const files: Record<string, string> = { [MAIN]: "site: {id: x}\n" };
    const { config } = await loadConfig({ mainFile: MAIN, readFile: (path) => files[path] });
    assert.equal(config.site.id, "x");
  });

  it("lists every problem, naming the boot file for keys it set", async () => {
    const readFile = fakeFiles({
      [MAIN]: "site: {id: x}\nmodems: [{baud: 1}]\n",
      [BOOT]: "sip: {listen: '5060'}\n",
    });
    const err = await rejection(loadConfig({ mainFile: MAIN, bootFile: BOOT, readFile }));
    assert.equal(err.code, "config.invalid");
    const problems = [
      "modems[0].baud: must be one of 9600, 19200, 38400, 57600, 115200, 230400, 460800, 921600",
      `sip.listen: must be "host:port" (set in ${BOOT})`,
    ];
    assert.deepEqual(err.detail.problems, problems);
    assert.equal(err.message, `configuration has 2 problems:\n${problems.join("\n")}`);
  });

  it("reports syntax errors of the main and the boot file together", async () => {
    const readFile = fakeFiles({ [MAIN]: "site: {id: x\n", [BOOT]: "- a\n" });
    const err = await rejection(loadConfig({ mainFile: MAIN, bootFile: BOOT, readFile }));
    assert.deepEqual(err.detail.problems, [
      `${MAIN}: line 2, column 1: Flow map in block collection must be sufficiently indented and end with a }`,
      `${BOOT}: the top level must be a map of keys (such as "site:"), not a list`,
    ]);
  });
});

describe("defaults and paths", () => {
  it("builds the default config of a site", () => {
    assert.equal(defaultConfig("site-042").site.id, "site-042");
    assert.throws(() => defaultConfig("Site 42"), { code: "config.invalid" });
  });

  it("finds the boot file on the boot partition, or where the environment says", () => {
    assert.equal(bootConfigPath({}), BOOT);
    assert.equal(bootConfigPath({ BTS_SITE_BOOT_CONFIG: "/tmp/boot.yaml" }), "/tmp/boot.yaml");
  });
});

describe("checkConfigCommand", () => {
  const fixture = (name: string) => new URL(`../fixtures/config/${name}`, import.meta.url).pathname;
  async function run(file: string): Promise<{ code: number; lines: string[] }> {
    const lines: string[] = [];
    const code = await checkConfigCommand(file, (line) => lines.push(line));
    return { code, lines };
  }

  it("prints <file>: ok and exits 0 for the contract's example", async () => {
    const file = fixture("contract-example.yaml");
    assert.deepEqual(await run(file), { code: 0, lines: [`${file}: ok`] });
  });

  it("prints each problem on its own line and exits 2", async () => {
    assert.deepEqual(await run(fixture("invalid.yaml")), {
      code: 2,
      lines: [
        "modems[0].baud: must be one of 9600, 19200, 38400, 57600, 115200, 230400, 460800, 921600",
        'sip.listen: must be "host:port"',
        'mqtt.urll: unknown key (did you mean "url"?)',
      ],
    });
  });

  it("prints a YAML syntax error with its line and exits 2", async () => {
    const file = fixture("syntax-error.yaml");
    assert.deepEqual(await run(file), {
      code: 2,
      lines: [`${file}: line 3, column 1: All mapping items must start at the same column`],
    });
  });

  it("exits 2 for a file that does not exist", async () => {
    assert.deepEqual(await run("/nonexistent/bts-site.yaml"), {
      code: 2,
      lines: ["/nonexistent/bts-site.yaml: cannot read: no such file"],
    });
  });
});
