/**
 * Finding serial ports that may be modems, and what the kernel knows of them.
 *
 * Globs (config `discovery.globs`) take wildcards in the last path segment only:
 * `/dev/serial/by-id/*`, `/dev/ttyUSB*`. Ports are deduplicated by their real path, keeping the most
 * stable name (by-id, then by-path, then the raw tty). For a real USB tty, sysfs gives the USB
 * vendor:product and interface number; for a name like `…-if02-port0` (by-id links, the simulator's
 * multi-port links) the interface comes from the name.
 */
import { access, readdir, readFile, realpath } from "node:fs/promises";
import { basename, dirname, join } from "node:path";

export interface PortCandidate {
  /** The name we open and report (the most stable one). */
  path: string;
  realPath: string;
  usbId?: string;
  usbInterface?: number;
  /** Same for every tty of one physical device (siblings of a multi-port modem). */
  deviceKey: string;
}

function globToRegex(pattern: string): RegExp {
  const esc = pattern
    .replace(/[.+^${}()|[\]\\]/g, "\\$&")
    .replace(/\*/g, ".*")
    .replace(/\?/g, ".");
  return new RegExp(`^${esc}$`);
}

/** Expands one glob whose wildcards are in the last segment. A missing folder yields nothing. */
export async function expandGlob(pattern: string): Promise<string[]> {
  if (!/[*?]/.test(pattern)) return [pattern];
  const dir = dirname(pattern);
  const re = globToRegex(basename(pattern));
  try {
    return (await readdir(dir)).filter((n) => re.test(n)).map((n) => join(dir, n));
  } catch {
    return [];
  }
}

function rank(path: string): number {
  if (path.includes("/serial/by-id/")) return 0;
  if (path.includes("/serial/by-path/")) return 1;
  return 2;
}

async function readText(path: string): Promise<string | undefined> {
  try {
    return (await readFile(path, "utf8")).trim();
  } catch {
    return undefined;
  }
}

/**
 * USB facts of a tty from sysfs: `/sys/class/tty/<tty>/device` is the interface folder (ttyACM) or a
 * port folder inside it (ttyUSB); the interface folder holds `bInterfaceNumber`, its parent the USB
 * device with `idVendor` and `idProduct`.
 */
export async function usbFacts(
  realPath: string,
  sysRoot = "/",
): Promise<{ usbId?: string; usbInterface?: number; deviceDir?: string }> {
  const tty = basename(realPath);
  let dir: string;
  try {
    dir = await realpath(join(sysRoot, "sys/class/tty", tty, "device"));
  } catch {
    return {};
  }
  for (let i = 0; i < 3; i++) {
    const ifnum = await readText(join(dir, "bInterfaceNumber"));
    if (ifnum !== undefined) {
      const deviceDir = dirname(dir);
      const vid = await readText(join(deviceDir, "idVendor"));
      const pid = await readText(join(deviceDir, "idProduct"));
      return {
        usbInterface: Number.parseInt(ifnum, 16),
        deviceDir,
        ...(vid && pid ? { usbId: `${vid}:${pid}`.toLowerCase() } : {}),
      };
    }
    dir = dirname(dir);
  }
  return {};
}

/** All candidate ports for `globs`, deduplicated, with what can be learnt without opening them. */
export async function listCandidates(globs: readonly string[], sysRoot = "/"): Promise<PortCandidate[]> {
  const byReal = new Map<string, string>();
  for (const g of globs) {
    for (const path of await expandGlob(g)) {
      let real: string;
      try {
        real = await realpath(path);
      } catch {
        continue; // dangling link: the device just went away
      }
      const prev = byReal.get(real);
      if (prev === undefined || rank(path) < rank(prev)) byReal.set(real, path);
    }
  }
  const out: PortCandidate[] = [];
  for (const [realPath, path] of byReal) {
    const facts = await usbFacts(realPath, sysRoot);
    const nameIf = /-if(\d+)/.exec(basename(path));
    const candidate: PortCandidate = {
      path,
      realPath,
      deviceKey: facts.deviceDir ?? (nameIf ? path.slice(0, path.lastIndexOf(nameIf[0])) : realPath),
    };
    if (facts.usbId) candidate.usbId = facts.usbId;
    const iface = facts.usbInterface ?? (nameIf ? Number(nameIf[1]) : undefined);
    if (iface !== undefined) candidate.usbInterface = iface;
    out.push(candidate);
  }
  return out.sort((a, b) => a.path.localeCompare(b.path));
}

/** Whether `path` exists now (a device node, or a link to one that resolves). */
export async function pathExists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}
