// The step-through panel drawn in the browser: every step of a classroom-sized run arrives once
// (bptt/figures/stepper_data.py), and a click, an arrow key or play redraws the heading, the step
// marks and every heatmap in the same frame, without asking the server. A larger run arrives a few
// steps at a time (its titles all at once): the server sends the steps around the one shown each time
// the browser says where it is, so a click usually finds its step here already; one that does not is
// drawn, heading and all, when it arrives. Streamlit calls this function again when the data changes:
// the same run's new steps are merged into the stepper already on the page, which is never rebuilt. A classroom heatmap is at
// most 16×16 cells, so each is drawn on its own <canvas> (a fillRect per cell, well under a
// millisecond) in plotly's diverging scale and range rather than re-run through Plotly.react (about
// 10 ms a heatmap): the component loads no plotting library at all. The step
// is written into the URL at once (so a link shared now restores it) and told to the server a
// moment later (so the export and a later rerun agree), which never holds up the redraw.

const SYNC_DELAY_MS = 350; // after the last click: one rerun for a burst of clicks
const PREFETCH_DELAY_MS = 20; // a large run asks for the steps coming into its window at once, after the paint
const KEEP = 2; // a large run keeps this many steps beyond its window before forgetting them
const SPEEDS = [0.5, 1, 2, 4]; // steps per second, as on the server's play
const store = (window.__bpttStepper = window.__bpttStepper || { t: {} }); // the step per run, across remounts

function rgbOf(colour) {
  return colour.match(/\d+/g).map(Number); // "rgb(5,48,97)" -> [5, 48, 97]
}

const SHADES = 1024; // the scale sampled this finely: neighbouring shades differ by at most 2 of 255

// the server's colour scale (zero pure white) as a table of SHADES + 1 rgb triples, linear between its
// stops as plotly interpolates them: shade s is the colour at s / SHADES of the way from −zmax to +zmax
function shadeTable(stops) {
  const at = stops.map(([stop, colour]) => [stop, rgbOf(colour)]);
  const table = new Uint8ClampedArray(3 * (SHADES + 1));
  for (let s = 0, i = 1; s <= SHADES; s++) {
    const f = s / SHADES;
    while (i < at.length - 1 && at[i][0] < f) i++;
    const [s0, c0] = at[i - 1];
    const [s1, c1] = at[i];
    const w = s1 > s0 ? (f - s0) / (s1 - s0) : 0;
    for (let j = 0; j < 3; j++) table[3 * s + j] = Math.round(c0[j] + w * (c1[j] - c0[j]));
  }
  return table;
}

// a matrix as a flat typed array, row-major: a 256×256 step stays a quarter of a megabyte, not 65,536 numbers
function decode(encoded) {
  const text = atob(encoded.bdata);
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
  return encoded.dtype === "f8" ? new Float64Array(bytes.buffer) : new Float32Array(bytes.buffer);
}

function format(v) {
  if (Number.isNaN(v)) return "NaN";
  if (!Number.isFinite(v)) return v > 0 ? "∞" : "−∞";
  if (v === 0) return "0";
  const a = Math.abs(v);
  if (a >= 100) return v.toFixed(0);
  if (a >= 0.01) return v.toPrecision(2);
  return v.toExponential(0);
}

function absMax(flat) {
  let m = 0;
  for (const v of flat) if (Number.isFinite(v) && Math.abs(v) > m) m = Math.abs(v);
  return m > 0 ? m : 1;
}

function el(tag, className, text) {
  const e = document.createElement(tag);
  if (className) e.className = className;
  if (text !== undefined) e.textContent = text;
  return e;
}

export default function (component) {
  const { parentElement } = component;
  const raw = JSON.parse(typeof component.data === "string" ? component.data : new TextDecoder().decode(component.data));
  const live = parentElement.__bpttStepper;
  if (live && live.run === raw.header.run && !live.disposed()) {
    live.update(raw, component.setStateValue); // more steps of the run on the page: nothing is built again
    return live.cleanup;
  }
  if (live) live.cleanup();
  const instance = mount(component, raw);
  parentElement.__bpttStepper = instance;
  return instance.cleanup;
}

function mount(component, raw) {
  const { parentElement } = component;
  let setStateValue = component.setStateValue;
  const data = { ...raw.payload, ...raw.header };
  const present = data.present;
  const font = present ? 18 : 13; // text drawn inside the charts
  const steps = data.steps;
  const saved = store.t[data.run];
  let k = steps.indexOf(saved !== undefined ? saved : data.start);
  if (k < 0) k = Math.max(0, steps.indexOf(data.start));
  let playing = null; // the requestAnimationFrame id while playing
  let pending = null; // a large run's step asked for before it arrived
  let syncTimer = null;
  let disposed = false;

  const root = el("div", "bptt-stepper" + (present ? " bptt-present" : ""));
  root.setAttribute("data-testid", "bptt-stepper");
  const sentinel = el("div", "bptt-sentinel");
  const bar = el("div", "bptt-bar");
  const heading = el("h3", "bptt-heading");
  const buttons = el("div", "bptt-buttons");
  const legend = el("div", "bptt-legend");
  legend.innerHTML = `<span>−</span><span class="bptt-swatch"></span><span>+</span><span>white is 0; full colour at the title's ±</span>`;
  const make = (name, title) => {
    const b = el("button", "bptt-button");
    b.type = "button";
    b.dataset.name = name;
    b.title = title;
    buttons.appendChild(b);
    return b;
  };
  const first = make("first", "Where the backward starts (Home)");
  const prev = make("previous", "Back to the step the loop ran before this one (←)");
  const next = make("next", "The step the loop runs next (→)");
  const last = make("last", "The step the loop runs last (End)");
  const play = make("play", "Walk through the loop, one step at a time");
  const speed = el("select", "bptt-speed");
  speed.title = "Steps per second";
  for (const s of SPEEDS) {
    const o = el("option", "", `${s}/s`);
    o.value = String(s);
    if (s === 1) o.selected = true;
    speed.appendChild(o);
  }
  buttons.appendChild(speed);
  const stepline = el("div", "bptt-stepline");
  stepline.append(heading, buttons, legend);
  bar.append(stepline);
  if (data.note) bar.appendChild(el("div", "bptt-note", data.note));
  const waiting = el("span", "bptt-waiting-note");
  stepline.appendChild(waiting);
  const grid = el("div", "bptt-grid");
  // below the panels, so the step bar keeps its one line on a projector
  const tools = el("div", "bptt-tools");
  const save = el("button", "bptt-button", "⤓ This step as PNG");
  save.type = "button";
  save.dataset.name = "png";
  save.title = "Save every heatmap of the step shown, with its titles, as one image";
  tools.appendChild(save);
  root.append(sentinel, bar, grid, tools);
  parentElement.appendChild(root);

  // the panels: a caption (HTML, so long titles wrap instead of overlapping) over a canvas heatmap
  const panels = [];
  const rows = [];
  const readingOf = (p) =>
    `${p.rows}${p.shape[0] > 1 ? ` 0–${p.shape[0] - 1} ↓` : ""} · ${p.cols}${p.shape[1] > 1 ? ` 0–${p.shape[1] - 1} →` : ""}`;
  for (const row of data.rows) {
    const section = el("section", "bptt-row" + (row.first_screen ? " bptt-first" : ""));
    const rowHeading = el("h4", "bptt-row-heading", row.heading);
    // how to read rows and columns: once in the row's heading when every panel reads the same
    const wide = row.panels.filter((p) => p.shape[1] > 1);
    const shared = wide.length && wide.every((p) => readingOf(p) === readingOf(wide[0])) ? readingOf(wide[0]) : null;
    if (shared) rowHeading.appendChild(el("span", "bptt-row-reading", ` · rows: ${shared}`));
    section.appendChild(rowHeading);
    const line = el("div", "bptt-panels");
    for (const p of row.panels) {
      if (p.op === "·") line.appendChild(el("div", "bptt-sep")); // the hidden state's gradients, then the cell state's
      else if (p.op) line.appendChild(el("div", "bptt-op", p.op));
      const figure = el("figure", "bptt-panel");
      figure.dataset.key = `${p.scope}.${p.key}`;
      figure.style.flexGrow = String(Math.max(1, Math.min(p.shape[1], 12)));
      if (p.shape[1] === 1) figure.classList.add("bptt-narrow");
      const caption = el("figcaption", "bptt-caption");
      const name = el("span", "bptt-title");
      const range = el("span", "bptt-range");
      caption.append(name, range);
      if (!shared || p.shape[1] > 1 && readingOf(p) !== shared) caption.appendChild(el("div", "bptt-reading", readingOf(p)));
      const plot = el("div", "bptt-plot");
      const canvas = el("canvas", "bptt-canvas");
      canvas.dataset.key = `${p.scope}.${p.key}`;
      plot.appendChild(canvas);
      figure.append(caption, plot);
      line.appendChild(figure);
      const q = { p, name, range, plot, canvas, encoded: p.z || steps.map(() => null), z: steps.map(() => null) };
      canvas.addEventListener("mousemove", (event) => hover(q, event));
      canvas.addEventListener("mouseleave", unhover);
      panels.push(q);
    }
    section.appendChild(line);
    grid.appendChild(section);
    rows.push({ section, first: row.first_screen });
  }

  // the step marks on the timeline, the norm chart and the code listing: the server's stylesheet is
  // switched off (it names the step the server last heard of), ours names the step shown
  let marks = document.getElementById("bptt-browser-marks");
  if (!marks) {
    marks = document.createElement("style");
    marks.id = "bptt-browser-marks";
    document.head.appendChild(marks);
  }
  const quiet = () => {
    for (const s of document.querySelectorAll("style")) {
      if (s !== marks && !s.disabled && s.textContent.includes("/* current_t:")) s.disabled = true;
    }
  };
  const observer = new MutationObserver(quiet);
  observer.observe(document.body, { childList: true, subtree: true });

  function plotHeight() {
    // presenter layout and narrow screens: every first-screen row in the window under the step bar
    const fit = present || window.innerWidth <= 1280;
    const maxRows = Math.max(...panels.map((q) => q.p.shape[0]));
    if (!fit) return Math.max(70, Math.min(240, 26 * maxRows));
    const firstRows = rows.filter((r) => r.first);
    const scroller = root.closest('[data-testid="stMain"]') || document.scrollingElement;
    const offset = grid.getBoundingClientRect().top - scroller.getBoundingClientRect().top + scroller.scrollTop;
    const lastRow = firstRows[firstRows.length - 1].section.getBoundingClientRect();
    const words = lastRow.bottom - grid.getBoundingClientRect().top; // headings and captions, plots at 1 px
    const room = window.innerHeight - offset - words - 12;
    return Math.max(36, Math.min(34 * maxRows, Math.floor(room / firstRows.length)));
  }

  const shades = shadeTable(data.colorscale);
  const tip = el("div", "bptt-tip");
  root.appendChild(tip);

  // one panel at step k, `width` px wide: the matrix as a tiny image, one pixel a cell, scaled up without
  // smoothing (one drawImage, not a fillRect per cell), then its values printed where they fit
  function paint(q, width) {
    const p = q.p;
    if (!q.z[k]) q.z[k] = decode(q.encoded[k]);
    const z = q.z[k];
    const [R, C] = p.shape;
    const zmax = p.zmax !== null ? p.zmax : absMax(z);
    const height = q.height;
    const ratio = window.devicePixelRatio || 1;
    const canvas = q.canvas;
    if (canvas.width !== Math.round(width * ratio) || canvas.height !== Math.round(height * ratio)) {
      canvas.width = Math.round(width * ratio);
      canvas.height = Math.round(height * ratio);
      canvas.style.width = `${width}px`;
      canvas.style.height = `${height}px`;
    }
    // more cells than device pixels (a 256-unit run): each pixel shows the value of largest |v| in its block,
    // as the server's pooled heatmaps do, so a lone large gradient never falls between the samples
    const H = Math.min(R, Math.max(1, canvas.height));
    const W = Math.min(C, Math.max(1, canvas.width));
    if (!q.image || q.image.width !== W || q.image.height !== H) {
      q.small = document.createElement("canvas");
      q.small.width = W;
      q.small.height = H;
      q.image = new ImageData(W, H);
    }
    const pixels = q.image.data;
    for (let a = 0; a < H; a++) {
      const i0 = Math.floor((a * R) / H);
      const i1 = Math.max(i0 + 1, Math.floor(((a + 1) * R) / H));
      for (let b = 0; b < W; b++) {
        const j0 = Math.floor((b * C) / W);
        const j1 = Math.max(j0 + 1, Math.floor(((b + 1) * C) / W));
        let v = NaN;
        for (let i = i0; i < i1; i++) {
          for (let j = j0; j < j1; j++) {
            const u = z[i * C + j];
            if (!Number.isNaN(u) && (Number.isNaN(v) || Math.abs(u) > Math.abs(v))) v = u;
          }
        }
        const at = 4 * (a * W + b);
        if (Number.isNaN(v)) { pixels[at + 3] = 0; continue; } // NaN stays blank, as plotly leaves it
        const s = 3 * Math.round(Math.min(1, Math.max(0, (v / zmax + 1) / 2)) * SHADES); // ±∞ at the ends
        pixels[at] = shades[s];
        pixels[at + 1] = shades[s + 1];
        pixels[at + 2] = shades[s + 2];
        pixels[at + 3] = 255;
      }
    }
    q.small.getContext("2d").putImageData(q.image, 0, 0);
    const ctx = canvas.getContext("2d");
    ctx.imageSmoothingEnabled = false;
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    ctx.drawImage(q.small, 0, 0, canvas.width, canvas.height);
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    const cw = width / C;
    const ch = height / R;
    let fits = cw >= 0.62 * font + 4 && ch >= font + 4; // room for one character: only then format the values
    const texts = fits ? Array.from(z, format) : null;
    if (fits) fits = cw >= 0.62 * font * Math.max(...texts.map((t) => t.length)) + 4;
    if (fits) {
      ctx.font = `${font}px sans-serif`;
      ctx.textAlign = "center";
      ctx.textBaseline = "middle";
      for (let i = 0; i < R; i++) {
        for (let j = 0; j < C; j++) {
          const at = 4 * (i * C + j);
          const light = 0.299 * pixels[at] + 0.587 * pixels[at + 1] + 0.114 * pixels[at + 2] > 128 || !pixels[at + 3];
          ctx.fillStyle = light ? "#262730" : "white";
          ctx.fillText(texts[i * C + j], (j + 0.5) * cw, (i + 0.5) * ch);
        }
      }
    }
    if (p.split) { // a gated cell's weights: a_prev's columns, then xt's (rows, in CS231n's layout)
      ctx.fillStyle = "black";
      if (p.split_rows) ctx.fillRect(0, Math.round(p.split * ch) - 1, width, 2);
      else ctx.fillRect(Math.round(p.split * cw) - 1, 0, 2, height);
    }
    q.range.textContent = ` · ±${format(zmax)}${p.zmax === null ? " (this step)" : ""}${H < R || W < C ? " · pooled" : ""}`;
    q.range.title = H < R || W < C ? `${R}×${C} cells on ${H}×${W} pixels: each pixel shows the largest |value| of its block` : "";
    canvas.dataset.rows = String(R);
    canvas.dataset.cols = String(C);
    canvas.dataset.bpttT = String(steps[k]);
    canvas.dataset.bpttZmax = String(zmax);
    canvas.dataset.bpttFont = String(font);
    canvas.dataset.bpttText = fits ? "1" : "0";
    canvas.dataset.bpttPooled = H < R || W < C ? `${H}x${W}` : "";
    q.shown = z;
  }

  function hover(q, event) {
    const p = q.p;
    const box = q.canvas.getBoundingClientRect();
    const j = Math.floor(((event.clientX - box.left) / box.width) * p.shape[1]);
    const i = Math.floor(((event.clientY - box.top) / box.height) * p.shape[0]);
    if (!q.shown || i < 0 || j < 0 || i >= p.shape[0] || j >= p.shape[1]) return unhover();
    tip.textContent = "";
    tip.append(el("div", "", `${p.name} at t = ${steps[k]}`), el("div", "", `${p.rows} ${i}`),
      el("div", "", `${p.cols} ${j}`), el("div", "", `value ${Number(q.shown[i * p.shape[1] + j].toPrecision(8))}`));
    tip.style.display = "block";
    const left = Math.min(event.clientX + 14, window.innerWidth - tip.offsetWidth - 4);
    const top = event.clientY + 14 + tip.offsetHeight > window.innerHeight ? event.clientY - tip.offsetHeight - 8
      : event.clientY + 14;
    Object.assign(tip.style, { left: `${Math.max(0, left)}px`, top: `${Math.max(0, top)}px` });
  }

  function unhover() {
    tip.style.display = "none";
  }

  function draw() {
    const t = steps[k];
    // every panel's width read before anything is written: one layout, not one per panel
    const widths = panels.map((q) => Math.max(1, q.plot.clientWidth || 200));
    heading.textContent = `◀ ${data.labels[k]}`;
    const at = (j) => (j >= 0 && j < steps.length ? ` (t = ${steps[j]})` : "");
    // the server's words (stepping.buttons), so a link, a test or a benchmark reads both paths alike
    first.textContent = `⇤ First step${at(0)}`;
    prev.textContent = `◀ Previous step${at(k - 1)}`;
    next.textContent = `Next step${at(k + 1)} ▶`;
    last.textContent = `Last step${at(steps.length - 1)} ⇥`;
    first.disabled = k === 0;
    prev.disabled = k === 0;
    next.disabled = k === steps.length - 1;
    last.disabled = k === steps.length - 1;
    play.textContent = playing !== null ? "⏸ Pause" : "▶ Play";
    marks.textContent = data.marks[k].replace(/^<style>|<\/style>$/g, "").replace(/^\/\* current_t/, "/* browser_t");
    quiet();
    panels.forEach((q, i) => {
      q.name.textContent = q.p.titles[k];
      paint(q, widths[i]);
    });
    grid.setAttribute("data-bptt-t", String(t));
    root.setAttribute("data-bptt-t", String(t));
  }

  function setHeight(h) {
    for (const q of panels) {
      q.height = h;
      q.plot.style.height = `${h}px`;
    }
  }

  function sizeAndDraw() {
    setHeight(1);
    let h = plotHeight();
    setHeight(h);
    draw();
    const firstRows = rows.filter((r) => r.first);
    if ((present || window.innerWidth <= 1280) && firstRows.length && !bar.classList.contains("bptt-stuck")) {
      // one correction: what the drawn charts added to the rows (baselines, wrapped titles) comes off the plots
      const over = firstRows[firstRows.length - 1].section.getBoundingClientRect().bottom - (window.innerHeight - 6);
      if (over > 0 && h > 36) {
        h = Math.max(36, h - Math.ceil(over / firstRows.length));
        setHeight(h);
        draw();
      }
    }
  }

  const loaded = (j) => data.whole || panels.every((q) => q.encoded[j] !== null);

  // a large run's new steps: merged in, the ones far from the step shown forgotten, a step asked for drawn
  function merge(chunks) {
    for (const [t, encoded] of Object.entries(chunks || {})) {
      const j = steps.indexOf(Number(t));
      if (j < 0) continue;
      panels.forEach((q, i) => { q.encoded[j] = encoded[i]; q.z[j] = null; });
    }
    if (data.whole) return;
    const [behind, ahead] = data.window;
    const centre = pending !== null ? pending : k;
    panels.forEach((q) => q.encoded.forEach((_, j) => {
      if (j !== k && (j < centre - behind - KEEP || j > centre + ahead + KEEP)) { q.encoded[j] = null; q.z[j] = null; }
    }));
  }

  function report(delay) {
    clearTimeout(syncTimer);
    syncTimer = setTimeout(() => {
      if (disposed) return;
      const at = pending !== null ? pending : k;
      const have = data.whole ? undefined : steps.filter((_, j) => loaded(j));
      setStateValue("view", { t: steps[at], have, run: data.run });
    }, delay);
  }

  function go(j, fromPlay) {
    if (j < 0 || j >= steps.length || j === k) return;
    if (!fromPlay) stop();
    if (!loaded(j)) { // not here yet: everything stays on the step shown until it arrives
      pending = j;
      bar.classList.add("bptt-waiting");
      waiting.textContent = `loading t = ${steps[j]} …`;
      report(0);
      return;
    }
    pending = null;
    bar.classList.remove("bptt-waiting");
    waiting.textContent = "";
    k = j;
    store.t[data.run] = steps[k];
    draw();
    requestAnimationFrame(() => setTimeout(address, 0)); // right after this frame's paint, not before it
    report(data.whole ? SYNC_DELAY_MS : PREFETCH_DELAY_MS);
  }

  // the step as one image: the grid's own text and canvases, drawn where the page lays them out
  function picture() {
    const box = grid.getBoundingClientRect();
    const scale = window.devicePixelRatio || 1;
    const out = document.createElement("canvas");
    out.width = Math.ceil(box.width * scale);
    out.height = Math.ceil(box.height * scale);
    const g = out.getContext("2d");
    g.scale(scale, scale);
    g.fillStyle = "white";
    g.fillRect(0, 0, box.width, box.height);
    g.textBaseline = "middle";
    // every word at the box the page laid it out in, so wrapping and spacing are the page's own
    const walker = document.createTreeWalker(grid, NodeFilter.SHOW_TEXT);
    const range = document.createRange();
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const style = getComputedStyle(node.parentElement);
      if (style.visibility === "hidden") continue; // display: none lays out no box, so it draws nothing below
      g.font = `${style.fontWeight} ${style.fontSize} ${style.fontFamily}`;
      g.fillStyle = style.color;
      const text = node.textContent;
      for (const match of text.matchAll(/\S+/g)) {
        range.setStart(node, match.index);
        range.setEnd(node, match.index + match[0].length);
        const boxes = range.getClientRects();
        if (boxes.length === 1) g.fillText(match[0], boxes[0].left - box.left, (boxes[0].top + boxes[0].bottom) / 2 - box.top);
        else for (let c = 0; c < match[0].length; c++) { // a word the page broke across lines: letter by letter
          range.setStart(node, match.index + c);
          range.setEnd(node, match.index + c + 1);
          const r = range.getBoundingClientRect();
          g.fillText(match[0][c], r.left - box.left, (r.top + r.bottom) / 2 - box.top);
        }
      }
    }
    for (const q of panels) {
      const r = q.canvas.getBoundingClientRect();
      if (r.width && r.height) g.drawImage(q.canvas, r.left - box.left, r.top - box.top, r.width, r.height);
    }
    return out;
  }

  function savePicture() {
    const link = document.createElement("a");
    link.download = `${data.name}_t${steps[k]}.png`;
    link.href = picture().toDataURL("image/png");
    link.click();
  }

  function address() {
    const url = new URL(window.location.href);
    const want = k === 0 ? null : String(steps[k]);
    if (url.searchParams.get("t") === want) return;
    if (want === null) url.searchParams.delete("t");
    else url.searchParams.set("t", want);
    window.history.replaceState(window.history.state, "", url);
  }

  // play: the browser's own frames set the pace, one step every 1/speed s, with no server in the loop;
  // a large run's next step not yet here holds the clock until it arrives; play stops at the last step
  let lastStep = 0;
  let asked = null; // the step play last asked the server for
  function tick(now) {
    if (disposed || playing === null) return;
    const interval = 1000 / Number(speed.value);
    if (k >= steps.length - 1) return stop();
    if (now - lastStep >= interval && loaded(k + 1)) {
      lastStep = now - lastStep < 2 * interval ? lastStep + interval : now; // keep the beat, never catch up in a burst
      go(k + 1, true);
      if (k >= steps.length - 1) return stop();
    } else if (!loaded(k + 1) && asked !== k + 1) {
      asked = k + 1; // once per missing step: the server's answer re-runs update(), not another request
      report(0);
    }
    playing = requestAnimationFrame(tick);
  }

  function stop() {
    if (playing !== null) cancelAnimationFrame(playing);
    playing = null;
    play.textContent = "▶ Play";
    play.setAttribute("aria-pressed", "false");
  }

  function start() {
    if (k === steps.length - 1) go(0, true);
    play.textContent = "⏸ Pause";
    play.setAttribute("aria-pressed", "true");
    lastStep = performance.now();
    playing = requestAnimationFrame(tick);
  }

  first.onclick = () => go(0);
  prev.onclick = () => go(k - 1);
  next.onclick = () => go(k + 1);
  last.onclick = () => go(steps.length - 1);
  play.onclick = () => (playing !== null ? stop() : start());
  save.onclick = savePicture;
  speed.onchange = () => { if (playing !== null) lastStep = performance.now(); };
  if (data.locked) for (const b of [first, prev, next, last, play, speed]) b.disabled = true;

  const keys = (e) => {
    if (data.locked || e.defaultPrevented || e.altKey || e.ctrlKey || e.metaKey) return;
    const target = e.target;
    if (target && (target.closest("input, textarea, select, [contenteditable=true]"))) return;
    const to = { ArrowRight: k + 1, ArrowLeft: k - 1, Home: 0, End: steps.length - 1 }[e.key];
    if (to === undefined) return;
    e.preventDefault();
    go(to);
  };
  document.addEventListener("keydown", keys);

  // the step bar stays in view: fixed under streamlit's header once its place has scrolled away
  const stick = new IntersectionObserver(([entry]) => {
    const header = document.querySelector('[data-testid="stHeader"]');
    const top = header && getComputedStyle(header).display !== "none" ? header.getBoundingClientRect().bottom : 0;
    const stuck = !entry.isIntersecting && entry.boundingClientRect.top < top + 1;
    bar.classList.toggle("bptt-stuck", stuck);
    if (stuck) {
      const box = root.getBoundingClientRect();
      Object.assign(bar.style, { top: `${top}px`, left: `${box.left}px`, width: `${box.width}px` });
      sentinel.style.height = `${bar.getBoundingClientRect().height}px`;
    } else {
      Object.assign(bar.style, { top: "", left: "", width: "" });
      sentinel.style.height = "0px";
    }
  }, { threshold: [0, 1] });
  stick.observe(sentinel);

  let resizeTimer = null;
  const resized = () => { clearTimeout(resizeTimer); resizeTimer = setTimeout(() => !disposed && sizeAndDraw(), 150); };
  window.addEventListener("resize", resized);

  merge(raw.chunks);
  if (!loaded(k)) k = Math.max(0, steps.indexOf(data.start)); // a large run opens where the server's steps are
  store.t[data.run] = steps[k];
  sizeAndDraw();
  // a remount kept the step the browser shows, or a large run's steps must be asked for
  if (steps[k] !== data.start || !loaded(k)) report(0);

  function update(next, setter) {
    setStateValue = setter;
    data.start = next.header.start;
    merge(next.chunks);
    if (pending !== null && loaded(pending)) {
      const j = pending;
      pending = null;
      go(j, true);
    } else if (!data.whole && !loaded(Math.min(k + 1, steps.length - 1))) {
      report(PREFETCH_DELAY_MS);
    }
  }

  const cleanup = () => {
    if (disposed) return;
    disposed = true;
    stop();
    clearTimeout(syncTimer);
    observer.disconnect();
    stick.disconnect();
    document.removeEventListener("keydown", keys);
    window.removeEventListener("resize", resized);
    root.remove();
    if (parentElement.__bpttStepper && parentElement.__bpttStepper.cleanup === cleanup) delete parentElement.__bpttStepper;
  };
  return { run: data.run, update, cleanup, disposed: () => disposed };
}
