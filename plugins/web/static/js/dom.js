// Small DOM helpers and formatters shared by the pages (no framework, no build step).

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "class") el.className = v;
    else if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "dataset") Object.assign(el.dataset, v);
    else el.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

export function clear(el) { while (el.firstChild) el.removeChild(el.firstChild); return el; }

const dash = "–";
export const fmt = {
  v: (x, d = 3) => (x === null || x === undefined ? dash : x.toFixed(d)),
  c: (x) => (x === null || x === undefined ? dash : x.toFixed(1)),
  mohm: (x) => (x === null || x === undefined ? dash : (x * 1000).toFixed(2)),
  pct: (x) => (x === null || x === undefined ? dash : (x * 100).toFixed(0)),
  a: (x) => (x === null || x === undefined ? dash : x.toFixed(1)),
  int: (x) => (x === null || x === undefined ? dash : String(x)),
  duration: (s) => {
    if (s === null || s === undefined) return dash;
    const m = Math.round(s / 60);
    return m >= 60 ? `${Math.floor(m / 60)} h ${m % 60} min` : `${m} min`;
  },
  time: (t) => (t ? new Date(t * 1000).toLocaleString() : dash),
  clock: (t) => (t ? new Date(t * 1000).toLocaleTimeString() : dash),
  ago: (t, now) => {
    if (!t) return dash;
    const s = Math.max(0, Math.round(now - t));
    if (s < 90) return `${s} s ago`;
    if (s < 5400) return `${Math.round(s / 60)} min ago`;
    return `${Math.round(s / 3600)} h ago`;
  },
};

export const STATUS_LABEL = { ok: "OK", warning: "Warning", alarm: "Alarm", comm_lost: "No comm", no_data: "No data", stale: "Stale" };
export function pill(status, text) {
  return h("span", { class: `pill ${status}` }, text || STATUS_LABEL[status] || status);
}

export function notice(text, kind = "") { return h("div", { class: `notice ${kind}` }, text); }

export function unitLabel(site, source) {
  // "strings[0].units[6]" -> "String A #7"
  const m = /^strings\[(\d+)\](?:\.units\[(\d+)\])?/.exec(source || "");
  if (!m || !site) return source;
  const s = site.strings[Number(m[1])];
  const name = s ? s.name : `String ${m[1]}`;
  return m[2] === undefined ? name : `${name} #${Number(m[2]) + 1}`;
}
