/**
 * `bts-site check-config FILE`: validates one config file on its own (no boot file, no runtime
 * layer) and prints each problem on its own line as `path.to.key: what is wrong`.
 *
 *   $ bts-site check-config site.yaml
 *   modems[0].baud: must be one of 9600, 19200, 38400, 57600, 115200, 230400, 460800, 921600
 *   mqtt.urll: unknown key (did you mean "url"?)
 *   $ echo $?
 *   2
 */
import { readFile } from "node:fs/promises";
import { errorText, SiteError } from "../core/errors.js";
import { parseConfigText, type ReadTextFile, validateConfig } from "./load.js";

/** Exit code of a valid config. */
export const CHECK_OK = 0;
/** Exit code of an invalid or unreadable config (contract: usage or config error). */
export const CHECK_INVALID = 2;

/**
 * Checks `file` and writes the result through `out`, one line per call: each problem, or
 * `<file>: ok`. Resolves to the exit code: 0 valid, 2 invalid or unreadable.
 */
export async function checkConfigCommand(
  file: string,
  out: (line: string) => void,
  readText: ReadTextFile = (path) => readFile(path, "utf8"),
): Promise<number> {
  let text: string | undefined;
  try {
    text = (await readText(file)) ?? undefined;
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : errorText(err);
    out(`${file}: cannot read: ${reason}`);
    return CHECK_INVALID;
  }
  if (text === undefined) {
    out(`${file}: cannot read: no such file`);
    return CHECK_INVALID;
  }
  let data: Record<string, unknown>;
  try {
    data = parseConfigText(text, file);
  } catch (err) {
    const listed = err instanceof SiteError ? err.detail.problems : undefined;
    for (const line of Array.isArray(listed) ? (listed as string[]) : [errorText(err)]) out(line);
    return CHECK_INVALID;
  }
  const result = validateConfig(data);
  if (!result.ok) {
    for (const problem of result.problems) out(problem);
    return CHECK_INVALID;
  }
  out(`${file}: ok`);
  return CHECK_OK;
}
