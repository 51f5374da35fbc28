/**
 * SIM commands: +CPIN (PIN, PUK and the three-strikes rule), +CIMI and the ICCID in each vendor's
 * dialect: generic `+CRSM=176,12258,0,0,10` (READ BINARY of EF_ICCID), SIMCom `+CCID` (bare digits),
 * Quectel `+QCCID` (19-digit ICCIDs keep a trailing F), Huawei `^ICCID?` (swapped digits, works
 * before PIN unlock). Sources: /tmp/research/modem-quirks.md §4, §5.
 */
import { swappedIccid } from "../identity.js";
import { cme, error, ok, simGate } from "./replies.js";
import type { CommandHandler } from "./types.js";

const PIN_TRIES = 3;
const PUK_TRIES = 10;

const cpin: CommandHandler = (cmd, ctx) => {
  const sim = ctx.dev.state.sim;
  if (cmd.kind === "test") return ok();
  if (cmd.kind === "read") {
    if (sim.status === "absent") return cme(ctx, 10);
    const code = { locked: "SIM PIN", puk: "SIM PUK", ready: "READY" }[sim.status];
    const line = `+CPIN: ${code}`;
    // Wavecom: "AT+CPIN? replies will never have an OK appended" (ModemManager wavecom plugin).
    return ctx.dev.profile.quirks.cpin_read_no_ok ? { lines: [line] } : ok(line);
  }
  if (cmd.kind !== "set" || !cmd.args[0]) return error();
  if (sim.status === "absent") return cme(ctx, 10);
  if (sim.status === "ready") return cme(ctx, 3);
  const unlocked = () => ({ ...ok(), after: () => ctx.dev.simUnlocked() });
  if (sim.status === "locked") {
    if (cmd.args[0] === sim.pin) {
      sim.status = "ready";
      sim.pinAttempts = PIN_TRIES;
      return unlocked();
    }
    sim.pinAttempts = Math.max(0, sim.pinAttempts - 1);
    if (sim.pinAttempts === 0) sim.status = "puk";
    return cme(ctx, 16);
  }
  // PUK state: AT+CPIN="<puk>","<new pin>".
  if (cmd.args[1] === undefined) return cme(ctx, 12);
  if (sim.pukAttempts > 0 && cmd.args[0] === sim.puk) {
    sim.status = "ready";
    sim.pin = cmd.args[1];
    sim.pinAttempts = PIN_TRIES;
    sim.pukAttempts = PUK_TRIES;
    return unlocked();
  }
  sim.pukAttempts = Math.max(0, sim.pukAttempts - 1);
  return cme(ctx, 16);
};

const cimi: CommandHandler = (cmd, ctx) => {
  if (cmd.kind === "test") return ok();
  if (cmd.kind !== "exec") return error();
  return simGate(ctx, "cme") ?? ok(ctx.dev.state.sim.imsi);
};

/** EF_ICCID is readable without the PIN, so only an absent SIM fails. */
function iccidCommand(kind: "exec" | "read", line: (iccid: string) => string): CommandHandler {
  return (cmd, ctx) => {
    if (cmd.kind === "test") return ok();
    if (cmd.kind !== kind) return error();
    const sim = ctx.dev.state.sim;
    return sim.status === "absent" ? cme(ctx, 10) : ok(line(sim.iccid));
  };
}

const crsm: CommandHandler = (cmd, ctx) => {
  if (cmd.kind === "test") return ok();
  if (cmd.kind !== "set") return error();
  // Only READ BINARY (176) of EF_ICCID (0x2FE2 = 12258), which ModemManager's base SIM sends.
  if (cmd.args.slice(0, 2).join(",") !== "176,12258") return cme(ctx, 4);
  return simGate(ctx, "cme") ?? ok(`+CRSM: 144,0,"${swappedIccid(ctx.dev.state.sim.iccid)}"`);
};

export const SIM_COMMANDS: Record<string, CommandHandler> = {
  "+CPIN": cpin,
  "+CIMI": cimi,
  "+CRSM": crsm,
  "+CCID": iccidCommand("exec", (iccid) => iccid),
  "+QCCID": iccidCommand("exec", (iccid) => `+QCCID: ${iccid.length === 19 ? `${iccid}F` : iccid}`),
  "^ICCID": iccidCommand("read", (iccid) => `^ICCID: "${swappedIccid(iccid)}"`),
};
