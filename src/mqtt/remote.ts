/**
 * `bts-site remote --broker URL --site ID [--base-topic bts] COMMAND [JSON]`: the NOC side of one
 * request on the command line (contract, section 1). Prints the response (one JSON line) and exits
 * 0 on `ok`, 1 on `error`, 3 on timeout, 2 on a usage error.
 *
 * MQTT 5: the request carries a response topic under the site's `response/` tree (so a per-site ACL
 * lets the site answer there) and correlation data; MQTT 3.1.1 (`--protocol 4`): the response is
 * matched on `{base}/response/<command>` by its `transaction`. A `transaction` is generated unless the
 * JSON has one (repeat it to get the first answer again without running the command twice).
 */
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import mqtt, { type IClientOptions } from "mqtt";
import { errorText } from "../core/errors.js";

const USAGE = `usage: bts-site remote --broker URL --site ID [options] COMMAND [JSON]

  --broker URL        mqtt://, mqtts://, ws:// or wss:// URL of the NOC's broker
  --site ID           the site's id
  --base-topic NAME   default bts
  --timeout SECONDS   default 30
  --protocol 4|5      MQTT 3.1.1 or 5 (default 5)
  --username NAME, --password TEXT, --ca FILE, --cert FILE, --key FILE
  COMMAND             e.g. health_check, info, sms/send, config/set
  JSON                the arguments, e.g. '{"to":"+256700000001","text":"hi"}'
`;

export interface RemoteRequest {
  broker: string;
  site: string;
  baseTopic?: string;
  command: string;
  args?: Record<string, unknown>;
  timeoutMs?: number;
  protocol?: 4 | 5;
  username?: string;
  password?: string;
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
}

export type RemoteResult =
  | { kind: "response"; response: { status: string; [k: string]: unknown } }
  | { kind: "timeout" };

/** Sends one request and waits for its response. Throws when the broker cannot be reached. */
export async function remoteRequest(r: RemoteRequest): Promise<RemoteResult> {
  const base = `${r.baseTopic ?? "bts"}/${r.site}`;
  const protocol = r.protocol ?? 5;
  const args: Record<string, unknown> = { ...(r.args ?? {}) };
  if (args.transaction === undefined) args.transaction = randomBytes(8).toString("hex");
  const transaction = String(args.transaction);
  const correlation = randomBytes(8);
  const responseTopic =
    protocol === 5
      ? `${base}/response/${r.command}/${correlation.toString("hex")}`
      : `${base}/response/${r.command}`;
  const opts: IClientOptions = {
    protocolVersion: protocol,
    clientId: `bts-remote-${randomBytes(4).toString("hex")}`,
    reconnectPeriod: 0,
    connectTimeout: r.timeoutMs ?? 30_000,
    clean: true,
  };
  if (r.username !== undefined) opts.username = r.username;
  if (r.password !== undefined) opts.password = r.password;
  if (r.ca) opts.ca = r.ca;
  if (r.cert) opts.cert = r.cert;
  if (r.key) opts.key = r.key;
  const client = mqtt.connect(r.broker, opts);
  try {
    await new Promise<void>((resolve, reject) => {
      client.once("connect", () => resolve());
      client.once("error", reject);
      client.once("close", () => reject(new Error(`cannot connect to ${r.broker}`)));
    });
    client.removeAllListeners("error");
    client.removeAllListeners("close");
    client.on("error", () => {});
    const answer = new Promise<RemoteResult>((resolve) => {
      const timer = setTimeout(() => resolve({ kind: "timeout" }), r.timeoutMs ?? 30_000);
      client.on("message", (topic, payload, packet) => {
        if (topic !== responseTopic) return;
        let parsed: { status: string; transaction?: unknown };
        try {
          parsed = JSON.parse(payload.toString("utf8"));
        } catch {
          return;
        }
        const byCorrelation = packet.properties?.correlationData?.equals(correlation) === true;
        if (!byCorrelation && String(parsed.transaction) !== transaction) return;
        clearTimeout(timer);
        resolve({ kind: "response", response: parsed });
      });
    });
    await client.subscribeAsync(responseTopic, { qos: 1 });
    await client.publishAsync(`${base}/request/${r.command}`, JSON.stringify(args), {
      qos: 1,
      ...(protocol === 5 ? { properties: { responseTopic, correlationData: correlation } } : {}),
    });
    return await answer;
  } finally {
    await client.endAsync(true).catch(() => {});
  }
}

export async function remoteCommand(
  argv: string[],
  out: (line: string) => void = (l) => process.stdout.write(`${l}\n`),
): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (err) {
    process.stderr.write(`bts-site remote: ${errorText(err)}\n${USAGE}`);
    return 2;
  }
  try {
    const result = await remoteRequest(parsed);
    if (result.kind === "timeout") {
      process.stderr.write(`bts-site remote: no response within ${(parsed.timeoutMs ?? 30_000) / 1000} s\n`);
      return 3;
    }
    out(JSON.stringify(result.response));
    return result.response.status === "ok" ? 0 : 1;
  } catch (err) {
    process.stderr.write(`bts-site remote: ${errorText(err)}\n`);
    return 1;
  }
}

function parse(argv: string[]): RemoteRequest {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      broker: { type: "string" },
      site: { type: "string" },
      "base-topic": { type: "string" },
      timeout: { type: "string" },
      protocol: { type: "string" },
      username: { type: "string" },
      password: { type: "string" },
      ca: { type: "string" },
      cert: { type: "string" },
      key: { type: "string" },
    },
  });
  if (!values.broker) throw new Error("--broker is required");
  if (!values.site) throw new Error("--site is required");
  const [command, json, ...rest] = positionals;
  if (!command || rest.length > 0) throw new Error("one COMMAND and at most one JSON argument");
  let args: Record<string, unknown> = {};
  if (json !== undefined) {
    const v: unknown = JSON.parse(json);
    if (v === null || typeof v !== "object" || Array.isArray(v)) throw new Error("JSON must be an object");
    args = v as Record<string, unknown>;
  }
  const timeout = values.timeout === undefined ? 30 : Number(values.timeout);
  if (!(timeout > 0)) throw new Error("--timeout takes a number of seconds");
  const protocol = values.protocol === undefined ? 5 : Number(values.protocol);
  if (protocol !== 4 && protocol !== 5) throw new Error("--protocol is 4 or 5");
  const r: RemoteRequest = {
    broker: values.broker,
    site: values.site,
    command,
    args,
    timeoutMs: timeout * 1000,
    protocol,
  };
  if (values["base-topic"]) r.baseTopic = values["base-topic"];
  if (values.username) r.username = values.username;
  if (values.password) r.password = values.password;
  if (values.ca) r.ca = readFileSync(values.ca);
  if (values.cert) r.cert = readFileSync(values.cert);
  if (values.key) r.key = readFileSync(values.key);
  return r;
}
