/**
 * `GET /metrics` in the Prometheus text format, through prom-client (loaded at the first scrape:
 * a site nobody scrapes never pays for it). Every figure is read from the site at scrape time;
 * nothing is kept between scrapes but the registry.
 *
 *   bts_modem_up{modem}                 1 when ready            bts_modem_state{modem,state}  1 for the current one
 *   bts_modem_signal_csq{modem}         +CSQ rssi (0..31, 99)   bts_modem_signal_bars{modem}  0..5
 *   bts_modem_events_total{modem,name}  the modem's counters    bts_sms_total{direction,result} since start
 *   bts_queue_pending{queue}            sms_out, sms_in_parts, sip_out, noc_events
 *   bts_sms_oldest_pending_seconds      bts_uplink_up{uplink}   mqtt, sip:<uri>
 *   bts_health_status                   0 ok, 1 degraded, 2 failed; bts_health_check{check} the same per check
 *   bts_temperature_celsius, bts_under_voltage, bts_disk_used_ratio, bts_uptime_seconds, bts_process_resident_bytes
 */
import type { SiteControl } from "../app/control.js";
import { MODEM_STATES } from "../core/events.js";

type PromClient = typeof import("prom-client");
let registry: { reg: import("prom-client").Registry; site: { control: SiteControl } } | undefined;

const LEVEL = { ok: 0, degraded: 1, failed: 2 } as const;

async function build(control: SiteControl) {
  const prom: PromClient = (await import("prom-client")).default ?? (await import("prom-client"));
  const reg = new prom.Registry();
  const site = { control };
  const gauge = (
    name: string,
    help: string,
    labelNames: string[],
    collect: (g: import("prom-client").Gauge) => void,
  ) =>
    new prom.Gauge({
      name,
      help,
      labelNames,
      registers: [reg],
      collect() {
        this.reset();
        collect(this);
      },
    });
  gauge("bts_modem_up", "1 when the modem is ready", ["modem"], (g) => {
    for (const m of site.control.modemSnapshots()) g.set({ modem: m.id }, m.state === "ready" ? 1 : 0);
  });
  gauge("bts_modem_state", "1 for the modem's current state", ["modem", "state"], (g) => {
    for (const m of site.control.modemSnapshots())
      for (const s of MODEM_STATES) g.set({ modem: m.id, state: s }, m.state === s ? 1 : 0);
  });
  gauge("bts_modem_signal_csq", "+CSQ rssi (0-31, 99 unknown)", ["modem"], (g) => {
    for (const m of site.control.modemSnapshots()) if (m.signal) g.set({ modem: m.id }, m.signal.csq);
  });
  gauge("bts_modem_signal_bars", "signal bars 0-5", ["modem"], (g) => {
    for (const m of site.control.modemSnapshots()) if (m.signal) g.set({ modem: m.id }, m.signal.bars);
  });
  gauge(
    "bts_modem_events_total",
    "the modem's own counters since it was first seen",
    ["modem", "name"],
    (g) => {
      for (const m of site.control.modemSnapshots())
        for (const [name, v] of Object.entries(m.counters)) g.set({ modem: m.id, name }, v);
    },
  );
  gauge("bts_sms_total", "SMS since the site started", ["direction", "result"], (g) => {
    const c = site.control.smsCounters;
    g.set({ direction: "out", result: "sent" }, c.sms_sent ?? 0);
    g.set({ direction: "out", result: "failed" }, c.sms_failed ?? 0);
    g.set({ direction: "out", result: "delivered_report" }, c.delivery_reports ?? 0);
    g.set({ direction: "in", result: "received" }, c.sms_received ?? 0);
  });
  gauge("bts_queue_pending", "items waiting in each queue", ["queue"], (g) => {
    const q = site.control.state().queues;
    g.set({ queue: "sms_out" }, q.sms_out.pending);
    g.set({ queue: "sms_in_parts" }, q.sms_in.waiting_parts);
    g.set({ queue: "sip_out" }, q.sip_out.pending);
    g.set({ queue: "noc_events" }, q.noc_events.pending);
  });
  gauge("bts_sms_oldest_pending_seconds", "age of the oldest SMS waiting to be sent", [], (g) => {
    g.set(site.control.state().queues.sms_out.oldest_pending_s ?? 0);
  });
  gauge("bts_uplink_up", "1 when the uplink answers", ["uplink"], (g) => {
    const u = site.control.state().uplinks as {
      mqtt: { connected: boolean } | null;
      sip: { uri: string; reachable: boolean | null }[] | null;
    };
    if (u.mqtt) g.set({ uplink: "mqtt" }, u.mqtt.connected ? 1 : 0);
    for (const s of u.sip ?? []) g.set({ uplink: `sip:${s.uri}` }, s.reachable === true ? 1 : 0);
  });
  gauge("bts_health_status", "0 ok, 1 degraded, 2 failed", [], (g) => {
    g.set(LEVEL[site.control.health().status]);
  });
  gauge("bts_health_check", "each health check: 0 ok, 1 degraded, 2 failed", ["check"], (g) => {
    for (const c of site.control.health().checks) g.set({ check: c.name }, LEVEL[c.status]);
  });
  const sys = (
    name: string,
    help: string,
    pick: (s: NonNullable<ReturnType<SiteControl["systemSummary"]>>) => number | null,
  ) =>
    gauge(name, help, [], (g) => {
      const s = site.control.systemSummary();
      const v = s ? pick(s) : null;
      if (v !== null) g.set(v);
    });
  sys("bts_temperature_celsius", "the hottest thermal zone", (s) => s.temperature_c);
  sys("bts_under_voltage", "1 when the board's supply is too weak now", (s) =>
    s.under_voltage_now === null ? null : s.under_voltage_now ? 1 : 0,
  );
  sys("bts_disk_used_ratio", "used share of the storage partition", (s) =>
    s.disk_used_percent === null ? null : s.disk_used_percent / 100,
  );
  sys("bts_uptime_seconds", "seconds since the board booted", (s) => s.uptime_s);
  gauge("bts_process_resident_bytes", "resident memory of the bts-site process", [], (g) => {
    g.set(process.memoryUsage.rss());
  });
  return { reg, site };
}

export async function renderMetrics(control: SiteControl): Promise<{ contentType: string; body: string }> {
  if (!registry) registry = await build(control);
  registry.site.control = control;
  await control.sampleSystem().catch(() => {});
  return { contentType: registry.reg.contentType, body: await registry.reg.metrics() };
}
