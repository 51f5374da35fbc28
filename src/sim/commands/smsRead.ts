/**
 * Stored messages in PDU mode (27.005 §3.4.2, §3.4.3, §3.5.4) and the network side that fills them:
 * +CMGL, +CMGR, +CMGD, plus {@link deliverSms} / {@link deliverStatusReport} routed per AT+CNMI.
 *
 *   +CMGL: <index>,<stat>,,<length>\r\n<pdu>      +CMGR: <stat>,,<length>\r\n<pdu>
 *   CNMI mt=1 → stored + `+CMTI: "SM",<idx>`      mt=2 → `+CMT: ,<length>\r\n<pdu>` (then AT+CNMA)
 *   CNMI ds=1 → `+CDS: <length>\r\n<pdu>`         ds=2 → stored + `+CDSI: "SM",<idx>`
 */
import { SiteError } from "../../core/errors.js";
import { intArg } from "../atParse.js";
import { normalizeHex, tpduLength } from "../pdu.js";
import type { SmsStat } from "../storage.js";
import { cms, error, ok, simGate } from "./replies.js";
import type { CommandContext, CommandHandler, DeviceApi, Reply } from "./types.js";

/** Common gate of the read commands: SIM ready and PDU mode. */
function readGate(ctx: CommandContext): Reply | null {
  return simGate(ctx, "cms") ?? (ctx.dev.state.settings.cmgf !== 0 ? cms(303) : null);
}

const cmgl: CommandHandler = (cmd, ctx) => {
  if (cmd.kind === "test") return ok("+CMGL: (0-4)");
  if (cmd.kind === "read") return error();
  const gate = readGate(ctx);
  if (gate) return gate;
  const stat = cmd.kind === "exec" ? 0 : intArg(cmd.args, 0);
  if (stat === undefined || Number.isNaN(stat) || stat > 4) return cms(304);
  const { storage, settings } = ctx.dev.state;
  const found = storage.list(settings.cpms[0], stat as SmsStat | 4);
  const lines = found.map((m) => `+CMGL: ${m.index},${m.stat},,${m.length}\r\n${m.pdu}`);
  return {
    ...ok(...lines),
    after: () => {
      for (const m of found) if (m.stat === 0) m.stat = 1;
    },
  };
};

const cmgr: CommandHandler = (cmd, ctx) => {
  if (cmd.kind === "test") return ok();
  if (cmd.kind !== "set") return error();
  const gate = readGate(ctx);
  if (gate) return gate;
  const { storage, settings } = ctx.dev.state;
  const index = intArg(cmd.args, 0);
  const mem = settings.cpms[0];
  if (index === undefined || !storage.inRange(mem, index)) return cms(321);
  const msg = storage.get(mem, index);
  // An empty slot: 27.005 leaves it to the ME; SIM800 and Quectel answer a bare OK.
  if (!msg) return ok();
  const line = `+CMGR: ${msg.stat},,${msg.length}\r\n${msg.pdu}`;
  if (msg.stat === 0) msg.stat = 1;
  return ok(line);
};

const cmgd: CommandHandler = (cmd, ctx) => {
  if (cmd.kind === "test") return ok("+CMGD: (1-255),(0-4)");
  if (cmd.kind !== "set") return error();
  const gate = simGate(ctx, "cms");
  if (gate) return gate;
  const { storage, settings } = ctx.dev.state;
  const mem = settings.cpms[0];
  const index = intArg(cmd.args, 0);
  const flag = intArg(cmd.args, 1) ?? 0;
  if (Number.isNaN(flag) || flag > 4) return cms(304);
  if (flag > 0) {
    storage.deleteByFlag(mem, flag as 1 | 2 | 3 | 4);
    return ok();
  }
  if (index === undefined || !storage.inRange(mem, index)) return cms(321);
  storage.delete(mem, index);
  return ok();
};

export const SMS_READ_COMMANDS: Record<string, CommandHandler> = {
  "+CMGL": cmgl,
  "+CMGR": cmgr,
  "+CMGD": cmgd,
};

function pduAndLength(pdu: string): { hex: string; length: number } {
  const hex = normalizeHex(pdu);
  const length = tpduLength(hex);
  if (length === null || length === 0)
    throw new SiteError("sim.control", "not a valid PDU (hex with SMSC part)");
  return { hex, length };
}

/** Options of {@link deliverSms}. */
export interface DeliverOptions {
  /** `cmti` stores and indicates, `cmt` routes it directly; default per AT+CNMI <mt> (2 or 3 → cmt). */
  mode?: "cmti" | "cmt";
  /** Memory to store in; default AT+CPMS <mem3>. */
  storage?: string;
}

/**
 * An SMS-DELIVER arriving from the network. Returns the storage index, or -1 when routed directly
 * (+CMT). With CNMI mt=0 it is stored without indication. Throws `sim.control` for a bad PDU, an
 * unknown memory or a full one.
 */
export function deliverSms(dev: DeviceApi, pdu: string, opts: DeliverOptions = {}): number {
  const { hex, length } = pduAndLength(pdu);
  const { settings, storage } = dev.state;
  const mt = settings.cnmi[1] ?? 0;
  const mode = opts.mode ?? (mt === 2 || mt === 3 ? "cmt" : "cmti");
  if (mode === "cmt") {
    dev.state.pendingAcks++;
    dev.urc(`+CMT: ,${length}\r\n${hex}`);
    return -1;
  }
  const mem = opts.storage ?? settings.cpms[2];
  if (!storage.has(mem)) throw new SiteError("sim.control", `no memory ${mem} on this device`);
  const index = storage.store(mem, { pdu: hex, length, stat: 0 });
  if (index === null) throw new SiteError("sim.control", `memory ${mem} is full (${storage.capacity(mem)})`);
  if (mt !== 0 || opts.mode === "cmti") dev.urc(`+CMTI: "${mem}",${index}`);
  return index;
}

/** An SMS-STATUS-REPORT: CNMI ds=1 → +CDS (returns -1), ds=2 → stored + +CDSI (returns the index), ds=0 → dropped (-1). */
export function deliverStatusReport(dev: DeviceApi, pdu: string): number {
  const { hex, length } = pduAndLength(pdu);
  const { settings, storage } = dev.state;
  const ds = settings.cnmi[3] ?? 0;
  if (ds === 1) {
    dev.state.pendingAcks++;
    dev.urc(`+CDS: ${length}\r\n${hex}`);
    return -1;
  }
  if (ds !== 2) return -1;
  const mem = settings.cpms[2];
  const index = storage.store(mem, { pdu: hex, length, stat: 0, statusReport: true });
  if (index === null) throw new SiteError("sim.control", `memory ${mem} is full (${storage.capacity(mem)})`);
  dev.urc(`+CDSI: "${mem}",${index}`);
  return index;
}
