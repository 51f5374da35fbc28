/**
 * A real MQTT broker for the NOC-link tests: Debian's mosquitto (2.0.11) as a child process on 127.0.0.1,
 * with a throw-away PKI made by the openssl CLI.
 *
 *   makePki(dir) ──► ca.crt, server.crt/key (CN=localhost), client(name) ──► <name>.crt/key (CN=name)
 *                                   │
 *   startMosquitto({dir, pki, aclFile, passwords})
 *     ├─ TLS listener   127.0.0.1:tlsPort    require_certificate, use_identity_as_username (CN = user)
 *     └─ plain listener 127.0.0.1:plainPort  password_file from `passwords` (mosquitto_passwd -b)
 *     both: allow_anonymous false, the ACL (default docs/examples/mosquitto/acl), persistence off
 *
 * Every broker started here is SIGKILLed when the test process exits, whatever the tests did.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import { promisify } from "node:util";
import { freePort } from "./kamailio.js";

const run = promisify(execFile);

/** The ACL operators get (docs/examples/mosquitto/acl); the harness default. */
export const EXAMPLE_ACL = new URL("../../docs/examples/mosquitto/acl", import.meta.url).pathname;

/** A certificate and its private key (PEM file paths). */
export interface CertPair {
  cert: string;
  key: string;
}

/** A throw-away PKI: one CA, a server certificate for localhost/127.0.0.1, client certificates on demand. */
export interface Pki {
  dir: string;
  /** The CA certificate (PEM path): the broker's `cafile`, and what clients trust. */
  ca: string;
  /** CN=localhost, SAN DNS:localhost and IP:127.0.0.1, signed by the CA. */
  server: CertPair;
  /** A client certificate with CN=`name` signed by the CA; made on first call, then cached. */
  client(name: string): Promise<CertPair>;
}

/** Certificates live this long (days). */
const VALID_DAYS = 2;

const OPENSSL_CNF = `[req]
distinguished_name = dn
prompt = no
[dn]
CN = unused
[ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[server]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost, IP:127.0.0.1
authorityKeyIdentifier = keyid
[client]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
authorityKeyIdentifier = keyid
`;

const EC_KEY = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];

async function openssl(args: string[]): Promise<void> {
  try {
    await run("openssl", args);
  } catch (e) {
    const err = e as Error & { stderr?: string };
    throw new Error(`openssl ${args.join(" ")} failed: ${err.stderr ?? err.message}`, { cause: e });
  }
}

/**
 * Makes a test CA and a server certificate in `dir` (created if missing) with the openssl CLI (EC P-256 keys, valid 2 days;
 * about 50 ms). Client certificates come from `pki.client(name)`.
 */
export async function makePki(dir: string): Promise<Pki> {
  mkdirSync(dir, { recursive: true });
  const cnf = join(dir, "openssl.cnf");
  writeFileSync(cnf, OPENSSL_CNF);
  const ca = join(dir, "ca.crt");
  const caKey = join(dir, "ca.key");
  await openssl([
    ...["req", "-x509", "-config", cnf, "-extensions", "ca", ...EC_KEY],
    ...["-keyout", caKey, "-out", ca, "-days", String(VALID_DAYS), "-subj", "/CN=bts-site test CA"],
  ]);
  let serial = 1;
  const issue = async (name: string, cn: string, ext: "server" | "client"): Promise<CertPair> => {
    const pair = { cert: join(dir, `${name}.crt`), key: join(dir, `${name}.key`) };
    const csr = join(dir, `${name}.csr`);
    // -subj takes "/"-separated RDNs: a "/" (or a backslash) inside the CN is escaped.
    const subject = `/CN=${cn.replace(/[\\/]/g, "\\$&")}`;
    await openssl([
      ...["req", "-new", "-config", cnf, ...EC_KEY],
      ...["-keyout", pair.key, "-out", csr, "-subj", subject],
    ]);
    await openssl([
      ...["x509", "-req", "-in", csr, "-CA", ca, "-CAkey", caKey, "-set_serial", String(++serial)],
      ...["-days", String(VALID_DAYS), "-extfile", cnf, "-extensions", ext, "-out", pair.cert],
    ]);
    return pair;
  };
  const server = await issue("server", "localhost", "server");
  const clients = new Map<string, Promise<CertPair>>();
  return {
    dir,
    ca,
    server,
    client(name) {
      let pair = clients.get(name);
      if (!pair) {
        pair = issue(`client-${clients.size + 1}`, name, "client");
        clients.set(name, pair);
      }
      return pair;
    },
  };
}

/**
 * mqtt.js TLS options for a client of a broker using `pki`: trusts the CA, and presents the client
 * certificate with CN=`name` when a name is given.
 */
export async function tlsOptions(
  pki: Pki,
  name?: string,
): Promise<{ ca: Buffer; cert?: Buffer; key?: Buffer; rejectUnauthorized: true }> {
  const ca = readFileSync(pki.ca);
  if (name === undefined) return { ca, rejectUnauthorized: true };
  const pair = await pki.client(name);
  return { ca, cert: readFileSync(pair.cert), key: readFileSync(pair.key), rejectUnauthorized: true };
}

export interface MosquittoOptions {
  /** Where the config, password file and log go (created if missing). */
  dir: string;
  pki: Pki;
  /** ACL file applied to both listeners. Default: docs/examples/mosquitto/acl. */
  aclFile?: string;
  /** User → password for the plain listener (the TLS listener uses certificate CNs). Default: none. */
  passwords?: Record<string, string>;
  /** TLS listener port. Default: a free port. */
  port?: number;
  /** Plain (user/password) listener port. Default: a free port. */
  plainPort?: number;
}

/** One mosquitto process, restartable with the same config (and so the same ports). */
export interface MosquittoProcess {
  /** SIGTERM, then waits for the exit (SIGKILL after 5 s). Safe to call when already stopped. */
  stop(): Promise<void>;
  /** Starts it again on the same ports (after stop() or kill()): for broker-outage tests. */
  start(): Promise<void>;
  /** SIGKILL, at once: a broker crash. start() waits for the exit before starting again. */
  kill(): void;
  /** Its log file followed by anything it wrote to stdout/stderr. */
  log(): string;
}

export interface Mosquitto extends MosquittoProcess {
  tlsPort: number;
  plainPort: number;
  /** `mqtts://127.0.0.1:<tlsPort>` */
  tlsUrl: string;
  /** `mqtt://127.0.0.1:<plainPort>` */
  plainUrl: string;
}

/** How long start() waits for the ports to accept connections (ms). */
const START_TIMEOUT_MS = 10_000;
/** How long stop() waits after SIGTERM before SIGKILL (ms). */
const STOP_TIMEOUT_MS = 5_000;

const live = new Set<ChildProcess>();
let exitHookInstalled = false;

/**
 * Brokers must not outlive the test process: SIGKILL them on exit, and on SIGINT/SIGTERM/SIGHUP
 * (which skip "exit" handlers), then let the signal do what it would have done.
 */
function killAllOnExit(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  const killAll = () => {
    for (const p of live) p.kill("SIGKILL");
  };
  process.once("exit", killAll);
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    process.once(signal, () => {
      killAll();
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
    });
  }
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ port, host: "127.0.0.1" });
    s.once("connect", () => {
      s.destroy();
      resolve(true);
    });
    s.once("error", () => resolve(false));
  });
}

function mosquittoBinary(): string {
  if (process.env.MOSQUITTO) return process.env.MOSQUITTO;
  return existsSync("/usr/sbin/mosquitto") ? "/usr/sbin/mosquitto" : "mosquitto";
}

/**
 * Runs `mosquitto -c confFile`; resolves once every port in `ports` accepts TCP connections; rejects
 * with the broker's log if it exits first, logs an `Error:` while starting, or does not listen within
 * 10 s. The config must run it as the current user (`user root` when root, see startMosquitto).
 * `logFile` is the config's `log_dest file`, read back by log().
 */
export async function runMosquitto(o: {
  confFile: string;
  ports: number[];
  logFile?: string;
}): Promise<MosquittoProcess> {
  let proc: ChildProcess | undefined;
  let exited: Promise<unknown> = Promise.resolve();
  let output = "";
  const logText = () => {
    if (!o.logFile) return "";
    try {
      return readFileSync(o.logFile, "utf8");
    } catch {
      return "";
    }
  };
  const log = () => (output ? `${logText()}--- stdout/stderr\n${output}` : logText());
  const running = (p: ChildProcess | undefined): boolean =>
    p !== undefined && p.exitCode === null && p.signalCode === null;

  const start = async () => {
    if (running(proc) && !proc!.killed) return;
    await exited; // after kill(): the old process must have let go of the ports
    killAllOnExit();
    output += "--- start\n";
    const logFrom = logText().length;
    const outputFrom = output.length;
    const p = spawn(mosquittoBinary(), ["-c", o.confFile], { stdio: ["ignore", "pipe", "pipe"] });
    proc = p;
    live.add(p);
    exited = new Promise((r) => p.once("exit", r));
    p.once("exit", () => live.delete(p));
    p.stdout!.on("data", (d) => {
      output += d;
    });
    p.stderr!.on("data", (d) => {
      output += d;
    });
    const until = Date.now() + START_TIMEOUT_MS;
    for (;;) {
      if (!running(p)) throw new Error(`mosquitto exited (${p.exitCode ?? p.signalCode}):\n${log()}`);
      const ready = await Promise.all(o.ports.map(accepts));
      if (ready.every(Boolean)) break;
      if (Date.now() > until) {
        p.kill("SIGKILL");
        throw new Error(`mosquitto did not listen on ${o.ports.join(", ")}:\n${log()}`);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    // Belt and braces: anything it logged as an error while starting fails the start.
    if (/^(?:\S+: )?Error:/m.test(logText().slice(logFrom) + output.slice(outputFrom))) {
      p.kill("SIGKILL");
      throw new Error(`mosquitto logged an error:\n${log()}`);
    }
  };
  const stop = async () => {
    const p = proc;
    if (!p || !running(p)) return;
    p.kill("SIGTERM");
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([exited, new Promise((r) => (timer = setTimeout(r, STOP_TIMEOUT_MS)))]);
    clearTimeout(timer);
    if (running(p)) {
      p.kill("SIGKILL");
      await exited;
    }
  };
  await start();
  return {
    start,
    stop,
    kill() {
      if (running(proc)) proc!.kill("SIGKILL");
    },
    log,
  };
}

async function writePasswords(file: string, passwords: Record<string, string>): Promise<void> {
  writeFileSync(file, "", { mode: 0o600 });
  for (const [user, password] of Object.entries(passwords)) {
    await run("mosquitto_passwd", ["-b", file, user, password]);
  }
}

/**
 * Starts mosquitto with a TLS listener (client certificate required, its CN is the user name) and a
 * plain user/password listener, both on 127.0.0.1, both under `aclFile`. Resolves once both listen.
 */
export async function startMosquitto(o: MosquittoOptions): Promise<Mosquitto> {
  const tlsPort = o.port ?? (await freePort());
  const plainPort = o.plainPort ?? (await freePort());
  mkdirSync(o.dir, { recursive: true });
  const passwordFile = join(o.dir, `mosquitto-${tlsPort}.passwd`);
  await writePasswords(passwordFile, o.passwords ?? {});
  const logFile = join(o.dir, `mosquitto-${tlsPort}.log`);
  const confFile = join(o.dir, `mosquitto-${tlsPort}.conf`);
  writeFileSync(
    confFile,
    [
      ...runAsMe(),
      "per_listener_settings false",
      "allow_anonymous false",
      `acl_file ${o.aclFile ?? EXAMPLE_ACL}`,
      `password_file ${passwordFile}`,
      "persistence false",
      "set_tcp_nodelay true",
      `log_dest file ${logFile}`,
      "log_type all",
      "connection_messages true",
      "log_timestamp_format %H:%M:%S",
      "",
      `listener ${tlsPort} 127.0.0.1`,
      `cafile ${o.pki.ca}`,
      `certfile ${o.pki.server.cert}`,
      `keyfile ${o.pki.server.key}`,
      "require_certificate true",
      "use_identity_as_username true",
      "",
      `listener ${plainPort} 127.0.0.1`,
      "",
    ].join("\n"),
  );
  const broker = await runMosquitto({ confFile, ports: [tlsPort, plainPort], logFile });
  return {
    ...broker,
    tlsPort,
    plainPort,
    tlsUrl: `mqtts://127.0.0.1:${tlsPort}`,
    plainUrl: `mqtt://127.0.0.1:${plainPort}`,
  };
}

/**
 * Config lines that keep mosquitto running as the current user. mosquitto 2.0.11 started as root
 * switches to user `mosquitto` unless `user` says otherwise, and that user cannot read a root-owned
 * temp dir; for any other user `user` has no effect.
 */
export function runAsMe(): string[] {
  return process.getuid?.() === 0 ? ["user root"] : [];
}
