import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import {
  cpuPercent,
  parseLoadavg,
  parseMeminfo,
  parseMillidegrees,
  parseNetDev,
  parseProcStat,
  parseSysfsFlag,
  parseThrottled,
  parseUptime,
  THROTTLED_BITS,
  type ThrottledFlags,
} from "../../src/system/parsers.js";

// Inputs are in the exact formats the kernel writes (Documentation/filesystems/proc.rst, the
// sysfs ABI); the whole files come from test/fixtures/system/<board>/, laid out as a root tree.
const FIXTURES = join(import.meta.dirname, "..", "fixtures", "system");
const fixture = (board: "pi4-debian12" | "x86-pc", path: string) =>
  readFileSync(join(FIXTURES, board, path), "utf8");

describe("parseProcStat reads the aggregate cpu line", () => {
  it("sums user..steal of a Raspberry Pi 4 and leaves guest out", () => {
    // 1372849 + 2160 + 512340 + 42771322 + 40231 + 0 + 18294 + 0; idle = idle + iowait.
    assert.deepEqual(parseProcStat(fixture("pi4-debian12", "proc/stat")), {
      total: 44717196,
      idle: 42811553,
    });
  });

  it("reads an 8-thread x86 PC", () => {
    assert.deepEqual(parseProcStat(fixture("x86-pc", "proc/stat")), { total: 230930466, idle: 220195614 });
  });

  const table: [name: string, text: string, expected: ReturnType<typeof parseProcStat>][] = [
    // A VM host: guest 500 and guest_nice 20 are already inside user and nice.
    [
      "guest time is not counted twice",
      "cpu  1000 20 300 5000 100 0 50 30 500 20\n",
      { total: 6500, idle: 5100 },
    ],
    ["a 2.6.11-era line without steal", "cpu  1000 20 300 5000 100 0 50\n", { total: 6470, idle: 5100 }],
    ["the minimum of four fields", "cpu  10 0 5 85", { total: 100, idle: 85 }],
    ["a per-core line first is not the aggregate", "cpu0 10 0 5 85 0 0 0 0 0 0\n", null],
    ["three fields", "cpu  10 0 5\n", null],
    ["a negative counter", "cpu  10 0 -5 85 0 0 0 0 0 0\n", null],
    ["garbage in a field", "cpu  10 0 x 85 0 0 0 0 0 0\n", null],
    ["empty", "", null],
    ["not /proc/stat", "MemTotal:        3884376 kB\n", null],
  ];
  for (const [name, text, expected] of table) it(name, () => assert.deepEqual(parseProcStat(text), expected));
});

describe("cpuPercent is the busy share between two readings", () => {
  const table: [name: string, a: [number, number], b: [number, number], expected: number | null][] = [
    ["a quarter busy", [1000, 800], [1400, 1100], 25],
    ["one decimal", [0, 0], [300, 200], 33.3],
    ["fully busy", [1000, 800], [1100, 800], 100],
    ["fully idle", [1000, 800], [1100, 900], 0],
    ["no tick in between", [1000, 800], [1000, 800], null],
    ["counters went backwards", [1000, 800], [900, 700], null],
    ["idle grew more than total", [1000, 800], [1100, 950], null],
    ["idle went backwards", [1000, 800], [1100, 790], null],
  ];
  for (const [name, [t1, i1], [t2, i2], expected] of table) {
    it(name, () => assert.equal(cpuPercent({ total: t1, idle: i1 }, { total: t2, idle: i2 }), expected));
  }
});

describe("parseMeminfo reads MemTotal and MemAvailable in KiB", () => {
  it("reads a Raspberry Pi 4 with 4 GB on Debian 12", () => {
    assert.deepEqual(parseMeminfo(fixture("pi4-debian12", "proc/meminfo")), {
      total_bytes: 3884376 * 1024,
      available_bytes: 3127480 * 1024,
    });
  });

  it("reads a 16 GB x86 PC", () => {
    assert.deepEqual(parseMeminfo(fixture("x86-pc", "proc/meminfo")), {
      total_bytes: 16219004 * 1024,
      available_bytes: 10871544 * 1024,
    });
  });

  const table: [name: string, text: string, expected: ReturnType<typeof parseMeminfo>][] = [
    [
      "a kernel before 3.14 has no MemAvailable",
      "MemTotal:         949448 kB\nMemFree:          512000 kB\nBuffers:           12000 kB\n",
      { total_bytes: 949448 * 1024, available_bytes: null },
    ],
    ["MemFree is not MemTotal", "MemFree:          512000 kB\n", null],
    ["a truncated MemTotal line", "MemTotal:        38843", null],
    ["garbage", "hello\nworld\n", null],
    ["empty", "", null],
  ];
  for (const [name, text, expected] of table) it(name, () => assert.deepEqual(parseMeminfo(text), expected));
});

describe("parseLoadavg reads the three averages", () => {
  const table: [name: string, text: string, expected: ReturnType<typeof parseLoadavg>][] = [
    [
      "a Raspberry Pi 4",
      fixture("pi4-debian12", "proc/loadavg"),
      { load_1m: 0.52, load_5m: 0.58, load_15m: 0.59 },
    ],
    ["an x86 PC", fixture("x86-pc", "proc/loadavg"), { load_1m: 1.27, load_5m: 0.96, load_15m: 0.88 }],
    ["an overloaded board", "12.04 8.31 4.00 9/210 3312\n", { load_1m: 12.04, load_5m: 8.31, load_15m: 4 }],
    ["a single figure", "0.52\n", null],
    ["garbage", "0.52 abc 0.59 1/456 12345\n", null],
    ["empty", "", null],
  ];
  for (const [name, text, expected] of table) it(name, () => assert.deepEqual(parseLoadavg(text), expected));
});

describe("parseUptime reads seconds since boot", () => {
  const table: [name: string, text: string, expected: number | null][] = [
    ["a Raspberry Pi 4 up for 12 days", fixture("pi4-debian12", "proc/uptime"), 1084227.61],
    ["an x86 PC up for a day", fixture("x86-pc", "proc/uptime"), 93812.44],
    ["right after boot", "3.05 10.83\n", 3.05],
    ["a negative value", "-3.05 10.83\n", null],
    ["garbage", "up 3 days\n", null],
    ["empty", "", null],
  ];
  for (const [name, text, expected] of table) it(name, () => assert.equal(parseUptime(text), expected));
});

describe("parseNetDev sums the byte counters of every interface but lo", () => {
  it("reads a Raspberry Pi 4 with Ethernet, idle Wi-Fi and an LTE modem", () => {
    assert.deepEqual(parseNetDev(fixture("pi4-debian12", "proc/net/dev")), {
      rx_bytes: 418332017 + 0 + 22140388,
      tx_bytes: 96230114 + 0 + 5120774,
      interfaces: {
        eth0: { rx_bytes: 418332017, tx_bytes: 96230114 },
        wlan0: { rx_bytes: 0, tx_bytes: 0 },
        wwan0: { rx_bytes: 22140388, tx_bytes: 5120774 },
      },
    });
  });

  it("reads an x86 PC whose long interface names push the columns right", () => {
    const net = parseNetDev(fixture("x86-pc", "proc/net/dev"));
    assert.deepEqual(net?.interfaces, {
      enp3s0: { rx_bytes: 9876543210, tx_bytes: 1234567890 },
      wlp2s0: { rx_bytes: 0, tx_bytes: 0 },
      docker0: { rx_bytes: 1048576, tx_bytes: 2097152 },
      enx00e04c680001: { rx_bytes: 3221225472, tx_bytes: 81920 },
    });
    assert.equal(net?.rx_bytes, 9876543210 + 0 + 1048576 + 3221225472);
    assert.equal(net?.tx_bytes, 1234567890 + 0 + 2097152 + 81920);
  });

  it("reads the format of kernels before rtnl_link_stats64, where counters touch the colon", () => {
    // net/core/dev.c of 2.6-era kernels: "%6s:%8lu %7lu …".
    const text = [
      "Inter-|   Receive                                                |  Transmit",
      " face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed",
      "    lo:  125440    1120    0    0    0     0          0         0   125440    1120    0    0    0     0       0          0",
      "  eth0:418332017 1204331    0    0    0     0          0         0 96230114  402118    0    0    0     0       0          0",
      "",
    ].join("\n");
    assert.deepEqual(parseNetDev(text), {
      rx_bytes: 418332017,
      tx_bytes: 96230114,
      interfaces: { eth0: { rx_bytes: 418332017, tx_bytes: 96230114 } },
    });
  });

  it("leaves out the interfaces it is told to", () => {
    const net = parseNetDev(fixture("x86-pc", "proc/net/dev"), ["lo", "docker0"]);
    assert.deepEqual(Object.keys(net?.interfaces ?? {}), ["enp3s0", "wlp2s0", "enx00e04c680001"]);
    assert.equal(net?.tx_bytes, 1234567890 + 81920);
  });

  it("skips a truncated line and keeps the others", () => {
    const text = fixture("pi4-debian12", "proc/net/dev").replace(/ wwan0:.*$/m, " wwan0: 22140388   61022");
    assert.deepEqual(Object.keys(parseNetDev(text)?.interfaces ?? {}), ["eth0", "wlan0"]);
  });

  it("gives zero totals when only lo is there", () => {
    const text = fixture("pi4-debian12", "proc/net/dev").split("\n").slice(0, 3).join("\n");
    assert.deepEqual(parseNetDev(text), { rx_bytes: 0, tx_bytes: 0, interfaces: {} });
  });

  const nulls: [name: string, text: string][] = [
    ["no header", "  eth0:418332017 1204331 0 0 0 0 0 0 96230114 402118 0 0 0 0 0 0\n"],
    ["garbage", "hello\n"],
    ["empty", ""],
  ];
  for (const [name, text] of nulls) it(`gives null for ${name}`, () => assert.equal(parseNetDev(text), null));
});

describe("parseThrottled decodes the Raspberry Pi throttling word", () => {
  const none: Omit<ThrottledFlags, "raw"> = {
    under_voltage_now: false,
    freq_capped_now: false,
    throttled_now: false,
    soft_temp_limit_now: false,
    under_voltage_occurred: false,
    freq_capped_occurred: false,
    throttled_occurred: false,
    soft_temp_limit_occurred: false,
  };
  const uvThrottledNow = {
    ...none,
    under_voltage_now: true,
    throttled_now: true,
    under_voltage_occurred: true,
    throttled_occurred: true,
  };
  const table: [name: string, text: string, expected: ThrottledFlags | null][] = [
    // The kernel's sysfs file: "%x\n", so bare digits are hex.
    ["the sysfs file of a healthy board", "0\n", { ...none, raw: "0x0" }],
    ["the sysfs file under-voltage now", "50005\n", { ...uvThrottledNow, raw: "0x50005" }],
    // vcgencmd's spelling, as it prints it and as it is usually quoted.
    ["vcgencmd on a healthy board", "throttled=0x0\n", { ...none, raw: "0x0" }],
    ["vcgencmd under-voltage now", "throttled=0x50005\n", { ...uvThrottledNow, raw: "0x50005" }],
    ["0x0", "0x0", { ...none, raw: "0x0" }],
    ["0x50005", "0x50005", { ...uvThrottledNow, raw: "0x50005" }],
    [
      "0x50000: under-voltage and throttling happened, not now",
      "0x50000",
      { ...none, under_voltage_occurred: true, throttled_occurred: true, raw: "0x50000" },
    ],
    [
      "0x80008: soft temperature limit, no under-voltage",
      "0x80008",
      { ...none, soft_temp_limit_now: true, soft_temp_limit_occurred: true, raw: "0x80008" },
    ],
    [
      "0x20002: ARM frequency capped",
      "0x20002",
      { ...none, freq_capped_now: true, freq_capped_occurred: true, raw: "0x20002" },
    ],
    ["upper-case hex", "THROTTLED=0X50005", { ...uvThrottledNow, raw: "0x50005" }],
    [
      "all 32 bits",
      "ffffffff",
      {
        under_voltage_now: true,
        freq_capped_now: true,
        throttled_now: true,
        soft_temp_limit_now: true,
        under_voltage_occurred: true,
        freq_capped_occurred: true,
        throttled_occurred: true,
        soft_temp_limit_occurred: true,
        raw: "0xffffffff",
      },
    ],
    // 0x50005 written in decimal. Bare digits are the kernel's hex, so this is read as 0x327685
    // (bits 0, 2, 7, 9, 10, 12, 13, 14, 17, 20, 21), not as 0x50005.
    [
      "a decimal spelling is read as the kernel's hex",
      "327685",
      { ...none, under_voltage_now: true, throttled_now: true, freq_capped_occurred: true, raw: "0x327685" },
    ],
    ["more than 32 bits", "0x100000000", null],
    ["a negative word", "-1", null],
    ["throttled= without a value", "throttled=", null],
    ["0x without digits", "0x", null],
    ["vcgencmd's error for an unknown command", 'error=1 error_msg="Command not registered"', null],
    ["garbage", "hello", null],
    ["empty", "", null],
    ["only a newline", "\n", null],
  ];
  for (const [name, text, expected] of table)
    it(name, () => assert.deepEqual(parseThrottled(text), expected));

  it("uses the documented bit numbers", () => {
    assert.deepEqual(Object.values(THROTTLED_BITS), [0, 1, 2, 3, 16, 17, 18, 19]);
  });
});

describe("parseMillidegrees reads thermal_zone and hwmon temperatures", () => {
  const table: [name: string, text: string, expected: number | null][] = [
    ["the Pi 4 cpu-thermal zone", "45277\n", 45.3],
    ["an x86 package", "52000\n", 52],
    ["an ACPI zone", "27800\n", 27.8],
    ["below zero at a winter site", "-5500\n", -5.5],
    ["the hottest plausible", "200000\n", 200],
    ["a -273.15 °C 'no reading' sentinel", "-273150\n", null],
    ["a 255 °C sentinel", "255000\n", null],
    ["a decimal point", "45.277\n", null],
    ["garbage", "N/A\n", null],
    ["empty", "", null],
  ];
  for (const [name, text, expected] of table) it(name, () => assert.equal(parseMillidegrees(text), expected));
});

describe("parseSysfsFlag reads 0/1 attributes such as in0_lcrit_alarm", () => {
  const table: [text: string, expected: boolean | null][] = [
    ["0\n", false],
    ["1\n", true],
    ["1", true],
    [" 0 \n", false],
    ["2\n", null],
    ["yes\n", null],
    ["", null],
  ];
  for (const [text, expected] of table) {
    it(`${JSON.stringify(text)} gives ${expected}`, () => assert.equal(parseSysfsFlag(text), expected));
  }
});
