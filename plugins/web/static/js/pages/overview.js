// The string overview: per string its figures, a bar chart of unit voltages around the
// equalization target, and the battery table (No., Volt., Temp., Ri, Charge %, Equalize,
// Status), sortable, colour-coded by status. Rows are updated in place, so 512 units stay smooth.

import { put } from "../api.js";
import { clear, fmt, h, notice, pill } from "../dom.js";
import { drawBars } from "./barchart.js";

const COLUMNS = [
  { key: "position", label: "No.", num: true, get: (u) => u.position, show: (u) => String(u.position) },
  { key: "voltage_v", label: "Volt. (V)", num: true, get: (u) => u.voltage_v, show: (u) => fmt.v(u.voltage_v) },
  { key: "temperature_c", label: "Temp. (°C)", num: true, get: (u) => u.temperature_c, show: (u) => fmt.c(u.temperature_c) },
  { key: "ri_ohm", label: "Ri (mΩ)", num: true, get: (u) => u.ri_ohm, show: (u) => fmt.mohm(u.ri_ohm) },
  { key: "ri_rel", label: "Ri/base", num: true, get: riRel, show: (u) => (riRel(u) === null ? "–" : `${Math.round(riRel(u) * 100)} %`) },
  { key: "soc", label: "Charge %", num: true, get: (u) => u.soc, show: (u) => fmt.pct(u.soc) },
  { key: "soh", label: "SOH %", num: true, get: (u) => u.soh, show: (u) => fmt.pct(u.soh) },
  { key: "equalize_duty", label: "Equalize", num: false, get: (u) => u.equalize_duty, cell: dutyCell },
  { key: "status", label: "Status", num: false, get: (u) => STATUS_RANK[u.status] ?? 9, cell: (td, u) => { clear(td).append(pill(u.status)); } },
  { key: "address", label: "Addr.", num: true, get: (u) => u.address * 100 + u.channel, show: (u) => `${u.address}/${u.channel}` },
];
const STATUS_RANK = { alarm: 0, comm_lost: 1, warning: 2, no_data: 3, stale: 4, ok: 5 };

function riRel(u) { return u.ri_ohm && u.ri_baseline_ohm ? u.ri_ohm / u.ri_baseline_ohm : null; }

function dutyCell(td, u) {
  const pct = Math.round((u.equalize_duty || 0) * 100);
  if (!td.firstChild) td.append(h("span", { class: "duty" }, h("span")), h("span", { class: "num" }));
  td.firstChild.firstChild.style.width = `${pct}%`;
  td.lastChild.textContent = `${pct} %`;
}

export async function mount(view, ctx) {
  const summary = h("div", { class: "cards", id: "summary" });
  const strings = h("div", { id: "strings" });
  view.append(summary, strings);
  const panels = new Map(); // string index -> panel state
  let layoutKey = "";

  function update(data) {
    const site = data.site;
    renderSummary(summary, data);
    const key = site.strings.map((s) => `${s.index}:${s.unit_count}`).join(",");
    if (key !== layoutKey) { // strings changed: rebuild the panels
      layoutKey = key;
      panels.clear();
      clear(strings);
      if (!site.strings.length) strings.append(notice("No strings are configured or no data has arrived yet."));
      const small = site.strings.length <= 4 && site.strings.every((s) => s.unit_count <= 60);
      const holder = h("div", { class: small && site.strings.length > 1 ? "grid2" : "" });
      strings.append(holder);
      for (const s of site.strings) {
        const p = buildPanel(s, ctx);
        panels.set(s.index, p);
        holder.append(p.el);
      }
    }
    for (const s of site.strings) panels.get(s.index).update(s, site.time);
  }
  return { update };
}

function renderSummary(el, data) {
  const site = data.site;
  const units = site.strings.reduce((n, s) => n + s.unit_count, 0);
  const counts = {};
  for (const s of site.strings) for (const [k, v] of Object.entries(s.status_counts)) counts[k] = (counts[k] || 0) + v;
  const open = data.alarms.filter((a) => !a.cleared_at).length;
  const card = (label, value, unit, cls = "") => h("div", { class: `card ${cls}` },
    h("div", { class: "label" }, label), h("div", { class: "value" }, value, unit ? h("small", {}, unit) : null));
  clear(el).append(
    card("Strings", String(site.strings.length)),
    card("Units", String(units)),
    card("Alarms active", String(open), "", open ? "alarm" : ""),
    card("Units in alarm", String(counts.alarm || 0)),
    card("Warnings", String(counts.warning || 0)),
    card("No communication", String((counts.comm_lost || 0) + (counts.no_data || 0))),
    card("Ambient", fmt.c(site.ambient_c), "°C"),
    card("Humidity", site.humidity_pct === null ? "–" : site.humidity_pct.toFixed(0), "%"),
  );
}

function buildPanel(s, ctx) {
  const figures = h("div", { class: "figures" });
  const canvas = h("canvas", { class: "barchart", "aria-label": `unit voltages of ${s.name}` });
  const legend = h("div", { class: "chart-legend" });
  const sort = { key: "position", desc: false };
  const headRow = h("tr");
  const tbody = h("tbody");
  const table = h("table", { class: "unit-table", "data-string": s.index }, h("thead", {}, headRow), tbody);
  const rows = new Map(); // position -> { tr, tds, unit }
  let last = s;

  for (const col of COLUMNS) {
    const th = h("th", { class: `sortable ${col.num ? "num" : ""}`, "data-key": col.key }, col.label);
    th.addEventListener("click", () => {
      sort.desc = sort.key === col.key ? !sort.desc : false;
      sort.key = col.key;
      update(last);
    });
    headRow.append(th);
  }
  const eqButtons = ctx.may("operator") ? h("span", { class: "segmented" },
    h("button", { type: "button", onclick: () => setEq(true), title: "switch equalization on for this string" }, "Equalize on"),
    h("button", { type: "button", onclick: () => setEq(false), title: "switch equalization off for this string" }, "off")) : null;
  const message = h("span", { class: "muted small" });
  async function setEq(enabled) {
    try {
      await put("/equalization", { enabled, string: s.index });
      message.textContent = `equalization ${enabled ? "on" : "off"} requested`;
    } catch (e) { message.textContent = e.message; }
  }

  const el = h("section", { class: "panel string-panel", "data-string": s.index },
    h("header", {}, h("h2", {}, s.name), h("span", { class: "spacer" }), message, eqButtons, figures),
    h("div", { class: "body" }, legend, canvas),
    h("div", { class: `table-wrap ${s.unit_count > 48 ? "" : "short"}` }, table));

  function update(str, now) {
    last = str;
    figures.replaceChildren(...[
      h("span", {}, "Voltage ", h("b", {}, `${fmt.v(str.voltage_v, 2)} V`)),
      h("span", {}, "Current ", h("b", {}, `${fmt.a(str.current_a)} A`)),
      h("span", {}, "Mode ", h("b", {}, str.mode)),
      h("span", {}, "Charge ", h("b", {}, `${fmt.pct(str.soc)} %`)),
      h("span", {}, "Spread ", h("b", {}, `${str.spread_v === null ? "–" : (str.spread_v * 1000).toFixed(0)} mV`)),
      str.runtime_s !== null ? h("span", {}, "Runtime ", h("b", {}, fmt.duration(str.runtime_s))) : null,
      h("span", {}, "Target ", h("b", {}, `${fmt.v(str.target_voltage_v)} V`)),
    ].filter(Boolean));
    for (const th of headRow.children) {
      th.classList.toggle("sorted", th.dataset.key === sort.key);
      th.classList.toggle("desc", th.dataset.key === sort.key && sort.desc);
    }
    const col = COLUMNS.find((c) => c.key === sort.key);
    const units = [...str.units].sort((a, b) => {
      const x = col.get(a), y = col.get(b);
      const d = x === null ? 1 : y === null ? -1 : (x < y ? -1 : x > y ? 1 : a.position - b.position);
      return sort.desc ? -d : d;
    });
    for (const u of units) {
      let row = rows.get(u.position);
      if (!row) {
        const tds = COLUMNS.map((c) => h("td", { class: c.num ? "num" : "" }));
        const tr = h("tr", { "data-position": u.position, title: `#${u.position}: ${u.model} on ${u.bus}, unit id ${u.address}, channel ${u.channel} — click for its trend` }, tds);
        tr.addEventListener("click", () => ctx.navigate(`#/trends?s=${str.index}&u=${u.position}`));
        row = { tr, tds };
        rows.set(u.position, row);
      }
      row.tr.className = `st-${u.status}`;
      COLUMNS.forEach((c, i) => {
        if (c.cell) c.cell(row.tds[i], u);
        else {
          const text = c.show(u);
          if (row.tds[i].textContent !== text) row.tds[i].textContent = text;
        }
      });
      tbody.append(row.tr); // moves it into sorted order
    }
    drawBars(canvas, str);
    legend.replaceChildren(
      h("span", {}, `Unit voltage minus target (${fmt.v(str.target_voltage_v)} V), mV`),
      h("span", {}, `${now ? new Date(now * 1000).toLocaleTimeString() : ""}`),
    );
  }
  return { el, update };
}
