// The single-page shell: login and forced password change, the hash router, the live feed.

import { api, get, post, setSession, session, setUnauthorizedHandler } from "./api.js";
import { clear, h } from "./dom.js";
import * as overview from "./pages/overview.js";
import * as alarms from "./pages/alarms.js";
import * as trends from "./pages/trends.js";
import * as events from "./pages/events.js";
import * as reports from "./pages/reports.js";
import * as bus from "./pages/bus.js";
import * as wizard from "./pages/wizard.js";
import * as users from "./pages/users.js";
import * as account from "./pages/account.js";

const PAGES = { overview, alarms, trends, events, reports, bus, wizard, users, account };
const ROLES = ["viewer", "operator", "admin"];
const view = document.getElementById("view");
let current = null; // the mounted page: { update, event, unmount }
let latest = null; // the latest overview from the live feed
let source = null; // the EventSource

const ctx = {
  overview: () => latest,
  may: (role) => { const s = session(); return !!s && ROLES.indexOf(s.role) >= ROLES.indexOf(role); },
  user: () => session() && session().user,
  navigate: (hash) => { location.hash = hash; },
};

function parseHash() {
  const [path, query] = (location.hash.replace(/^#\/?/, "") || "overview").split("?");
  return { page: path.split("/")[0] || "overview", params: new URLSearchParams(query || "") };
}

async function route() {
  if (!session() || session().must_change_password) return;
  const { page, params } = parseHash();
  const mod = PAGES[page] || overview;
  if (current && current.unmount) current.unmount();
  current = null;
  for (const a of document.querySelectorAll("#nav a")) a.classList.toggle("active", a.dataset.page === page);
  clear(view);
  try {
    current = (await mod.mount(view, ctx, params)) || {};
    if (latest && current.update) current.update(latest);
  } catch (e) {
    view.append(h("div", { class: "notice error" }, `This page could not load: ${e.message}`));
  }
}

function setLive(stateName, text) {
  const el = document.getElementById("live");
  el.className = `live ${stateName}`;
  document.getElementById("live-text").textContent = text;
}

function onOverview(data) {
  latest = data;
  document.getElementById("site-name").textContent = data.site.name;
  document.title = `cellgate — ${data.site.name}`;
  const badge = document.getElementById("alarm-badge");
  const open = data.alarms.filter((a) => !a.acked_at).length;
  badge.hidden = open === 0;
  badge.textContent = String(open);
  setLive("on", `live · ${new Date(data.site.time * 1000).toLocaleTimeString()}`);
  if (current && current.update) current.update(data);
}

function connectLive() {
  if (source) source.close();
  source = new EventSource("/api/v1/live");
  source.addEventListener("overview", (m) => onOverview(JSON.parse(m.data)));
  source.addEventListener("event", (m) => { if (current && current.event) current.event(JSON.parse(m.data)); });
  source.addEventListener("logout", () => { source.close(); showLogin("Your session has ended."); });
  source.onerror = () => {
    setLive("off", "reconnecting…");
    // a closed stream after an expired session: find out, and show the login if so
    if (source.readyState === EventSource.CLOSED) get("/session").catch(() => showLogin("Your session has ended."));
  };
}

function showApp() {
  document.getElementById("topbar").hidden = false;
  const s = session();
  document.getElementById("who").textContent = `${s.user} · ${s.role}`;
  for (const a of document.querySelectorAll("#nav a[data-role]")) a.hidden = !ctx.may(a.dataset.role);
  connectLive();
  route();
}

function screen(...children) {
  document.getElementById("topbar").hidden = true;
  if (source) { source.close(); source = null; }
  if (current && current.unmount) current.unmount();
  current = null;
  clear(view).append(h("div", { class: "login-wrap" }, h("div", { class: "login" }, ...children)));
}

function title(text) {
  return h("h1", {}, h("img", { src: "/static/favicon.svg", alt: "", width: 22, height: 22 }), text);
}

function showLogin(message = "") {
  setSession(null);
  const error = h("div", { class: "error", id: "login-error" }, message);
  const form = h("form", { id: "login-form" },
    title("cellgate"),
    h("label", {}, h("span", {}, "User"), h("input", { name: "user", autocomplete: "username", required: true, autofocus: true })),
    h("label", {}, h("span", {}, "Password"), h("input", { name: "password", type: "password", autocomplete: "current-password", required: true })),
    error,
    h("button", { class: "primary", type: "submit" }, "Log in"));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    error.textContent = "";
    const fd = new FormData(form);
    try {
      const s = await post("/session", { user: fd.get("user"), password: fd.get("password") });
      setSession(s);
      if (s.must_change_password) showForcedChange(); else showApp();
    } catch (e) {
      error.textContent = e.status === 429 ? "Too many failed logins from here. Try again later." : "Wrong user name or password.";
    }
  });
  screen(form);
}

function showForcedChange() {
  const error = h("div", { class: "error" });
  const form = h("form", { id: "change-form" },
    title("Choose a new password"),
    h("p", { class: "muted small" }, "This account's password was set for you. Choose your own (at least 10 characters) before you go on."),
    h("label", {}, h("span", {}, "Current password"), h("input", { name: "old", type: "password", autocomplete: "current-password", required: true })),
    h("label", {}, h("span", {}, "New password"), h("input", { name: "new", type: "password", autocomplete: "new-password", required: true, minlength: 10 })),
    h("label", {}, h("span", {}, "New password again"), h("input", { name: "again", type: "password", autocomplete: "new-password", required: true })),
    error,
    h("button", { class: "primary", type: "submit" }, "Change password"));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const fd = new FormData(form);
    if (fd.get("new") !== fd.get("again")) { error.textContent = "The two new passwords differ."; return; }
    try {
      setSession(await post("/session/password", { old_password: fd.get("old"), new_password: fd.get("new") }));
      showApp();
    } catch (e) { error.textContent = e.message; }
  });
  screen(form);
}

document.getElementById("logout").addEventListener("click", async () => {
  try { await api("DELETE", "/session"); } catch { /* gone already */ }
  showLogin("Logged out.");
});
setUnauthorizedHandler(() => showLogin("Your session has ended. Please log in again."));
window.addEventListener("hashchange", route);

(async () => {
  try {
    const s = await get("/session");
    setSession(s);
    if (s.must_change_password) showForcedChange(); else showApp();
  } catch { showLogin(); }
})();
