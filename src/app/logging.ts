import type { LogConfig } from "../config/types.js";
import { Logger, LogLevels } from "../core/logger.js";

/** The process's root logger, levels from the config (`log.level`, `log.levels`). */
export function createLogger(log: LogConfig | undefined): Logger {
  const levels = new LogLevels(log?.level ?? "info");
  for (const [ns, level] of Object.entries(log?.levels ?? {})) levels.set(level, ns);
  return new Logger("bts-site", levels);
}
