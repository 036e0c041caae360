// Bus health: each RS-485 line's state and counters, and every device on it, updated live.

import { clear, fmt, h, notice, pill } from "../dom.js";

const pct = (n, of) => (of ? `${((n / of) * 100).toFixed(2)} %` : "–");
const ms = (v) => (v === null || v === undefined ? "–" : v.toFixed(1));
const rowClass = (state) => (state === "down" || state === "comm_lost" || state === "identity_mismatch"
  ? "st-alarm" : state === "up" || state === "ok" ? "" : "st-warning");

function linesTable(lines) {
  return h("table", { id: "lines" }, h("thead", {}, h("tr", {},
    ["Line", "URL", "State", "Requests", "Timeouts", "CRC errors", "Exceptions", "Error rate", "Latency (ms)", "Cycle (s)", "Units without comm"]
      .map((t, i) => h("th", { class: i >= 3 ? "num" : "" }, t)))),
  h("tbody", {}, lines.map((l) => h("tr", { class: rowClass(l.state) },
    h("td", {}, l.name), h("td", { class: "muted" }, l.url), h("td", {}, pill(l.state)),
    h("td", { class: "num" }, fmt.int(l.requests)), h("td", { class: "num" }, fmt.int(l.timeouts)),
    h("td", { class: "num" }, fmt.int(l.crc_errors)), h("td", { class: "num" }, fmt.int(l.exceptions)),
    h("td", { class: "num" }, pct(l.timeouts + l.crc_errors + l.exceptions, l.requests)),
    h("td", { class: "num" }, ms(l.latency_ms)),
    h("td", { class: "num" }, l.cycle_s === null ? "–" : l.cycle_s.toFixed(2)),
    h("td", { class: "num" }, fmt.int(l.units_comm_lost))))));
}

// Devices of one line; the ones in trouble first, so a dead monitor among 50 is seen at once.
function devicesTable(line) {
  const order = (d) => (d.state === "ok" ? 1 : 0);
  const devices = [...line.devices].sort((a, b) => order(a) - order(b) || a.address - b.address);
  return h("table", { class: "devices", "data-line": line.name }, h("thead", {}, h("tr", {},
    ["Address", "Model", "Serial", "Firmware", "State", "Requests", "Timeouts", "CRC errors", "Exceptions", "Error rate", "Latency (ms)", "Failures in a row"]
      .map((t, i) => h("th", { class: i >= 5 || i === 0 ? "num" : "" }, t)))),
  h("tbody", {}, devices.map((d) => h("tr", { class: rowClass(d.state) },
    h("td", { class: "num" }, String(d.address)), h("td", {}, d.model),
    h("td", { class: "muted" }, d.serial === null ? "–" : String(d.serial)),
    h("td", { class: "muted" }, d.firmware || "–"), h("td", {}, pill(d.state)),
    h("td", { class: "num" }, fmt.int(d.requests)), h("td", { class: "num" }, fmt.int(d.timeouts)),
    h("td", { class: "num" }, fmt.int(d.crc_errors)), h("td", { class: "num" }, fmt.int(d.exceptions)),
    h("td", { class: "num" }, pct(d.timeouts + d.crc_errors + d.exceptions, d.requests)),
    h("td", { class: "num" }, ms(d.latency_ms)),
    h("td", { class: "num" }, fmt.int(d.consecutive_failures))))));
}

export async function mount(view) {
  const body = h("div", { class: "body" });
  const devices = h("div", {});
  view.append(h("h1", {}, "Bus health"), h("section", { class: "panel" }, body), devices);
  return {
    update(data) {
      clear(body);
      clear(devices);
      if (!data.lines.length) { body.append(notice("No lines are reporting.")); return; }
      body.append(linesTable(data.lines));
      for (const line of data.lines) {
        if (!line.devices || !line.devices.length) continue;
        devices.append(h("section", { class: "panel" },
          h("header", {}, h("h2", {}, `${line.name} — ${line.devices.length} devices`)),
          h("div", { class: "body" }, devicesTable(line))));
      }
    },
  };
}
