// Users and API tokens (admin): add, change role, disable, reset password, delete; create and
// revoke tokens. Every change is recorded as an event with who did it.

import { del, get, patch, post } from "../api.js";
import { clear, fmt, h, notice, pill } from "../dom.js";

const ROLES = ["viewer", "operator", "admin"];

export async function mount(view, ctx) {
  view.append(h("h1", {}, "Users and API tokens"));
  if (!ctx.may("admin")) { view.append(notice("Managing users needs the admin role.")); return {}; }
  const message = h("div", { class: "small", id: "users-message" });
  const usersBody = h("div", { class: "body" });
  const tokensBody = h("div", { class: "body" });
  view.append(message,
    h("section", { class: "panel" }, h("header", {}, h("h2", {}, "Local users")), usersBody),
    h("section", { class: "panel" }, h("header", {}, h("h2", {}, "API tokens"), h("span", { class: "muted small" }, "for scripts: Authorization: Bearer <token>")), tokensBody));
  const say = (text, error = false) => { message.className = `small notice ${error ? "error" : ""}`; message.textContent = text; };
  const guard = (fn) => async (...args) => { try { await fn(...args); } catch (e) { say(e.message, true); } await load(); };

  const addForm = h("form", { class: "toolbar", id: "add-user" },
    h("input", { name: "name", placeholder: "user name", required: true, autocomplete: "off" }),
    h("select", { name: "role" }, ROLES.map((r) => h("option", { value: r }, r))),
    h("input", { name: "password", type: "password", placeholder: "initial password (10+)", required: true, autocomplete: "new-password" }),
    h("button", { class: "primary", type: "submit" }, "Add user"),
    h("span", { class: "muted small" }, "The user must change this password at first login."));
  addForm.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const fd = new FormData(addForm);
    guard(async () => {
      await post("/users", { name: fd.get("name"), role: fd.get("role"), password: fd.get("password") });
      say(`User ${fd.get("name")} added.`);
      addForm.reset();
    })();
  });

  const tokenForm = h("form", { class: "toolbar", id: "add-token" },
    h("input", { name: "name", placeholder: "token name, e.g. nagios", required: true, autocomplete: "off" }),
    h("select", { name: "role" }, ROLES.map((r) => h("option", { value: r }, r))),
    h("button", { class: "primary", type: "submit" }, "Create token"));
  const secretBox = h("div");
  tokenForm.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const fd = new FormData(tokenForm);
    guard(async () => {
      const t = await post("/tokens", { name: fd.get("name"), role: fd.get("role") });
      clear(secretBox).append(h("p", {}, `Token ${t.name} (${t.role}) — copy it now, it is shown only once:`), h("div", { class: "secret" }, t.token));
      tokenForm.reset();
    })();
  });

  async function load() {
    const [users, tokens] = await Promise.all([get("/users"), get("/tokens")]);
    clear(usersBody).append(h("table", { id: "users" }, h("thead", {}, h("tr", {},
      ["User", "Role", "State", "Created", ""].map((t) => h("th", {}, t)))),
    h("tbody", {}, users.map((u) => {
      const role = h("select", { "aria-label": `role of ${u.name}` }, ROLES.map((r) => h("option", { value: r }, r)));
      role.value = u.role;
      role.onchange = guard(async () => { await patch(`/users/${encodeURIComponent(u.name)}`, { role: role.value }); say(`${u.name} is now ${role.value}.`); });
      const state = u.disabled ? pill("comm_lost", "disabled") : u.must_change_password ? pill("warning", "must change pw") : pill("ok", "active");
      return h("tr", { "data-user": u.name }, h("td", {}, u.name, u.name === ctx.user() ? h("span", { class: "muted" }, " (you)") : null),
        h("td", {}, role), h("td", {}, state), h("td", {}, fmt.time(u.created_at)),
        h("td", {},
          h("button", { type: "button", onclick: guard(async () => {
            const pw = window.prompt(`New password for ${u.name} (10+ characters); they must change it at next login:`);
            if (pw) { await patch(`/users/${encodeURIComponent(u.name)}`, { password: pw }); say(`Password of ${u.name} reset.`); }
          }) }, "Reset password"), " ",
          h("button", { type: "button", onclick: guard(async () => {
            await patch(`/users/${encodeURIComponent(u.name)}`, { disabled: !u.disabled }); say(`${u.name} ${u.disabled ? "enabled" : "disabled"}.`);
          }) }, u.disabled ? "Enable" : "Disable"), " ",
          h("button", { type: "button", class: "danger", onclick: guard(async () => {
            if (window.confirm(`Delete user ${u.name} and revoke their tokens?`)) { await del(`/users/${encodeURIComponent(u.name)}`); say(`${u.name} deleted.`); }
          }) }, "Delete")));
    }))), addForm);
    clear(tokensBody).append(tokens.length ? h("table", { id: "tokens" }, h("thead", {}, h("tr", {},
      ["Token", "Role", "Owner", "Created", "State", ""].map((t) => h("th", {}, t)))),
    h("tbody", {}, tokens.map((t) => h("tr", {}, h("td", {}, t.name), h("td", {}, t.role), h("td", {}, t.owner || "–"),
      h("td", {}, fmt.time(t.created_at)), h("td", {}, t.revoked_at ? pill("comm_lost", "revoked") : pill("ok", "active")),
      h("td", {}, t.revoked_at ? "" : h("button", { type: "button", class: "danger", onclick: guard(async () => {
        if (window.confirm(`Revoke token ${t.name}? Scripts using it stop working at once.`)) { await del(`/tokens/${encodeURIComponent(t.name)}`); say(`Token ${t.name} revoked.`); }
      }) }, "Revoke")))))) : notice("No API tokens yet."), tokenForm, secretBox);
  }
  await load();
  return {};
}
