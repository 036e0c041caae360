// The addressing wizard. It needs the bus backend; until the gateway has one, this page says so.

import { get } from "../api.js";
import { h, notice } from "../dom.js";

export async function mount(view, ctx) {
  view.append(h("h1", {}, "Addressing wizard"));
  if (!ctx.may("admin")) { view.append(notice("Addressing monitors needs the admin role.")); return {}; }
  try {
    const state = await get("/bus/wizard");
    if (!state.available) {
      view.append(notice("Not available in the web UI yet: the running gateway does not lend its RS-485 lines to the web service. Address new monitors with the command-line wizard while the gateway is stopped:", "warn"),
        h("pre", { class: "panel body" }, "cellgate bus address /dev/ttyUSB0 --baud 19200 --start 25 --count 4\n\n# then press each new monitor's address button when asked; its LED blinks once it has its id"));
    } else {
      view.append(h("pre", { class: "panel body" }, JSON.stringify(state, null, 2)));
    }
  } catch (e) {
    view.append(notice(`The wizard could not load: ${e.message}`, "error"));
  }
  return {};
}
