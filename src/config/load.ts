/**
 * Loading the site's configuration from its files:
 *
 *   main file (YAML/JSON) ─┐
 *   boot file (optional) ──┼─► storage.dir ─► runtime file (optional, JSON, written by config/set)
 *                          │
 *   file < runtime < boot ─┴─► mergeLayers ─► defaults + validation ─► { config, sources }
 *
 * Every problem of every file is reported at once, in one `SiteError("config.invalid")`.
 */
import { readFile as fsReadFile } from "node:fs/promises";
import { join } from "node:path";
import { LineCounter, parseDocument } from "yaml";
import { errorText, SiteError } from "../core/errors.js";
import { isMap } from "./keyPath.js";
import { type ConfigLayer, leafSources, mergeLayers, sourceOf } from "./merge.js";
import { formatProblem } from "./problems.js";
import { CONFIG_SCHEMA } from "./schema.js";
import type { ConfigSource, SiteConfig } from "./types.js";
import { applyDefaults, checkConfigData } from "./validate.js";

export { type ConfigLayer, LAYER_ORDER, mergeLayers } from "./merge.js";
export { type ValidationResult, validateConfig } from "./validate.js";

/** The main file when `--config` is not given. */
export const DEFAULT_CONFIG_PATH = "/etc/bts-site/config.yaml";

/** Name of the NOC's runtime layer (JSON) inside `storage.dir`. */
export const RUNTIME_FILE_NAME = "config.runtime.json";

/** Keys the runtime layer may not set: they locate or identify the site, so only files set them. */
export const RUNTIME_FORBIDDEN_KEYS: readonly string[] = ["site.id", "storage.dir"];

/** The boot-partition file: `$BTS_SITE_BOOT_CONFIG`, else "/boot/firmware/bts-site.yaml". */
export function bootConfigPath(env: Record<string, string | undefined> = process.env): string {
  return env.BTS_SITE_BOOT_CONFIG || "/boot/firmware/bts-site.yaml";
}

/** Where the runtime layer lives for a given `storage.dir`. */
export function runtimeConfigPath(storageDir: string): string {
  return join(storageDir, RUNTIME_FILE_NAME);
}

function configError(problems: string[]): SiteError {
  const count = problems.length === 1 ? "1 problem" : `${problems.length} problems`;
  return new SiteError("config.invalid", `configuration has ${count}:\n${problems.join("\n")}`, {
    detail: { problems },
  });
}

function kindOf(value: unknown): string {
  if (Array.isArray(value)) return "a list";
  return typeof value === "string" ? "a text" : `a ${typeof value}`;
}

/**
 * Parses YAML 1.2 (JSON is valid YAML, also indented with tabs) into a plain map. A key written
 * twice is an error, in JSON too. An empty or comments-only file is an empty map.
 * Throws `SiteError("config.invalid")` with problems such as `<file>: line 3, column 5: <message>`,
 * or for a top level that is not a map.
 */
export function parseConfigText(text: string, fileLabel: string): Record<string, unknown> {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { version: "1.2", prettyErrors: false, lineCounter });
  if (doc.errors.length > 0) {
    const problems = doc.errors.map((error) => {
      const { line, col } = lineCounter.linePos(error.pos[0]);
      return `${fileLabel}: line ${line}, column ${col}: ${error.message}`;
    });
    throw configError([...new Set(problems)]);
  }
  const data: unknown = doc.toJS({ maxAliasCount: 100 }) ?? {};
  if (!isMap(data)) {
    throw configError([
      `${fileLabel}: the top level must be a map of keys (such as "site:"), not ${kindOf(data)}`,
    ]);
  }
  return data;
}

/**
 * The configuration with every default and the given site id: what a site with the minimal
 * file `site: {id: <siteId>}` runs with. Throws `config.invalid` for a malformed id.
 */
export function defaultConfig(siteId: string): SiteConfig {
  const result = checkConfigData({ site: { id: siteId } });
  if (!result.config) throw configError(result.problems.map(formatProblem));
  return result.config;
}

/** A valid, defaulted config and where each leaf key came from, or the problems. */
export type ResolveResult =
  | { ok: true; config: SiteConfig; sources: Record<string, ConfigSource> }
  | { ok: false; problems: string[] };

function forbiddenRuntimeKeys(layer: ConfigLayer): string[] {
  const problems: string[] = [];
  for (const id of RUNTIME_FORBIDDEN_KEYS) {
    const [section = "", name = ""] = id.split(".");
    const value = layer.data[section];
    if (isMap(value) && value[name] !== undefined) {
      problems.push(
        `${id}: cannot be changed by the NOC: set it in the config file (${layer.label ?? "runtime"})`,
      );
    }
  }
  return problems;
}

/**
 * Merges layers (lowest precedence first), fills defaults, validates. A problem with a key that
 * the boot file or the runtime layer set names that file: `... (set in /boot/firmware/bts-site.yaml)`.
 * `config/set` uses this to check a patched runtime layer before persisting it.
 */
export function resolveLayers(layers: readonly ConfigLayer[]): ResolveResult {
  const forbidden = layers.filter((l) => l.source === "runtime").flatMap(forbiddenRuntimeKeys);
  const { value, setBy } = mergeLayers(...layers);
  const { config, problems } = checkConfigData(value);
  if (config && forbidden.length === 0) return { ok: true, config, sources: leafSources(config, setBy) };
  const labels = new Map(layers.map((l) => [l.source, l.label ?? l.source]));
  const texts = problems.map((problem) => {
    const source = sourceOf(problem.path, setBy);
    const from = source === "boot" || source === "runtime" ? ` (set in ${labels.get(source)})` : "";
    return formatProblem(problem) + from;
  });
  return { ok: false, problems: [...forbidden, ...texts] };
}

/** Reads a whole text file; a missing file is `undefined` or an error with code ENOENT. */
export type ReadTextFile = (path: string) => Promise<string | undefined> | string | undefined;

export interface LoadConfigOptions {
  /** The main file. Default {@link DEFAULT_CONFIG_PATH}. */
  mainFile?: string;
  /** The boot-partition file, optional. Default {@link bootConfigPath}(); `null`: none. */
  bootFile?: string | null;
  /** The runtime layer, optional. Default `<storage.dir>/config.runtime.json`; `null`: none. */
  runtimeFile?: string | null;
  /** Injected file reader (tests). Default: `fs.readFile(path, "utf8")`. */
  readFile?: ReadTextFile;
}

export interface LoadedConfig {
  config: SiteConfig;
  /** Leaf key path (`sip.listen`, `modems`) → where its value came from. */
  sources: Record<string, ConfigSource>;
  /** The layers read, lowest precedence first (for `config/set` to re-merge). */
  layers: ConfigLayer[];
  /** The runtime layer's path, whether or not it exists yet; `undefined` when disabled. */
  runtimeFile: string | undefined;
}

async function readOptional(read: ReadTextFile, path: string): Promise<string | undefined> {
  try {
    return (await read(path)) ?? undefined;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new SiteError("config.read", `cannot read ${path}: ${errorText(err)}`, { cause: err });
  }
}

/** Parses every present file, collecting the problems of all of them. */
function parseAll(
  files: { path: string; text: string | undefined }[],
): (Record<string, unknown> | undefined)[] {
  const problems: string[] = [];
  const parsed = files.map(({ path, text }) => {
    if (text === undefined) return undefined;
    try {
      return parseConfigText(text, path);
    } catch (err) {
      const listed = err instanceof SiteError ? err.detail.problems : undefined;
      problems.push(...(Array.isArray(listed) ? (listed as string[]) : [errorText(err)]));
      return undefined;
    }
  });
  if (problems.length > 0) throw configError(problems);
  return parsed;
}

function storageDirOf(layers: (Record<string, unknown> | undefined)[]): string {
  const data: Record<string, unknown> = { storage: {} };
  for (const layer of layers) {
    if (isMap(layer?.storage) && typeof layer.storage.dir === "string")
      data.storage = { dir: layer.storage.dir };
  }
  applyDefaults(CONFIG_SCHEMA, data);
  return (data.storage as { dir: string }).dir;
}

/**
 * Loads the main file, the boot-partition file and the runtime layer, and validates the result.
 * A missing main file is a `config.read` error, unless it is the default path and a boot file
 * exists (a site set up from the boot partition only). Missing boot and runtime files are fine.
 * Throws `SiteError("config.invalid")` with `detail.problems` listing every problem.
 */
export async function loadConfig(options: LoadConfigOptions = {}): Promise<LoadedConfig> {
  const read = options.readFile ?? ((path: string) => fsReadFile(path, "utf8"));
  const mainPath = options.mainFile ?? DEFAULT_CONFIG_PATH;
  const bootPath = options.bootFile === undefined ? bootConfigPath() : options.bootFile;
  const bootText = bootPath === null ? undefined : await readOptional(read, bootPath);
  const mainText = await readOptional(read, mainPath);
  if (mainText === undefined && (mainPath !== DEFAULT_CONFIG_PATH || bootText === undefined)) {
    throw new SiteError("config.read", `cannot read ${mainPath}: no such file`);
  }
  const [main, boot] = parseAll([
    { path: mainPath, text: mainText },
    { path: bootPath ?? "", text: bootText },
  ]);
  const runtimePath =
    options.runtimeFile === undefined
      ? runtimeConfigPath(storageDirOf([main, boot]))
      : (options.runtimeFile ?? undefined);
  const runtimeText = runtimePath === undefined ? undefined : await readOptional(read, runtimePath);
  const [runtime] = parseAll([{ path: runtimePath ?? "", text: runtimeText }]);

  const layers: ConfigLayer[] = [];
  if (main) layers.push({ source: "file", data: main, label: mainPath });
  if (runtime) layers.push({ source: "runtime", data: runtime, label: runtimePath });
  if (boot) layers.push({ source: "boot", data: boot, label: bootPath ?? undefined });
  const result = resolveLayers(layers);
  if (!result.ok) throw configError(result.problems);
  return { config: result.config, sources: result.sources, layers, runtimeFile: runtimePath };
}
