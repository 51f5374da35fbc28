/**
 * The local web page and its API (contract, section 5), on `web.listen`, node:http only.
 *
 *   GET  /             the status page: the first response names the site and lists the modems
 *   GET  /api/state    the MQTT `state` document, plus what the page shows (site, system, events, LEDs)
 *   GET  /healthz      200 when health is ok or degraded, 503 when failed (body: the health report)
 *   GET  /metrics      Prometheus text format (prom-client, loaded at the first scrape)
 *   POST /api/login    {password} → an HttpOnly SameSite=Strict session cookie (5 tries a minute)
 *   POST /api/logout
 *   POST /api/modems/<id>/restart | /power_cycle      } need a session; JSON bodies only, so a form
 *   POST /api/sms {to, text}                          } on another site cannot post here
 *
 * With no `web.password_hash` the page is read-only: every POST but login is 403.
 */
import http from "node:http";
import type { SiteControl } from "../app/control.js";
import type { WebConfig } from "../config/types.js";
import { errorText, isSiteError } from "../core/errors.js";
import type { EventBus, SiteEvents } from "../core/events.js";
import { type Logger, maskNumber } from "../core/logger.js";
import { runCommand } from "../mqtt/commands.js";
import { Sessions, verifyPassword } from "./auth.js";
import { renderMetrics } from "./metrics.js";
import { type PageState, renderPage } from "./page.js";

export interface WebServerDeps {
  web: WebConfig;
  siteName: () => { id: string; name: string };
  control: SiteControl;
  bus: EventBus;
  leds: () => Record<string, string>;
  logger: Logger;
}

const MAX_BODY = 16 * 1024;
const RECENT_EVENTS = 20;
const COOKIE = "bts_session";
/** How often the page's system figures are sampled, ms. */
const SAMPLE_MS = 30_000;

export class WebServer {
  private server: http.Server | undefined;
  private readonly sessions = new Sessions();
  private readonly events: { at: string; kind: string; text: string }[] = [];
  private readonly offs: (() => void)[] = [];
  private sampler: NodeJS.Timeout | undefined;

  constructor(private readonly d: WebServerDeps) {}

  /** Listens on `web.listen` ("host:port"); rejects when the port cannot be had. */
  async start(): Promise<{ address: string; port: number }> {
    this.watchEvents();
    // The system figures on the page, fresh enough without a NOC link sampling them.
    void this.d.control.sampleSystem().catch(() => {});
    this.sampler = setInterval(() => void this.d.control.sampleSystem().catch(() => {}), SAMPLE_MS);
    this.sampler.unref();
    const i = this.d.web.listen.lastIndexOf(":");
    const host = this.d.web.listen.slice(0, i).replace(/^\[|\]$/g, "");
    const port = Number(this.d.web.listen.slice(i + 1));
    const server = http.createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        this.d.logger.error("web request failed", { url: req.url, error: errorText(err) });
        if (!res.headersSent) this.json(res, 500, { error: "internal error" });
        else res.end();
      });
    });
    server.headersTimeout = 10_000;
    server.requestTimeout = 15_000;
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, host, () => {
        server.off("error", reject);
        resolve();
      });
    });
    server.on("error", (err) => this.d.logger.warn("web server error", { error: errorText(err) }));
    this.server = server;
    const a = server.address() as { address: string; port: number };
    this.d.logger.info("web page listening", { address: a.address, port: a.port });
    return { address: a.address, port: a.port };
  }

  async stop(): Promise<void> {
    clearInterval(this.sampler);
    for (const off of this.offs.splice(0)) off();
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** What the page and /api/state show. */
  pageState(loggedIn: boolean): PageState & Record<string, unknown> {
    const c = this.d.control;
    const state = c.state();
    const modems = c.modemSnapshots().map((m) => ({
      id: m.id,
      state: m.state,
      operator: m.operator,
      signal: m.signal,
      imei: m.imei,
      iccid: m.iccid,
      imsi: m.imsi,
      port: m.port,
      model: m.model,
      counters: m.counters,
      last_error: m.last_error,
      since: m.since,
    }));
    const t = c.systemSummary();
    return {
      ...state,
      site: this.d.siteName(),
      generated_at: new Date().toISOString(),
      modems,
      system: t,
      events: this.events.slice().reverse(),
      leds: this.d.leds() as PageState["leds"],
      logged_in: loggedIn,
      can_login: this.d.web.password_hash !== undefined,
    } as PageState & Record<string, unknown>;
  }

  private watchEvents(): void {
    const push = (kind: string, text: string) => {
      this.events.push({ at: new Date().toISOString(), kind, text });
      if (this.events.length > RECENT_EVENTS) this.events.shift();
    };
    const on = <K extends keyof SiteEvents>(k: K, f: (p: SiteEvents[K]) => string) =>
      this.offs.push(this.d.bus.on(k, (p) => push(k, f(p))));
    // Numbers masked, texts left out: the page is for the site, not for the messages.
    on(
      "sms_received",
      (p) => `SMS from ${maskNumber(p.from)} on ${p.modem} (${p.parts} part${p.parts === 1 ? "" : "s"})`,
    );
    on("sms_sent", (p) => `SMS to ${maskNumber(p.to)} sent by ${p.modem}`);
    on("sms_failed", (p) => `SMS to ${maskNumber(p.to)} failed: ${p.error}`);
    on("delivery_report", (p) => `SMS to ${maskNumber(p.to)} ${p.status}`);
    on("modem_state", (p) => `${p.modem}: ${p.previous} → ${p.state} (${p.reason})`);
    on("modem_recovery", (p) => `${p.modem}: recovery ${p.step} ${p.result}`);
  }

  private session(req: http.IncomingMessage): string | undefined {
    const cookie = req.headers.cookie ?? "";
    const m = new RegExp(`(?:^|;\\s*)${COOKIE}=([A-Za-z0-9_-]+)`).exec(cookie);
    return m?.[1];
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://site");
    const path = url.pathname;
    res.setHeader("Cache-Control", "no-store");
    res.setHeader("X-Content-Type-Options", "nosniff");
    const loggedIn = this.sessions.valid(this.session(req));
    if (req.method === "GET" || req.method === "HEAD") {
      if (path === "/") {
        res.setHeader(
          "Content-Security-Policy",
          "default-src 'self'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src 'self' data:",
        );
        return this.send(res, 200, "text/html; charset=utf-8", renderPage(this.pageState(loggedIn)));
      }
      if (path === "/api/state") return this.json(res, 200, this.pageState(loggedIn));
      if (path === "/healthz") {
        const h = this.d.control.health();
        return this.json(res, h.status === "failed" ? 503 : 200, h);
      }
      if (path === "/metrics") {
        const { contentType, body } = await renderMetrics(this.d.control);
        return this.send(res, 200, contentType, body);
      }
      return this.json(res, 404, { error: "not found" });
    }
    if (req.method !== "POST") return this.json(res, 405, { error: "method not allowed" });
    if (!/^application\/json\b/i.test(req.headers["content-type"] ?? "")) {
      return this.json(res, 415, { error: "send JSON (Content-Type: application/json)" });
    }
    let body: Record<string, unknown>;
    try {
      body = await readJson(req);
    } catch (err) {
      return this.json(res, 400, { error: errorText(err) });
    }
    const address = req.socket.remoteAddress ?? "?";
    if (path === "/api/login") {
      const hash = this.d.web.password_hash;
      if (hash === undefined)
        return this.json(res, 403, { error: "read-only: no password is set (web.password_hash)" });
      const wait = this.sessions.attempt(address);
      if (wait > 0) {
        res.setHeader("Retry-After", String(Math.ceil(wait / 1000)));
        return this.json(res, 429, { error: `too many attempts: try again in ${Math.ceil(wait / 1000)} s` });
      }
      if (typeof body.password !== "string" || !(await verifyPassword(body.password, hash))) {
        this.d.logger.warn("web login refused", { address });
        return this.json(res, 401, { error: "wrong password" });
      }
      this.sessions.succeeded(address);
      const id = this.sessions.open();
      res.setHeader("Set-Cookie", `${COOKIE}=${id}; HttpOnly; SameSite=Strict; Path=/; Max-Age=86400`);
      this.d.logger.info("web login", { address });
      return this.json(res, 200, { ok: true });
    }
    if (path === "/api/logout") {
      this.sessions.close(this.session(req));
      res.setHeader("Set-Cookie", `${COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0`);
      return this.json(res, 200, { ok: true });
    }
    if (this.d.web.password_hash === undefined)
      return this.json(res, 403, { error: "read-only: no password is set (web.password_hash)" });
    if (!loggedIn) return this.json(res, 401, { error: "log in first" });
    const ctx = this.d.control.commandContext();
    const action = /^\/api\/modems\/([^/]+)\/(restart|power_cycle)$/.exec(path);
    try {
      if (action) {
        const command = action[2] === "restart" ? "modem/restart" : "modem/power_cycle";
        const data = await runCommand(ctx, command, { modem: decodeURIComponent(action[1]!) });
        this.d.logger.info(`web: ${command}`, { modem: action[1], address });
        return this.json(res, 200, data);
      }
      if (path === "/api/sms") {
        const data = (await ctx.sms.enqueue({
          to: String(body.to ?? ""),
          text: String(body.text ?? ""),
          source: "web",
        })) as unknown;
        return this.json(res, 202, data);
      }
    } catch (err) {
      const code = isSiteError(err) ? err.code : "internal";
      const status =
        code === "modem.unknown" || code === "sms.not_found" ? 404 : code === "internal" ? 500 : 400;
      return this.json(res, status, { error: errorText(err), code });
    }
    return this.json(res, 404, { error: "not found" });
  }

  private send(res: http.ServerResponse, status: number, type: string, body: string): void {
    res.writeHead(status, { "Content-Type": type, "Content-Length": Buffer.byteLength(body) });
    res.end(body);
  }

  private json(res: http.ServerResponse, status: number, value: unknown): void {
    this.send(res, status, "application/json; charset=utf-8", JSON.stringify(value));
  }
}

function readJson(req: http.IncomingMessage): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    let size = 0;
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(new Error("body too large"));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on("end", () => {
      try {
        const v: unknown = chunks.length === 0 ? {} : JSON.parse(Buffer.concat(chunks).toString("utf8"));
        if (v === null || typeof v !== "object" || Array.isArray(v))
          throw new Error("the body must be a JSON object");
        resolve(v as Record<string, unknown>);
      } catch (err) {
        reject(err instanceof SyntaxError ? new Error("the body is not JSON") : err);
      }
    });
    req.on("error", reject);
  });
}
