/**
 * The static facts read in a short-lived child process (`bts-site system-facts`): the
 * systeminformation package costs about 8.5 MB of resident memory once loaded, which a
 * long-running process on a small board would keep for a few strings read once.
 */
import { spawn } from "node:child_process";
import { packageRoot } from "../core/paths.js";
import type { StaticFacts } from "./staticFacts.js";

/** Resolves with the facts, or null when the child fails or takes longer than `timeoutMs`. */
export function readStaticFactsInChild(
  o: { root?: string; timeoutMs?: number; bin?: string } = {},
): Promise<StaticFacts | null> {
  const bin = o.bin ?? process.env.BTS_SITE_BIN ?? `${packageRoot()}/bin/bts-site.js`;
  const args = [bin, "system-facts", ...(o.root ? ["--root", o.root] : [])];
  return new Promise((resolve) => {
    let out = "";
    let child: ReturnType<typeof spawn>;
    try {
      child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "ignore"] });
    } catch {
      resolve(null);
      return;
    }
    const timer = setTimeout(() => child.kill("SIGKILL"), o.timeoutMs ?? 30_000);
    timer.unref();
    child.stdout?.on("data", (d: Buffer) => {
      out += d.toString("utf8");
    });
    child.on("error", () => resolve(null));
    child.on("close", (code) => {
      clearTimeout(timer);
      try {
        resolve(code === 0 ? (JSON.parse(out) as StaticFacts) : null);
      } catch {
        resolve(null);
      }
    });
  });
}
