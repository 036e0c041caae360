// The addressing wizard (admin): pick a line and a start address, then press each new monitor's
// address button in turn; each one gets the next id and blinks. Progress arrives as live events.

import { del, get, post } from "../api.js";
import { clear, h, notice, pill } from "../dom.js";

// the session as the page knows it, from GET /bus/wizard and then from each wizard_* event
function fromEvent(e) {
  const d = e.data || {};
  return { ...d, last: { code: e.code, message: e.message, level: e.level, time: e.time } };
}

// a start address to offer: the first configured unit of the line that does not answer
// (a new or replaced monitor still at 247), else the address after the last one configured
function suggestedStart(overview, line) {
  if (!overview) return 1;
  const units = overview.site.strings.flatMap((s) => s.units || []).filter((u) => u.bus === line);
  const silent = units.filter((u) => u.quality === "comm_lost" || u.quality === "no_data").map((u) => u.address);
  if (silent.length) return Math.min(...silent);
  return units.length ? Math.min(246, Math.max(...units.map((u) => u.address)) + 1) : 1;
}

export async function mount(view, ctx) {
  view.append(h("h1", {}, "Addressing wizard"));
  if (!ctx.may("admin")) { view.append(notice("Addressing monitors needs the admin role.")); return {}; }
  let state;
  try {
    state = await get("/bus/wizard");
  } catch (e) {
    view.append(notice(`The wizard could not load: ${e.message}`, "error"));
    return {};
  }
  const sessions = { ...state.sessions };
  if (!state.lines.length) { view.append(notice("No RS-485 lines are configured.")); return {}; }

  const lineSelect = h("select", { id: "wizard-line", name: "line" }, state.lines.map((l) => h("option", { value: l }, l)));
  const startInput = h("input", { id: "wizard-start", name: "start", type: "number", min: 1, max: 246, required: true });
  const startButton = h("button", { class: "primary", type: "submit", id: "wizard-start-button" }, "Start");
  const stopButton = h("button", { type: "button", id: "wizard-stop-button" }, "Stop");
  const message = h("div", { class: "small", id: "wizard-message" });
  const status = h("div", { class: "body", id: "wizard-status" });
  const form = h("form", { class: "toolbar", id: "wizard-form" },
    h("label", {}, h("span", {}, "Line"), lineSelect),
    h("label", {}, h("span", {}, "First address"), startInput),
    startButton, stopButton);
  view.append(
    h("section", { class: "panel" }, h("div", { class: "body" },
      h("p", {}, "Start the wizard, then press the address button of one new monitor for 1 s. It gets the next address and its LED blinks; then press the next one. The line keeps polling the other monitors meanwhile."),
      form, message)),
    h("section", { class: "panel" }, h("header", {}, h("h2", {}, "This session")), status));

  const say = (text, error = false) => { message.className = `small notice ${error ? "error" : ""}`; message.textContent = text; };
  const line = () => lineSelect.value;
  const running = (s) => !!s && s.state === "waiting";

  function render() {
    const s = sessions[line()];
    startButton.disabled = running(s);
    stopButton.disabled = !running(s);
    startInput.disabled = running(s);
    clear(status);
    if (!s) { status.append(notice("The wizard has not run on this line since the gateway started.")); return; }
    const problem = s.last && s.last.code === "wizard_two_in_learn_mode";
    if (problem) {
      status.append(h("div", { class: "notice error", id: "wizard-two" },
        "Two monitors were in learn mode at once. Both were reset to factory address 247 and got no id. Press one button at a time."));
    }
    status.append(h("p", {}, pill(running(s) ? "up" : "info", running(s) ? "waiting for a button" : "stopped"), " ",
      running(s) ? `Press the next monitor's button: it gets address ${s.next_address}.` : `Ended: ${s.reason || "–"}.`));
    const assigned = s.assigned || [];
    if (!assigned.length) { status.append(h("p", { class: "muted" }, "No monitor addressed yet.")); } else {
      status.append(h("table", { id: "wizard-assigned" },
        h("thead", {}, h("tr", {}, ["Address", "Model", "Serial", "Firmware", "Channels", "Polled"].map((t, i) => h("th", { class: i === 0 || i === 2 || i === 4 ? "num" : "" }, t)))),
        h("tbody", {}, assigned.map((a) => h("tr", {},
          h("td", { class: "num" }, String(a.address)), h("td", {}, a.model), h("td", { class: "num" }, String(a.serial)),
          h("td", {}, a.firmware), h("td", { class: "num" }, String(a.channels)),
          h("td", {}, a.configured ? pill("ok", "yes") : pill("warning", "not in the config")))))));
    }
    const hint = s.config_hint || [];
    if (hint.length) {
      status.append(h("p", {}, "The config does not bind these addresses yet, so they are not polled. Add a string (or extend one) in the config file with:"),
        h("pre", { class: "panel body", id: "wizard-hint" }, hint.join("\n")));
    }
  }

  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    try {
      const r = await post(`/lines/${encodeURIComponent(line())}/wizard`, { start: Number(startInput.value) });
      say(r.message);
    } catch (e) { say(e.message, true); }
  });
  stopButton.addEventListener("click", async () => {
    try { say((await del(`/lines/${encodeURIComponent(line())}/wizard`)).message); } catch (e) { say(e.message, true); }
  });
  lineSelect.addEventListener("change", () => { startInput.value = String(suggestedStart(ctx.overview(), line())); render(); });
  startInput.value = String(suggestedStart(ctx.overview(), line()));
  render();

  return {
    event(e) {
      if (e.kind !== "monitor" || !e.code.startsWith("wizard_") || !e.data || !e.data.line) return;
      sessions[e.data.line] = fromEvent(e);
      if (e.data.line === line()) render();
    },
  };
}
