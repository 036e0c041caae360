// Active and unacknowledged alarms, newest first, with Acknowledge for operators.

import { post } from "../api.js";
import { clear, fmt, h, notice, pill, unitLabel } from "../dom.js";

export async function mount(view, ctx) {
  const message = h("div", { class: "small muted", id: "alarm-message" });
  const body = h("div", { class: "body" });
  view.append(h("h1", {}, "Alarms"), h("section", { class: "panel" },
    h("header", {}, h("h2", {}, "Active and unacknowledged"), h("span", { class: "spacer" }), message), body));

  async function ack(alarm, button) {
    button.disabled = true;
    try {
      await post(`/alarms/${alarm.id}/ack`);
      message.textContent = `Alarm ${alarm.id} acknowledged.`;
    } catch (e) {
      message.textContent = e.message;
      button.disabled = false;
    }
  }

  function update(data) {
    const alarms = [...data.alarms].sort((a, b) => b.raised_at - a.raised_at);
    clear(body);
    if (!alarms.length) { body.append(notice("No active alarms.")); return; }
    const rows = alarms.map((a) => h("tr", { class: `${a.cleared_at ? "" : `st-${a.level}`} ${a.acked_at ? "acked" : ""}`, "data-alarm": a.id },
      h("td", {}, pill(a.level)),
      h("td", {}, unitLabel(data.site, a.source)),
      h("td", {}, a.message),
      h("td", { class: "num" }, a.value === null ? "–" : String(a.value)),
      h("td", {}, fmt.time(a.raised_at)),
      h("td", {}, a.cleared_at ? `cleared ${fmt.clock(a.cleared_at)}` : "active"),
      h("td", {}, a.acked_at ? `${a.acked_by} · ${fmt.clock(a.acked_at)}` :
        ctx.may("operator") ? h("button", { type: "button", class: "primary ack", onclick: (ev) => ack(a, ev.target) }, "Acknowledge")
          : h("span", { class: "muted" }, "not acknowledged"))));
    body.append(h("table", {}, h("thead", {}, h("tr", {},
      ["Level", "Where", "Message", "Value", "Raised", "State", "Acknowledged"].map((t) => h("th", {}, t)))),
    h("tbody", {}, rows)));
  }
  return { update };
}
