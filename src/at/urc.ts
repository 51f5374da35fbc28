/**
 * Unsolicited result codes: which lines a modem may send on its own, and which of them carry a PDU
 * on the following line. The base set is 27.005/27.007 plus the boot and status chatter of the
 * modems we support; profiles add their own (quirk files, `urcs`).
 */
export interface UrcSpec {
  /** Short stable name: `cmti`, `creg`, `qind`... */
  name: string;
  pattern: RegExp;
  /** The next line is the PDU of this URC (`+CMT`, `+CDS`, `+CBM` in PDU mode). */
  pduFollows?: boolean;
}

export interface UrcSpecData {
  name: string;
  pattern: string;
  pdu_follows?: boolean;
}

export const BASE_URCS: readonly UrcSpec[] = [
  { name: "cmti", pattern: /^\+CMTI:/ },
  { name: "cmt", pattern: /^\+CMT:/, pduFollows: true },
  { name: "cds", pattern: /^\+CDS:/, pduFollows: true },
  { name: "cdsi", pattern: /^\+CDSI:/ },
  { name: "cbm", pattern: /^\+CBM:/, pduFollows: true },
  { name: "creg", pattern: /^\+C(?:G|E)?REG:/ },
  { name: "ciev", pattern: /^\+CIEV:/ },
  { name: "cusd", pattern: /^\+CUSD:/ },
  { name: "ring", pattern: /^(?:RING|\+CRING:.*)$/ },
  { name: "clip", pattern: /^\+CLIP:/ },
  { name: "cpin", pattern: /^\+CPIN:/ },
  { name: "cfun", pattern: /^\+CFUN:/ },
  { name: "no_carrier", pattern: /^NO CARRIER$/ },
  // SIMCom SIM800 series boot sequence (SIM800 Series AT Command Manual V1.09, URC summary).
  { name: "ready", pattern: /^(?:RDY|APP RDY|Call Ready|SMS Ready)$/ },
];

export class UrcRegistry {
  private readonly specs: UrcSpec[];

  constructor(specs: readonly UrcSpec[] = BASE_URCS) {
    this.specs = [...specs];
  }

  /** Adds specs from a quirk file; an invalid regular expression is skipped by the caller's loader. */
  add(specs: readonly UrcSpec[]): void {
    for (const s of specs)
      if (!this.specs.some((x) => x.name === s.name && x.pattern.source === s.pattern.source))
        this.specs.push(s);
  }

  match(line: string): UrcSpec | undefined {
    for (const spec of this.specs) if (spec.pattern.test(line)) return spec;
    return undefined;
  }

  names(): string[] {
    return this.specs.map((s) => s.name);
  }
}

/**
 * The prefix an information line of `command`'s reply starts with: `AT+CSQ` → `+CSQ:`,
 * `AT^ICCID?` → `^ICCID:`; basic commands (`ATI`, `AT+CGSN` answered bare) have none we can rely on.
 */
export function responsePrefix(command: string): string | undefined {
  const m = /^AT([+^$#%*][A-Z0-9]+)/i.exec(command.trim());
  if (!m) return undefined;
  return `${m[1]!.toUpperCase()}:`;
}
