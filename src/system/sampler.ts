/**
 * The site's live system figures, for MQTT telemetry, health checks and the local web page.
 *
 *   <root>/proc/stat, meminfo, loadavg, uptime, net/dev ─┐
 *   <root>/sys/class/thermal/thermal_zone<N>/temp ───────┤  SmallFileReader   parsers.ts
 *   <root>/sys/devices/platform/soc/soc:firmware/        ├─ (one reused ───▶  (pure) ──▶ SystemSample
 *          get_throttled  or  <root>/sys/class/hwmon/    │   buffer)                     (snake_case)
 *          hwmon<N>/{name = rpi_volt, in0_lcrit_alarm} ──┘
 *   statfs(disk_path), process RSS (injected) ──────────────────────────────────────────▶
 *
 * Cheap reads only: this runs every few seconds on a Raspberry-Pi-class board, so no
 * `systeminformation` here (it spawns processes; see staticFacts.ts for the facts read once).
 * Every figure is independently `null` when its file is missing or does not parse; `sample()`
 * never throws and logs nothing. Sources of each path and format: docs/system-figures.md.
 */
import { access, statfs as fsStatfs, readdir } from "node:fs/promises";
import { join } from "node:path";
import {
  type CpuTimes,
  cpuPercent,
  type NetDev,
  parseLoadavg,
  parseMeminfo,
  parseMillidegrees,
  parseNetDev,
  parseProcStat,
  parseSysfsFlag,
  parseThrottled,
  parseUptime,
  round1,
} from "./parsers.js";
import { SmallFileReader } from "./smallFileReader.js";

/** The fields of `fs.promises.statfs()` the sampler uses (block counts and block size). */
export interface StatfsLike {
  bsize: number;
  blocks: number;
  bfree: number;
  bavail: number;
}

export interface SystemSamplerOptions {
  /** A directory on the filesystem `disk` reports: the site's storage dir. Not under `root`. */
  diskPath: string;
  /** Where `/proc` and `/sys` are read from. Default `"/"`; tests pass a fake tree. */
  root?: string;
  /** Default `fs.promises.statfs`. */
  statfs?: (path: string) => Promise<StatfsLike>;
  /** Resident set size of this process, in bytes. Default `process.memoryUsage.rss`. */
  rss?: () => number;
}

/** Under-voltage and throttling of a Raspberry Pi. Flags a source cannot tell are `null`. */
export interface PowerStatus {
  /** `get_throttled`: the firmware's whole word; `hwmon`: only the under-voltage alarm. */
  source: "get_throttled" | "hwmon";
  /**
   * From hwmon: `in0_lcrit_alarm`, which is the sticky bit 16 of the driver's last poll, i.e.
   * under-voltage at some moment in the 2 s before it.
   */
  under_voltage_now: boolean | null;
  under_voltage_occurred: boolean | null;
  throttled_now: boolean | null;
  throttled_occurred: boolean | null;
  freq_capped_now: boolean | null;
  freq_capped_occurred: boolean | null;
  soft_temp_limit_now: boolean | null;
  soft_temp_limit_occurred: boolean | null;
  /** The word as vcgencmd prints it (`"0x50005"`); `null` from hwmon. */
  raw: string | null;
}

/** One reading of the system figures. JSON-ready (snake_case). */
export interface SystemSample {
  /** Busy share of all cores since the previous sample, 0-100, 1 decimal; `null` on the first. */
  cpu_percent: number | null;
  /** Load average over 1 minute (runnable + uninterruptible tasks, not a percentage). */
  load_1m: number | null;
  memory: {
    total_bytes: number;
    /** `MemAvailable`: what can be allocated without swapping. */
    available_bytes: number | null;
    /** 100 × (total − available) / total, 1 decimal. */
    used_percent: number | null;
  } | null;
  disk: {
    path: string;
    total_bytes: number;
    /** Free to an unprivileged process (`bavail`), without the blocks reserved for root. */
    free_bytes: number;
    /** As `df` shows it: used / (used + free to unprivileged), 1 decimal. */
    used_percent: number | null;
  } | null;
  /** The hottest thermal zone, °C, 1 decimal. */
  temperature_c: number | null;
  /** Whole seconds since the board booted. */
  uptime_s: number | null;
  /** Byte counters of every interface but `lo` since it appeared; totals and per interface name. */
  network: NetDev | null;
  process_rss_bytes: number | null;
  /** `null` on anything that is not a Raspberry Pi (neither source exists). */
  power: PowerStatus | null;
}

/**
 * When no thermal zone or no `rpi_volt` hwmon device was found, look again after this many
 * samples (a driver module may load after the site starts). A discovered file that has gone
 * (module unloaded, hwmon renumbered) is looked up again at the next sample; one that is still
 * there but fails to read is not, since looking again would find it again: some zones refuse
 * reads while their sensor is off, e.g. a Wi-Fi card's zone while its firmware is not running.
 */
const REDISCOVER_AFTER_SAMPLES = 60;

const GET_THROTTLED = "sys/devices/platform/soc/soc:firmware/get_throttled";

export class SystemSampler {
  private readonly root: string;
  private readonly diskPath: string;
  private readonly statfs: (path: string) => Promise<StatfsLike>;
  private readonly rss: () => number;
  private readonly reader = new SmallFileReader();
  private previousCpu: CpuTimes | null = null;
  private inFlight: Promise<SystemSample> | null = null;
  private samples = 0;
  private discoveredAt = 0;
  private stale = true;
  private thermalFiles: string[] = [];
  private rpiVoltAlarm: string | null = null;

  constructor(options: SystemSamplerOptions) {
    this.root = options.root ?? "/";
    this.diskPath = options.diskPath;
    this.statfs = options.statfs ?? fsStatfs;
    this.rss = options.rss ?? process.memoryUsage.rss;
  }

  /**
   * Reads every figure once. Concurrent calls share one reading (the CPU delta and the read
   * buffer are per sampler). Never rejects.
   */
  sample(): Promise<SystemSample> {
    this.inFlight ??= this.collect().finally(() => {
      this.inFlight = null;
    });
    return this.inFlight;
  }

  private async collect(): Promise<SystemSample> {
    this.samples++;
    await this.discover();
    const cpu = await this.readParsed("proc/stat", parseProcStat);
    let cpu_percent: number | null = null;
    if (cpu !== null) {
      if (this.previousCpu !== null) cpu_percent = cpuPercent(this.previousCpu, cpu);
      this.previousCpu = cpu;
    }
    const load = await this.readParsed("proc/loadavg", parseLoadavg);
    const uptime = await this.readParsed("proc/uptime", parseUptime);
    return {
      cpu_percent,
      load_1m: load === null ? null : load.load_1m,
      memory: await this.readMemory(),
      disk: await this.readDisk(),
      temperature_c: await this.readTemperature(),
      uptime_s: uptime === null ? null : Math.floor(uptime),
      network: await this.readParsed("proc/net/dev", parseNetDev),
      process_rss_bytes: this.readRss(),
      power: await this.readPower(),
    };
  }

  private async readParsed<T>(relative: string, parse: (text: string) => T | null): Promise<T | null> {
    const text = await this.reader.read(join(this.root, relative));
    return text === null ? null : parse(text);
  }

  private async readMemory(): Promise<SystemSample["memory"]> {
    const mem = await this.readParsed("proc/meminfo", parseMeminfo);
    if (mem === null) return null;
    const { total_bytes, available_bytes } = mem;
    const used_percent =
      available_bytes === null || total_bytes <= 0
        ? null
        : round1(Math.max(0, ((total_bytes - available_bytes) / total_bytes) * 100));
    return { total_bytes, available_bytes, used_percent };
  }

  private async readDisk(): Promise<SystemSample["disk"]> {
    try {
      const s = await this.statfs(this.diskPath);
      const total = s.blocks * s.bsize;
      const free = s.bavail * s.bsize;
      const used = (s.blocks - s.bfree) * s.bsize;
      if (![total, free, used].every((n) => Number.isFinite(n) && n >= 0)) return null;
      const used_percent = used + free > 0 ? round1((used / (used + free)) * 100) : null;
      return { path: this.diskPath, total_bytes: total, free_bytes: free, used_percent };
    } catch {
      return null;
    }
  }

  /** Reads a file found by {@link discover}; when it has gone, looks again at the next sample. */
  private async readDiscovered(path: string): Promise<string | null> {
    const text = await this.reader.read(path);
    if (text === null && !(await exists(path))) this.stale = true;
    return text;
  }

  private async readTemperature(): Promise<number | null> {
    let max: number | null = null;
    for (const file of this.thermalFiles) {
      const text = await this.readDiscovered(file);
      const c = text === null ? null : parseMillidegrees(text);
      if (c !== null && (max === null || c > max)) max = c;
    }
    return max;
  }

  private readRss(): number | null {
    try {
      const rss = this.rss();
      return Number.isFinite(rss) && rss >= 0 ? rss : null;
    } catch {
      return null;
    }
  }

  /**
   * The firmware's `get_throttled` file when it exists and parses (Raspberry Pi OS kernels only),
   * else the `rpi_volt` hwmon alarm (every kernel with the raspberrypi-hwmon driver: Debian's,
   * mainline, and Raspberry Pi OS's too). Both show the word the hwmon driver fetched at its last
   * poll (every 2 s), and that poll clears the sticky bits: `*_occurred` means "in the 2 s before
   * that poll", not "since boot". Raspberry Pi OS kernels log one warning with a backtrace
   * (`WARN_ONCE`, "deprecated, use hwmon sysfs instead") at the first read of `get_throttled`.
   * Details and sources: docs/system-figures.md.
   */
  private async readPower(): Promise<PowerStatus | null> {
    const word = await this.readParsed(GET_THROTTLED, parseThrottled);
    if (word !== null) return { source: "get_throttled", ...word };
    if (this.rpiVoltAlarm === null) return null;
    const text = await this.readDiscovered(this.rpiVoltAlarm);
    const alarm = text === null ? null : parseSysfsFlag(text);
    if (alarm === null) return null;
    return {
      source: "hwmon",
      under_voltage_now: alarm,
      under_voltage_occurred: null,
      throttled_now: null,
      throttled_occurred: null,
      freq_capped_now: null,
      freq_capped_occurred: null,
      soft_temp_limit_now: null,
      soft_temp_limit_occurred: null,
      raw: null,
    };
  }

  /** Finds the thermal zones and the `rpi_volt` hwmon device; cached between samples. */
  private async discover(): Promise<void> {
    const missing = this.thermalFiles.length === 0 || this.rpiVoltAlarm === null;
    if (!this.stale && !(missing && this.samples - this.discoveredAt >= REDISCOVER_AFTER_SAMPLES)) return;
    this.stale = false;
    this.discoveredAt = this.samples;

    const thermal = join(this.root, "sys/class/thermal");
    this.thermalFiles = (await listDir(thermal))
      .filter((name) => /^thermal_zone\d+$/.test(name))
      .map((name) => join(thermal, name, "temp"));

    // hwmon<N> numbering is not stable across boots: the device is found by its `name`.
    const hwmon = join(this.root, "sys/class/hwmon");
    this.rpiVoltAlarm = null;
    for (const name of await listDir(hwmon)) {
      if (!name.startsWith("hwmon")) continue;
      const label = await this.reader.read(join(hwmon, name, "name"));
      if (label?.trim() === "rpi_volt") {
        this.rpiVoltAlarm = join(hwmon, name, "in0_lcrit_alarm");
        break;
      }
    }
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

async function listDir(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir)).sort();
  } catch {
    return [];
  }
}
