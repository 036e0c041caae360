// The event log: alarms, commands (with who and from where), logins, configuration changes.

import { get } from "../api.js";
import { clear, fmt, h, notice, pill } from "../dom.js";

const KINDS = ["", "alarm", "command", "login", "config", "monitor", "discharge", "system"];

export async function mount(view, ctx) {
  const kind = h("select", { id: "event-kind" }, KINDS.map((k) => h("option", { value: k }, k || "all kinds")));
  const tbody = h("tbody");
  const status = h("span", { class: "muted small" });
  view.append(h("h1", {}, "Events"),
    h("div", { class: "toolbar" }, h("label", {}, h("span", {}, "Show"), kind), status),
    h("section", { class: "panel" }, h("div", { class: "table-wrap" }, h("table", {},
      h("thead", {}, h("tr", {}, ["Time", "Level", "Kind", "Event", "Message", "Who", "From"].map((t) => h("th", {}, t)))),
      tbody))));

  const row = (e) => h("tr", { class: e.level === "alarm" ? "st-alarm" : e.level === "warning" ? "st-warning" : "" },
    h("td", {}, fmt.time(e.time)), h("td", {}, pill(e.level === "info" ? "info" : e.level)), h("td", {}, e.kind),
    h("td", {}, e.code), h("td", {}, e.message),
    h("td", {}, e.actor ? `${e.actor.user}${e.actor.role && e.actor.role !== "none" ? ` (${e.actor.role})` : ""}` : ""),
    h("td", {}, e.actor ? [e.actor.via, e.actor.source].filter(Boolean).join(" · ") : ""));

  async function load() {
    const latest = ctx.overview();
    const t = latest && latest.site.time ? latest.site.time : Date.now() / 1000; // the gateway's clock
    const q = new URLSearchParams({ limit: "500", from: String(Math.floor(t - 7 * 86400)) });
    if (kind.value) q.set("kind", kind.value);
    try {
      const events = await get(`/events?${q}`);
      clear(tbody).append(...events.reverse().map(row));
      status.textContent = `${events.length} events in the last 7 days (newest first)`;
      if (!events.length) tbody.append(h("tr", {}, h("td", { colspan: 7 }, notice("No events."))));
    } catch (e) { status.textContent = e.message; }
  }
  kind.addEventListener("change", load);
  await load();
  return {
    event(e) { if (!kind.value || kind.value === e.kind) tbody.prepend(row(e)); },
  };
}
