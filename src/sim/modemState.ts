/**
 * The data a simulated modem holds: what survives a power cycle (IMEI, the SIM with its PIN counters,
 * SMSC and SMS storage, sent PDUs) and the volatile settings reset at every boot (echo, CMEE, CNMI...).
 */
import { makeIccid, makeImei, makeImsi } from "./identity.js";
import type { DeviceProfile } from "./profile.js";
import { SmsStorage } from "./storage.js";

/** `locked` = SIM PIN required; `puk` = three wrong PINs, SIM PUK required. */
export type SimStatus = "absent" | "locked" | "puk" | "ready";

/** The simulated SIM card (its content survives power cycles; its unlock does not). */
export interface SimCard {
  status: SimStatus;
  /** The PIN it asks for after every power-on; null = PIN check disabled. */
  pin: string | null;
  /** Default `12345678`. */
  puk: string;
  /** Wrong PINs left before PUK (3 per 3GPP TS 31.101). */
  pinAttempts: number;
  pukAttempts: number;
  imsi: string;
  iccid: string;
  /** SMSC address (EF_SMSP); `""` = unset. */
  smsc: string;
}

/** Settings lost at power-off, reset, ATZ and AT&F. */
export interface VolatileSettings {
  cmee: number;
  cmgf: number;
  /** AT+CNMI <mode>,<mt>,<bm>,<ds>,<bfr>. */
  cnmi: number[];
  creg: number;
  cgreg: number;
  cereg: number;
  /** AT+COPS <mode>: 0 automatic, 1 manual, 2 deregistered. */
  copsMode: number;
  /** AT+COPS <format>: 0 long alphanumeric, 1 short, 2 numeric. */
  copsFormat: number;
  /** AT+CPMS <mem1> (read/delete), <mem2> (write/send), <mem3> (receive). */
  cpms: [string, string, string];
  csmp: number[];
  cscs: string;
}

/** One PDU the modem accepted through AT+CMGS. */
export interface SentPdu {
  /** Full PDU hex as the client sent it (upper case, SMSC part included). */
  pdu: string;
  /** TP-Message-Reference the modem answered (`+CMGS: <mr>`), 0-255. */
  mr: number;
  /** Epoch ms when `+CMGS` was answered. */
  at: number;
  /** The TPDU length (the AT+CMGS argument). */
  length: number;
}

export interface ModemState {
  imei: string;
  sim: SimCard;
  settings: VolatileSettings;
  /** AT+CFUN: 0 minimum, 1 full, 4 flight mode. */
  radio: number;
  /** 27.007 <stat>: 0 not searching, 1 home, 2 searching, 3 denied, 5 roaming. */
  stat: number;
  /** 27.007 <rssi> 0-31 (99 unknown), as AT+CSQ reports it while the radio is on. */
  csq: number;
  /** Next TP-MR, 0-255. */
  mr: number;
  /** Commands left that answer `+CME ERROR: 515` (Wavecom after AT+CFUN=1). */
  busy: number;
  /** +CMT messages delivered and not yet acknowledged with AT+CNMA. */
  pendingAcks: number;
  storage: SmsStorage;
  sent: SentPdu[];
}

/** The simulated network: Uganda, MTN (MCC 641, MNC 10). */
export const NETWORK = { long: "MTN UG", short: "MTN", numeric: "64110", lac: "00C3", ci: "0A1B2C" } as const;

/** Power-on values of the volatile settings for a profile. */
export function defaultSettings(profile: DeviceProfile): VolatileSettings {
  const mem = profile.sms.default_storage;
  return {
    cmee: profile.defaults.cmee,
    cmgf: 0,
    cnmi: [...profile.defaults.cnmi],
    creg: 0,
    cgreg: 0,
    cereg: 0,
    copsMode: 0,
    copsFormat: 0,
    cpms: [mem, mem, mem],
    csmp: [17, 167, 0, 0],
    cscs: "IRA",
  };
}

/** Identity and SIM of a new modem; everything absent is derived from `seed` (the link path). */
export interface ModemIdentityOptions {
  seed: string;
  imei?: string;
  imsi?: string;
  iccid?: string;
  /** PIN the SIM asks for; absent = PIN disabled. */
  pin?: string;
  /** Default `12345678`. */
  puk?: string;
}

/** A powered-off modem with a ready (or PIN-locked) SIM, empty memories and nothing sent. */
export function createModemState(profile: DeviceProfile, opts: ModemIdentityOptions): ModemState {
  const pin = opts.pin ?? null;
  return {
    imei: opts.imei ?? makeImei(profile.identity.imei_tac, opts.seed),
    sim: {
      status: pin === null ? "ready" : "locked",
      pin,
      puk: opts.puk ?? "12345678",
      pinAttempts: 3,
      pukAttempts: 10,
      imsi: opts.imsi ?? makeImsi(opts.seed),
      iccid: opts.iccid ?? makeIccid(opts.seed),
      smsc: profile.defaults.smsc,
    },
    settings: defaultSettings(profile),
    radio: 1,
    stat: 0,
    csq: 18,
    mr: 0,
    busy: 0,
    pendingAcks: 0,
    storage: new SmsStorage(profile.sms.storages),
    sent: [],
  };
}
