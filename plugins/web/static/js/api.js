// Talking to /api/v1: JSON in and out, the session's CSRF token on every write,
// and one place that notices an expired session.

const state = { csrf: null, session: null, onUnauthorized: () => {} };

export class ApiError extends Error {
  constructor(status, detail) {
    super(typeof detail === "string" ? detail : JSON.stringify(detail));
    this.status = status;
  }
}

export function setUnauthorizedHandler(fn) { state.onUnauthorized = fn; }
export function session() { return state.session; }
export function setSession(s) { state.session = s; state.csrf = s ? s.csrf_token : null; }

export async function api(method, path, body) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (method !== "GET" && state.csrf) headers["X-CSRF-Token"] = state.csrf;
  const r = await fetch(`/api/v1${path}`, {
    method, headers, credentials: "same-origin",
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (r.status === 204) return null;
  const type = r.headers.get("content-type") || "";
  const data = type.includes("json") ? await r.json() : await r.text();
  if (!r.ok) {
    const detail = data && data.detail !== undefined ? data.detail : data;
    if (r.status === 401 && path !== "/session") state.onUnauthorized();
    throw new ApiError(r.status, Array.isArray(detail) ? detail.map((d) => d.msg).join("; ") : detail);
  }
  return data;
}

export const get = (path) => api("GET", path);
export const post = (path, body) => api("POST", path, body);
export const put = (path, body) => api("PUT", path, body);
export const patch = (path, body) => api("PATCH", path, body);
export const del = (path) => api("DELETE", path);
