// Max-margin explorer: GD, sign GD and Adam directions on the unit circle, and the l2 / l_inf
// max-margin directions from the server (implicitbias.theory.max_margin). The optimizers
// (max-margin-model.js) run in a Web Worker (max-margin-worker.js): the page stays
// responsive, shows the step reached and can stop a run.
"use strict";

(() => {
  const BOX = { xmin: -3, xmax: 3, ymin: -3, ymax: 3 };
  const MAX_POINTS = 200;
  const DEFAULT = [[0.5, 2, 1], [2.5, 0.3, 1], [1.5, 1.5, 1], [-0.3, -1.2, -1], [-2, -0.8, -1]];
  const STEPS = [1000, 10000, 100000, 1000000];
  const COLORS = { pos: "#1f6fd1", neg: "#c8382c", l2: "#222", linf: "#7a3fc2",
                   gd: "#e07b00", sign: "#0f8b8d", adam: "#d6337f" };

  /** Points from the URL: "x1,x2,label;..." with finite |x| <= 1e6 and labels +-1, at most
   *  MAX_POINTS; the others are left out, with a note naming them. */
  function readPoints(q) {
    if (!q.has("p")) return DEFAULT.map((p) => p.slice());
    const text = q.get("p").trim();
    if (!text) return [];
    const out = [], refused = [];
    const items = text.split(";");
    for (const item of items.slice(0, MAX_POINTS)) {
      const v = item.split(",").map((t) => (t.trim() === "" ? NaN : Number(t)));
      if (v.length === 3 && v.every(Number.isFinite) && Math.abs(v[0]) <= 1e6 && Math.abs(v[1]) <= 1e6 && (v[2] === 1 || v[2] === -1)) out.push(v);
      else refused.push(item);
    }
    const parts = [];
    if (refused.length) {
      const list = refused.slice(0, 5).map((r) => `"${r.slice(0, 30)}"`).join(", ") + (refused.length > 5 ? ", …" : "");
      parts.push(`${refused.length} point${refused.length > 1 ? "s" : ""} outside the allowed range ` +
        `(x₁, x₂ finite in [-1e6, 1e6], label 1 or -1) left out: ${list}`);
    }
    if (items.length > MAX_POINTS) parts.push(`${items.length} points given, at most ${MAX_POINTS} allowed: the first ${MAX_POINTS} are used`);
    if (parts.length) IB.note("p", "p (points): " + parts.join("; ") + ".");
    return out;
  }

  const q = IB.query();
  const state = {
    points: readPoints(q),
    steps: IB.readChoice(q, "steps", 100000, STEPS),
    add: IB.readChoice(q, "add", 1, [1, -1]),
    eps: IB.readChoice(q, "eps", 1e-8, [1e-8, 0]),
    adam: IB.readChoice(q, "adam", "decay", ["decay", "const"]),
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
    let bestMargin = 0;
    // the smallest margin of u, stopping early once it cannot beat the best so far
    const margin = (u) => {
      let m = Infinity;
      for (const v of z) {
        const s = v[0] * u[0] + v[1] * u[1];
        if (s < m) { m = s; if (m <= bestMargin) return m; }
      }
      return m;
    };
    const cands = [];
    for (const v of z) { const r = Math.hypot(v[0], v[1]); if (r > 0) cands.push([v[0] / r, v[1] / r]); }
    for (let i = 0; i < z.length; i++) {
      for (let j = i + 1; j < z.length; j++) {
        const d = [z[i][0] - z[j][0], z[i][1] - z[j][1]], r = Math.hypot(d[0], d[1]);
        if (r > 0) { cands.push([-d[1] / r, d[0] / r]); cands.push([d[1] / r, -d[0] / r]); }
      }
    }
    let best = null;
    for (const u of cands) { const m = margin(u); if (m > bestMargin) { bestMargin = m; best = u; } }
    return best ? { direction: best, margin: bestMargin } : null;
  }

  const { unit, angle } = MM;

  // ------------------------------------------------------------ drawing
  function arrow(d, color, width, parent, id) {
    IB.svg("line", { x1: plane.sx(0), y1: plane.sy(0), x2: plane.sx(d[0]), y2: plane.sy(d[1]), stroke: color, "stroke-width": width }, parent);
    IB.svg("circle", { id, cx: plane.sx(d[0]), cy: plane.sy(d[1]), r: 4, fill: color }, parent);
    // the decision boundary w.x = 0 through the origin
    const b = [-d[1] * 10, d[0] * 10];
    IB.svg("line", { x1: plane.sx(-b[0]), y1: plane.sy(-b[1]), x2: plane.sx(b[0]), y2: plane.sy(b[1]), stroke: color, "stroke-width": 1, "stroke-dasharray": "6 5", "stroke-opacity": 0.7 }, parent);
  }
  /** The optimizers' end markers: three shapes and sizes, so that one on top of another
   *  stays visible (sign GD, a large open square, is drawn last). */
  const MARKERS = {
    gd: (x, y, L) => IB.svg("circle", { id: "marker-gd", cx: x, cy: y, r: 6, fill: COLORS.gd, stroke: "#fff", "stroke-width": 1.5 }, L),
    adam: (x, y, L) => IB.svg("path", { id: "marker-adam", d: `M${x},${y - 7}L${x + 6},${y + 4}L${x - 6},${y + 4}Z`, fill: COLORS.adam, stroke: "#fff", "stroke-width": 1.5 }, L),
    sign: (x, y, L) => IB.svg("rect", { id: "marker-sign", x: x - 12, y: y - 12, width: 24, height: 24, fill: "none", stroke: COLORS.sign, "stroke-width": 3 }, L),
  };
  let optLayer = null;   // the optimizers' trails and markers, redrawn alone while they run
  /** The whole plot: axes, references, points and their numbers, and the optimizers. */
  function draw() {
    plane.clear();
    plane.axes({ xlabel: "x₁", ylabel: "x₂" });
    const L = plane.layer, r = plane.sx(1) - plane.sx(0);
    IB.svg("circle", { cx: plane.sx(0), cy: plane.sy(0), r, fill: "none", stroke: "#9aa5b1", "stroke-dasharray": "3 3" }, L);
    if (server && server.separable) {
      arrow(server.l2.direction, COLORS.l2, 2.5, L, "end-l2");
      arrow(server.linf.direction, COLORS.linf, 2, L, "end-linf");
    }
    optLayer = IB.svg("g", { id: "optimizers-layer" }, L);
    drawOptimizers();
    const support = new Set(server && server.separable ? server.l2.support : []);
    state.points.forEach(([a, b, l], i) => {
      const x = plane.sx(a), y = plane.sy(b);
      if (l > 0) {
        IB.svg("path", { d: `M${x - 7},${y}H${x + 7}M${x},${y - 7}V${y + 7}`, stroke: COLORS.pos, "stroke-width": 3, class: "point" }, L);
      } else {
        IB.svg("path", { d: `M${x - 7},${y}H${x + 7}`, stroke: COLORS.neg, "stroke-width": 3, class: "point" }, L);
        IB.svg("circle", { cx: x, cy: y, r: 9, fill: "none", stroke: COLORS.neg, "stroke-width": 1.5 }, L);
      }
    });
    // the points' 0-based numbers, as in the support-vector list (bold: l2 support vectors)
    state.points.forEach(([a, b], i) => {
      IB.svg("text", { x: plane.sx(a) + 10, y: plane.sy(b) - 9, class: "point-label" + (support.has(i) ? " sv" : ""),
                       "data-index": i, "pointer-events": "none", text: String(i) }, L);
    });
  }
  /** Only the optimizers' layer (cheap, whatever the number of points). */
  function drawOptimizers() {
    if (!optLayer) return;
    while (optLayer.firstChild) optLayer.removeChild(optLayer.firstChild);
    if (!opt) return;
    for (const name of ["gd", "sign", "adam"]) {
      const trail = opt[name].trail;
      trail.slice(0, -1).forEach((d) => {
        IB.svg("circle", { cx: plane.sx(d[0]), cy: plane.sy(d[1]), r: 2.5, fill: COLORS[name], "fill-opacity": 0.45 }, optLayer);
      });
    }
    for (const name of ["gd", "adam", "sign"]) {
      const trail = opt[name].trail;
      if (!trail.length) continue;
      const d = trail[trail.length - 1];
      MARKERS[name](plane.sx(d[0]), plane.sy(d[1]), optLayer);
    }
  }

  function showOptimizers() {
    IB.setText("done-steps", opt ? String(opt.t) : "0");
    for (const name of ["gd", "sign", "adam"]) {
      const d = opt && opt[name].trail.length ? opt[name].trail[opt[name].trail.length - 1] : null;
      IB.setText(`${name}-dir`, d ? IB.fmtSigVec(d, 6) : "—");
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
    IB.setText("separable", answer.separable ? `yes (LP margin ${IB.fmtSig(answer.separability_margin, 6)})` : "no");
    const exact = exactL2(points);
    if (answer.separable) {
      IB.setText("l2-dir", IB.fmtSigVec(answer.l2.direction, 6));
      IB.setText("l2-margin", IB.fmtSig(answer.l2.margin, 6));
      IB.setText("linf-dir", IB.fmtSigVec(answer.linf.direction, 6));
      IB.setText("linf-margin", IB.fmtSig(answer.linf.margin, 6) + (answer.linf.unique ? " (unique)" : " (not unique: a segment of solutions)"));
      IB.setText("l2-page", exact ? IB.fmtSigVec(exact.direction, 6) : "none");
      IB.setText("l2-check", exact ? Math.hypot(exact.direction[0] - answer.l2.direction[0], exact.direction[1] - answer.l2.direction[1]).toExponential(2) : "—");
      IB.setStatus("status", `separable: γ₂ = ${IB.fmt(answer.l2.margin, 4)}; support vectors ${answer.l2.support.join(", ")} (the numbers on the plot)`, "good");
    } else {
      for (const k of ["l2-dir", "l2-margin", "linf-dir", "linf-margin"]) IB.setText(k, "—");
      IB.setText("l2-page", exact ? IB.fmtSigVec(exact.direction, 6) : "none");
      IB.setText("l2-check", "—");
      IB.setStatus("status", answer.message, "bad");
    }
    draw();
    showOptimizers();
    document.body.dataset.api = String(id);
  }

  // ------------------------------------------------------------ optimizers, in a worker
  let worker = null, runId = 0, drawPending = false, reached = 0;
  function stopWorker() { if (worker) { worker.terminate(); worker = null; } }
  function redraw() {
    if (drawPending) return;
    drawPending = true;
    requestAnimationFrame(() => { drawPending = false; drawOptimizers(); showOptimizers(); showProgress(); });
  }
  function showProgress() {
    const running = document.body.dataset.state === "running";
    IB.byId("progress-row").hidden = !running;
    if (!running) return;
    IB.byId("progress").value = reached / state.steps;
    IB.setText("progress-text", `step ${reached} of ${state.steps}`);
  }
  function runOptimizers() {
    stopWorker();
    const id = ++runId;
    if (!state.points.length) { opt = null; draw(); showOptimizers(); document.body.dataset.state = "done"; showProgress(); return; }
    opt = { t: 0, failed: false, gd: { trail: [] }, sign: { trail: [] }, adam: { trail: [] } };
    reached = 0;
    document.body.dataset.state = "running";
    showProgress();
    worker = new Worker("/static/max-margin-worker.js");
    worker.onmessage = (event) => {
      const msg = event.data;
      if (msg.id !== runId) return;
      reached = Math.max(reached, msg.t);
      if (msg.kind === "frame") {
        opt.t = msg.t;
        opt.failed = msg.failed;
        for (const name of ["gd", "sign", "adam"]) if (msg.dirs[name]) opt[name].trail.push(msg.dirs[name]);
      } else if (msg.kind === "done") {
        stopWorker();
        document.body.dataset.state = "done";
      }
      redraw();
    };
    worker.onerror = (event) => {
      event.preventDefault();
      stopWorker();
      document.body.dataset.state = "failed";
      IB.setStatus("status", "the optimizers failed: " + (event.message || "worker error"), "bad");
      showProgress();
    };
    worker.postMessage({ id, points: state.points, steps: state.steps, eps: state.eps, adam: state.adam });
  }
  function cancel() {
    if (!worker) return;
    stopWorker();
    runId++;
    document.body.dataset.state = "cancelled";
    showProgress();
    draw();
    showOptimizers();
    IB.setStatus("status", `stopped at step ${reached} of ${state.steps}: the directions shown are those after ${opt.t} steps`, "bad");
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
    IB.byId(id).addEventListener("change", (e) => { state.add = Number(e.target.value); IB.note("add", null); save(); });
  }
  IB.byId("steps").value = String(state.steps);
  IB.byId("steps").addEventListener("change", (e) => { state.steps = Number(e.target.value); IB.note("steps", null); save(); runOptimizers(); });
  IB.byId("rerun").addEventListener("click", runOptimizers);
  IB.byId("adam-step").value = state.adam;
  IB.byId("adam-step").addEventListener("change", (e) => { state.adam = e.target.value; IB.note("adam", null); save(); runOptimizers(); });
  IB.byId("eps").value = String(state.eps);
  IB.byId("eps").addEventListener("change", (e) => { state.eps = Number(e.target.value); IB.note("eps", null); save(); runOptimizers(); });
  IB.byId("clear").addEventListener("click", () => { state.points = []; IB.note("p", null); changed(); });
  IB.byId("cancel").addEventListener("click", cancel);

  IB.nav("/max-margin");
  changed();
})();
