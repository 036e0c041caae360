// Bus health: each RS-485 line's state and counters, updated live.

import { clear, fmt, h, notice, pill } from "../dom.js";

export async function mount(view) {
  const body = h("div", { class: "body" });
  view.append(h("h1", {}, "Bus health"), h("section", { class: "panel" }, body));
  return {
    update(data) {
      clear(body);
      if (!data.lines.length) { body.append(notice("No lines are reporting.")); return; }
      const pct = (n, of) => (of ? `${((n / of) * 100).toFixed(2)} %` : "–");
      body.append(h("table", { id: "lines" }, h("thead", {}, h("tr", {},
        ["Line", "URL", "State", "Requests", "Timeouts", "CRC errors", "Exceptions", "Error rate", "Latency (ms)", "Cycle (s)", "Units without comm"]
          .map((t, i) => h("th", { class: i >= 3 ? "num" : "" }, t)))),
      h("tbody", {}, data.lines.map((l) => h("tr", { class: l.state === "down" ? "st-alarm" : l.state === "up" ? "" : "st-warning" },
        h("td", {}, l.name), h("td", { class: "muted" }, l.url), h("td", {}, pill(l.state)),
        h("td", { class: "num" }, fmt.int(l.requests)), h("td", { class: "num" }, fmt.int(l.timeouts)),
        h("td", { class: "num" }, fmt.int(l.crc_errors)), h("td", { class: "num" }, fmt.int(l.exceptions)),
        h("td", { class: "num" }, pct(l.timeouts + l.crc_errors + l.exceptions, l.requests)),
        h("td", { class: "num" }, l.latency_ms === null ? "–" : l.latency_ms.toFixed(1)),
        h("td", { class: "num" }, l.cycle_s === null ? "–" : l.cycle_s.toFixed(2)),
        h("td", { class: "num" }, fmt.int(l.units_comm_lost)))))));
    },
  };
}
