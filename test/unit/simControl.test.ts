import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { SimControlServer } from "../../src/sim/control.js";
import type { ModemSimulator } from "../../src/sim/simulator.js";

/** Only what the ops under test touch; the real simulator is covered by the integration tests. */
function fakeSim() {
  const calls: unknown[][] = [];
  const sim = {
    state: () => ({ powered: true }),
    cmsErrors: (code: number, count: number) => calls.push(["cmsErrors", code, count]),
    injectSms: (pdu: string, opts: unknown) => {
      calls.push(["injectSms", pdu, opts]);
      return 3;
    },
    setPower: (on: boolean) => calls.push(["setPower", on]),
    hang: () => {
      throw new Error("boom");
    },
  };
  return { server: new SimControlServer(sim as unknown as ModemSimulator, "/nonexistent"), calls };
}

describe("SimControlServer.handle", () => {
  it("answers an op with its result and echoes the id", async () => {
    const { server } = fakeSim();
    assert.deepEqual(await server.handle('{"id":7,"op":"state"}'), {
      id: 7,
      ok: true,
      result: { powered: true },
    });
  });
  it("maps snake_case args to the test API", async () => {
    const { server, calls } = fakeSim();
    await server.handle('{"id":1,"op":"cms_errors","args":{"code":332}}');
    assert.deepEqual(await server.handle('{"id":2,"op":"inject_sms","args":{"pdu":"00","mode":"cmt"}}'), {
      id: 2,
      ok: true,
      result: { index: 3 },
    });
    await server.handle('{"id":3,"op":"power","args":{"on":false}}');
    assert.deepEqual(calls, [
      ["cmsErrors", 332, 1],
      ["injectSms", "00", { mode: "cmt", storage: undefined }],
      ["setPower", false],
    ]);
  });
  const bad: [string, string, RegExp][] = [
    ["bad JSON", "{nope", /bad JSON/],
    ["an unknown op", '{"id":1,"op":"explode"}', /unknown op/],
    ["an inherited name", '{"id":1,"op":"toString"}', /unknown op/],
    ["a missing argument", '{"id":1,"op":"cms_errors","args":{}}', /code must be a number/],
    ["a wrong argument type", '{"id":1,"op":"power","args":{"on":"yes"}}', /boolean/],
    ["a bad mode", '{"id":1,"op":"inject_sms","args":{"pdu":"00","mode":"x"}}', /cmti or cmt/],
    ["a throwing op", '{"id":1,"op":"hang"}', /boom/],
  ];
  for (const [what, line, error] of bad) {
    it(`answers ${what} with an error reply instead of crashing`, async () => {
      const reply = await server().handle(line);
      assert.equal(reply.ok, false);
      assert.match(reply.error ?? "", error);
    });
  }
  function server() {
    return fakeSim().server;
  }
});
