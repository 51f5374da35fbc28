/**
 * The simulated message memories (`SM` on the SIM, `ME` in the modem), as 27.005 §3.1 describes them:
 * fixed capacity, indices from 1, each slot holding one PDU with its `<stat>`.
 * SIM storage survives power cycles (the ModemSimulator keeps this object across them).
 */

/** 27.005 `<stat>` in PDU mode: 0 REC UNREAD, 1 REC READ, 2 STO UNSENT, 3 STO SENT. */
export type SmsStat = 0 | 1 | 2 | 3;

/** One stored message. */
export interface StoredSms {
  /** Memory name, e.g. `SM`. */
  storage: string;
  /** 1-based index in that memory. */
  index: number;
  stat: SmsStat;
  /** Full PDU in hex (SMSC part included), upper case. */
  pdu: string;
  /** TPDU length in octets, as +CMGL/+CMGR report it. */
  length: number;
  /** Whether it is an SMS-STATUS-REPORT (stored after CNMI ds=2). */
  statusReport: boolean;
}

export class SmsStorage {
  private readonly slots = new Map<string, Map<number, StoredSms>>();

  /** `capacities`: memory name → number of slots, e.g. `{ SM: 30, ME: 100 }`. */
  constructor(private readonly capacities: Readonly<Record<string, number>>) {}

  memories(): string[] {
    return Object.keys(this.capacities);
  }

  has(mem: string): boolean {
    return Object.hasOwn(this.capacities, mem);
  }

  capacity(mem: string): number {
    return this.capacities[mem] ?? 0;
  }

  used(mem: string): number {
    return this.slots.get(mem)?.size ?? 0;
  }

  /** Stores a message in the lowest free slot; returns its index, or null when the memory is full. */
  store(
    mem: string,
    msg: { pdu: string; length: number; stat: SmsStat; statusReport?: boolean },
  ): number | null {
    const cap = this.capacity(mem);
    let slots = this.slots.get(mem);
    if (!slots) {
      slots = new Map();
      this.slots.set(mem, slots);
    }
    for (let index = 1; index <= cap; index++) {
      if (!slots.has(index)) {
        slots.set(index, {
          storage: mem,
          index,
          stat: msg.stat,
          pdu: msg.pdu,
          length: msg.length,
          statusReport: msg.statusReport ?? false,
        });
        return index;
      }
    }
    return null;
  }

  get(mem: string, index: number): StoredSms | undefined {
    return this.slots.get(mem)?.get(index);
  }

  /** Valid index for that memory (1..capacity), whether or not it holds a message. */
  inRange(mem: string, index: number): boolean {
    return Number.isInteger(index) && index >= 1 && index <= this.capacity(mem);
  }

  delete(mem: string, index: number): void {
    this.slots.get(mem)?.delete(index);
  }

  /** Messages of one memory by index; `stat` 4 = all. */
  list(mem: string, stat: SmsStat | 4 = 4): StoredSms[] {
    const all = [...(this.slots.get(mem)?.values() ?? [])].sort((a, b) => a.index - b.index);
    return stat === 4 ? all : all.filter((m) => m.stat === stat);
  }

  /**
   * `AT+CMGD=<index>,<delflag>` with delflag 1-4: 1 all read, 2 read and sent, 3 read, sent and
   * unsent, 4 all (27.005 §3.5.4).
   */
  deleteByFlag(mem: string, flag: 1 | 2 | 3 | 4): void {
    const keep: Record<number, SmsStat[]> = { 1: [0, 2, 3], 2: [0, 2], 3: [0], 4: [] };
    for (const msg of this.list(mem)) {
      if (!keep[flag]!.includes(msg.stat)) this.delete(mem, msg.index);
    }
  }

  /** Every stored message, all memories. */
  all(): StoredSms[] {
    return this.memories().flatMap((m) => this.list(m));
  }
}
