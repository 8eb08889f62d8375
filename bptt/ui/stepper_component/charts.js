// The stepper's timeline and gradient-norm chart, drawn as SVG in the page (no plotting script): built
// once per run from bptt/figures/timeline.py strip_data() and norms.py norms_data(), at the width of the
// column, again only when the window is resized. Nothing here knows the current step: the step's
// stylesheet (bptt/figures/marks.py step_marks, written by the server or by the browser stepper) lights
// the current cell, the cells already stepped, the current cell's label and the norm chart's band at t,
// so a step costs these charts a few CSS rules, never a redraw.

const SVG = "http://www.w3.org/2000/svg";

function svg(tag, attrs, parent) {
  const e = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attrs || {})) e.setAttribute(name, String(value));
  if (parent) parent.appendChild(e);
  return e;
}

function titled(e, text) {
  svg("title", {}, e).textContent = text;
  return e;
}

function div(className, text) {
  const e = document.createElement("div");
  e.className = className;
  if (text !== undefined) e.textContent = text;
  return e;
}

const SUPERSCRIPT = { "-": "⁻", 0: "⁰", 1: "¹", 2: "²", 3: "³", 4: "⁴", 5: "⁵", 6: "⁶", 7: "⁷", 8: "⁸", 9: "⁹" };

// a log axis's tick, a power of ten: 10⁻³, as plotly's exponentformat "power" writes it
function power(v) {
  const p = Math.round(Math.log10(v));
  if (p === 0) return "1";
  if (p === 1) return "10";
  return "10" + String(p).split("").map((c) => SUPERSCRIPT[c]).join("");
}

function format(v) {
  if (v === 0) return "0";
  const a = Math.abs(v);
  if (a >= 1e4 || a < 1e-2) return v.toExponential(0).replace("e+", "e");
  return String(Number(v.toPrecision(3)));
}

// one box per t (time to the right), the carried gradient between boxes as a left arrow sized by its norm
function timeline(root, d, font) {
  const head = div("bptt-chart-head");
  head.append(div("bptt-chart-note", "time flows →  (t = 0 … T_x-1)"),
    div("bptt-chart-note bptt-chart-flow", "◀ the gradient flows backward: step 1 is t = T_x-1, at the right"));
  root.appendChild(head);
  const width = Math.max(200, root.clientWidth);
  const u = width / (d.T_x + 1); // a slot per cell and per link; link 0 (da0, to a0) is the leftmost
  const box = Math.max(2, Math.min(40, 0.55 * u));
  const marked = d.links.some((link) => link.cut || link.factor) ? font + 4 : 0; // room for truncation's marks
  const mid = marked + Math.max(box, 28) / 2 + 4;
  const height = Math.ceil(2 * mid + font + 8);
  const chart = svg("svg", { class: "bptt-timeline", width, height, viewBox: `0 0 ${width} ${height}`,
    role: "img", "aria-label": "the unrolled network, one box per timestep" }, root);
  const cells = svg("g", { class: "bptt-tl-cells" }, chart);
  const labels = svg("g", { class: "bptt-tl-labels", "font-size": font }, chart);
  const links = svg("g", { class: "bptt-tl-links" }, chart);
  for (let t = 0; t < d.T_x; t++) {
    const x = (t + 1) * u;
    const rect = svg("rect", { x: x - box / 2, y: mid - box / 2, width: box, height: box,
      fill: t === d.error_t ? d.colours.error : d.colours.todo, stroke: "#555", "stroke-width": box > 6 ? 1 : 0,
      "data-t": t }, cells);
    titled(rect, d.hover[t]);
    svg("text", { x, y: mid + box / 2 + font + 2, "text-anchor": "middle", fill: "#262730",
      visibility: d.labels[t] ? "visible" : "hidden" }, labels).textContent = `t=${t}`;
  }
  const gap = Math.max(2, u - box);
  const small = Math.max(4, 0.3 * box);
  const large = Math.max(6, Math.min(28, 0.9 * Math.max(box, 28)));
  d.links.forEach((link, i) => {
    const x = (i + 0.5) * u;
    const what = i === 0 ? "da0, carried out to a0" : `da_prevt of t = ${i - 1}, carried from t = ${i}`;
    if (link.norm === null) return;
    if (link.cut || link.factor) { // truncated BPTT acted on this link: scissors where it cut, the factor otherwise
      const mark = svg("text", { x, y: font, "text-anchor": "middle", "font-size": font,
        fill: link.cut ? "#E45756" : "#555", class: link.cut ? "bptt-tl-cut" : "bptt-tl-factor" }, links);
      mark.textContent = link.cut ? "✂" : `×${Number(link.factor.toPrecision(2))}`;
      titled(mark, link.cut ? `cut by truncation: nothing carried into t = ${i - 1}`
        : `randomized truncation: what is carried into t = ${i - 1} is multiplied by ${link.factor}`);
    }
    if (link.norm === 0) {
      const r = Math.max(2.5, Math.min(6, 0.3 * gap));
      titled(svg("circle", { cx: x, cy: mid, r, fill: "white", stroke: "#999", "stroke-width": 2,
        class: "bptt-tl-stopped" }, links), `nothing flows here (exactly 0): ${what}`);
      return;
    }
    const size = small + (large - small) * link.size;
    const w = Math.min(size, gap * 0.9);
    titled(svg("polygon", { points: `${x - w / 2},${mid} ${x + w / 2},${mid - size / 2} ${x + w / 2},${mid + size / 2}`,
      fill: "#2F5597", class: "bptt-tl-arrow" }, links), `gradient carried left: ‖·‖ = ${Number(link.norm.toPrecision(4))} (${what})`);
  });
  svg("text", { x: 0.5 * u, y: mid + box / 2 + font + 2, "text-anchor": "middle", "font-size": font, fill: "#555" },
    chart).textContent = u > 3.2 * font ? "to a0" : "";
}

// the norms against t: one line per quantity, an invisible band per t for the step's stylesheet to light
function norms(root, d, font) {
  const width = Math.max(240, root.clientWidth);
  const height = Math.round(260 + 3 * font);
  const left = 14 + 4.2 * font + font;
  const right = 12;
  const top = 10;
  const bottom = 2.6 * font + 14;
  const chart = svg("svg", { class: "bptt-norms", width, height, viewBox: `0 0 ${width} ${height}`,
    role: "img", "aria-label": "gradient norm over time", "font-size": font }, root);
  const plotW = width - left - right;
  const plotH = height - top - bottom;
  const xOf = (t) => left + (d.T_x > 1 ? (t / (d.T_x - 1)) * plotW : plotW / 2);
  const [lo, hi] = d.range;
  const yOf = d.log
    ? (v) => top + plotH * (1 - (Math.log10(v) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo) || 1))
    : (v) => top + plotH * (1 - (v - lo) / (hi - lo || 1));
  const bands = svg("g", { class: "bptt-norm-bands" }, chart);
  const step = d.T_x > 1 ? plotW / (d.T_x - 1) : plotW;
  for (let t = 0; t < d.T_x; t++) {
    const w = Math.max(2, (d.T_x <= 30 ? 0.15 : 0.8) * step);
    svg("rect", { x: xOf(t) - w / 2, y: top, width: w, height: plotH, fill: "#F58518", opacity: 0, "data-t": t }, bands);
  }
  const axes = svg("g", { class: "bptt-norm-axes", fill: "#444" }, chart);
  for (const v of d.ticks) {
    const y = yOf(v);
    svg("line", { x1: left, x2: left + plotW, y1: y, y2: y, stroke: "#e6e6e6" }, axes);
    svg("text", { x: left - 6, y: y + font * 0.35, "text-anchor": "end" }, axes).textContent = d.log ? power(v) : format(v);
  }
  for (const t of d.x_ticks) {
    svg("text", { x: xOf(t), y: top + plotH + font + 4, "text-anchor": "middle" }, axes).textContent = String(t);
  }
  svg("line", { x1: left, x2: left + plotW, y1: top + plotH, y2: top + plotH, stroke: "#888" }, axes);
  svg("line", { x1: left, x2: left, y1: top, y2: top + plotH, stroke: "#888" }, axes);
  svg("text", { x: left + plotW / 2, y: height - 6, "text-anchor": "middle" }, axes).textContent = d.x_title;
  svg("text", { x: font, y: top + plotH / 2, "text-anchor": "middle",
    transform: `rotate(-90 ${font} ${top + plotH / 2})` }, axes).textContent = d.y_title;
  const lines = svg("g", { class: "bptt-norm-lines" }, chart);
  for (const s of d.series) {
    const group = svg("g", { "data-name": s.name }, lines);
    let run = [];
    const flush = () => {
      if (run.length > 1) svg("polyline", { points: run.join(" "), fill: "none", stroke: s.colour, "stroke-width": 2 }, group);
      run = [];
    };
    s.y.forEach((v, t) => {
      if (v === null) return flush();
      run.push(`${xOf(t)},${yOf(v)}`);
    });
    flush();
    if (d.T_x <= 60) {
      s.y.forEach((v, t) => {
        if (v === null) return;
        titled(svg("circle", { cx: xOf(t), cy: yOf(v), r: 3.5, fill: s.colour, "data-t": t }, group),
          `t = ${t}: ${s.name} = ${Number(v.toPrecision(6))}`);
      });
    }
  }
  const legend = div("bptt-chart-legend");
  for (const s of d.series) {
    const item = div("bptt-chart-key", s.name);
    item.style.setProperty("--key", s.colour);
    legend.appendChild(item);
  }
  root.appendChild(legend);
  const zeros = Object.entries(d.zeros_left_out).filter(([, n]) => n > 0);
  if (zeros.length) {
    root.appendChild(div("bptt-chart-note", "Exactly 0, so not drawn on the log scale: "
      + zeros.map(([name, n]) => `${name} at ${n} step${n > 1 ? "s" : ""}`).join(", ")));
  }
}

export default function (component) {
  const { parentElement } = component;
  const d = JSON.parse(typeof component.data === "string" ? component.data : new TextDecoder().decode(component.data));
  if (parentElement.__bpttChart) parentElement.__bpttChart();
  const root = div(`bptt-chart bptt-chart-${d.kind}` + (d.present ? " bptt-present" : ""));
  root.setAttribute("data-testid", `bptt-${d.kind}`);
  parentElement.appendChild(root);
  const font = d.present ? 16 : 12;
  const draw = () => {
    root.textContent = "";
    (d.kind === "timeline" ? timeline : norms)(root, d.chart, font);
    root.dataset.drawn = String(root.clientWidth);
  };
  draw();
  let timer = null;
  let width = root.clientWidth;
  const resized = () => {
    clearTimeout(timer);
    timer = setTimeout(() => { if (root.clientWidth !== width) { width = root.clientWidth; draw(); } }, 150);
  };
  window.addEventListener("resize", resized);
  const cleanup = () => {
    clearTimeout(timer);
    window.removeEventListener("resize", resized);
    root.remove();
    if (parentElement.__bpttChart === cleanup) delete parentElement.__bpttChart;
  };
  parentElement.__bpttChart = cleanup;
  return cleanup;
}
