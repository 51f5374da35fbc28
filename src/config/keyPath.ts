/**
 * Key paths as people read them: dotted keys, list indexes in brackets, and map keys that are
 * not plain names quoted in brackets: `modems[0].baud`, `log.levels["modem:*"]`.
 * Also the close-name suggestion used for typos (`urll` → did you mean "url"?).
 */

/** A map key (string) or a list index (number). */
export type KeySegment = string | number;

const PLAIN_KEY = /^[A-Za-z_][A-Za-z0-9_-]*$/;

export function formatPath(segments: readonly KeySegment[]): string {
  let out = "";
  for (const segment of segments) {
    if (typeof segment === "number") out += `[${segment}]`;
    else if (PLAIN_KEY.test(segment)) out += out === "" ? segment : `.${segment}`;
    else out += `[${JSON.stringify(segment)}]`;
  }
  return out;
}

/** Whether `value` is a map (a plain object, not a list or null). */
export function isMap(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Sets `target[name]` as an own property, so a key named `__proto__` stays plain data. */
export function setOwnKey(target: Record<string, unknown>, name: string, value: unknown): void {
  Object.defineProperty(target, name, { value, enumerable: true, writable: true, configurable: true });
}

/**
 * Turns a JSON pointer (`/modems/0/baud`) into segments, using `root` to tell list indexes from
 * map keys that happen to be digits (`sip.auth.users["1001"]`).
 */
export function pointerSegments(pointer: string, root: unknown): KeySegment[] {
  if (pointer === "") return [];
  const segments: KeySegment[] = [];
  let node: unknown = root;
  for (const raw of pointer.slice(1).split("/")) {
    const token = raw.replace(/~1/g, "/").replace(/~0/g, "~");
    if (Array.isArray(node)) {
      segments.push(Number(token));
      node = node[Number(token)];
    } else {
      segments.push(token);
      node = isMap(node) ? node[token] : undefined;
    }
  }
  return segments;
}

/** Edit distance with adjacent transpositions counted as one edit (optimal string alignment). */
export function editDistance(a: string, b: string): number {
  const rows: number[][] = [];
  for (let i = 0; i <= a.length; i++) {
    const row: number[] = [i];
    for (let j = 1; j <= b.length; j++) {
      if (i === 0) {
        row.push(j);
        continue;
      }
      const prev = rows[i - 1]!;
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        best = Math.min(best, rows[i - 2]![j - 2]! + 1);
      }
      row.push(best);
    }
    rows.push(row);
  }
  return rows[a.length]![b.length]!;
}

/**
 * The candidate closest to `name` (case-insensitive), if it is within 2 edits and the edits are
 * less than half the longer name, so short keys do not suggest unrelated ones (`ca` ↛ `id`).
 */
export function closestName(name: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const candidate of candidates) {
    const distance = editDistance(name.toLowerCase(), candidate.toLowerCase());
    const longer = Math.max(name.length, candidate.length);
    if (distance <= 2 && distance * 2 < longer && distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

/** ` (did you mean "url"?)`, or "" when nothing is close. */
export function suggestion(name: string, candidates: Iterable<string>): string {
  const close = closestName(name, candidates);
  return close === undefined ? "" : ` (did you mean ${JSON.stringify(close)}?)`;
}
