// Discharge reports: each discharge the engine recorded, with its figures.

import { get } from "../api.js";
import { fmt, h, notice } from "../dom.js";

export async function mount(view) {
  view.append(h("h1", {}, "Discharge reports"));
  const reports = await get("/reports/discharges?limit=200");
  if (!reports.length) {
    view.append(notice("No discharge recorded yet. A report appears here after each discharge of a string."));
    return {};
  }
  for (const r of reports.reverse()) {
    const figures = Object.entries(r.data || {}).filter(([, v]) => typeof v !== "object" || v === null);
    view.append(h("section", { class: "panel report" },
      h("header", {}, h("h2", {}, fmt.time(r.time)), h("span", { class: "muted" }, r.source), h("span", {}, r.message)),
      h("div", { class: "body" }, figures.length ? h("table", {}, h("tbody", {}, figures.map(([k, v]) =>
        h("tr", {}, h("th", {}, k), h("td", { class: "num" }, typeof v === "number" ? String(Math.round(v * 1000) / 1000) : String(v))))))
        : h("span", { class: "muted" }, "no figures"))));
  }
  return {};
}
