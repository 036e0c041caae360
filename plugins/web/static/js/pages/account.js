// The signed-in user's own account: change the password.

import { post, session, setSession } from "../api.js";
import { h } from "../dom.js";

export async function mount(view) {
  const s = session();
  const message = h("div", { class: "small", id: "account-message" });
  const form = h("form", { class: "body" },
    h("label", {}, h("span", {}, "Current password"), h("input", { name: "old", type: "password", autocomplete: "current-password", required: true })),
    h("label", {}, h("span", {}, "New password (at least 10 characters)"), h("input", { name: "new", type: "password", autocomplete: "new-password", required: true, minlength: 10 })),
    message, h("button", { class: "primary", type: "submit" }, "Change password"));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const fd = new FormData(form);
    try {
      setSession(await post("/session/password", { old_password: fd.get("old"), new_password: fd.get("new") }));
      message.textContent = "Password changed. Your other sessions were logged out.";
      form.reset();
    } catch (e) { message.textContent = e.message; }
  });
  view.append(h("h1", {}, "Account"), h("p", { class: "muted" }, `Signed in as ${s.user} (${s.role}) via ${s.via}.`),
    h("section", { class: "panel" }, h("header", {}, h("h2", {}, "Change password")), form));
  return {};
}
