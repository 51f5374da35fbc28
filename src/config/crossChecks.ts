/**
 * Checks a JSON Schema cannot express: names used twice, references to networks that do not
 * exist, one GPIO line wired to two things. They run on the defaulted config even when other
 * keys are invalid (every value is type-checked here first), so one run reports everything.
 */
import { formatPath, isMap, type KeySegment, suggestion } from "./keyPath.js";
import type { Problem } from "./problems.js";

function list(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

/** Reports each value seen a second time: `"m1" is already used by modems[0]`. */
class FirstUse {
  private readonly seen = new Map<string, KeySegment[]>();
  constructor(
    private readonly problems: Problem[],
    private readonly what: (value: string) => string,
  ) {}

  /** `owner`: what a later report names as the first user (default: the key itself). */
  check(value: unknown, path: KeySegment[], owner: KeySegment[] = path): void {
    if (typeof value !== "string" && typeof value !== "number") return;
    const id = String(value);
    const first = this.seen.get(id);
    if (first) {
      this.problems.push({ path, message: `${this.what(id)} is already used by ${formatPath(first)}` });
    } else {
      this.seen.set(id, owner);
    }
  }
}

/** The network names, or `undefined` when `networks` is not a list (then references are not checked). */
function networkNames(config: Record<string, unknown>, problems: Problem[]): Set<string> | undefined {
  if (!Array.isArray(config.networks)) return undefined;
  const names = new Set<string>();
  const used = new FirstUse(problems, (name) => JSON.stringify(name));
  list(config.networks).forEach((network, i) => {
    if (!isMap(network) || typeof network.name !== "string") return;
    used.check(network.name, ["networks", i, "name"], ["networks", i]);
    names.add(network.name);
  });
  return names;
}

function checkNetworkRef(
  name: unknown,
  path: KeySegment[],
  names: Set<string> | undefined,
  problems: Problem[],
) {
  if (names === undefined || typeof name !== "string" || name === "" || names.has(name)) return;
  const hint = suggestion(name, names) || ` (networks: ${[...names].join(", ")})`;
  problems.push({ path, message: `no network is named ${JSON.stringify(name)}${hint}` });
}

function checkModems(config: Record<string, unknown>, names: Set<string> | undefined, problems: Problem[]) {
  const ids = new FirstUse(problems, (id) => JSON.stringify(id));
  const ports = new FirstUse(problems, (port) => JSON.stringify(port));
  const imeis = new FirstUse(problems, (imei) => `IMEI ${imei}`);
  list(config.modems).forEach((modem, i) => {
    if (!isMap(modem)) return;
    ids.check(modem.id, ["modems", i, "id"], ["modems", i]);
    if (modem.port !== "auto") ports.check(modem.port, ["modems", i, "port"], ["modems", i]);
    imeis.check(modem.imei, ["modems", i, "imei"], ["modems", i]);
    list(modem.networks).forEach((name, j) => {
      checkNetworkRef(name, ["modems", i, "networks", j], names, problems);
    });
  });
}

function checkGpioLines(config: Record<string, unknown>, problems: Problem[]): void {
  const lines = new FirstUse(problems, (line) => `GPIO line ${line}`);
  list(config.modems).forEach((modem, i) => {
    if (!isMap(modem)) return;
    if (Number.isInteger(modem.power_gpio)) lines.check(modem.power_gpio, ["modems", i, "power_gpio"]);
    if (Number.isInteger(modem.led_gpio)) lines.check(modem.led_gpio, ["modems", i, "led_gpio"]);
  });
  if (!isMap(config.leds)) return;
  for (const [name, line] of Object.entries(config.leds)) {
    if (Number.isInteger(line)) lines.check(line, ["leds", name]);
  }
}

/** Problems between keys of a defaulted config (of any shape: wrong types are skipped). */
export function crossCheck(config: unknown): Problem[] {
  if (!isMap(config)) return [];
  const problems: Problem[] = [];
  const names = networkNames(config, problems);
  checkModems(config, names, problems);
  if (isMap(config.sms))
    checkNetworkRef(config.sms.default_network, ["sms", "default_network"], names, problems);
  checkGpioLines(config, problems);
  return problems;
}
