/**
 * The mosquitto harness and the per-site ACL we ship (docs/examples/mosquitto/acl) against a real
 * broker (Debian's mosquitto 2.0.11) with mqtt.js clients, MQTT 5 and 3.1.1: sites confined to
 * bts/<site_id>/..., identified by their certificate's CN on TLS or by user/password on the plain port.
 */
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import mqtt, { type IClientOptions, type MqttClient } from "mqtt";
import { tempDir, waitFor } from "../helpers/fleetHarness.js";
import { freePort } from "../helpers/kamailio.js";
import {
  EXAMPLE_ACL,
  type Mosquitto,
  makePki,
  type Pki,
  runAsMe,
  runMosquitto,
  startMosquitto,
  tlsOptions,
} from "../helpers/mosquitto.js";

const EXAMPLE_CONF = new URL("../../docs/examples/mosquitto/mosquitto.conf", import.meta.url).pathname;
/** What a site publishes under bts/<site_id>/ (CONTRACT.md section 3). */
const SITE_TOPICS = ["availability", "info", "state", "telemetry", "modem/m1", "event/x", "response/info"];

interface Received {
  topic: string;
  payload: string;
}

let root: ReturnType<typeof tempDir>;
let pki: Pki;
let broker: Mosquitto;
/** The NOC, over TLS with its certificate (CN=noc), subscribed to bts/#. */
let noc: MqttClient;
const nocGot: Received[] = [];
const clients: MqttClient[] = [];

/** Connects (no automatic reconnect unless asked); the client is ended after the file's tests. */
async function connect(url: string, opts: IClientOptions): Promise<MqttClient> {
  const c = await mqtt.connectAsync(url, { reconnectPeriod: 0, connectTimeout: 5000, ...opts });
  clients.push(c);
  return c;
}

/** Connects expecting a refusal; resolves with the error and closes the client for good. */
function refusal(url: string, opts: IClientOptions): Promise<Error & { code?: string | number }> {
  return new Promise((resolve, reject) => {
    const c = mqtt.connect(url, { reconnectPeriod: 0, connectTimeout: 5000, ...opts });
    c.once("connect", () => {
      c.end(true);
      reject(new Error("connected, expected a refusal"));
    });
    c.once("error", (e) => {
      c.end(true);
      resolve(e);
    });
  });
}

function collect(c: MqttClient): Received[] {
  const got: Received[] = [];
  c.on("message", (topic, payload) => got.push({ topic, payload: payload.toString() }));
  return got;
}

const site = async (name: string, protocolVersion: 4 | 5) =>
  connect(broker.tlsUrl, { ...(await tlsOptions(pki, name)), protocolVersion });

function seen(got: Received[], topic: string, payload?: string): boolean {
  return got.some((m) => m.topic === topic && (payload === undefined || m.payload === payload));
}

before(async () => {
  root = tempDir("mosquitto");
  pki = await makePki(root.dir);
  broker = await startMosquitto({
    dir: root.dir,
    pki,
    passwords: { "site-b": "secret-b", noc: "secret-noc" },
  });
  noc = await connect(broker.tlsUrl, { ...(await tlsOptions(pki, "noc")), protocolVersion: 5 });
  noc.on("message", (topic, payload) => nocGot.push({ topic, payload: payload.toString() }));
  await noc.subscribeAsync("bts/#", { qos: 1 });
});

after(async () => {
  await Promise.all(clients.map((c) => c.endAsync(true).catch(() => {})));
  await broker?.stop();
  root?.cleanup();
});

describe("mosquitto with the example ACL", () => {
  for (const v of [5, 4] as const) {
    it(`delivers what a site publishes under its own tree to the NOC (MQTT ${v === 5 ? "5" : "3.1.1"}, TLS, CN as user)`, async () => {
      const a = await site("site-a", v);
      for (const sub of SITE_TOPICS) {
        await a.publishAsync(`bts/site-a/${sub}`, `own-${v}`, { qos: 1 });
      }
      for (const sub of SITE_TOPICS) {
        await waitFor(`bts/site-a/${sub}`, () => seen(nocGot, `bts/site-a/${sub}`, `own-${v}`));
      }
    });
  }

  it("refuses a site's MQTT 5 publish into another site's tree with PUBACK 0x87 and delivers nothing", async () => {
    const a = await site("site-a", 5);
    await assert.rejects(a.publishAsync("bts/site-b/event/x", "spoof-5", { qos: 1 }), { code: 0x87 });
    // QoS 2: PUBREC 0x87. QoS 0: no answer at all.
    await assert.rejects(a.publishAsync("bts/site-b/event/x", "spoof-5", { qos: 2 }), { code: 0x87 });
    await a.publishAsync("bts/site-b/event/x", "spoof-5", { qos: 0 });
    // Not its own request tree either: a site cannot forge requests, even to itself.
    await assert.rejects(a.publishAsync("bts/site-a/request/info", "spoof-5", { qos: 1 }), { code: 0x87 });
    // The same connection goes on working; once its next message is through, the earlier ones are not.
    await a.publishAsync("bts/site-a/event/after-spoof", "5", { qos: 1 });
    await waitFor("the message after the refused ones", () =>
      seen(nocGot, "bts/site-a/event/after-spoof", "5"),
    );
    assert.equal(nocGot.filter((m) => m.payload === "spoof-5").length, 0);
    assert.match(broker.log(), /Denied PUBLISH from \S+ \(d0, q1, r0, m\d+, 'bts\/site-b\/event\/x'/);
  });

  it("acknowledges a site's MQTT 3.1.1 publish into another site's tree like any other and delivers nothing", async () => {
    const a = await site("site-a", 4);
    // MQTT 3.1.1 has no reason code in PUBACK: the site cannot tell it was refused.
    await a.publishAsync("bts/site-b/event/x", "spoof-4", { qos: 1 });
    await a.publishAsync("bts/site-b/event/x", "spoof-4", { qos: 2 });
    await a.publishAsync("bts/site-a/event/after-spoof", "4", { qos: 1 });
    await waitFor("the message after the refused ones", () =>
      seen(nocGot, "bts/site-a/event/after-spoof", "4"),
    );
    assert.equal(nocGot.filter((m) => m.payload === "spoof-4").length, 0);
  });

  it("grants a site's subscription to every site's requests but delivers only its own", async () => {
    for (const v of [5, 4] as const) {
      const a = await site("site-a", v);
      const got = collect(a);
      const granted = await a.subscribeAsync("bts/+/request/#", { qos: 1 });
      assert.deepEqual(
        granted.map((g) => g.qos),
        [1],
      );
      await noc.publishAsync("bts/site-b/request/info", `{"transaction":"b${v}"}`, { qos: 1 });
      await noc.publishAsync("bts/site-a/request/info", `{"transaction":"a${v}"}`, { qos: 1 });
      await waitFor("site-a's own request", () =>
        seen(got, "bts/site-a/request/info", `{"transaction":"a${v}"}`),
      );
      assert.deepEqual(
        got.map((m) => m.topic),
        ["bts/site-a/request/info"],
      );
    }
  });

  it("does not let a site read another site's status, even retained", async () => {
    const a = await site("site-a", 5);
    const got = collect(a);
    await noc.publishAsync("bts/site-b/state", '{"retained":true}', { qos: 1, retain: true });
    await a.subscribeAsync("bts/#", { qos: 1 });
    await noc.publishAsync("bts/site-a/request/ping", "{}", { qos: 1 });
    await waitFor("site-a's own request", () => seen(got, "bts/site-a/request/ping"));
    assert.deepEqual(
      got.map((m) => m.topic),
      ["bts/site-a/request/ping"],
    );
    await noc.publishAsync("bts/site-b/state", "", { qos: 1, retain: true });
  });

  it("lets a site answer an MQTT 5 request on a response_topic under its response tree, and nowhere else", async () => {
    const a = await site("site-a", 5);
    const refused: { topic: string; code: number | undefined }[] = [];
    a.on("message", (_topic, payload, packet) => {
      const { responseTopic, correlationData } = packet.properties ?? {};
      if (!responseTopic) return;
      void a
        .publishAsync(responseTopic, `answer-to-${payload}`, { qos: 1, properties: { correlationData } })
        .catch((e: { code?: number }) => refused.push({ topic: responseTopic, code: e.code }));
    });
    await a.subscribeAsync("bts/site-a/request/#", { qos: 1 });
    const ask = (responseTopic: string, id: string) =>
      noc.publishAsync("bts/site-a/request/info", id, {
        qos: 1,
        properties: { responseTopic, correlationData: Buffer.from(id) },
      });
    await ask("noc/replies/1", "r1");
    await ask("bts/site-a/response/noc-7f3a/info", "r2");
    await waitFor("the answer under response/", () =>
      seen(nocGot, "bts/site-a/response/noc-7f3a/info", "answer-to-r2"),
    );
    await waitFor("the refused answer", () => refused.length === 1);
    assert.deepEqual(refused, [{ topic: "noc/replies/1", code: 0x87 }]);
  });

  it("publishes a site's last will on its availability topic, and drops a will aimed at another site", async () => {
    const will = (topic: string) => ({
      topic,
      payload: Buffer.from('{"state":"offline"}'),
      qos: 1 as const,
      retain: true,
    });
    const a = await connect(broker.tlsUrl, {
      ...(await tlsOptions(pki, "site-a")),
      protocolVersion: 5,
      will: will("bts/site-a/availability"),
    });
    const spoof = await connect(broker.tlsUrl, {
      ...(await tlsOptions(pki, "site-a")),
      protocolVersion: 5,
      will: will("bts/site-b/availability"),
    });
    // end(true) drops the connection without DISCONNECT: what a lost uplink looks like to the broker.
    a.end(true);
    spoof.end(true);
    await waitFor("site-a's will", () => seen(nocGot, "bts/site-a/availability", '{"state":"offline"}'));
    // mosquitto accepted the foreign will at CONNECT (CONNACK 0) and drops it silently when the
    // connection goes. Once it has logged the drop, a marker sent after it shows nothing came before.
    const id = spoof.options.clientId!;
    await waitFor("the spoofing client gone", () =>
      broker.log().includes(`Client ${id} closed its connection.`),
    );
    await noc.publishAsync("bts/site-b/event/marker", id, { qos: 1 });
    await waitFor("the marker", () => seen(nocGot, "bts/site-b/event/marker", id));
    assert.equal(seen(nocGot, "bts/site-b/availability"), false);
  });

  it("lets a certificate whose CN holds a '/' reach into another site's tree (so the CA must never sign one)", async () => {
    const odd = await site("site-b/event", 5);
    await odd.publishAsync("bts/site-b/event/event/forged", "odd-cn", { qos: 1 });
    await waitFor("the forged event", () => seen(nocGot, "bts/site-b/event/event/forged", "odd-cn"));
  });

  it("refuses a TLS client without a certificate, or with one from another CA", async () => {
    // TLS 1.3: the client's handshake completes, then the broker's alert arrives.
    const noCert = await refusal(broker.tlsUrl, await tlsOptions(pki));
    assert.equal(noCert.code, "ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED");
    const forged = await (await makePki(join(root.dir, "rogue"))).client("noc");
    const otherCa = await refusal(broker.tlsUrl, {
      ca: readFileSync(pki.ca),
      cert: readFileSync(forged.cert),
      key: readFileSync(forged.key),
    });
    assert.equal(otherCa.code, "ERR_SSL_TLSV1_ALERT_UNKNOWN_CA");
  });

  it("applies the same ACL to a user/password client on the plain port", async () => {
    const b = await connect(broker.plainUrl, {
      username: "site-b",
      password: "secret-b",
      protocolVersion: 5,
    });
    const got = collect(b);
    await b.subscribeAsync("bts/+/request/#", { qos: 1 });
    await b.publishAsync("bts/site-b/event/plain", "from-b", { qos: 1 });
    await assert.rejects(b.publishAsync("bts/site-a/event/plain", "spoof-b", { qos: 1 }), { code: 0x87 });
    await noc.publishAsync("bts/site-a/request/info", "for-a", { qos: 1 });
    await noc.publishAsync("bts/site-b/request/info", "for-b", { qos: 1 });
    await waitFor("site-b's event", () => seen(nocGot, "bts/site-b/event/plain", "from-b"));
    await waitFor("site-b's request", () => seen(got, "bts/site-b/request/info", "for-b"));
    assert.deepEqual(
      got.map((m) => m.payload),
      ["for-b"],
    );
    assert.equal(seen(nocGot, "bts/site-a/event/plain"), false);
    // The NOC may use the plain port too.
    const nocPlain = await connect(broker.plainUrl, {
      username: "noc",
      password: "secret-noc",
      protocolVersion: 4,
    });
    await nocPlain.publishAsync("bts/site-b/request/info", "for-b-again", { qos: 1 });
    await waitFor("site-b's second request", () => seen(got, "bts/site-b/request/info", "for-b-again"));
  });

  it("refuses a wrong password and an anonymous client on the plain port", async () => {
    for (const opts of [{ username: "site-b", password: "wrong" }, {}]) {
      const e = await refusal(broker.plainUrl, { ...opts, protocolVersion: 5 });
      assert.equal(e.code, 0x87);
    }
  });
});

describe("mosquitto restarts", () => {
  it("takes reconnecting clients back after stop() and start(), and after kill() and start(), on the same ports", async () => {
    const b2 = await startMosquitto({ dir: root.dir, pki });
    try {
      const reconnect = { reconnectPeriod: 100, protocolVersion: 5 as const };
      const n = await connect(b2.tlsUrl, { ...(await tlsOptions(pki, "noc")), ...reconnect });
      const got = collect(n);
      await n.subscribeAsync("bts/#", { qos: 1 });
      const a = await connect(b2.tlsUrl, { ...(await tlsOptions(pki, "site-a")), ...reconnect });
      let connects = 0;
      a.on("connect", () => connects++);
      for (const [i, outage] of [
        [1, () => b2.stop()],
        [2, async () => b2.kill()],
      ] as const) {
        await outage();
        await waitFor("site-a offline", () => !a.connected);
        await b2.start();
        await waitFor("site-a back", () => connects === i && a.connected);
        await waitFor("noc back", () => n.connected);
        // mqtt.js resubscribes on reconnect; give the SUBSCRIBE a moment by retrying the publish.
        await waitFor(`event after outage ${i}`, () => {
          if (!seen(got, "bts/site-a/event/back", String(i))) {
            void a.publishAsync("bts/site-a/event/back", String(i), { qos: 1 }).catch(() => {});
            return false;
          }
          return true;
        });
      }
      assert.match(b2.log(), /--- start\n[\s\S]*--- start\n[\s\S]*--- start\n/);
    } finally {
      await b2.stop();
    }
  });
});

describe("the example mosquitto.conf", () => {
  it("starts mosquitto 2.0 with the example ACL and lets a site with a certificate reach the NOC", async () => {
    const port = await freePort();
    const dir = root.dir;
    const conf = readFileSync(EXAMPLE_CONF, "utf8")
      .replace(/^listener 8883$/m, `listener ${port} 127.0.0.1`)
      .replaceAll("/etc/mosquitto/bts-site/acl", EXAMPLE_ACL)
      .replaceAll("/etc/mosquitto/bts-site/ca.crt", pki.ca)
      .replaceAll("/etc/mosquitto/bts-site/server.crt", pki.server.cert)
      .replaceAll("/etc/mosquitto/bts-site/server.key", pki.server.key)
      .replaceAll("/var/lib/mosquitto/", `${dir}/`)
      .replaceAll("/var/log/mosquitto/mosquitto.log", join(dir, "example.log"));
    assert.doesNotMatch(conf, /^[^#].*(?:\/etc\/|\/var\/)/m);
    const confFile = join(dir, "example.conf");
    writeFileSync(confFile, `${runAsMe().join("\n")}\n${conf}`);
    const ex = await runMosquitto({ confFile, ports: [port], logFile: join(dir, "example.log") });
    try {
      const url = `mqtts://127.0.0.1:${port}`;
      const n = await connect(url, { ...(await tlsOptions(pki, "noc")), protocolVersion: 5 });
      const got = collect(n);
      await n.subscribeAsync("bts/#", { qos: 1 });
      const a = await connect(url, { ...(await tlsOptions(pki, "site-a")), protocolVersion: 5 });
      await assert.rejects(a.publishAsync("bts/site-b/event/x", "spoof", { qos: 1 }), { code: 0x87 });
      await a.publishAsync("bts/site-a/event/x", "hello", { qos: 1 });
      await waitFor("site-a's event", () => seen(got, "bts/site-a/event/x", "hello"));
      assert.match(ex.log(), /u'site-a'/);
    } finally {
      await ex.stop();
    }
  });
});
