/**
 * A site process for the kill -9 tests: the real fleet and SMS path on simulated modems that live in the
 * parent process (so they outlive this one). Protocol, one JSON object per line:
 *
 *   stdin:  {"to": "+256...", "text": "...", "ref": "r17"}       → enqueue, idempotent by ref
 *   stdout: {"ready": true}                                       once every modem is ready
 *           {"accepted": "r17", "id": "01J..."}                   once the SMS is on disk
 *           {"rejected": "r17", "error": "..."}
 *
 * argv: <dir> <linkDir> <gpioDir> <imei>[,<imei>...]
 */

import { join } from "node:path";
import { createInterface } from "node:readline";
import { SmsService } from "../../src/sms/service.js";
import { openSmsDatabase, SmsStore } from "../../src/sms/store.js";
import { modem, startFleet } from "./fleetHarness.js";
import { TEST_SMS } from "./smsHarness.js";

const [dir, linkDir, gpioDir, imeis] = process.argv.slice(2) as [string, string, string, string];
const out = (o: unknown) => process.stdout.write(`${JSON.stringify(o)}\n`);

const db = openSmsDatabase(join(dir, "data"));
const store = new SmsStore(db);
let sms!: SmsService;
const ids = imeis.split(",");
const h = await startFleet({
  dir,
  linkDir,
  gpioDir,
  dbDir: join(dir, "data"),
  modems: ids.map((imei, i) => modem({ id: `m${i + 1}`, imei, power_gpio: 17 + i })),
  beforeStart: ({ fleet, bus, logger }) => {
    sms = new SmsService({
      sms: { ...TEST_SMS, retry_base_s: 1, retry_max_s: 1, max_attempts: 10 },
      networks: [{ name: "local", prefixes: ["+"], max_per_loop: 10 }],
      store,
      modems: { list: () => fleet.list(), get: (id) => fleet.get(id) },
      bus,
      logger: logger.child("sms"),
    });
    sms.start();
  },
});
const readyTimer = setInterval(() => {
  if (h.fleet.list().every((s) => s.state === "ready")) {
    clearInterval(readyTimer);
    out({ ready: true });
  }
}, 20);

const rl = createInterface({ input: process.stdin });
rl.on("line", (line) => {
  let req: { to: string; text: string; ref: string };
  try {
    req = JSON.parse(line) as typeof req;
  } catch {
    return;
  }
  sms.enqueue({ to: req.to, text: req.text, source: "test", sourceRef: req.ref }).then(
    (r) => out({ accepted: req.ref, id: r.id }),
    (err: unknown) => out({ rejected: req.ref, error: String(err) }),
  );
});
process.on("SIGTERM", () => {
  void h.stop().then(() => process.exit(0));
});
