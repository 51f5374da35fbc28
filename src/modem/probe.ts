/**
 * Probing one port: is it an AT port, and of which modem? Opens, syncs with a short timeout, asks
 * manufacturer, model and IMEI, closes. A port that never answers (a QCDM/diag port, a GPS NMEA port,
 * a modem still booting) yields `undefined`; nothing here throws for a dead port.
 */
import { AtChannel } from "../at/channel.js";
import { errorText } from "../core/errors.js";
import type { Logger } from "../core/logger.js";
import type { SerialOpener } from "../transport/serial/serialTransport.js";
import { ModemDriver, type ModemIdentity } from "./driver.js";
import type { ProfileSet } from "./profile.js";

export interface ProbeOptions {
  opener: SerialOpener;
  profiles: ProfileSet;
  baud: number;
  /** Per-attempt AT timeout, ms. */
  timeoutMs: number;
  logger: Logger;
}

export async function probePort(path: string, o: ProbeOptions): Promise<ModemIdentity | undefined> {
  let conn: Awaited<ReturnType<SerialOpener>>;
  try {
    conn = await o.opener({ path, baudRate: o.baud });
  } catch (err) {
    o.logger.debug(`probe ${path}: ${errorText(err)}`);
    return undefined;
  }
  const channel = new AtChannel({
    conn,
    logger: o.logger,
    urcs: o.profiles.urcRegistry(),
    extraErrors: o.profiles.allExtraErrors(),
    defaultTimeoutMs: o.timeoutMs,
  });
  channel.start();
  try {
    const driver = new ModemDriver(channel, o.profiles.generic, o.logger);
    if (!(await driver.sync(2, o.timeoutMs))) return undefined;
    await driver.command("ATE0").catch(() => {});
    const id = await driver.identify();
    return id.imei ? id : undefined;
  } catch (err) {
    o.logger.debug(`probe ${path}: ${errorText(err)}`);
    return undefined;
  } finally {
    await channel.close().catch(() => {});
  }
}
