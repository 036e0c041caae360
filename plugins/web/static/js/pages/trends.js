// Trends per unit and per string, drawn with the vendored uPlot (loaded on this page only,
// so the overview stays light). Times follow the gateway's clock (the simulator may run fast).

import { get } from "../api.js";
import { clear, h, notice } from "../dom.js";

const UNIT_FIELDS = { voltage_v: "Voltage (V)", temperature_c: "Temperature (°C)", ri_ohm: "Ri (mΩ)", soc: "Charge (%)", soh: "SOH (%)", equalize_duty: "Equalize duty (%)" };
const STRING_FIELDS = { voltage_v: "Voltage (V)", current_a: "Current (A)", spread_v: "Spread (mV)", soc: "Charge (%)" };
const SCALE = { ri_ohm: 1000, soc: 100, soh: 100, equalize_duty: 100, spread_v: 1000 }; // shown in mΩ, %, mV
const RANGES = [["1 h", 3600], ["6 h", 21600], ["24 h", 86400], ["7 d", 604800]];

let uplotLoading = null;
function loadUplot() {
  if (window.uPlot) return Promise.resolve(window.uPlot);
  if (!uplotLoading) {
    uplotLoading = new Promise((resolve, reject) => {
      document.head.append(h("link", { rel: "stylesheet", href: "/static/vendor/uplot/uPlot.min.css" }));
      const s = h("script", { src: "/static/vendor/uplot/uPlot.iife.min.js" });
      s.onload = () => resolve(window.uPlot);
      s.onerror = () => reject(new Error("chart library failed to load"));
      document.head.append(s);
    });
  }
  return uplotLoading;
}

export async function mount(view, ctx, params) {
  const data = ctx.overview() || (await get("/overview"));
  const strings = data.site.strings;
  if (!strings.length) { view.append(h("h1", {}, "Trends"), notice("No strings configured.")); return {}; }
  const sel = {
    s: Math.min(Number(params.get("s") || 0), strings.length - 1),
    u: params.get("u") ? Number(params.get("u")) : 0, // 0 = the whole string
    field: params.get("f") || "voltage_v",
    range: Number(params.get("r") || 3600),
  };
  const stringSel = h("select", { id: "trend-string" }, strings.map((s) => h("option", { value: s.index }, s.name)));
  const unitSel = h("select", { id: "trend-unit" });
  const fieldSel = h("select", { id: "trend-field" });
  const ranges = h("span", { class: "segmented" }, RANGES.map(([label, s]) =>
    h("button", { type: "button", "data-range": s, onclick: () => { sel.range = s; sync(); } }, label)));
  const csv = h("a", { class: "btn", id: "trend-csv" }, "Export CSV");
  const title = h("h2", { id: "trend-title" });
  const chartBox = h("div", { class: "trend", id: "trend-chart" });
  const status = h("span", { class: "muted small" });
  view.append(h("h1", {}, "Trends"),
    h("div", { class: "toolbar" }, h("label", {}, h("span", {}, "String"), stringSel), h("label", {}, h("span", {}, "Unit"), unitSel),
      h("label", {}, h("span", {}, "Value"), fieldSel), ranges, csv, status),
    h("section", { class: "panel" }, h("header", {}, title), h("div", { class: "body" }, chartBox)));

  function fillSelectors() {
    stringSel.value = String(sel.s);
    const s = strings[sel.s];
    clear(unitSel).append(h("option", { value: 0 }, "whole string"),
      ...Array.from({ length: s.unit_count }, (_, i) => h("option", { value: i + 1 }, `#${i + 1}`)));
    unitSel.value = String(sel.u);
    const fields = sel.u ? UNIT_FIELDS : STRING_FIELDS;
    if (!fields[sel.field]) sel.field = "voltage_v";
    clear(fieldSel).append(...Object.entries(fields).map(([k, label]) => h("option", { value: k }, label)));
    fieldSel.value = sel.field;
    for (const b of ranges.children) b.classList.toggle("on", Number(b.dataset.range) === sel.range);
  }
  stringSel.onchange = () => { sel.s = Number(stringSel.value); sel.u = 0; sync(); };
  unitSel.onchange = () => { sel.u = Number(unitSel.value); sync(); };
  fieldSel.onchange = () => { sel.field = fieldSel.value; sync(); };

  let plot = null;
  let timer = null;
  function sync() {
    const hash = `#/trends?s=${sel.s}&u=${sel.u}&f=${sel.field}&r=${sel.range}`;
    if (location.hash !== hash) history.replaceState(null, "", hash);
    fillSelectors();
    draw();
  }

  async function draw() {
    const uPlot = await loadUplot();
    const now = (ctx.overview() || data).site.time || Date.now() / 1000;
    const source = sel.u ? `strings[${sel.s}].units[${sel.u - 1}]` : `strings[${sel.s}]`;
    const q = new URLSearchParams({ source, fields: sel.field, from: String(Math.floor(now - sel.range)), to: String(Math.ceil(now + 60)) });
    csv.href = `/api/v1/history/export?${q}`;
    const label = (sel.u ? UNIT_FIELDS : STRING_FIELDS)[sel.field];
    title.textContent = `${strings[sel.s].name}${sel.u ? ` #${sel.u}` : ""} — ${label}`;
    let series;
    try {
      series = (await get(`/history?${q}`)).series;
    } catch (e) {
      status.textContent = e.message;
      return;
    }
    const k = SCALE[sel.field] || 1;
    const ys = series[sel.field].map((v) => (v === null ? null : v * k));
    status.textContent = `${series.t.length} samples`;
    const width = chartBox.clientWidth || 900;
    const opts = {
      width, height: 320,
      scales: {
        x: { time: true },
        // around the data with a margin, never from zero: a 13.5 V float line must show its ripple
        y: { range: (u, min, max) => { const pad = Math.max((max - min) * 0.15, Math.abs(max) * 0.002, 1e-3); return [min - pad, max + pad]; } },
      },
      series: [{}, { label, stroke: "#2f6fb0", width: 1.6, spanGaps: false, points: { show: series.t.length < 60 } }],
      axes: [{ stroke: "#66727f", grid: { stroke: "#edf0f3" } }, { stroke: "#66727f", grid: { stroke: "#edf0f3" }, size: 60 }],
      legend: { show: true },
    };
    if (plot) plot.destroy();
    clear(chartBox);
    if (!series.t.length) { chartBox.append(notice("No samples in this time range yet.")); plot = null; return; }
    plot = new uPlot(opts, [series.t, ys], chartBox);
  }

  sync();
  timer = setInterval(draw, 10000);
  return { unmount() { clearInterval(timer); if (plot) plot.destroy(); } };
}
