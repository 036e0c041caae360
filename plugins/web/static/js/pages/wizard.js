// The addressing wizard. It needs the bus backend; until the gateway has one, this page says so.

import { get } from "../api.js";
import { h, notice } from "../dom.js";

export async function mount(view, ctx) {
  view.append(h("h1", {}, "Addressing wizard"));
  if (!ctx.may("admin")) { view.append(notice("Addressing monitors needs the admin role.")); return {}; }
  try {
    const state = await get("/bus/wizard");
    if (!state.available) {
      view.append(notice("Not available in this version: the addressing wizard needs the bus backend, which this gateway does not provide yet. Address monitors with the monitor vendor's tool for now.", "warn"));
    } else {
      view.append(h("pre", { class: "panel body" }, JSON.stringify(state, null, 2)));
    }
  } catch (e) {
    view.append(notice(`The wizard could not load: ${e.message}`, "error"));
  }
  return {};
}
