import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";

const STACK = fileURLToPath(new URL("../../src/sip/stack.ts", import.meta.url));

/**
 * A process that starts two stacks, exchanges MESSAGEs over TCP (stack to stack, and a raw client
 * to a stack), stops both and must then end by itself: an unref'd timer reports what still holds
 * the event loop and exits 3 if it is still alive one second later.
 */
const CHILD = `
import { connect } from "node:net";
import { once } from "node:events";
import { silentLogger } from "${fileURLToPath(new URL("../../src/core/logger.ts", import.meta.url))}";
import { newCallId, newTag, startSipStack } from "${STACK}";

const server = await startSipStack({
  address: "127.0.0.1", port: 0, logger: silentLogger(),
  onRequest: (req) => server.respond(req, 200, "OK"),
});
const client = await startSipStack({ address: "127.0.0.1", port: 0, logger: silentLogger(), onRequest: () => {} });

const res = await new Promise((resolve) => client.send({
  method: "MESSAGE", uri: "sip:x@127.0.0.1:" + server.port + ";transport=tcp",
  headers: { via: [], to: { uri: "sip:x@127.0.0.1", params: {} }, from: { uri: "sip:y@127.0.0.1", params: { tag: newTag() } },
    "call-id": newCallId("child"), cseq: { seq: 1, method: "MESSAGE" } },
  content: "Привет 👋",
}, (r) => { if (r.status >= 200) resolve(r); }));
if (res.status !== 200) throw new Error("stack to stack: " + res.status);

const raw = connect(server.port, "127.0.0.1");
await once(raw, "connect");
const body = Buffer.from("hi");
raw.write("MESSAGE sip:x@127.0.0.1 SIP/2.0\\r\\nVia: SIP/2.0/TCP 127.0.0.1:" + raw.localPort + ";branch=z9hG4bK" + newTag() +
  "\\r\\nFrom: <sip:a@127.0.0.1>;tag=" + newTag() + "\\r\\nTo: <sip:x@127.0.0.1>\\r\\nCall-ID: " + newCallId("raw") +
  "\\r\\nCSeq: 1 MESSAGE\\r\\nContent-Length: " + body.length + "\\r\\n\\r\\n" + body);
let answer = "";
raw.on("data", (d) => { answer += d; });
while (!answer.includes("200 OK")) await new Promise((r) => setTimeout(r, 5));
const rawClosed = once(raw, "close");

await client.stop();
await server.stop();
await rawClosed;
console.log("stopped");
setTimeout(() => {
  console.log("still alive: " + JSON.stringify(process.getActiveResourcesInfo()));
  process.exit(3);
}, 1000).unref();
`;

describe("SIP stack, bug 5: nothing is left open after stop()", () => {
  it("lets the process end by itself within a second of stop()", async () => {
    const child = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", CHILD], {
      cwd: fileURLToPath(new URL("../..", import.meta.url)),
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    child.stdout.on("data", (d) => {
      out += d;
    });
    child.stderr.on("data", (d) => {
      err += d;
    });
    const killer = setTimeout(() => child.kill("SIGKILL"), 20_000);
    const code = await new Promise<number | null>((resolve) => child.on("exit", (c) => resolve(c)));
    clearTimeout(killer);
    assert.equal(code, 0, `exit code ${code}; stdout: ${out}; stderr: ${err}`);
    assert.equal(out.trim(), "stopped");
  });
});
