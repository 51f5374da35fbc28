import assert from "node:assert/strict";
import { cpSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, describe, it } from "node:test";
import {
  type StatfsLike,
  type SystemSample,
  SystemSampler,
  type SystemSamplerOptions,
} from "../../src/system/sampler.js";
import { SmallFileReader } from "../../src/system/smallFileReader.js";
import {
  RASPBERRY_PI_MANUFACTURER,
  readStaticFacts,
  type StaticFacts,
  type SystemInformationLike,
  systemInformationOf,
} from "../../src/system/staticFacts.js";

// Each test copies a fixture root (test/fixtures/system/<board>: proc/, sys/ as the kernel lays
// them out) into a temp dir and points the sampler at it; no module is mocked.
const FIXTURES = join(import.meta.dirname, "..", "fixtures", "system");
type Board = "pi4-debian12" | "x86-pc";

const roots: string[] = [];
after(() => {
  for (const r of roots) rmSync(r, { recursive: true, force: true });
});

function board(name: Board | "empty"): string {
  const root = mkdtempSync(join(tmpdir(), "bts-system-"));
  roots.push(root);
  if (name !== "empty") cpSync(join(FIXTURES, name), root, { recursive: true });
  return root;
}

function put(root: string, path: string, text: string): void {
  mkdirSync(dirname(join(root, path)), { recursive: true });
  writeFileSync(join(root, path), text);
}

/** A path that exists but cannot be read as a file (read() fails with EISDIR, even as root). */
function makeUnreadable(root: string, path: string): void {
  rmSync(join(root, path), { force: true });
  mkdirSync(join(root, path), { recursive: true });
}

const DISK_PATH = "/var/lib/bts-site";
/** A 32 GB SD card: 4 KiB blocks, 5 % reserved for root. */
const STATFS: StatfsLike = { bsize: 4096, blocks: 7_500_000, bfree: 6_000_000, bavail: 5_600_000 };
const RSS = 61_000_000;

function sampler(root: string, options: Partial<SystemSamplerOptions> = {}): SystemSampler {
  return new SystemSampler({
    diskPath: DISK_PATH,
    root,
    statfs: async () => STATFS,
    rss: () => RSS,
    ...options,
  });
}

const NO_FLAGS = {
  under_voltage_occurred: null,
  throttled_now: null,
  throttled_occurred: null,
  freq_capped_now: null,
  freq_capped_occurred: null,
  soft_temp_limit_now: null,
  soft_temp_limit_occurred: null,
  raw: null,
} as const;

const PI4_SAMPLE: SystemSample = {
  cpu_percent: null,
  load_1m: 0.52,
  memory: { total_bytes: 3884376 * 1024, available_bytes: 3127480 * 1024, used_percent: 19.5 },
  disk: {
    path: DISK_PATH,
    total_bytes: 7_500_000 * 4096,
    free_bytes: 5_600_000 * 4096,
    used_percent: 21.1, // 1.5 M used / (1.5 M used + 5.6 M free to the site), as df shows it
  },
  temperature_c: 45.3,
  uptime_s: 1084227,
  network: {
    rx_bytes: 440472405,
    tx_bytes: 101350888,
    interfaces: {
      eth0: { rx_bytes: 418332017, tx_bytes: 96230114 },
      wlan0: { rx_bytes: 0, tx_bytes: 0 },
      wwan0: { rx_bytes: 22140388, tx_bytes: 5120774 },
    },
  },
  process_rss_bytes: RSS,
  power: { source: "hwmon", under_voltage_now: false, ...NO_FLAGS },
};

describe("SystemSampler on a Raspberry Pi 4 with Debian 12", () => {
  it("reads every figure from the fake root", async () => {
    assert.deepEqual(await sampler(board("pi4-debian12")).sample(), PI4_SAMPLE);
  });

  it("gives cpu_percent from the /proc/stat deltas, null on the first sample", async () => {
    const root = board("pi4-debian12");
    const s = sampler(root);
    assert.equal((await s.sample()).cpu_percent, null);
    // +1000 ticks in all: user +300, system +100, idle +550, iowait +50 → 600 idle, 40 % busy.
    put(
      root,
      "proc/stat",
      "cpu  1373149 2160 512440 42771872 40281 0 18294 0 0 0\ncpu0 1 0 0 0 0 0 0 0 0 0\n",
    );
    assert.equal((await s.sample()).cpu_percent, 40);
    // No tick since: no figure rather than a made-up 0.
    assert.equal((await s.sample()).cpu_percent, null);
  });

  it("keeps the last good /proc/stat reading across a garbage one", async () => {
    const root = board("pi4-debian12");
    const s = sampler(root);
    await s.sample();
    put(root, "proc/stat", "garbage\n");
    assert.equal((await s.sample()).cpu_percent, null);
    put(root, "proc/stat", "cpu  1373149 2160 512440 42771872 40281 0 18294 0 0 0\n");
    assert.equal((await s.sample()).cpu_percent, 40);
  });

  it("reports under-voltage from the rpi_volt hwmon alarm", async () => {
    const root = board("pi4-debian12");
    put(root, "sys/class/hwmon/hwmon1/in0_lcrit_alarm", "1\n");
    assert.deepEqual((await sampler(root).sample()).power, {
      source: "hwmon",
      under_voltage_now: true,
      ...NO_FLAGS,
    });
  });

  it("finds rpi_volt by its name, whatever its hwmon number", async () => {
    const root = board("pi4-debian12");
    renameSync(join(root, "sys/class/hwmon/hwmon1"), join(root, "sys/class/hwmon/hwmon7"));
    put(root, "sys/class/hwmon/hwmon7/in0_lcrit_alarm", "1\n");
    assert.equal((await sampler(root).sample()).power?.under_voltage_now, true);
  });

  it("looks rpi_volt up again when its hwmon number changes (module reloaded)", async () => {
    const root = board("pi4-debian12");
    const s = sampler(root);
    assert.equal((await s.sample()).power?.under_voltage_now, false);
    renameSync(join(root, "sys/class/hwmon/hwmon1"), join(root, "sys/class/hwmon/hwmon2"));
    put(root, "sys/class/hwmon/hwmon2/in0_lcrit_alarm", "1\n");
    assert.equal((await s.sample()).power, null); // the old path has gone
    assert.equal((await s.sample()).power?.under_voltage_now, true);
  });
});

describe("SystemSampler on a Raspberry Pi OS kernel (get_throttled present)", () => {
  const GET_THROTTLED = "sys/devices/platform/soc/soc:firmware/get_throttled";

  it("prefers the firmware's whole word to the hwmon alarm", async () => {
    const root = board("pi4-debian12");
    put(root, GET_THROTTLED, "50005\n"); // written by the kernel with "%x\n"
    assert.deepEqual((await sampler(root).sample()).power, {
      source: "get_throttled",
      under_voltage_now: true,
      freq_capped_now: false,
      throttled_now: true,
      soft_temp_limit_now: false,
      under_voltage_occurred: true,
      freq_capped_occurred: false,
      throttled_occurred: true,
      soft_temp_limit_occurred: false,
      raw: "0x50005",
    });
  });

  it("reads a healthy board's 0", async () => {
    const root = board("pi4-debian12");
    put(root, GET_THROTTLED, "0\n");
    const power = (await sampler(root).sample()).power;
    assert.equal(power?.source, "get_throttled");
    assert.equal(power?.raw, "0x0");
    assert.equal(power?.under_voltage_now, false);
  });

  it("falls back to the hwmon alarm when the word is garbage", async () => {
    const root = board("pi4-debian12");
    put(root, GET_THROTTLED, "garbage\n");
    put(root, "sys/class/hwmon/hwmon1/in0_lcrit_alarm", "1\n");
    assert.deepEqual((await sampler(root).sample()).power, {
      source: "hwmon",
      under_voltage_now: true,
      ...NO_FLAGS,
    });
  });
});

describe("SystemSampler on an x86 PC", () => {
  it("takes the hottest of several thermal zones and reports no power status", async () => {
    const sample = await sampler(board("x86-pc")).sample();
    assert.equal(sample.temperature_c, 52); // acpitz 27.8, x86_pkg_temp 52.0, pch 38.0
    assert.equal(sample.power, null);
    assert.equal(sample.load_1m, 1.27);
    assert.equal(sample.uptime_s, 93812);
    assert.deepEqual(sample.memory, {
      total_bytes: 16219004 * 1024,
      available_bytes: 10871544 * 1024,
      used_percent: 33,
    });
    assert.deepEqual(Object.keys(sample.network?.interfaces ?? {}), [
      "enp3s0",
      "wlp2s0",
      "docker0",
      "enx00e04c680001",
    ]);
  });

  it("skips a zone that refuses reads and one that reads garbage", async () => {
    const root = board("x86-pc");
    makeUnreadable(root, "sys/class/thermal/thermal_zone1/temp");
    put(root, "sys/class/thermal/thermal_zone0/temp", "N/A\n");
    assert.equal((await sampler(root).sample()).temperature_c, 38);
  });

  it("does not list the zones again at every sample for a zone that refuses reads", async () => {
    const root = board("x86-pc");
    makeUnreadable(root, "sys/class/thermal/thermal_zone1/temp"); // like iwlwifi with its firmware off
    const s = sampler(root);
    assert.equal((await s.sample()).temperature_c, 38);
    put(root, "sys/class/thermal/thermal_zone3/temp", "90000\n");
    assert.equal((await s.sample()).temperature_c, 38);
  });

  it("lists the zones again at the next sample when one has gone", async () => {
    const root = board("x86-pc");
    const s = sampler(root);
    assert.equal((await s.sample()).temperature_c, 52);
    rmSync(join(root, "sys/class/thermal/thermal_zone1"), { recursive: true });
    put(root, "sys/class/thermal/thermal_zone3/temp", "61000\n");
    assert.equal((await s.sample()).temperature_c, 38); // the gone zone is skipped
    assert.equal((await s.sample()).temperature_c, 61); // and the new one found
  });

  it("gives temperature null without thermal zones", async () => {
    const root = board("x86-pc");
    rmSync(join(root, "sys/class/thermal"), { recursive: true });
    const sample = await sampler(root).sample();
    assert.equal(sample.temperature_c, null);
    assert.equal(sample.load_1m, 1.27);
  });

  it("finds a thermal zone whose driver loads after the site starts", async () => {
    const root = board("x86-pc");
    rmSync(join(root, "sys/class/thermal"), { recursive: true });
    const s = sampler(root);
    assert.equal((await s.sample()).temperature_c, null);
    put(root, "sys/class/thermal/thermal_zone0/temp", "41000\n");
    assert.equal((await s.sample()).temperature_c, null); // not looked for at every sample
    let found: number | null = null;
    for (let i = 0; i < 60 && found === null; i++) found = (await s.sample()).temperature_c;
    assert.equal(found, 41);
  });
});

describe("SystemSampler gives null for a figure it cannot read, and only for that one", () => {
  const table: [name: string, spoil: (root: string) => void, field: keyof SystemSample][] = [
    ["/proc/loadavg unreadable", (r) => makeUnreadable(r, "proc/loadavg"), "load_1m"],
    ["/proc/loadavg garbage", (r) => put(r, "proc/loadavg", "high\n"), "load_1m"],
    ["/proc/meminfo garbage", (r) => put(r, "proc/meminfo", "MemTotal: lots\n"), "memory"],
    ["/proc/meminfo missing", (r) => rmSync(join(r, "proc/meminfo")), "memory"],
    ["/proc/uptime empty", (r) => put(r, "proc/uptime", ""), "uptime_s"],
    ["/proc/net/dev unreadable", (r) => makeUnreadable(r, "proc/net/dev"), "network"],
    ["/proc/net/dev without its header", (r) => put(r, "proc/net/dev", "  eth0: 1 2 3\n"), "network"],
    [
      "the only thermal zone garbage",
      (r) => put(r, "sys/class/thermal/thermal_zone0/temp", "\n"),
      "temperature_c",
    ],
    ["in0_lcrit_alarm garbage", (r) => put(r, "sys/class/hwmon/hwmon1/in0_lcrit_alarm", "x\n"), "power"],
    ["no rpi_volt device", (r) => rmSync(join(r, "sys/class/hwmon/hwmon1"), { recursive: true }), "power"],
  ];
  for (const [name, spoil, field] of table) {
    it(name, async () => {
      const root = board("pi4-debian12");
      spoil(root);
      assert.deepEqual(await sampler(root).sample(), { ...PI4_SAMPLE, [field]: null });
    });
  }

  it("gives cpu_percent null when /proc/stat stays unreadable", async () => {
    const root = board("pi4-debian12");
    makeUnreadable(root, "proc/stat");
    const s = sampler(root);
    await s.sample();
    assert.deepEqual(await s.sample(), PI4_SAMPLE);
  });

  const disks: [name: string, statfs: SystemSamplerOptions["statfs"]][] = [
    ["statfs rejects (storage dir missing)", async () => Promise.reject(new Error("ENOENT"))],
    [
      "statfs throws synchronously",
      () => {
        throw new Error("EACCES");
      },
    ],
    ["statfs gives NaN", async () => ({ ...STATFS, bsize: Number.NaN })],
    ["statfs gives negative blocks", async () => ({ ...STATFS, bfree: STATFS.blocks + 1 })],
  ];
  for (const [name, statfs] of disks) {
    it(`gives disk null when ${name}`, async () => {
      assert.deepEqual(await sampler(board("pi4-debian12"), { statfs }).sample(), {
        ...PI4_SAMPLE,
        disk: null,
      });
    });
  }

  it("gives used_percent null for an empty filesystem size", async () => {
    const statfs = async () => ({ bsize: 4096, blocks: 0, bfree: 0, bavail: 0 });
    assert.deepEqual((await sampler(board("pi4-debian12"), { statfs }).sample()).disk, {
      path: DISK_PATH,
      total_bytes: 0,
      free_bytes: 0,
      used_percent: null,
    });
  });

  const rssTable: [name: string, rss: () => number][] = [
    [
      "throws",
      () => {
        throw new Error("EMFILE");
      },
    ],
    ["gives NaN", () => Number.NaN],
    ["gives a negative number", () => -1],
  ];
  for (const [name, rss] of rssTable) {
    it(`gives process_rss_bytes null when rss ${name}`, async () => {
      assert.deepEqual(await sampler(board("pi4-debian12"), { rss }).sample(), {
        ...PI4_SAMPLE,
        process_rss_bytes: null,
      });
    });
  }

  it("never throws on an empty root", async () => {
    assert.deepEqual(await sampler(board("empty")).sample(), {
      cpu_percent: null,
      load_1m: null,
      memory: null,
      disk: PI4_SAMPLE.disk,
      temperature_c: null,
      uptime_s: null,
      network: null,
      process_rss_bytes: RSS,
      power: null,
    });
  });

  it("never throws on a root that does not exist", async () => {
    const sample = await sampler(join(board("empty"), "nowhere")).sample();
    assert.equal(sample.load_1m, null);
    assert.equal(sample.power, null);
  });
});

describe("SystemSampler defaults and concurrency", () => {
  it("uses the real statfs and rss when none are injected", async () => {
    const s = new SystemSampler({ diskPath: tmpdir(), root: board("pi4-debian12") });
    const sample = await s.sample();
    assert.ok(sample.disk !== null && sample.disk.total_bytes > 0);
    assert.ok(sample.process_rss_bytes !== null && sample.process_rss_bytes > 0);
  });

  it("shares one reading between concurrent calls", async () => {
    const root = board("pi4-debian12");
    const s = sampler(root);
    const [a, b] = await Promise.all([s.sample(), s.sample()]);
    assert.equal(a, b);
    put(root, "proc/stat", "cpu  1373149 2160 512440 42771872 40281 0 18294 0 0 0\n");
    assert.equal((await s.sample()).cpu_percent, 40); // one previous reading, not two
  });
});

type Calls = { [K in keyof SystemInformationLike]: () => unknown };

/** A fake `systeminformation` whose calls answer as the real one does on a Pi 4 with Debian 12. */
function fakeSi(overrides: Partial<Calls> = {}): SystemInformationLike {
  const calls: Calls = {
    // On Debian's kernel there is no DMI table and no Hardware/Serial line in /proc/cpuinfo.
    system: async () => ({ manufacturer: "", model: "", serial: "" }),
    osInfo: async () => ({
      distro: "Debian GNU/Linux",
      release: "12",
      kernel: "6.1.0-31-arm64",
      arch: "arm64",
    }),
    cpu: async () => ({ brand: "Cortex-A72", cores: 4 }),
    mem: async () => ({ total: 3884376 * 1024 }),
    ...overrides,
  };
  return calls as SystemInformationLike;
}

const X86_SI: Partial<Calls> = {
  system: async () => ({ manufacturer: "Dell Inc.", model: "OptiPlex 7070", serial: "8XK2Q53" }),
  osInfo: async () => ({ distro: "Debian GNU/Linux", release: "12", kernel: "6.1.0-31-amd64", arch: "x64" }),
  cpu: async () => ({ brand: "Core™ i7-9700", cores: 8 }),
  mem: async () => ({ total: 16219004 * 1024 }),
};

const boom = () => {
  throw new Error("spawn dmidecode ENOENT");
};

describe("readStaticFacts", () => {
  it("names a Pi from its device tree (NUL-terminated strings)", async () => {
    assert.deepEqual(await readStaticFacts(fakeSi(), { root: board("pi4-debian12") }), {
      model: "Raspberry Pi 4 Model B Rev 1.4",
      manufacturer: RASPBERRY_PI_MANUFACTURER,
      serial: "100000002a5c3d4e",
      os: { distro: "Debian GNU/Linux", release: "12", kernel: "6.1.0-31-arm64", arch: "arm64" },
      cpu: { brand: "Cortex-A72", cores: 4 },
      memory_total_bytes: 3884376 * 1024,
    });
  });

  it("prefers the device tree to what systeminformation says on a Raspberry Pi OS kernel", async () => {
    const si = fakeSi({
      system: async () => ({ manufacturer: "Raspberry Pi Foundation", model: "BCM2711", serial: "2a5c3d4e" }),
    });
    const facts = await readStaticFacts(si, { root: board("pi4-debian12") });
    assert.equal(facts.model, "Raspberry Pi 4 Model B Rev 1.4");
    assert.equal(facts.serial, "100000002a5c3d4e");
    assert.equal(facts.manufacturer, RASPBERRY_PI_MANUFACTURER);
  });

  it("still names a Pi when si.system() throws", async () => {
    const facts = await readStaticFacts(fakeSi({ system: boom }), { root: board("pi4-debian12") });
    assert.equal(facts.model, "Raspberry Pi 4 Model B Rev 1.4");
    assert.equal(facts.serial, "100000002a5c3d4e");
    assert.equal(facts.cpu.brand, "Cortex-A72");
  });

  const X86_FACTS: StaticFacts = {
    model: "OptiPlex 7070",
    manufacturer: "Dell Inc.",
    serial: "8XK2Q53",
    os: { distro: "Debian GNU/Linux", release: "12", kernel: "6.1.0-31-amd64", arch: "x64" },
    cpu: { brand: "Core™ i7-9700", cores: 8 },
    memory_total_bytes: 16219004 * 1024,
  };

  it("reads an x86 PC from systeminformation alone", async () => {
    assert.deepEqual(await readStaticFacts(fakeSi(X86_SI), { root: board("x86-pc") }), X86_FACTS);
  });

  const failing: [call: keyof Calls, expected: StaticFacts][] = [
    ["system", { ...X86_FACTS, model: null, manufacturer: null, serial: null }],
    ["osInfo", { ...X86_FACTS, os: { distro: null, release: null, kernel: null, arch: null } }],
    ["cpu", { ...X86_FACTS, cpu: { brand: null, cores: null } }],
    ["mem", { ...X86_FACTS, memory_total_bytes: null }],
  ];
  for (const [call, expected] of failing) {
    it(`leaves only its own fields null when ${call}() throws on an x86 PC`, async () => {
      const si = fakeSi({ ...X86_SI, [call]: boom });
      assert.deepEqual(await readStaticFacts(si, { root: board("x86-pc") }), expected);
    });
  }

  it("leaves fields null when a call rejects instead of throwing", async () => {
    const si = fakeSi({ ...X86_SI, osInfo: async () => Promise.reject(new Error("timeout")) });
    const facts = await readStaticFacts(si, { root: board("x86-pc") });
    assert.deepEqual(facts.os, { distro: null, release: null, kernel: null, arch: null });
    assert.equal(facts.model, "OptiPlex 7070");
  });

  it("gives all null but the device tree when every call throws", async () => {
    const si = fakeSi({ system: boom, osInfo: boom, cpu: boom, mem: boom });
    assert.deepEqual(await readStaticFacts(si, { root: board("pi4-debian12") }), {
      model: "Raspberry Pi 4 Model B Rev 1.4",
      manufacturer: RASPBERRY_PI_MANUFACTURER,
      serial: "100000002a5c3d4e",
      os: { distro: null, release: null, kernel: null, arch: null },
      cpu: { brand: null, cores: null },
      memory_total_bytes: null,
    });
  });

  it("turns firmware placeholders and impossible numbers into null", async () => {
    const si = fakeSi({
      system: async () => ({
        manufacturer: "To be filled by O.E.M.",
        model: "System Product Name",
        serial: "0000000000000000",
      }),
      osInfo: async () => ({ distro: " Debian GNU/Linux ", release: "", kernel: "unknown", arch: "x64" }),
      cpu: async () => ({ brand: "Default string", cores: 0 }),
      mem: async () => ({ total: -1 }),
    });
    assert.deepEqual(await readStaticFacts(si, { root: board("x86-pc") }), {
      model: null,
      manufacturer: null,
      serial: null,
      os: { distro: "Debian GNU/Linux", release: null, kernel: null, arch: "x64" },
      cpu: { brand: null, cores: null },
      memory_total_bytes: null,
    });
  });

  it("falls back to systeminformation's serial when the device tree's is all zeros", async () => {
    const root = board("pi4-debian12");
    put(root, "proc/device-tree/serial-number", "0000000000000000\0");
    const si = fakeSi({ system: async () => ({ manufacturer: "", model: "", serial: "100000002a5c3d4e" }) });
    assert.equal((await readStaticFacts(si, { root })).serial, "100000002a5c3d4e");
  });

  it("does not call a non-Pi device-tree board a Raspberry Pi", async () => {
    const root = board("empty");
    put(root, "proc/device-tree/model", "Radxa ROCK Pi 4B\0");
    const si = fakeSi({ system: async () => ({ manufacturer: "Radxa", model: "", serial: "" }) });
    const facts = await readStaticFacts(si, { root });
    assert.equal(facts.model, "Radxa ROCK Pi 4B");
    assert.equal(facts.manufacturer, "Radxa");
  });
});

describe("systemInformationOf unwraps however systeminformation was imported", () => {
  const si = fakeSi();

  it("takes the module itself (Node's ESM loader: named exports at the top)", () => {
    assert.equal(systemInformationOf(si), si);
  });

  it("takes `default` of a namespace that has only `default` (the esbuild ESM bundle)", () => {
    assert.equal(systemInformationOf({ default: si }), si);
  });

  it("gives null for a namespace without the functions", () => {
    assert.equal(systemInformationOf({}), null);
    assert.equal(systemInformationOf({ system: si.system }), null);
  });

  it("finds the real package's functions through Node's loader", async () => {
    const lib = systemInformationOf(await import("systeminformation"));
    assert.equal(typeof lib?.system, "function");
    assert.equal(typeof lib?.osInfo, "function");
    assert.equal(typeof lib?.cpu, "function");
    assert.equal(typeof lib?.mem, "function");
  });
});

describe("SmallFileReader", () => {
  it("reads a file larger than its first buffer whole (a /proc/stat with a long intr line)", async () => {
    const root = board("empty");
    const stat = `cpu  1 2 3 4 5 6 7 8 0 0\nintr ${"0 ".repeat(12_000)}\nctxt 1\n`; // ~24 KiB
    put(root, "stat", stat);
    assert.equal(await new SmallFileReader().read(join(root, "stat")), stat);
  });

  it("gives a short file after a long one without leftovers of the reused buffer", async () => {
    const root = board("empty");
    put(root, "long", "x".repeat(20_000));
    put(root, "short", "45277\n");
    const reader = new SmallFileReader();
    await reader.read(join(root, "long"));
    assert.equal(await reader.read(join(root, "short")), "45277\n");
  });

  const nulls: [name: string, setup: (root: string) => string][] = [
    ["a missing file", (r) => join(r, "nope")],
    [
      "a directory",
      (r) => {
        mkdirSync(join(r, "dir"));
        return join(r, "dir");
      },
    ],
    [
      "a file over 1 MiB",
      (r) => {
        put(r, "big", "y".repeat(1024 * 1024 + 1));
        return join(r, "big");
      },
    ],
  ];
  for (const [name, setup] of nulls) {
    it(`gives null for ${name}`, async () => {
      assert.equal(await new SmallFileReader().read(setup(board("empty"))), null);
    });
  }

  it("reads an empty file as an empty string", async () => {
    const root = board("empty");
    put(root, "empty", "");
    assert.equal(await new SmallFileReader().read(join(root, "empty")), "");
  });
});
