/**
 * The snapshot `ModemSimulator.state()` returns and the control socket sends: plain JSON, snake_case.
 */
import type { ModemDevice } from "./device.js";
import type { SimStatus } from "./modemState.js";

export interface SimStateSnapshot {
  profile: string;
  /** Power line (or `power` op) state. */
  powered: boolean;
  /** USB connected (false between unplug and replug). */
  plugged: boolean;
  /** The firmware runs: powered, plugged and booted (links exist). */
  running: boolean;
  hung: boolean;
  /** Link paths that exist now. */
  links: string[];
  /** The link name the next bring-up uses (changes with replug(link)). */
  link_base: string;
  imei: string;
  imsi: string;
  iccid: string;
  sim: SimStatus;
  pin_attempts: number;
  /** 27.007 <stat>: 0 not searching, 1 home, 2 searching. */
  registration: number;
  /** AT+CFUN value. */
  radio: number;
  /** Echo and verbose of the primary AT port. */
  echo: boolean;
  verbose: boolean;
  cmee: number;
  cmgf: number;
  cnmi: number[];
  creg: number;
  cgreg: number;
  cereg: number;
  cpms: string[];
  csq: number;
  operator: string;
  smsc: string;
  /** Next TP-MR. */
  mr: number;
  /** Nominal extra answer delay (setDelay), ms. */
  delay_ms: number;
  cms_errors_pending: number;
  sent_count: number;
  stored_count: number;
}

/** Builds the snapshot from the simulator's flags and its device. */
export function simState(input: {
  profile: string;
  powered: boolean;
  plugged: boolean;
  running: boolean;
  hung: boolean;
  links: string[];
  linkBase: string;
  device: ModemDevice;
  operator: string;
}): SimStateSnapshot {
  const { device } = input;
  const s = device.state;
  const port = device.primaryPort();
  return {
    profile: input.profile,
    powered: input.powered,
    plugged: input.plugged,
    running: input.running,
    hung: input.hung,
    links: input.links,
    link_base: input.linkBase,
    imei: s.imei,
    imsi: s.sim.imsi,
    iccid: s.sim.iccid,
    sim: s.sim.status,
    pin_attempts: s.sim.pinAttempts,
    registration: s.stat,
    radio: s.radio,
    echo: port.echo,
    verbose: port.verbose,
    cmee: s.settings.cmee,
    cmgf: s.settings.cmgf,
    cnmi: [...s.settings.cnmi],
    creg: s.settings.creg,
    cgreg: s.settings.cgreg,
    cereg: s.settings.cereg,
    cpms: [...s.settings.cpms],
    csq: s.csq,
    operator: input.operator,
    smsc: s.sim.smsc,
    mr: s.mr,
    delay_ms: device.answerDelayMs,
    cms_errors_pending: device.cmsErrorQueue.length,
    sent_count: s.sent.length,
    stored_count: s.storage.all().length,
  };
}
