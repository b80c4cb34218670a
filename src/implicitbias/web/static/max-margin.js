// Max-margin explorer: GD, sign GD and Adam directions on the unit circle, and the l2 / l_inf
// max-margin directions from the server (implicitbias.theory.max_margin).
"use strict";

(() => {
  const BOX = { xmin: -3, xmax: 3, ymin: -3, ymax: 3 };
  const MAX_POINTS = 200;
  const DEFAULT = [[0.5, 2, 1], [2.5, 0.3, 1], [1.5, 1.5, 1], [-0.3, -1.2, -1], [-2, -0.8, -1]];
  const STEP = 0.01;            // sign GD and Adam
  const FRAMES = 60;
  const COLORS = { pos: "#1f6fd1", neg: "#c8382c", l2: "#222", linf: "#7a3fc2",
                   gd: "#e07b00", sign: "#0f8b8d", adam: "#d6337f" };

  function readPoints(q) {
    if (!q.has("p")) return DEFAULT.map((p) => p.slice());
    const text = q.get("p").trim();
    if (!text) return [];
    const out = [];
    for (const item of text.split(";").slice(0, MAX_POINTS)) {
      const v = item.split(",").map(Number);
      if (v.length === 3 && v.every(Number.isFinite) && Math.abs(v[0]) <= 1e6 && Math.abs(v[1]) <= 1e6 && (v[2] === 1 || v[2] === -1)) out.push(v);
    }
    return out;
  }

  const q = IB.query();
  const state = {
    points: readPoints(q),
    steps: [1000, 10000, 100000, 1000000].includes(Number(q.get("steps"))) ? Number(q.get("steps")) : 100000,
    add: q.get("add") === "-1" ? -1 : 1,
    eps: q.get("eps") === "0" ? 0 : 1e-8,
    adam: q.get("adam") === "const" ? "const" : "decay",
  };
  const plane = new IB.Plane(IB.byId("plane"), BOX);
  let server = null;   // the last answer of /api/max-margin
  let opt = null;      // optimizer runs
  let requestId = 0;

  const save = () => IB.writeState({
    p: state.points.map((p) => p.join(",")).join(";"), steps: state.steps, add: state.add,
    eps: state.eps, adam: state.adam });

  // ------------------------------------------------------------ exact 2D l2 max margin
  /** max over unit u of min_i y_i x_i.u: the optimum is some z_i/|z_i| or a u with two
   *  equal margins (u orthogonal to z_i - z_j); null when no u has a positive margin. */
  function exactL2(points) {
    const z = points.map(([a, b, l]) => [l * a, l * b]);
    const margin = (u) => Math.min(...z.map((v) => v[0] * u[0] + v[1] * u[1]));
    const cands = [];
    for (const v of z) { const r = Math.hypot(v[0], v[1]); if (r > 0) cands.push([v[0] / r, v[1] / r]); }
    for (let i = 0; i < z.length; i++) {
      for (let j = i + 1; j < z.length; j++) {
        const d = [z[i][0] - z[j][0], z[i][1] - z[j][1]], r = Math.hypot(d[0], d[1]);
        if (r > 0) { cands.push([-d[1] / r, d[0] / r]); cands.push([d[1] / r, -d[0] / r]); }
      }
    }
    let best = null, bestMargin = 0;
    for (const u of cands) { const m = margin(u); if (m > bestMargin) { bestMargin = m; best = u; } }
    return best ? { direction: best, margin: bestMargin } : null;
  }

  // ------------------------------------------------------------ optimizers
  function lambdaMax(z) {
    let a = 0, b = 0, c = 0;
    for (const v of z) { a += v[0] * v[0]; b += v[0] * v[1]; c += v[1] * v[1]; }
    a /= z.length; b /= z.length; c /= z.length;
    return (a + c) / 2 + Math.sqrt(((a - c) / 2) ** 2 + b * b);
  }
  function gradient(z, w) {
    let g0 = 0, g1 = 0;
    for (const v of z) {
      const e = Math.exp(-(v[0] * w[0] + v[1] * w[1]));
      g0 -= e * v[0]; g1 -= e * v[1];
    }
    return [g0 / z.length, g1 / z.length];
  }
  function newRuns(points) {
    const z = points.map(([a, b, l]) => [l * a, l * b]);
    const lam = lambdaMax(z);
    return {
      z, t: 0, lr: lam > 0 ? 1 / lam : 0, failed: false,
      gd: { w: [0, 0], trail: [] }, sign: { w: [0, 0], trail: [] },
      adam: { w: [0, 0], m: [0, 0], v: [0, 0], trail: [] },
    };
  }
  function advance(run, until) {
    const { z, lr } = run, eps = state.eps;
    const gd = run.gd.w, sg = run.sign.w, ad = run.adam;
    for (let t = run.t; t < until; t++) {
      let g = gradient(z, gd);
      gd[0] -= lr * g[0]; gd[1] -= lr * g[1];
      g = gradient(z, sg);
      sg[0] -= STEP * Math.sign(g[0]); sg[1] -= STEP * Math.sign(g[1]);
      g = gradient(z, ad.w);
      const k = t + 1;
      for (let i = 0; i < 2; i++) {
        ad.m[i] = 0.9 * ad.m[i] + 0.1 * g[i];
        ad.v[i] = 0.999 * ad.v[i] + 0.001 * g[i] * g[i];
        const mh = ad.m[i] / (1 - 0.9 ** k), vh = ad.v[i] / (1 - 0.999 ** k);
        const den = Math.sqrt(vh) + eps;
        if (den > 0) ad.w[i] -= adamStep(t) * mh / den;   // eps = 0 and a zero gradient: no step
      }
    }
    run.t = until;
    if (![...gd, ...sg, ...ad.w].every(Number.isFinite)) run.failed = true;
    for (const name of ["gd", "sign", "adam"]) {
      const d = unit(run[name].w);
      if (d) run[name].trail.push(d);
    }
  }
  /** Adam's step at iteration t (from 0): constant, or 0.1 (t + 2)^(-3/4). */
  function adamStep(t) { return state.adam === "const" ? STEP : 0.1 * Math.pow(t + 2, -0.75); }
  function unit(w) { const r = Math.hypot(w[0], w[1]); return r > 0 && Number.isFinite(r) ? [w[0] / r, w[1] / r] : null; }
  function angle(a, b) {   // degrees, accurate near 0: 2 atan2(|a - b|, |a + b|)
    return 2 * Math.atan2(Math.hypot(a[0] - b[0], a[1] - b[1]), Math.hypot(a[0] + b[0], a[1] + b[1])) * 180 / Math.PI;
  }

  // ------------------------------------------------------------ drawing
  function arrow(d, color, width, parent) {
    IB.svg("line", { x1: plane.sx(0), y1: plane.sy(0), x2: plane.sx(d[0]), y2: plane.sy(d[1]), stroke: color, "stroke-width": width }, parent);
    IB.svg("circle", { cx: plane.sx(d[0]), cy: plane.sy(d[1]), r: 4, fill: color }, parent);
    // the decision boundary w.x = 0 through the origin
    const b = [-d[1] * 10, d[0] * 10];
    IB.svg("line", { x1: plane.sx(-b[0]), y1: plane.sy(-b[1]), x2: plane.sx(b[0]), y2: plane.sy(b[1]), stroke: color, "stroke-width": 1, "stroke-dasharray": "6 5", "stroke-opacity": 0.7 }, parent);
  }
  function draw() {
    plane.clear();
    plane.axes({ xlabel: "x₁", ylabel: "x₂" });
    const L = plane.layer, r = plane.sx(1) - plane.sx(0);
    IB.svg("circle", { cx: plane.sx(0), cy: plane.sy(0), r, fill: "none", stroke: "#9aa5b1", "stroke-dasharray": "3 3" }, L);
    if (server && server.separable) {
      arrow(server.l2.direction, COLORS.l2, 2.5, L);
      arrow(server.linf.direction, COLORS.linf, 2, L);
    }
    if (opt) {
      for (const name of ["gd", "sign", "adam"]) {
        const trail = opt[name].trail;
        trail.forEach((d, i) => {
          const last = i === trail.length - 1;
          IB.svg("circle", { cx: plane.sx(d[0]), cy: plane.sy(d[1]), r: last ? 6 : 2.5, fill: COLORS[name], "fill-opacity": last ? 1 : 0.45, stroke: last ? "#fff" : "none" }, L);
        });
      }
    }
    for (const [a, b, l] of state.points) {
      const x = plane.sx(a), y = plane.sy(b);
      if (l > 0) {
        IB.svg("path", { d: `M${x - 7},${y}H${x + 7}M${x},${y - 7}V${y + 7}`, stroke: COLORS.pos, "stroke-width": 3 }, L);
      } else {
        IB.svg("path", { d: `M${x - 7},${y}H${x + 7}`, stroke: COLORS.neg, "stroke-width": 3 }, L);
        IB.svg("circle", { cx: x, cy: y, r: 9, fill: "none", stroke: COLORS.neg, "stroke-width": 1.5 }, L);
      }
    }
  }

  function showOptimizers() {
    IB.setText("done-steps", opt ? String(opt.t) : "0");
    for (const name of ["gd", "sign", "adam"]) {
      const d = opt && opt[name].trail.length ? opt[name].trail[opt[name].trail.length - 1] : null;
      IB.setText(`${name}-dir`, d ? IB.fmtVec(d, 6) : "—");
      const ok = d && server && server.separable;
      IB.setText(`${name}-l2`, ok ? angle(d, server.l2.direction).toFixed(4) + "°" : "—");
      IB.setText(`${name}-linf`, ok ? angle(d, server.linf.direction).toFixed(4) + "°" : "—");
    }
  }

  // ------------------------------------------------------------ server references
  async function fetchReferences() {
    const id = ++requestId;
    const points = state.points;
    IB.setText("npoints", String(points.length));
    server = null;
    for (const k of ["separable", "l2-dir", "l2-margin", "linf-dir", "linf-margin", "l2-page", "l2-check"]) IB.setText(k, "…");
    if (!points.length) {
      IB.setText("npoints-api", "0");
      for (const k of ["separable", "l2-dir", "l2-margin", "linf-dir", "linf-margin", "l2-page", "l2-check"]) IB.setText(k, "—");
      IB.setStatus("status", "no points: click in the plane to add some");
      document.body.dataset.api = String(id);
      return;
    }
    let answer;
    try {
      const response = await fetch("/api/max-margin", {
        method: "POST", headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ points: points.map((p) => [p[0], p[1]]), labels: points.map((p) => p[2]) }),
      });
      answer = await response.json();
      if (!response.ok) throw new Error(answer.error || response.statusText);
    } catch (err) {
      if (id !== requestId) return;
      IB.setStatus("status", "server error: " + err.message, "bad");
      document.body.dataset.api = String(id);
      return;
    }
    if (id !== requestId) return;   // a newer request is on its way
    server = answer;
    IB.setText("npoints-api", String(answer.n));
    IB.setText("separable", answer.separable ? `yes (LP margin ${IB.fmt(answer.separability_margin, 6)})` : "no");
    const exact = exactL2(points);
    if (answer.separable) {
      IB.setText("l2-dir", IB.fmtVec(answer.l2.direction, 10));
      IB.setText("l2-margin", IB.fmt(answer.l2.margin, 8));
      IB.setText("linf-dir", IB.fmtVec(answer.linf.direction, 10));
      IB.setText("linf-margin", IB.fmt(answer.linf.margin, 8) + (answer.linf.unique ? " (unique)" : " (not unique: a segment of solutions)"));
      IB.setText("l2-page", exact ? IB.fmtVec(exact.direction, 10) : "none");
      IB.setText("l2-check", exact ? Math.hypot(exact.direction[0] - answer.l2.direction[0], exact.direction[1] - answer.l2.direction[1]).toExponential(2) : "—");
      IB.setStatus("status", `separable: γ₂ = ${IB.fmt(answer.l2.margin, 4)}; support vectors ${answer.l2.support.join(", ")}`, "good");
    } else {
      for (const k of ["l2-dir", "l2-margin", "linf-dir", "linf-margin"]) IB.setText(k, "—");
      IB.setText("l2-page", exact ? IB.fmtVec(exact.direction, 10) : "none");
      IB.setText("l2-check", "—");
      IB.setStatus("status", answer.message, "bad");
    }
    draw();
    showOptimizers();
    document.body.dataset.api = String(id);
  }

  // ------------------------------------------------------------ animation
  let job = null;
  function runOptimizers() {
    if (job) cancelAnimationFrame(job);
    if (!state.points.length) { opt = null; draw(); showOptimizers(); document.body.dataset.state = "done"; return; }
    opt = newRuns(state.points);
    let frame = 0;
    document.body.dataset.state = "running";
    const tick = () => {
      frame++;
      const until = Math.min(state.steps, Math.round(Math.pow(state.steps, frame / FRAMES)));
      advance(opt, Math.max(until, opt.t + 1 > state.steps ? state.steps : opt.t + 1));
      draw();
      showOptimizers();
      if (opt.t < state.steps && !opt.failed) { job = requestAnimationFrame(tick); return; }
      job = null;
      document.body.dataset.state = "done";
    };
    job = requestAnimationFrame(tick);
  }

  function changed() {
    save();
    draw();
    fetchReferences();
    runOptimizers();
  }

  // ------------------------------------------------------------ interaction
  plane.svg.addEventListener("pointerdown", (evt) => {
    const [a, b] = plane.toData(evt);
    const hit = state.points.findIndex(([x, y]) => Math.hypot(plane.sx(x) - plane.sx(a), plane.sy(y) - plane.sy(b)) < 10);
    if (hit >= 0) state.points.splice(hit, 1);
    else if (state.points.length < MAX_POINTS) {
      const label = evt.shiftKey ? -state.add : state.add;
      state.points.push([IB.round(a, 2), IB.round(b, 2), label]);
    }
    changed();
  });
  IB.byId(state.add > 0 ? "label-pos" : "label-neg").checked = true;
  for (const id of ["label-pos", "label-neg"]) {
    IB.byId(id).addEventListener("change", (e) => { state.add = Number(e.target.value); save(); });
  }
  IB.byId("steps").value = String(state.steps);
  IB.byId("steps").addEventListener("change", (e) => { state.steps = Number(e.target.value); save(); runOptimizers(); });
  IB.byId("rerun").addEventListener("click", runOptimizers);
  IB.byId("adam-step").value = state.adam;
  IB.byId("adam-step").addEventListener("change", (e) => { state.adam = e.target.value; save(); runOptimizers(); });
  IB.byId("eps").value = String(state.eps);
  IB.byId("eps").addEventListener("change", (e) => { state.eps = Number(e.target.value); save(); runOptimizers(); });
  IB.byId("clear").addEventListener("click", () => { state.points = []; changed(); });

  IB.nav("/max-margin");
  changed();
})();
