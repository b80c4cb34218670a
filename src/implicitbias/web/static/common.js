// implicitbias explorer: helpers shared by the pages (plain JavaScript, no dependencies).
"use strict";

const IB = (() => {
  const SVG_NS = "http://www.w3.org/2000/svg";

  /** Create an element (HTML or SVG) with attributes and an optional parent. */
  function make(tag, attrs = {}, parent = null, svg = false) {
    const node = svg ? document.createElementNS(SVG_NS, tag) : document.createElement(tag);
    for (const [key, value] of Object.entries(attrs)) {
      if (key === "text") node.textContent = value;
      else node.setAttribute(key, String(value));
    }
    if (parent) parent.appendChild(node);
    return node;
  }
  const svg = (tag, attrs = {}, parent = null) => make(tag, attrs, parent, true);

  /** A 2D plot in an <svg>: data box -> pixels, axes and grid, pointer -> data. */
  class Plane {
    constructor(svgNode, box, { width = 520, height = 520, pad = 28 } = {}) {
      this.svg = svgNode;
      this.box = box;
      this.width = width;
      this.height = height;
      this.pad = pad;
      // Responsive: the viewBox fixes the drawing's coordinates, CSS scales it down to the
      // width available (at most its natural size); toData() maps pointers back through
      // the screen transform, so clicks land where they are meant to at any size.
      svgNode.setAttribute("viewBox", `0 0 ${width} ${height}`);
      svgNode.setAttribute("preserveAspectRatio", "xMidYMid meet");
      svgNode.removeAttribute("width");
      svgNode.removeAttribute("height");
      svgNode.style.maxWidth = width + "px";
      svgNode.style.aspectRatio = `${width} / ${height}`;
    }
    sx(x) { const b = this.box; return this.pad + (x - b.xmin) / (b.xmax - b.xmin) * (this.width - 2 * this.pad); }
    sy(y) { const b = this.box; return this.height - this.pad - (y - b.ymin) / (b.ymax - b.ymin) * (this.height - 2 * this.pad); }
    ix(px) { const b = this.box; return b.xmin + (px - this.pad) / (this.width - 2 * this.pad) * (b.xmax - b.xmin); }
    iy(py) { const b = this.box; return b.ymin + (this.height - this.pad - py) / (this.height - 2 * this.pad) * (b.ymax - b.ymin); }
    /** Data coordinates of a pointer event (handles CSS scaling of the SVG). */
    toData(evt) {
      const pt = this.svg.createSVGPoint();
      pt.x = evt.clientX; pt.y = evt.clientY;
      const p = pt.matrixTransform(this.svg.getScreenCTM().inverse());
      return [this.ix(p.x), this.iy(p.y)];
    }
    /** Empty the SVG; `this.layer` is then a group clipped to the data box. */
    clear() {
      while (this.svg.firstChild) this.svg.removeChild(this.svg.firstChild);
      const id = (this.svg.id || "plot") + "-clip";
      const clip = svg("clipPath", { id }, svg("defs", {}, this.svg));
      svg("rect", { x: this.pad, y: this.pad, width: this.width - 2 * this.pad, height: this.height - 2 * this.pad }, clip);
      this.under = svg("g", {}, this.svg);
      this.layer = svg("g", { "clip-path": `url(#${id})` }, this.svg);
    }
    axes({ step = 1, xstep = step, ystep = step, xlabel = "", ylabel = "" } = {}) {
      const g = svg("g", {}, this.under || this.svg), b = this.box;
      for (let v = Math.ceil(b.xmin / xstep) * xstep; v <= b.xmax + 1e-9; v += xstep) {
        svg("line", { x1: this.sx(v), x2: this.sx(v), y1: this.sy(b.ymin), y2: this.sy(b.ymax), class: "grid" }, g);
        svg("text", { x: this.sx(v), y: this.height - 8, "text-anchor": "middle", class: "tick", text: fmtTick(v) }, g);
      }
      for (let v = Math.ceil(b.ymin / ystep) * ystep; v <= b.ymax + 1e-9; v += ystep) {
        svg("line", { x1: this.sx(b.xmin), x2: this.sx(b.xmax), y1: this.sy(v), y2: this.sy(v), class: "grid" }, g);
        svg("text", { x: 4, y: this.sy(v) + 4, class: "tick", text: fmtTick(v) }, g);
      }
      if (b.xmin < 0 && b.xmax > 0) svg("line", { x1: this.sx(0), x2: this.sx(0), y1: this.sy(b.ymin), y2: this.sy(b.ymax), class: "axis" }, g);
      if (b.ymin < 0 && b.ymax > 0) svg("line", { x1: this.sx(b.xmin), x2: this.sx(b.xmax), y1: this.sy(0), y2: this.sy(0), class: "axis" }, g);
      if (xlabel) svg("text", { x: this.width - this.pad, y: this.sy(0) - 6, "text-anchor": "end", class: "tick", text: xlabel }, g);
      if (ylabel) svg("text", { x: this.sx(0) + 6, y: this.pad - 8, class: "tick", text: ylabel }, g);
      return g;
    }
  }

  function fmtTick(v) { return Math.abs(v) < 1e-9 ? "0" : String(Math.round(v * 100) / 100); }

  /** A number with fixed decimals, "-" for the minus sign, and no "-0". */
  function fmt(x, digits = 6) {
    if (!Number.isFinite(x)) return String(x);
    const s = x.toFixed(digits);
    return /^-0\.?0*$/.test(s) ? s.slice(1) : s;
  }
  const fmtVec = (v, digits = 6) => "(" + v.map((x) => fmt(x, digits)).join(", ") + ")";

  // ------------------------------------------------------------- state in the URL
  const query = () => new URLSearchParams(window.location.search);

  // One rule for every value a page takes, from the address bar or typed in a box: a value
  // that is not a number, or lies outside its allowed range, is not used. The page keeps the
  // value it had (on load: the default) and a note above the figure names the parameter,
  // its allowed range and the value given. A later valid value for that parameter removes
  // its note.
  function notesBox() {
    let box = document.getElementById("notes");
    if (!box) {
      box = make("div", { id: "notes", class: "notes", role: "status" });
      const main = document.querySelector("main");
      const lead = main && main.querySelector("p.lead");
      if (lead) lead.after(box);
      else if (main) main.prepend(box);
      else document.body.prepend(box);
    }
    return box;
  }
  /** Show (text) or remove (null) the note about parameter `key`. */
  function note(key, text) {
    const box = notesBox();
    let node = [...box.children].find((c) => c.dataset.param === key);
    if (text === null || text === undefined) {
      if (node) node.remove();
    } else {
      if (!node) node = make("p", { class: "note", "data-param": key }, box);
      node.textContent = text;
    }
    box.hidden = box.children.length === 0;
  }
  /** "[lo, hi]" with the page's number format. */
  const rangeText = (lo, hi) => `[${fmtShort(lo)}, ${fmtShort(hi)}]`;
  function fmtShort(v) {
    if (!Number.isFinite(v)) return String(v);
    return Math.abs(v) >= 1e5 && v === Math.round(v) ? String(v) : String(Number(v.toPrecision(6)));
  }
  /** The note for a refused value. */
  function refusedText(label, given, allowed, kept, fromUrl) {
    const shown = String(given).length > 40 ? String(given).slice(0, 40) + "…" : String(given);
    return `${label} = ${shown} is outside the allowed range ${allowed}` +
      (fromUrl ? `: the default ${kept} is used instead.` : `: not used, ${label} stays ${kept}.`);
  }
  /** A number from the URL: finite and within [lo, hi], else the default (with a note). */
  function readNumber(q, name, def, lo = -Infinity, hi = Infinity, label = name) {
    if (!q.has(name)) return def;
    const text = q.get(name);
    const v = text.trim() === "" ? NaN : Number(text);
    if (Number.isFinite(v) && v >= lo && v <= hi) return v;
    note(name, refusedText(label, text, rangeText(lo, hi), fmtShort(def), true));
    return def;
  }
  /** `len` comma-separated numbers from the URL, each within [lo, hi], else the default. */
  function readVector(q, name, def, len, lo = -1e6, hi = 1e6, label = name) {
    if (!q.has(name)) return def.slice();
    const text = q.get(name);
    const parts = text.split(",").map((t) => (t.trim() === "" ? NaN : Number(t)));
    if (parts.length === len && parts.every((v) => Number.isFinite(v) && v >= lo && v <= hi)) return parts;
    note(name, `${label} = ${text.length > 40 ? text.slice(0, 40) + "…" : text} is outside the allowed range: ` +
      `${len} numbers, each in ${rangeText(lo, hi)}: the default (${def.join(", ")}) is used instead.`);
    return def.slice();
  }
  /** One of a fixed set of values from the URL, else the default (with a note). */
  function readChoice(q, name, def, choices, label = name) {
    if (!q.has(name)) return def;
    const text = q.get(name);
    const hit = choices.find((c) => (typeof c === "number" ? text.trim() !== "" && Number(text) === c : String(c) === text));
    if (hit !== undefined) return hit;
    note(name, `${label} = ${text.length > 40 ? text.slice(0, 40) + "…" : text} is outside the allowed values ` +
      `{${choices.join(", ")}}: the default ${def} is used instead.`);
    return def;
  }
  /** A typed number box under the same rule: `set(v)` gets only values in [lo, hi]; any other
   *  value is refused with a note, and the box shows the value in use again once left. */
  function bindNumberBox(input, { name, label = name, lo, hi, integer = false, get, set, on = "input" }) {
    input.min = lo;
    input.max = hi;
    const check = () => {
      const text = input.value;
      let v = text.trim() === "" ? NaN : Number(text);
      if (integer && Number.isFinite(v)) v = Math.round(v);
      if (Number.isFinite(v) && v >= lo && v <= hi) {
        input.removeAttribute("aria-invalid");
        note(name, null);
        if (v !== get()) set(v);
        return;
      }
      if (text.trim() === "" && on === "input") return;   // mid-edit: wait for a number
      input.setAttribute("aria-invalid", "true");
      note(name, refusedText(label, text.trim() === "" ? "(empty)" : text, rangeText(lo, hi), fmtShort(get()), false));
    };
    input.addEventListener(on, check);
    input.addEventListener("change", () => {
      if (on !== "change") check();
      input.value = get();                 // the box shows the value in use
      input.removeAttribute("aria-invalid");
    });
  }
  /** Replace the query string with `state` (arrays joined by commas), keeping history flat. */
  function writeState(state) {
    const parts = [];
    for (const [key, value] of Object.entries(state)) {
      const text = Array.isArray(value) ? value.join(",") : String(value);
      parts.push(encodeURIComponent(key) + "=" + encodeURIComponent(text).replace(/%2C/g, ",").replace(/%3B/g, ";"));
    }
    window.history.replaceState(null, "", window.location.pathname + "?" + parts.join("&"));
  }
  /** Round for the URL: short, and exact once read back. */
  const round = (x, digits = 4) => Number(x.toFixed(digits));

  // ------------------------------------------------------------- random numbers
  /** mulberry32: a small seeded generator of uniforms in [0, 1). */
  function rng(seed) {
    let a = seed >>> 0;
    return () => {
      a = (a + 0x6d2b79f5) >>> 0;
      let t = a;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
  }
  /** Standard normals from a uniform generator (Box-Muller). */
  function normal(uniform) {
    let spare = null;
    return () => {
      if (spare !== null) { const s = spare; spare = null; return s; }
      let u = 0;
      while (u === 0) u = uniform();
      const r = Math.sqrt(-2 * Math.log(u)), t = 2 * Math.PI * uniform();
      spare = r * Math.sin(t);
      return r * Math.cos(t);
    };
  }

  // ------------------------------------------------------------- page chrome
  const PAGES = [["/min-norm", "Minimum norm"], ["/flat-sharp", "Flat vs sharp"],
                 ["/max-margin", "Max margin"], ["/runs", "Runs"], ["/profiles", "Profiles"]];
  function nav(active) {
    const header = make("header", { class: "nav" });
    make("a", { href: "/", class: "brand", text: "implicitbias" }, header);
    for (const [href, label] of PAGES) {
      make("a", { href, class: href === active ? "active" : "", text: label }, header);
    }
    document.body.insertBefore(header, document.body.firstChild);
  }
  const byId = (id) => document.getElementById(id);
  function setText(id, text) { byId(id).textContent = text; }
  function setStatus(id, text, kind = "") {
    const node = byId(id);
    node.textContent = text;
    node.className = "status" + (kind ? " " + kind : "");
  }

  /** `x` to `digits` significant digits (plain decimals for |x| in [1e-4, 1e6)). */
  function fmtSig(x, digits = 6) {
    if (!Number.isFinite(x)) return String(x);
    if (x === 0) return "0";
    const a = Math.abs(x);
    const s = a >= 1e-4 && a < 1e6 ? x.toFixed(Math.max(0, digits - 1 - Math.floor(Math.log10(a))))
      : x.toExponential(digits - 1);
    return /^-0\.?0*$/.test(s) ? s.slice(1) : s;
  }
  const fmtSigVec = (v, digits = 6) => "(" + v.map((x) => fmtSig(x, digits)).join(", ") + ")";

  return { make, svg, Plane, fmt, fmtVec, fmtSig, fmtSigVec, query, readNumber, readVector,
           readChoice, note, rangeText, bindNumberBox, writeState, round,
           rng, normal, nav, byId, setText, setStatus };
})();
