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
    injectText: (from: string, text: string, opts: unknown) => {
      calls.push(["injectText", from, text, opts]);
      return [4, 5];
    },
    statusReports: (settings: unknown) => {
      calls.push(["statusReports", settings]);
    },
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
  it("maps inject_text to injectText and answers the indices", async () => {
    const { server, calls } = fakeSim();
    const line = JSON.stringify({
      id: 4,
      op: "inject_text",
      args: {
        from: "+256772000001",
        text: "hello",
        order: [3, 1, 2],
        ref: 7,
        ref16: true,
        mode: "cmti",
        timestamp: "2024-01-02T03:04:05+03:00",
      },
    });
    assert.deepEqual(await server.handle(line), { id: 4, ok: true, result: { indices: [4, 5] } });
    await server.handle('{"id":5,"op":"inject_text","args":{"from":"MTN","text":"x"}}');
    assert.deepEqual(calls, [
      [
        "injectText",
        "+256772000001",
        "hello",
        {
          order: [3, 1, 2],
          ref: 7,
          ref16: true,
          mode: "cmti",
          storage: undefined,
          timestamp: "2024-01-02T03:04:05+03:00",
        },
      ],
      [
        "injectText",
        "MTN",
        "x",
        {
          order: undefined,
          ref: undefined,
          ref16: undefined,
          mode: undefined,
          storage: undefined,
          timestamp: undefined,
        },
      ],
    ]);
  });
  it("turns status reports on with after_ms and status, off with off: true", async () => {
    const { server, calls } = fakeSim();
    assert.deepEqual(
      await server.handle('{"id":1,"op":"status_reports","args":{"after_ms":500,"status":65}}'),
      {
        id: 1,
        ok: true,
        result: null,
      },
    );
    await server.handle('{"id":2,"op":"status_reports","args":{"off":true}}');
    assert.deepEqual(calls, [
      ["statusReports", { after_ms: 500, status: 65 }],
      ["statusReports", null],
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
    ["inject_text without text", '{"id":1,"op":"inject_text","args":{"from":"+1"}}', /text must be a string/],
    [
      "inject_text with a bad order",
      '{"id":1,"op":"inject_text","args":{"from":"+1","text":"x","order":[1.5]}}',
      /list of integers/,
    ],
    [
      "inject_text with a bad mode",
      '{"id":1,"op":"inject_text","args":{"from":"+1","text":"x","mode":"y"}}',
      /cmti or cmt/,
    ],
    [
      "inject_text with a non-boolean ref16",
      '{"id":1,"op":"inject_text","args":{"from":"+1","text":"x","ref16":1}}',
      /boolean/,
    ],
    [
      "status_reports without status",
      '{"id":1,"op":"status_reports","args":{"after_ms":10}}',
      /status must be a number/,
    ],
    ["status_reports without arguments", '{"id":1,"op":"status_reports"}', /after_ms must be a number/],
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
