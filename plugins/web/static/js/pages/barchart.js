// A bar per unit: its voltage minus the string's equalization target, in mV, on a canvas
// (fast enough for 512 bars at every update). Colours follow the unit's status.

const COLOURS = { ok: "#3b82c4", warning: "#d98a00", alarm: "#c62f25", comm_lost: "#9c8fbf", no_data: "#b8c0c8", stale: "#9c8fbf" };

export function drawBars(canvas, str) {
  const dpr = window.devicePixelRatio || 1;
  const width = canvas.clientWidth || 600;
  const height = canvas.clientHeight || 170;
  if (canvas.width !== Math.round(width * dpr) || canvas.height !== Math.round(height * dpr)) {
    canvas.width = Math.round(width * dpr);
    canvas.height = Math.round(height * dpr);
  }
  const g = canvas.getContext("2d");
  g.setTransform(dpr, 0, 0, dpr, 0, 0);
  g.clearRect(0, 0, width, height);
  const target = str.target_voltage_v;
  const units = str.units;
  if (target === null || !units.length) return;
  const devs = units.map((u) => (u.voltage_v === null ? null : (u.voltage_v - target) * 1000));
  const span = Math.max(20, ...devs.filter((d) => d !== null).map(Math.abs)) * 1.15;
  const left = 44, right = 8, top = 8, bottom = 18;
  const plotW = width - left - right, plotH = height - top - bottom;
  const y = (mv) => top + plotH / 2 - (mv / span) * (plotH / 2);
  g.font = "11px system-ui, sans-serif";
  g.fillStyle = "#66727f";
  g.strokeStyle = "#e3e8ed";
  g.lineWidth = 1;
  for (const mv of niceTicks(span)) { // grid lines with labels
    g.beginPath(); g.moveTo(left, Math.round(y(mv)) + 0.5); g.lineTo(width - right, Math.round(y(mv)) + 0.5); g.stroke();
    g.textAlign = "right"; g.textBaseline = "middle";
    g.fillText(`${mv > 0 ? "+" : ""}${mv}`, left - 6, y(mv));
  }
  const slot = plotW / units.length;
  const barW = Math.max(1, Math.min(24, slot * 0.72));
  units.forEach((u, i) => {
    const x = left + i * slot + (slot - barW) / 2;
    const d = devs[i];
    g.fillStyle = COLOURS[u.status] || COLOURS.ok;
    if (d === null) { g.fillRect(x, y(0) - 2, barW, 4); return; }
    const y0 = y(0), y1 = y(d);
    g.fillRect(x, Math.min(y0, y1), barW, Math.max(1, Math.abs(y1 - y0)));
  });
  g.strokeStyle = "#1d2733"; // the target line
  g.beginPath(); g.moveTo(left, Math.round(y(0)) + 0.5); g.lineTo(width - right, Math.round(y(0)) + 0.5); g.stroke();
  g.fillStyle = "#66727f"; g.textAlign = "center"; g.textBaseline = "alphabetic";
  const every = Math.ceil(units.length / Math.max(1, plotW / 28));
  units.forEach((u, i) => { if (i % every === 0) g.fillText(String(u.position), left + i * slot + slot / 2, height - 4); });
  canvas.onmousemove = (ev) => {
    const i = Math.floor((ev.offsetX - left) / slot);
    const u = units[i];
    canvas.title = u ? `#${u.position}: ${u.voltage_v === null ? "no value" : u.voltage_v.toFixed(3) + " V"} (${devs[i] === null ? "–" : (devs[i] > 0 ? "+" : "") + devs[i].toFixed(0) + " mV"}), ${u.status}` : "";
  };
}

function niceTicks(span) {
  const steps = [5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000];
  const step = steps.find((s) => span / s <= 3) || 5000;
  const out = [];
  for (let v = -Math.floor(span / step) * step; v <= span; v += step) out.push(v);
  return out;
}
