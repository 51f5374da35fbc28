/**
 * Layering of configuration sources (contract, section 2). Lowest first:
 *
 *   schema defaults  <  main file ("file")  <  NOC changes ("runtime")  <  boot-partition file ("boot")
 *
 * Maps merge key by key; anything else (a scalar, a list such as `modems`) is replaced whole by the
 * higher layer. `null` means "unset this key" in the runtime layer only: the key then falls back
 * to the schema default, even if the main file set it. In a file layer `null` is a value like any
 * other (YAML `pin:` with nothing after it), which validation reports as having no value.
 *
 * While merging, each leaf key remembers the layer that set it, for `config/get`'s `source`.
 */
import { formatPath, isMap, type KeySegment, setOwnKey } from "./keyPath.js";
import type { ConfigSource } from "./types.js";

/** One source of configuration: what it says, where it sits in the precedence, and its name. */
export interface ConfigLayer {
  source: Exclude<ConfigSource, "default">;
  data: Record<string, unknown>;
  /** The file it came from, for problem reports (`(set in /boot/firmware/bts-site.yaml)`). */
  label?: string;
}

/** The merged data, and for each key path set by a layer, that layer's source. */
export interface MergeResult {
  value: Record<string, unknown>;
  setBy: Map<string, ConfigSource>;
}

/** The precedence of layers, lowest first. */
export const LAYER_ORDER: readonly Exclude<ConfigSource, "default">[] = ["file", "runtime", "boot"];

/** Forgets what set `id` and every key below it. */
function forget(setBy: Map<string, ConfigSource>, id: string): void {
  for (const key of setBy.keys()) {
    if (key === id || key.startsWith(`${id}.`) || key.startsWith(`${id}[`)) setBy.delete(key);
  }
}

function mergeInto(
  target: Record<string, unknown>,
  patch: Record<string, unknown>,
  base: KeySegment[],
  layer: ConfigLayer,
  setBy: Map<string, ConfigSource>,
): void {
  for (const [name, value] of Object.entries(patch)) {
    if (value === undefined) continue;
    const path = [...base, name];
    const id = formatPath(path);
    if (value === null && layer.source === "runtime") {
      delete target[name];
      forget(setBy, id);
    } else if (isMap(value)) {
      if (!isMap(target[name])) {
        forget(setBy, id);
        setOwnKey(target, name, {});
      }
      if (Object.keys(value).length === 0) setBy.set(id, layer.source);
      else setBy.delete(id);
      mergeInto(target[name] as Record<string, unknown>, value, path, layer, setBy);
    } else {
      forget(setBy, id);
      setOwnKey(target, name, structuredClone(value));
      setBy.set(id, layer.source);
    }
  }
}

/**
 * Merges layers, each over the ones before it: pass them lowest precedence first (use
 * {@link LAYER_ORDER}: file, runtime, boot). The layers are not modified.
 */
export function mergeLayers(...layers: ConfigLayer[]): MergeResult {
  const value: Record<string, unknown> = {};
  const setBy = new Map<string, ConfigSource>();
  for (const layer of layers) mergeInto(value, layer.data, [], layer, setBy);
  return { value, setBy };
}

/**
 * The source of every leaf key of a (defaulted) config: scalars, lists (a list is one leaf: it
 * is replaced whole) and empty maps. Keys no layer set are "default".
 */
export function leafSources(config: unknown, setBy: Map<string, ConfigSource>): Record<string, ConfigSource> {
  const out: Record<string, ConfigSource> = {};
  const walk = (value: unknown, path: KeySegment[]): void => {
    if (isMap(value) && (path.length === 0 || Object.keys(value).length > 0)) {
      for (const [name, item] of Object.entries(value)) walk(item, [...path, name]);
      return;
    }
    const id = formatPath(path);
    out[id] = setBy.get(id) ?? "default";
  };
  walk(config, []);
  return out;
}

/** The source that set `path` or the nearest key above it that was set as a whole. */
export function sourceOf(path: readonly KeySegment[], setBy: Map<string, ConfigSource>): ConfigSource {
  for (let n = path.length; n > 0; n--) {
    const source = setBy.get(formatPath(path.slice(0, n)));
    if (source) return source;
  }
  return "default";
}
