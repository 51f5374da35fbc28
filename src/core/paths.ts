import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * The package's root folder, whether running from `src/` (tsx) or `dist/` (built): both put
 * this file two levels below the root.
 */
export function packageRoot(): string {
  return resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
}

/** Data files shipped with the package (quirk profiles, simulated devices, schema). */
export function dataPath(...parts: string[]): string {
  return resolve(packageRoot(), "src", ...parts);
}
