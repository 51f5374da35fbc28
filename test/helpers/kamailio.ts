/**
 * Real SIP peers for the interop tests: Kamailio (Debian's `kamailio`) as the upstream registrar and
 * proxy, started from test/fixtures/kamailio/kamailio.cfg, and sipp (Debian's `sip-tester`) scenarios
 * from test/fixtures/sipp/. Both run as child processes on 127.0.0.1 with ports found free.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createSocket } from "node:dgram";
import { readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

const FIXTURES = new URL("../fixtures/", import.meta.url).pathname;
let scenarios = 0;

/** A port free for both UDP and TCP on 127.0.0.1 (asked of the kernel, then released). */
export async function freePort(): Promise<number> {
  for (;;) {
    const port = await new Promise<number>((resolve, reject) => {
      const srv = createServer();
      srv.once("error", reject);
      srv.listen(0, "127.0.0.1", () => {
        const p = (srv.address() as { port: number }).port;
        srv.close(() => resolve(p));
      });
    });
    const udpFree = await new Promise<boolean>((resolve) => {
      const s = createSocket("udp4");
      s.once("error", () => resolve(false));
      s.bind(port, "127.0.0.1", () => s.close(() => resolve(true)));
    });
    if (udpFree) return port;
  }
}

/** Sends one OPTIONS over UDP to 127.0.0.1:port; true when a 200 comes back within 300 ms. */
export function answersOptions(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createSocket("udp4");
    const timer = setTimeout(() => {
      s.close();
      resolve(false);
    }, 300);
    s.on("message", (m) => {
      if (m.toString().startsWith("SIP/2.0 200")) {
        clearTimeout(timer);
        s.close();
        resolve(true);
      }
    });
    s.bind(0, "127.0.0.1", () => {
      const local = (s.address() as { port: number }).port;
      const branch = `z9hG4bK${Math.random().toString(16).slice(2)}`;
      const msg = [
        `OPTIONS sip:127.0.0.1:${port} SIP/2.0`,
        `Via: SIP/2.0/UDP 127.0.0.1:${local};branch=${branch}`,
        "From: <sip:probe@127.0.0.1>;tag=p1",
        `To: <sip:127.0.0.1:${port}>`,
        `Call-ID: ${branch}@127.0.0.1`,
        "CSeq: 1 OPTIONS",
        "Max-Forwards: 70",
        "Content-Length: 0",
        "",
        "",
      ].join("\r\n");
      s.send(msg, port, "127.0.0.1");
    });
  });
}

export interface Kamailio {
  port: number;
  /** Everything it logged (stderr), for assertions and for the failure message. */
  log(): string;
  stop(): Promise<void>;
  /** Starts it again on the same port (after stop()). */
  start(): Promise<void>;
}

export interface KamailioOptions {
  dir: string;
  domain: string;
  siteUser: string;
  sitePassword: string;
  /** host:port where `desk`, `alice*`, `bob*` and `core*` are relayed (a sipp UAS). */
  uasAddr: string;
  port?: number;
}

/** Starts Kamailio with the test config; resolves once it listens. */
export async function startKamailio(o: KamailioOptions): Promise<Kamailio> {
  const port = o.port ?? (await freePort());
  const cfg = readFileSync(join(FIXTURES, "kamailio", "kamailio.cfg"), "utf8")
    .replaceAll("LISTEN_PORT", String(port))
    .replaceAll("SITE_PASSWORD", o.sitePassword)
    .replaceAll("SITE_USER", o.siteUser)
    .replaceAll("UAS_ADDR", o.uasAddr)
    .replaceAll("DOMAIN", o.domain);
  const file = join(o.dir, `kamailio-${port}.cfg`);
  writeFileSync(file, cfg);
  let proc: ChildProcess | undefined;
  let text = "";
  const start = async () => {
    text += `--- start\n`;
    proc = spawn("kamailio", ["-f", file, "-DD", "-E", "-m", "32", "-M", "8", "-Y", o.dir], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    proc.stdout!.on("data", (d) => {
      text += d;
    });
    proc.stderr!.on("data", (d) => {
      text += d;
    });
    const until = Date.now() + 10_000;
    while (!(await answersOptions(port))) {
      if (proc.exitCode !== null) throw new Error(`kamailio exited ${proc.exitCode}:\n${text}`);
      if (Date.now() > until) throw new Error(`kamailio did not start:\n${text}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  await start();
  return {
    port,
    log: () => text,
    async stop() {
      const p = proc;
      if (!p || p.exitCode !== null) return;
      const exited = new Promise((r) => p.once("exit", r));
      p.kill("SIGTERM");
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
      if (p.exitCode === null) p.kill("SIGKILL");
    },
    start,
  };
}

export interface SippRun {
  done: Promise<{ code: number | null; output: string }>;
  kill(): void;
}

/**
 * Runs a sipp scenario from test/fixtures/sipp/<name>.xml against `target` (host:port), from
 * 127.0.0.1:<localPort>. `vars` become `-set name value` (used as [$name] in the scenario).
 */
export function sipp(
  name: string,
  o: {
    target?: string;
    localPort: number;
    transport?: "u1" | "t1";
    calls?: number;
    vars?: Record<string, string>;
    /** `{{name}}` fields of the scenario file, replaced before it runs. */
    fill?: Record<string, string>;
    timeoutS?: number;
    extra?: string[];
  },
): SippRun {
  let scenario = join(FIXTURES, "sipp", `${name}.xml`);
  if (o.fill) {
    let xml = readFileSync(scenario, "utf8");
    for (const [k, v] of Object.entries(o.fill)) xml = xml.replaceAll(`{{${k}}}`, v);
    scenario = join(tmpdir(), `sipp-${name}-${process.pid}-${++scenarios}.xml`);
    writeFileSync(scenario, xml);
  }
  const args = [
    "-sf",
    scenario,
    "-i",
    "127.0.0.1",
    "-p",
    String(o.localPort),
    "-t",
    o.transport ?? "u1",
    "-m",
    String(o.calls ?? 1),
    "-nostdin",
    "-timeout",
    `${o.timeoutS ?? 20}s`,
    "-timeout_error",
    ...Object.entries(o.vars ?? {}).flatMap(([k, v]) => ["-set", k, v]),
    ...(o.extra ?? []),
    ...(o.target ? [o.target] : []),
  ];
  const proc = spawn("sipp", args, { stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  proc.stdout.on("data", (d) => {
    output += d;
  });
  proc.stderr.on("data", (d) => {
    output += d;
  });
  const done = new Promise<{ code: number | null; output: string }>((resolve) =>
    proc.on("exit", (code) => resolve({ code, output })),
  );
  return { done, kill: () => proc.kill("SIGTERM") };
}

/** One SIP message of a sipp `-trace_msg` file, as sipp sent or received it. */
export interface SippTraceEntry {
  direction: "sent" | "received";
  /** The start line: `MESSAGE sip:… SIP/2.0` or `SIP/2.0 202 Accepted`. */
  start: string;
  /** The header lines after the start line, line ends as on the wire. */
  head: string;
  /** The body, trimmed of the line ends sipp's trace adds around it. */
  body: string;
}

/** Every SIP message of a sipp `-trace_msg` file (empty while the file does not exist yet). */
export function readSippTrace(file: string): SippTraceEntry[] {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    return [];
  }
  const out: SippTraceEntry[] = [];
  for (const block of text.split(/^-{5,}[^\n]*\n/m)) {
    const kind = /^(?:UDP|TCP) message (sent|received)/.exec(block);
    if (!kind) continue;
    const start = /^(?:[A-Z]+ \S+ SIP\/2\.0|SIP\/2\.0 \d{3}[^\r\n]*)\r?$/m.exec(block);
    if (!start) continue;
    const msg = block.slice(start.index);
    const split = msg.search(/\r?\n\r?\n/);
    const headAndStart = split < 0 ? msg : msg.slice(0, split);
    const nl = headAndStart.indexOf("\n");
    const body = split < 0 ? "" : msg.slice(split).trim();
    out.push({
      direction: kind[1] as "sent" | "received",
      start: start[0].replace(/\r$/, ""),
      head: nl < 0 ? "" : headAndStart.slice(nl + 1),
      body,
    });
  }
  return out;
}

/** The value of the first header `name` (case-insensitive, compact forms not expanded) of a trace entry. */
export function sippHeader(entry: SippTraceEntry, name: string): string | undefined {
  const escaped = name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  return new RegExp(`^${escaped}[ \\t]*:[ \\t]*(.*?)\\r?$`, "im").exec(entry.head)?.[1];
}

/**
 * MESSAGE requests a sipp UAS received, from its `-trace_msg` file: Request-URI, From and Content-Type
 * values ("" when absent), body.
 */
export function sippReceivedMessages(
  file: string,
): { ruri: string; from: string; contentType: string; body: string }[] {
  return readSippTrace(file)
    .filter((e) => e.direction === "received" && e.start.startsWith("MESSAGE "))
    .map((e) => ({
      ruri: e.start.split(" ")[1] ?? "",
      from: sippHeader(e, "From") ?? sippHeader(e, "f") ?? "",
      contentType: sippHeader(e, "Content-Type") ?? sippHeader(e, "c") ?? "",
      body: e.body,
    }));
}
