// A SIP MESSAGE sender in its own process, as a sender on another host would be: raw UDP datagrams
// written here (no SIP stack), RFC 3261 non-INVITE client timing (retransmit from 500 ms, doubling
// up to 4 s, give up after 32 s), answers matched by Call-ID. Driven over IPC by scripts/bench.js:
// { op: "warm" | "paced" | "burst" | "stop", args } → the result. Used by the sip_message_accept part.
import { randomBytes } from "node:crypto";
import dgram from "node:dgram";
import { performance } from "node:perf_hooks";

const socket = dgram.createSocket("udp4");
await new Promise((r) => socket.bind(0, "127.0.0.1", r));
const localPort = socket.address().port;
const pending = new Map();
const T1 = 500;
const prefix = randomBytes(4).toString("hex");
let counter = 0;

socket.on("message", (msg) => {
  const text = msg.toString("latin1");
  const status = /^SIP\/2\.0 (\d{3})/.exec(text);
  const callId = /\r\n(?:call-id|i)[ \t]*:[ \t]*([^\r\n]+)/i.exec(text);
  if (!status || !callId) return;
  const p = pending.get(callId[1].trim());
  const code = Number(status[1]);
  if (p === undefined || code < 200) return;
  pending.delete(p.callId);
  clearTimeout(p.timer);
  p.resolve({ status: code, t0: p.t0, t: performance.now(), retransmitted: p.sends - 1 });
});

function message(port, to, text) {
  const n = ++counter;
  const callId = `${prefix}-${n}@127.0.0.1`;
  const body = Buffer.from(text, "utf8");
  const uri = `sip:${to}@127.0.0.1:${port}`;
  const head =
    `MESSAGE ${uri} SIP/2.0\r\n` +
    `Via: SIP/2.0/UDP 127.0.0.1:${localPort};branch=z9hG4bK${prefix}${n};rport\r\n` +
    "Max-Forwards: 70\r\n" +
    `From: <sip:bench@127.0.0.1:${localPort}>;tag=${prefix}${n}\r\n` +
    `To: <${uri}>\r\n` +
    `Call-ID: ${callId}\r\n` +
    "CSeq: 1 MESSAGE\r\n" +
    "Content-Type: text/plain;charset=UTF-8\r\n" +
    `Content-Length: ${body.length}\r\n\r\n`;
  const datagram = Buffer.concat([Buffer.from(head, "latin1"), body]);
  return new Promise((resolve) => {
    const p = { callId, resolve, t0: performance.now(), sends: 0, timer: undefined };
    let interval = T1;
    const send = () => {
      if (performance.now() - p.t0 >= 64 * T1) {
        pending.delete(callId);
        resolve({ status: 408, t0: p.t0, t: performance.now(), retransmitted: p.sends - 1 });
        return;
      }
      p.sends++;
      socket.send(datagram, port, "127.0.0.1");
      p.timer = setTimeout(send, interval);
      interval = Math.min(interval * 2, 8 * T1);
    };
    pending.set(callId, p);
    send();
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const number = (i) => `+2567720${String(i % 100_000).padStart(5, "0")}`;

async function burst(port, n, window, first, text) {
  const results = [];
  let next = 0;
  const t0 = performance.now();
  await new Promise((resolve) => {
    const launch = () => {
      const i = next++;
      message(port, number(first + i), text).then((r) => {
        results.push(r);
        if (next < n) launch();
        else if (results.length === n) resolve();
      });
    };
    for (let k = 0; k < Math.min(window, n); k++) launch();
  });
  return { results, elapsedMs: performance.now() - t0 };
}

async function paced(port, rate, seconds, first, text) {
  const n = rate * seconds;
  const interval = 1000 / rate;
  const results = [];
  const late = [];
  const waits = [];
  const t0 = performance.now() + 20;
  for (let i = 0; i < n; i++) {
    const due = t0 + i * interval;
    const wait = due - performance.now();
    if (wait > 0.5) await sleep(wait);
    late.push(Math.max(0, performance.now() - due));
    waits.push(message(port, number(first + i), text).then((r) => results.push(r)));
  }
  const sentMs = performance.now() - t0;
  await Promise.all(waits);
  return { results, late, sentMs };
}

process.on("message", async ({ op, args }) => {
  if (op === "warm") {
    const [port, text] = args;
    for (let i = 0; i < 50; i++) await message(port, number(90_000 + i), text);
    process.send(null);
  } else if (op === "paced") process.send(await paced(...args));
  else if (op === "burst") process.send(await burst(...args));
  else if (op === "stop") {
    socket.close();
    process.send(null, () => process.exit(0));
  }
});
process.send("ready");
