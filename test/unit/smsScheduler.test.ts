import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { NetworkConfig } from "../../src/config/types.js";
import {
  type Job,
  type JobPart,
  type Route,
  routeNumber,
  Scheduler,
  type TakeResult,
} from "../../src/sms/scheduler.js";

function net(name: string, prefixes: string[], maxPerLoop = 10): NetworkConfig {
  return { name, prefixes, max_per_loop: maxPerLoop };
}

// ── routeNumber ─────────────────────────────────────────────────────────────────────────────────

const UG = [
  net("mtn", ["+25677", "+25678"]),
  net("airtel", ["+25670", "+25675"]),
  net("kenya", ["+254"]),
  net("world", ["+"]),
];
const NO_CATCH_ALL = [net("mtn", ["+25677"]), net("airtel", ["+25670"]), net("kenya", ["+254"])];

const ROUTE_CASES: {
  name: string;
  to: string;
  networks: NetworkConfig[];
  defaultNetwork: string;
  want: string;
}[] = [
  {
    name: "a number goes to the network of its prefix",
    to: "+256772123456",
    networks: UG,
    defaultNetwork: "",
    want: "mtn",
  },
  {
    name: "any of a network's prefixes matches, not only its first",
    to: "+256752123456",
    networks: UG,
    defaultNetwork: "",
    want: "airtel",
  },
  {
    name: '"+" matches every international number no earlier network claims',
    to: "+4420794601234",
    networks: UG,
    defaultNetwork: "kenya",
    want: "world",
  },
  {
    name: "the first matching network wins, not the longest prefix",
    to: "+256772123456",
    networks: [net("uganda", ["+256"]), net("mtn", ["+25677"])],
    defaultNetwork: "",
    want: "uganda",
  },
  {
    name: 'a "+" network listed first takes even numbers a later network names exactly',
    to: "+254712345678",
    networks: [net("all", ["+"]), net("kenya", ["+254"])],
    defaultNetwork: "",
    want: "all",
  },
  {
    name: "a prefix must match from the first character (no match in the middle)",
    to: "+1254712345678",
    networks: NO_CATCH_ALL,
    defaultNetwork: "airtel",
    want: "airtel",
  },
  {
    name: "nothing matches: the configured default network",
    to: "+4420794601234",
    networks: NO_CATCH_ALL,
    defaultNetwork: "kenya",
    want: "kenya",
  },
  {
    name: 'nothing matches and no default (""): the first network',
    to: "+4420794601234",
    networks: NO_CATCH_ALL,
    defaultNetwork: "",
    want: "mtn",
  },
  {
    name: "nothing matches and the default names no configured network: the first network",
    to: "+4420794601234",
    networks: NO_CATCH_ALL,
    defaultNetwork: "gone",
    want: "mtn",
  },
  {
    name: "a prefix match wins over the default network",
    to: "+254712345678",
    networks: NO_CATCH_ALL,
    defaultNetwork: "mtn",
    want: "kenya",
  },
  {
    name: 'no networks configured at all: "local"',
    to: "+256772123456",
    networks: [],
    defaultNetwork: "",
    want: "local",
  },
];

describe("routeNumber", () => {
  for (const c of ROUTE_CASES)
    it(c.name, () => {
      assert.equal(routeNumber(c.to, c.networks, c.defaultNetwork), c.want);
    });
});

// ── Scheduler.take: scenarios ───────────────────────────────────────────────────────────────────

interface JobSpec {
  seq: number;
  net: string;
  /** Part states; default one queued part. */
  parts?: JobPart["state"][];
  nextAt?: number;
  wantModem?: string;
  /** Bound to this modem (as loaded after a restart with a part already sent). */
  modem?: string;
  excluded?: [string, number][];
}

function makeJob(s: JobSpec): Job {
  return {
    seq: s.seq,
    id: `j${s.seq}`,
    to: "+256772000000",
    network: s.net,
    wantModem: s.wantModem ?? null,
    modem: s.modem ?? null,
    boundAt: s.modem ? 0 : null,
    nextAt: s.nextAt ?? 0,
    expiresAt: Number.MAX_SAFE_INTEGER,
    parts: (s.parts ?? ["queued"]).map((state, i) => ({
      part: i + 1,
      pdu: `PDU${s.seq}.${i + 1}`,
      tpduLength: 20,
      state,
      attempts: 0,
    })),
    inflight: false,
    excluded: new Map(s.excluded ?? []),
  };
}

/** What a take gave: "seq.part", or "wake <ms>" / "wake -" when nothing. */
function outcome(r: TakeResult): string {
  if (r.job) return `${r.job.seq}.${"part" in r ? r.part.part : "?"}`;
  return `wake ${r.wakeAt ?? "-"}`;
}

type Step =
  /** `modem` asks at `at` (default 0) and must get `got`. Like the service: the part is handed (bind),
   * then sent and the job is no longer in flight, unless `hold` keeps it with the modem. */
  | { take: string; at?: number; got: string; hold?: boolean }
  | { act: string; run: (s: Scheduler, job: (seq: number) => Job) => void };

interface Scenario {
  name: string;
  networks: NetworkConfig[];
  /** modem → its networks ([] = all). */
  routes: Record<string, string[]>;
  jobs: JobSpec[];
  steps: Step[];
}

const AB = [net("A", ["+1"]), net("B", ["+2"])];

const SCENARIOS: Scenario[] = [
  {
    name: "FIFO within a network: the oldest message first, then nothing left",
    networks: AB,
    routes: { m1: [] },
    jobs: [
      { seq: 1, net: "A" },
      { seq: 2, net: "A" },
      { seq: 3, net: "A" },
    ],
    steps: [
      { take: "m1", got: "1.1" },
      { take: "m1", got: "2.1" },
      { take: "m1", got: "3.1" },
      { take: "m1", got: "wake -" },
    ],
  },
  {
    name: "a message waiting for its retry time is skipped without blocking those behind it; wakeAt is the earliest",
    networks: AB,
    routes: { m1: [] },
    jobs: [
      { seq: 1, net: "A", nextAt: 5000 },
      { seq: 2, net: "A" },
      { seq: 3, net: "A", nextAt: 3000 },
      { seq: 4, net: "B" },
      { seq: 5, net: "B", nextAt: 4000 },
      { seq: 6, net: "A" },
    ],
    steps: [
      { take: "m1", at: 0, got: "2.1" },
      { take: "m1", at: 0, got: "6.1" },
      { take: "m1", at: 0, got: "4.1" },
      { take: "m1", at: 0, got: "wake 3000" },
      { take: "m1", at: 2999, got: "wake 3000" },
      { take: "m1", at: 3000, got: "3.1" },
      { take: "m1", at: 3000, got: "wake 4000" },
      { take: "m1", at: 4500, got: "5.1" },
      { take: "m1", at: 4500, got: "wake 5000" },
      { take: "m1", at: 5000, got: "1.1" },
      { take: "m1", at: 5000, got: "wake -" },
    ],
  },
  {
    name: "a modem only serves the networks it lists; [] serves every network",
    networks: AB,
    routes: { onlyA: ["A"], onlyB: ["B"], all: [] },
    jobs: [
      { seq: 1, net: "B" },
      { seq: 2, net: "A" },
      { seq: 3, net: "B" },
      { seq: 4, net: "A" },
    ],
    steps: [
      { take: "onlyA", got: "2.1" },
      { take: "onlyA", got: "4.1" },
      { take: "onlyA", got: "wake -" },
      { take: "onlyB", got: "1.1" },
      { take: "all", got: "3.1" },
      { take: "all", got: "wake -" },
    ],
  },
  {
    name: "a modem does not wake for retry times of networks it does not serve",
    networks: AB,
    routes: { onlyA: ["A"] },
    jobs: [
      { seq: 1, net: "B", nextAt: 100 },
      { seq: 2, net: "A", nextAt: 200 },
    ],
    steps: [{ take: "onlyA", got: "wake 200" }],
  },
  {
    name: "a pinned message goes only to its modem, even one whose networks do not list its network",
    networks: AB,
    routes: { m1: ["A"], m2: [] },
    jobs: [
      { seq: 1, net: "B", wantModem: "m1" },
      { seq: 2, net: "B" },
    ],
    steps: [
      { take: "m2", got: "2.1" },
      { take: "m2", got: "wake -" },
      { take: "m1", got: "1.1" },
      { take: "m1", got: "wake -" },
    ],
  },
  {
    name: "a pinned message comes before the modem's round robin, and its retry time wakes only that modem",
    networks: AB,
    routes: { m1: ["A"], m2: ["A"] },
    jobs: [
      { seq: 1, net: "A" },
      { seq: 2, net: "A", wantModem: "m1", nextAt: 700 },
      { seq: 3, net: "A", wantModem: "m1" },
    ],
    steps: [
      { take: "m1", at: 0, got: "3.1" },
      { take: "m2", at: 0, got: "1.1" },
      { take: "m2", at: 0, got: "wake -" },
      { take: "m1", at: 0, got: "wake 700" },
      { take: "m1", at: 700, got: "2.1" },
    ],
  },
  {
    name: "a message bound to a modem (a part sent) continues there before older new work; other modems leave it",
    networks: AB,
    routes: { m1: [], m2: [] },
    jobs: [
      { seq: 1, net: "A" },
      { seq: 2, net: "A", parts: ["sent", "queued", "queued"], modem: "m1" },
    ],
    steps: [
      { take: "m1", got: "2.2" },
      { take: "m2", got: "1.1" },
      { take: "m2", got: "wake -" },
      { take: "m1", got: "2.3" },
      { take: "m1", got: "wake -" },
    ],
  },
  {
    name: "bind on the first part: the next parts follow on that modem, another modem takes other work",
    networks: AB,
    routes: { m1: [], m2: [] },
    jobs: [
      { seq: 1, net: "A", parts: ["queued", "queued", "queued"] },
      { seq: 2, net: "A" },
      { seq: 3, net: "B" },
    ],
    steps: [
      { take: "m1", got: "1.1" },
      { take: "m2", got: "2.1" },
      { take: "m2", got: "3.1" },
      { take: "m2", got: "wake -" },
      { take: "m1", got: "1.2" },
      { take: "m1", got: "1.3" },
      { take: "m1", got: "wake -" },
    ],
  },
  {
    name: "a bound message waiting for its retry time waits on its modem (wakeAt) and nobody else takes it",
    networks: AB,
    routes: { m1: [], m2: [] },
    jobs: [{ seq: 1, net: "A", parts: ["sent", "queued"], modem: "m1", nextAt: 900 }],
    steps: [
      { take: "m2", at: 1000, got: "wake -" },
      { take: "m1", at: 0, got: "wake 900" },
      { take: "m1", at: 900, got: "1.2" },
    ],
  },
  {
    name: "a message in flight is not handed twice: not to another modem, not its next part to the same one",
    networks: AB,
    routes: { m1: [], m2: [], m3: [] },
    jobs: [
      { seq: 1, net: "A", parts: ["queued", "queued"] },
      { seq: 2, net: "A" },
    ],
    steps: [
      { take: "m1", got: "1.1", hold: true },
      { take: "m2", got: "2.1", hold: true },
      { take: "m3", got: "wake -" },
      { take: "m1", got: "wake -" },
      {
        act: "part 1 of message 1 is sent",
        run: (_s, job) => {
          const j = job(1);
          j.parts[0]!.state = "sent";
          j.inflight = false;
        },
      },
      { take: "m3", got: "wake -" },
      { take: "m1", got: "1.2" },
    ],
  },
  {
    name: "a modem excluded from a message skips it until the time passes; others take it meanwhile",
    networks: AB,
    routes: { m1: [], m2: [] },
    jobs: [
      { seq: 1, net: "A", excluded: [["m1", 10_000]] },
      { seq: 2, net: "A", excluded: [["m1", 10_000]] },
      { seq: 3, net: "A" },
    ],
    steps: [
      { take: "m1", at: 0, got: "3.1" },
      { take: "m1", at: 0, got: "wake 10000" },
      { take: "m2", at: 0, got: "1.1" },
      { take: "m1", at: 9999, got: "wake 10000" },
      { take: "m1", at: 10_000, got: "2.1" },
    ],
  },
  {
    name: "an exclusion later than the retry time is what wakeAt reports",
    networks: AB,
    routes: { m1: [] },
    jobs: [{ seq: 1, net: "A", nextAt: 100, excluded: [["m1", 500]] }],
    steps: [
      { take: "m1", at: 0, got: "wake 500" },
      { take: "m1", at: 500, got: "1.1" },
    ],
  },
  {
    name: "unbind lets another modem take a message bound to a modem that went away",
    networks: AB,
    routes: { m1: [], m2: [] },
    jobs: [{ seq: 1, net: "A", parts: ["queued", "queued"], modem: "m1" }],
    steps: [
      { take: "m2", got: "wake -" },
      { act: "unbind message 1", run: (s, job) => s.unbind(job(1)) },
      { take: "m2", got: "1.1" },
      { take: "m2", got: "1.2" },
    ],
  },
  {
    name: "bind to another modem moves the message: only the new modem takes its next part",
    networks: AB,
    routes: { m1: [], m2: [] },
    jobs: [{ seq: 1, net: "A", parts: ["sent", "queued"], modem: "m1" }],
    steps: [
      { act: "bind message 1 to m2", run: (s, job) => s.bind(job(1), "m2", 5) },
      { take: "m1", got: "wake -" },
      { take: "m2", got: "1.2" },
    ],
  },
  {
    name: "a removed message is not handed",
    networks: AB,
    routes: { m1: [] },
    jobs: [
      { seq: 1, net: "A" },
      { seq: 2, net: "A", wantModem: "m1" },
      { seq: 3, net: "A", modem: "m1", parts: ["sent", "queued"] },
    ],
    steps: [
      {
        act: "remove all three",
        run: (s) => {
          for (const seq of [1, 2, 3]) s.remove(seq);
        },
      },
      { take: "m1", got: "wake -" },
    ],
  },
  {
    name: "a message for a network that is not configured falls back to the first network",
    networks: AB,
    routes: { onlyA: ["A"], onlyB: ["B"] },
    jobs: [{ seq: 1, net: "gone" }],
    steps: [
      { take: "onlyB", got: "wake -" },
      { take: "onlyA", got: "1.1" },
    ],
  },
];

function runScenario(c: Scenario): void {
  const s = new Scheduler(c.networks);
  for (const spec of c.jobs) s.add(makeJob(spec));
  const job = (seq: number): Job => {
    const j = s.get(seq);
    assert.ok(j, `message ${seq} is not in the scheduler`);
    return j;
  };
  for (const [i, step] of c.steps.entries()) {
    if ("act" in step) {
      step.run(s, job);
      continue;
    }
    const at = step.at ?? 0;
    const route: Route = { modem: step.take, networks: c.routes[step.take] ?? [] };
    const r = s.take(route, at);
    assert.equal(outcome(r), step.got, `step ${i + 1}: ${step.take} at ${at}`);
    if (!r.job || !("part" in r)) continue;
    assert.equal(r.job.inflight, true, `step ${i + 1}: a handed message is in flight`);
    s.bind(r.job, step.take, at);
    r.part.state = "sending";
    if (step.hold) continue;
    r.part.state = "sent";
    r.job.inflight = false;
    if (!r.job.parts.some((p) => p.state === "queued")) s.remove(r.job.seq);
  }
}

describe("Scheduler.take", () => {
  for (const c of SCENARIOS) it(c.name, () => runScenario(c));

  it("gives nothing and no wake time when the scheduler is empty", () => {
    const s = new Scheduler(AB);
    assert.deepEqual(s.take({ modem: "m1", networks: [] }, 0), { wakeAt: undefined });
  });
});

// ── Scheduler.take: max_per_loop fairness ───────────────────────────────────────────────────────

interface FairnessCase {
  name: string;
  networks: NetworkConfig[];
  /** The modem's networks ([] = all). */
  route: string[];
  /** Jobs per network, queued in this order of networks (all of network 1, then all of network 2...). */
  jobs: Record<string, number>;
  /** Job names in the order taken ("a1" = first job of network A), until nothing is left. */
  want: string;
}

const FAIRNESS: FairnessCase[] = [
  {
    name: "A max 2, B max 3, ten each: A,A,B,B,B,A,A,... each network oldest first",
    networks: [net("A", ["+1"], 2), net("B", ["+2"], 3)],
    route: [],
    jobs: { A: 10, B: 10 },
    want: "a1 a2 b1 b2 b3 a3 a4 b4 b5 b6 a5 a6 b7 b8 b9 a7 a8 b10 a9 a10",
  },
  {
    name: "when A runs dry, B keeps going without waiting for A's turn",
    networks: [net("A", ["+1"], 2), net("B", ["+2"], 3)],
    route: [],
    jobs: { A: 2, B: 8 },
    want: "a1 a2 b1 b2 b3 b4 b5 b6 b7 b8",
  },
  {
    name: "when B runs dry, A keeps going",
    networks: [net("A", ["+1"], 2), net("B", ["+2"], 3)],
    route: [],
    jobs: { A: 7, B: 3 },
    want: "a1 a2 b1 b2 b3 a3 a4 a5 a6 a7",
  },
  {
    name: "an empty first network does not hold up the second",
    networks: [net("A", ["+1"], 2), net("B", ["+2"], 3)],
    route: [],
    jobs: { B: 4 },
    want: "b1 b2 b3 b4",
  },
  {
    name: "the modem's own order of networks decides who starts",
    networks: [net("A", ["+1"], 2), net("B", ["+2"], 3)],
    route: ["B", "A"],
    jobs: { A: 4, B: 4 },
    want: "b1 b2 b3 a1 a2 b4 a3 a4",
  },
  {
    name: "three networks with max 1 take turns one by one",
    networks: [net("A", ["+1"], 1), net("B", ["+2"], 1), net("C", ["+3"], 1)],
    route: [],
    jobs: { C: 2, A: 2, B: 2 },
    want: "a1 b1 c1 a2 b2 c2",
  },
  {
    name: "a network the modem does not list gets no turn",
    networks: [net("A", ["+1"], 2), net("B", ["+2"], 3), net("C", ["+3"], 1)],
    route: ["A", "C"],
    jobs: { A: 3, B: 3, C: 3 },
    want: "a1 a2 c1 a3 c2 c3",
  },
];

describe("Scheduler.take fairness (max_per_loop)", () => {
  for (const c of FAIRNESS)
    it(c.name, () => {
      const s = new Scheduler(c.networks);
      const names = new Map<number, string>();
      let seq = 0;
      for (const [network, count] of Object.entries(c.jobs))
        for (let i = 1; i <= count; i++) {
          seq++;
          names.set(seq, `${network.toLowerCase()}${i}`);
          s.add(makeJob({ seq, net: network }));
        }
      const taken: string[] = [];
      for (let k = 0; k < 100; k++) {
        const r = s.take({ modem: "m1", networks: c.route }, 0);
        if (!r.job) break;
        taken.push(names.get(r.job.seq)!);
        s.remove(r.job.seq);
      }
      assert.equal(taken.join(" "), c.want);
    });

  it("one modem's turns do not use up another modem's", () => {
    const s = new Scheduler([net("A", ["+1"], 2), net("B", ["+2"], 2)]);
    for (let seq = 1; seq <= 8; seq++) s.add(makeJob({ seq, net: seq <= 4 ? "A" : "B" }));
    const take = (modem: string): string => {
      const r = s.take({ modem, networks: [] }, 0);
      assert.ok(r.job);
      s.remove(r.job.seq);
      return r.job.network;
    };
    assert.deepEqual([take("m1"), take("m1"), take("m2"), take("m2"), take("m1")], ["A", "A", "A", "A", "B"]);
  });
});

// ── Scheduler bookkeeping ───────────────────────────────────────────────────────────────────────

describe("Scheduler bookkeeping", () => {
  it("boundBy lists the messages a modem started, and forgets them on unbind, rebind and remove", () => {
    const s = new Scheduler(AB);
    const one = makeJob({ seq: 1, net: "A", parts: ["sent", "queued"], modem: "m1" });
    const two = makeJob({ seq: 2, net: "A", parts: ["queued", "queued"] });
    const three = makeJob({ seq: 3, net: "B", parts: ["queued", "queued"] });
    for (const j of [one, two, three]) s.add(j);
    s.bind(two, "m1", 50);
    s.bind(three, "m1", 60);
    assert.deepEqual(
      s.boundBy("m1").map((j) => j.seq),
      [1, 2, 3],
    );
    assert.equal(two.modem, "m1");
    assert.equal(two.boundAt, 50);
    s.unbind(one);
    assert.equal(one.modem, null);
    assert.equal(one.boundAt, null);
    s.bind(two, "m2", 70);
    s.remove(3);
    assert.deepEqual(
      s.boundBy("m1").map((j) => j.seq),
      [],
    );
    assert.deepEqual(
      s.boundBy("m2").map((j) => j.seq),
      [2],
    );
    assert.deepEqual(s.boundBy("m9"), []);
  });

  it("bind to the modem it is already bound to keeps the first bound time", () => {
    const s = new Scheduler(AB);
    const j = makeJob({ seq: 1, net: "A", parts: ["queued", "queued"] });
    s.add(j);
    s.bind(j, "m1", 10);
    s.bind(j, "m1", 99);
    assert.equal(j.boundAt, 10);
  });

  it("size, get and all follow add and remove; adding a seq again replaces it", () => {
    const s = new Scheduler(AB);
    s.add(makeJob({ seq: 1, net: "A" }));
    s.add(makeJob({ seq: 2, net: "B" }));
    s.add(makeJob({ seq: 1, net: "B", wantModem: "m1" }));
    assert.equal(s.size, 2);
    assert.equal(s.get(1)?.network, "B");
    s.remove(2);
    s.remove(42);
    assert.deepEqual(
      [...s.all()].map((j) => j.seq),
      [1],
    );
    // The replaced copy of 1 (network A, not pinned) is gone from every index.
    assert.equal(outcome(s.take({ modem: "m2", networks: [] }, 0)), "wake -");
    assert.equal(outcome(s.take({ modem: "m1", networks: [] }, 0)), "1.1");
  });
});

// ── Scheduler.routable ──────────────────────────────────────────────────────────────────────────

const ROUTES: Route[] = [
  { modem: "m1", networks: ["A"] },
  { modem: "m2", networks: ["B"] },
];

const ROUTABLE_CASES: { name: string; job: JobSpec; routes: Route[]; want: boolean }[] = [
  {
    name: "a modem listing the message's network can send it",
    job: { seq: 1, net: "B" },
    routes: ROUTES,
    want: true,
  },
  {
    name: "no modem lists the message's network",
    job: { seq: 1, net: "C" },
    routes: ROUTES,
    want: false,
  },
  {
    name: "a modem serving every network ([]) can send anything",
    job: { seq: 1, net: "C" },
    routes: [...ROUTES, { modem: "m3", networks: [] }],
    want: true,
  },
  {
    name: "a pinned message needs its modem, whatever that modem's networks",
    job: { seq: 1, net: "B", wantModem: "m1" },
    routes: ROUTES,
    want: true,
  },
  {
    name: "a message pinned to a modem that has no route cannot go, even if others serve its network",
    job: { seq: 1, net: "B", wantModem: "m9" },
    routes: ROUTES,
    want: false,
  },
  { name: "no routes at all", job: { seq: 1, net: "A" }, routes: [], want: false },
];

describe("Scheduler.routable", () => {
  const s = new Scheduler([...AB, net("C", ["+3"])]);
  for (const c of ROUTABLE_CASES)
    it(c.name, () => {
      assert.equal(s.routable(makeJob(c.job), c.routes), c.want);
    });
});
