/**
 * The `sip` package parses WWW-Authenticate, Proxy-Authenticate, Authorization and
 * Proxy-Authorization into lists of objects (`{scheme: "Digest", realm: '"x"', nonce: '"y"'}`, values
 * with their quotes) and writes them back from such objects only. Our digest code works on header text;
 * these two functions go between the forms.
 */

/** One parsed auth header (as the package gives it) back to its text. */
export function authHeaderText(h: unknown): string | undefined {
  if (typeof h === "string") return h;
  if (!h || typeof h !== "object") return undefined;
  const o = h as Record<string, unknown>;
  const params = Object.entries(o)
    .filter(([k, v]) => k !== "scheme" && v !== undefined)
    .map(([k, v]) => `${k}=${String(v)}`);
  return `${String(o.scheme ?? "Digest")} ${params.join(", ")}`;
}

/** The first header of a parsed list (or a string) as text. */
export function firstAuthHeader(h: unknown): string | undefined {
  return authHeaderText(Array.isArray(h) ? h[0] : h);
}

/** Header text (`Digest realm="x", nonce="y", qop=auth`) to the object the package writes out. */
export function authHeaderObject(text: string): Record<string, string> {
  const m = /^\s*(\S+)\s+([\s\S]*)$/.exec(text);
  const out: Record<string, string> = { scheme: m?.[1] ?? "Digest" };
  const re = /([^\s,=]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^\s,]+)/g;
  for (let r = re.exec(m?.[2] ?? ""); r; r = re.exec(m?.[2] ?? "")) out[r[1]!] = r[2]!;
  return out;
}
