import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isSiteError } from "../../src/core/errors.js";
import {
  authorize,
  DigestAuth,
  type DigestAuthOptions,
  digestResponse,
  parseDigestParams,
} from "../../src/sip/digest.js";

/** RFC 2617 §3.5: the challenge and the Authorization of "Mufasa" / "Circle Of Life". */
const RFC2617_CHALLENGE =
  'Digest realm="testrealm@host.com", qop="auth,auth-int", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", opaque="5ccc069c403ebaf9f0171e9517f40e41"';
const RFC2617_AUTHORIZATION = `Digest username="Mufasa",
        realm="testrealm@host.com",
        nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093",
        uri="/dir/index.html",
        qop=auth,
        nc=00000001,
        cnonce="0a4f113b",
        response="6629fae49393a05397450978507c4ef1",
        opaque="5ccc069c403ebaf9f0171e9517f40e41"`;

/** RFC 7616 §3.9.1: one challenge per algorithm; "Mufasa" / "Circle of Life" (lower-case "of"). */
function rfc7616Challenge(algorithm: string): string {
  return `Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm=${algorithm}, nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"`;
}
const RFC7616_CNONCE = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ";

describe("digest responses: RFC worked examples, exact", () => {
  const table: { name: string; challenge: string; password: string; cnonce: string; response: string }[] = [
    {
      name: "RFC 2617 §3.5 (MD5, qop=auth)",
      challenge: RFC2617_CHALLENGE,
      password: "Circle Of Life",
      cnonce: "0a4f113b",
      response: "6629fae49393a05397450978507c4ef1",
    },
    {
      name: "RFC 7616 §3.9.1 MD5",
      challenge: rfc7616Challenge("MD5"),
      password: "Circle of Life",
      cnonce: RFC7616_CNONCE,
      response: "8ca523f5e9506fed4657c9700eebdbec",
    },
    {
      name: "RFC 7616 §3.9.1 SHA-256",
      challenge: rfc7616Challenge("SHA-256"),
      password: "Circle of Life",
      cnonce: RFC7616_CNONCE,
      response: "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1",
    },
    {
      name: "RFC 2069 §2.4 (no qop), with the value of its erratum (rfc-editor.org/errata/rfc2069)",
      challenge:
        'Digest realm="testrealm@host.com", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", opaque="5ccc069c403ebaf9f0171e9517f40e41"',
      password: "CircleOfLife",
      cnonce: "unused",
      response: "1949323746fe6a43ef61f9606e7febea",
    },
  ];
  for (const v of table) {
    it(`${v.name}: authorize()`, () => {
      const header = authorize(v.challenge, {
        username: "Mufasa",
        password: v.password,
        method: "GET",
        uri: "/dir/index.html",
        cnonce: v.cnonce,
        nc: 1,
      });
      const p = parseDigestParams(header);
      assert.ok(p !== undefined, header);
      assert.equal(p["response"], v.response, header);
      assert.equal(p["username"], "Mufasa");
      assert.equal(p["uri"], "/dir/index.html");
      const challenge = parseDigestParams(v.challenge);
      assert.equal(p["opaque"], challenge?.["opaque"], "opaque echoed");
      assert.equal(p["algorithm"], challenge?.["algorithm"], "algorithm echoed when given");
      if (challenge?.["qop"] === undefined) {
        assert.equal(p["qop"], undefined);
        assert.equal(p["nc"], undefined);
        assert.equal(p["cnonce"], undefined);
      } else {
        assert.equal(p["qop"], "auth");
        assert.equal(p["nc"], "00000001");
        assert.equal(p["cnonce"], v.cnonce);
      }
    });
  }

  it("RFC 2617 §3.5: digestResponse() from the Authorization's own fields", () => {
    const p = parseDigestParams(RFC2617_AUTHORIZATION);
    assert.ok(p !== undefined);
    assert.deepEqual(
      digestResponse({
        algorithm: "MD5",
        username: p["username"] ?? "",
        realm: p["realm"] ?? "",
        password: "Circle Of Life",
        method: "GET",
        uri: p["uri"] ?? "",
        nonce: p["nonce"] ?? "",
        qop: p["qop"] ?? "",
        nc: p["nc"] ?? "",
        cnonce: p["cnonce"] ?? "",
      }),
      p["response"],
    );
  });

  it("RFC 2617 §3.5 Authorization at our server: the digest checks, the foreign nonce is stale", () => {
    const auth = new DigestAuth({
      realm: "testrealm@host.com",
      users: { Mufasa: "Circle Of Life" },
      nonceTtlMs: 60_000,
      algorithms: ["MD5"],
    });
    const right = auth.verify("GET", "/dir/index.html", RFC2617_AUTHORIZATION);
    assert.deepEqual(right, { ok: false, stale: true, reason: "nonce not issued here" });
    const wrongPassword = new DigestAuth({
      realm: "testrealm@host.com",
      users: { Mufasa: "Circle of Life" },
      nonceTtlMs: 60_000,
      algorithms: ["MD5"],
    }).verify("GET", "/dir/index.html", RFC2617_AUTHORIZATION);
    assert.equal(wrongPassword.ok, false);
    assert.equal(!wrongPassword.ok && wrongPassword.stale, undefined);
  });
});

/** A server with a settable clock. */
function server(extra: Partial<DigestAuthOptions> = {}) {
  const clock = { t: 1_700_000_000_000 };
  const auth = new DigestAuth({
    realm: "site-kx01",
    users: { alice: "s3cret", bob: 'p"w\\d' },
    nonceTtlMs: 300_000,
    now: () => clock.t,
    ...extra,
  });
  return { auth, clock };
}

const URI = "sip:+256772123456@site-kx01";

function answer(
  challenge: string,
  nc = 1,
  user = "alice",
  password = "s3cret",
  uri = URI,
  method = "MESSAGE",
) {
  return authorize(challenge, { username: user, password, method, uri, nc });
}

describe("DigestAuth: challenge", () => {
  it("offers SHA-256 then MD5, qop=auth, fresh signed nonces (RFC 8760 order)", () => {
    const { auth } = server();
    const [sha, md5] = auth.challenges();
    assert.ok(sha !== undefined && md5 !== undefined);
    const a = parseDigestParams(sha);
    const b = parseDigestParams(md5);
    assert.equal(a?.["algorithm"], "SHA-256");
    assert.equal(b?.["algorithm"], "MD5");
    assert.equal(a?.["qop"], "auth");
    assert.equal(a?.["realm"], "site-kx01");
    assert.match(a?.["nonce"] ?? "", /^[0-9a-f]{12}\.[0-9a-f]{16}\.[0-9a-f]{32}$/);
    assert.notEqual(a?.["nonce"], b?.["nonce"]);
    assert.equal(a?.["stale"], undefined);
    assert.equal(
      parseDigestParams(auth.challenge())?.["algorithm"],
      "SHA-256",
      "challenge() = the preferred one",
    );
    assert.equal(parseDigestParams(auth.challenge(true))?.["stale"], "TRUE");
  });

  it("escapes a realm with quotes", () => {
    const { auth } = server({ realm: 'the "north" site' });
    assert.equal(parseDigestParams(auth.challenge())?.["realm"], 'the "north" site');
  });
});

describe("DigestAuth: verify", () => {
  for (const algorithm of ["SHA-256", "MD5"] as const) {
    it(`accepts our own client's answer (${algorithm})`, () => {
      const { auth } = server({ algorithms: [algorithm] });
      assert.deepEqual(auth.verify("MESSAGE", URI, answer(auth.challenge())), { ok: true, user: "alice" });
    });
  }

  it("accepts a password with quote and backslash", () => {
    const { auth } = server();
    assert.deepEqual(
      auth.verify("REGISTER", URI, answer(auth.challenge(), 1, "bob", 'p"w\\d', URI, "REGISTER")),
      {
        ok: true,
        user: "bob",
      },
    );
  });

  it("accepts each (nonce, nc) once and nc only upwards", () => {
    const { auth } = server();
    const challenge = auth.challenge();
    const first = answer(challenge, 1);
    assert.equal(auth.verify("MESSAGE", URI, first).ok, true);
    const replay = auth.verify("MESSAGE", URI, first);
    assert.equal(replay.ok, false);
    assert.match(!replay.ok ? replay.reason : "", /replay/);
    assert.equal(auth.verify("MESSAGE", URI, answer(challenge, 3)).ok, true);
    assert.equal(auth.verify("MESSAGE", URI, answer(challenge, 2)).ok, false, "nc going down");
    assert.equal(auth.verify("MESSAGE", URI, answer(challenge, 4)).ok, true);
    assert.equal(auth.trackedNonces, 1);
  });

  it("answers stale once the nonce is older than nonceTtlMs, and forgets it", () => {
    const { auth, clock } = server();
    const challenge = auth.challenge();
    assert.equal(auth.verify("MESSAGE", URI, answer(challenge, 1)).ok, true);
    clock.t += 300_000;
    assert.equal(auth.verify("MESSAGE", URI, answer(challenge, 2)).ok, true, "at exactly the TTL");
    clock.t += 1;
    assert.deepEqual(auth.verify("MESSAGE", URI, answer(challenge, 3)), {
      ok: false,
      stale: true,
      reason: "nonce expired",
    });
    clock.t += 1_000; // the table is pruned at most once a second
    assert.equal(auth.verify("MESSAGE", URI, answer(auth.challenge(), 1)).ok, true, "a fresh nonce works");
    assert.equal(auth.trackedNonces, 1, "the expired nonce left the table");
  });

  it("answers stale for a nonce of another server (other secret) or a forged one", () => {
    const { auth } = server();
    const other = server().auth;
    assert.deepEqual(auth.verify("MESSAGE", URI, answer(other.challenge())), {
      ok: false,
      stale: true,
      reason: "nonce not issued here",
    });
    const nonce = parseDigestParams(auth.challenge())?.["nonce"] ?? "";
    const forged = `ffffffffffff${nonce.slice(12)}`;
    const result = auth.verify(
      "MESSAGE",
      URI,
      answer(`Digest realm="site-kx01", nonce="${forged}", qop="auth"`),
    );
    assert.equal(result.ok, false);
    assert.equal(!result.ok && result.stale, true);
  });

  it("with a shared secret, nonces survive a restart", () => {
    const a = server({ secret: "k3y" });
    const b = server({ secret: "k3y" });
    assert.equal(b.auth.verify("MESSAGE", URI, answer(a.auth.challenge())).ok, true);
  });

  it("keeps at most maxNonces, and an evicted nonce is stale, never trusted afresh", () => {
    const { auth, clock } = server({ maxNonces: 2 });
    const challenges = [auth.challenge(), auth.challenge(), auth.challenge()];
    clock.t += 1;
    for (const c of challenges) assert.equal(auth.verify("MESSAGE", URI, answer(c, 1)).ok, true);
    assert.equal(auth.trackedNonces, 2);
    const again = auth.verify("MESSAGE", URI, answer(challenges[0] ?? "", 2));
    assert.equal(again.ok, false);
    assert.equal(!again.ok && again.stale, true);
    const replayOfEvicted = auth.verify("MESSAGE", URI, answer(challenges[0] ?? "", 1));
    assert.equal(replayOfEvicted.ok, false);
  });

  const refusals: [string, (auth: DigestAuth) => string | undefined, string][] = [
    ["no header", () => undefined, "no Digest credentials"],
    ["Basic credentials", () => "Basic YWxpY2U6czNjcmV0", "no Digest credentials"],
    ["wrong password", (a) => answer(a.challenge(), 1, "alice", "guess"), "wrong password or digest"],
    ["unknown user", (a) => answer(a.challenge(), 1, "mallory", "x"), 'unknown user "mallory"'],
    [
      "user named like an Object property",
      (a) => answer(a.challenge(), 1, "constructor", "x"),
      'unknown user "constructor"',
    ],
    [
      "another request URI",
      (a) => answer(a.challenge(), 1, "alice", "s3cret", "sip:101@site-kx01"),
      "digest uri is not the Request-URI",
    ],
    [
      "another realm",
      (a) => answer(a.challenge().replace("site-kx01", "elsewhere")),
      'wrong realm "elsewhere"',
    ],
    ["no qop (RFC 2069)", (a) => answer(a.challenge().replace(', qop="auth"', "")), "qop=auth required"],
    [
      "an algorithm not offered",
      (a) => answer(a.challenge().replace("algorithm=SHA-256", "algorithm=MD5-sess")),
      "algorithm MD5-SESS not offered",
    ],
    ["nc 0", (a) => answer(a.challenge()).replace("nc=00000001", "nc=00000000"), "wrong password or digest"],
    [
      "no cnonce",
      (a) => answer(a.challenge()).replace(/cnonce="[^"]*", /, ""),
      "nc (8 hex digits) and cnonce required",
    ],
    ["unterminated quote", () => 'Digest username="alice', "no Digest credentials"],
    ["a parameter twice", () => 'Digest username="a", username="b"', "no Digest credentials"],
  ];
  for (const [name, header, reason] of refusals) {
    it(`refuses ${name}`, () => {
      const { auth } = server();
      const result = auth.verify("MESSAGE", URI, header(auth));
      assert.equal(result.ok, false);
      assert.equal(!result.ok && result.reason, reason);
      assert.notEqual(!result.ok && result.stale, true);
    });
  }

  it("refuses another method than the one answered", () => {
    const { auth } = server();
    assert.equal(auth.verify("REGISTER", URI, answer(auth.challenge())).ok, false);
  });

  it("refuses bad options", () => {
    assert.throws(
      () => new DigestAuth({ realm: "", users: {}, nonceTtlMs: 1 }),
      (e) => isSiteError(e, "sip.auth"),
    );
    assert.throws(
      () => new DigestAuth({ realm: "r", users: {}, nonceTtlMs: 0 }),
      (e) => isSiteError(e, "sip.auth"),
    );
    assert.throws(
      () => new DigestAuth({ realm: "r", users: {}, nonceTtlMs: 1, algorithms: [] }),
      (e) => isSiteError(e, "sip.auth"),
    );
  });
});

describe("authorize: refusals are SiteError sip.auth", () => {
  const base = { username: "u", password: "p", method: "REGISTER", uri: "sip:example.org", nc: 1 };
  const table: [string, string, Partial<typeof base>][] = [
    ["Basic challenge", 'Basic realm="x"', {}],
    ["no nonce", 'Digest realm="x"', {}],
    ["auth-int only", 'Digest realm="x", nonce="n", qop="auth-int"', {}],
    ["unknown algorithm", 'Digest realm="x", nonce="n", algorithm=SHA-512-256', {}],
    ["nc 0", 'Digest realm="x", nonce="n", qop="auth"', { nc: 0 }],
  ];
  for (const [name, challenge, extra] of table) {
    it(name, () =>
      assert.throws(
        () => authorize(challenge, { ...base, ...extra }),
        (e) => isSiteError(e, "sip.auth"),
      ),
    );
  }

  it("answers -sess algorithms (RFC 7616 §3.4.2) and counts nc in hex", () => {
    const header = authorize('Digest realm="x", nonce="n", qop="auth", algorithm=SHA-256-sess', {
      ...base,
      cnonce: "c",
      nc: 26,
    });
    const p = parseDigestParams(header);
    assert.equal(p?.["nc"], "0000001a");
    assert.equal(p?.["algorithm"], "SHA-256-sess");
    assert.equal(
      p?.["response"],
      digestResponse({
        algorithm: "SHA-256-sess",
        username: "u",
        realm: "x",
        password: "p",
        method: "REGISTER",
        uri: "sip:example.org",
        nonce: "n",
        qop: "auth",
        nc: "0000001a",
        cnonce: "c",
      }),
    );
  });
});

describe("parseDigestParams", () => {
  it("reads quoted strings with escapes, tokens, and stops at the next challenge", () => {
    assert.deepEqual(
      {
        ...parseDigestParams('Digest realm="a \\"b\\" c", nonce=xyz, qop="auth, auth-int", Basic realm="z"'),
      },
      { realm: 'a "b" c', nonce: "xyz", qop: "auth, auth-int" },
    );
  });
  it("finds Digest after another scheme and ignores case", () => {
    assert.equal(parseDigestParams('Basic realm="z", DIGEST Realm="r", NONCE="n"')?.["nonce"], "n");
  });
  it("refuses broken lists", () => {
    for (const h of ["Digest", "Digest =x", 'Digest realm="x" nonce="y"', "Digest realm=", "Basic realm=x"]) {
      assert.equal(parseDigestParams(h), undefined, h);
    }
  });
});
