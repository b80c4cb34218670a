// Minimum-norm explorer: GD on (x.w - y)^2 / 2 from a draggable start w0, with p = 2
// parameters (the solution set is a line in the plane) or p = 3 (a plane in space, shown
// in an orthographic view that a drag on the background rotates).
"use strict";

(() => {
  const MAX_STEPS = 200000;   // GD stops here if it has not converged
  const DIVERGED = 1e8;       // |w| beyond this: diverged
  const SNAP = 1000;          // w0 is rounded to 1/SNAP (short, exact URLs)
  const COLORS = { path: "#e07b00", w0: "#1f6fd1", closest: "#1d8a4a", line: "#444", minnorm: "#8a939e" };
  const DEFAULTS = { 2: { x: [1, 2], w0: [-2, -1] }, 3: { x: [1, 2, 2], w0: [-1.5, -1, -0.5] } };

  // Allowed ranges (the rule of common.js: a value outside is not used, with a note).
  const LIMIT = 100;                 // |x_i|, |y|, |w0_i|
  const LR = [0.01, 0.6];            // the slider's range
  const q = IB.query();
  let dim = 2;
  if (q.has("p") && q.get("p") !== "2") {
    if (q.get("p") === "3") dim = 3;
    else IB.note("p", `p = ${q.get("p").slice(0, 40)} is outside the allowed values {2, 3}: the default 2 is used instead.`);
  }
  const state = {
    x: IB.readVector(q, "x", DEFAULTS[dim].x, dim, -LIMIT, LIMIT),
    y: IB.readNumber(q, "y", 1, -LIMIT, LIMIT),
    w0: IB.readVector(q, "w0", DEFAULTS[dim].w0, dim, -LIMIT, LIMIT, "w₀"),
    lr: IB.readNumber(q, "lr", 0.1, LR[0], LR[1], "learning rate lr"),
    view: dim === 3 ? IB.readVector(q, "view", [120, 15], 2, -360, 360) : [120, 15],   // 3D: azimuth, elevation (degrees)
  };
  if (Math.abs(state.view[1]) > 89) {
    IB.note("view", `view elevation = ${state.view[1]} is outside the allowed range [-89, 89]: the default view (120, 15) is used instead.`);
    state.view = [120, 15];
  }

  const dot = (a, b) => a.reduce((s, v, i) => s + v * b[i], 0);
  const norm = (a) => Math.sqrt(dot(a, a));
  const axpy = (alpha, x, y) => y.map((v, i) => v + alpha * x[i]);   // y + alpha x

  /** GD iterates until the residual stops changing (or diverges, or MAX_STEPS). */
  function runGD(x, y, w0, lr) {
    let w = w0.slice();
    const path = [w.slice()];
    const scale = norm(x);
    let steps = 0, status = "converged";
    for (; steps < MAX_STEPS; steps++) {
      const r = dot(x, w) - y;
      const next = axpy(-lr * r, x, w);
      if (!next.every(Number.isFinite) || norm(next) > DIVERGED) { status = "diverged"; break; }
      if (next.every((v, i) => v === w[i])) break;   // a fixed point in floating point
      w = next;
      if (path.length < 2000) path.push(w.slice());
      if (Math.abs(dot(x, w) - y) <= 1e-15 * (Math.abs(y) + scale * norm(w) + 1e-300)) { steps++; break; }
    }
    if (steps >= MAX_STEPS) status = "not converged";
    return { w, path, steps, status };
  }

  /** The point of {w : x.w = y} closest to w0: w0 - x (x.w0 - y) / |x|^2. */
  const closestPoint = (x, y, w0) => axpy(-(dot(x, w0) - y) / dot(x, x), x, w0);

  // ------------------------------------------------------------ views
  const BOX = dim === 2 ? { xmin: -3, xmax: 3, ymin: -3, ymax: 3 } : { xmin: -4, xmax: 4, ymin: -4, ymax: 4 };
  const plane = new IB.Plane(IB.byId("plane"), BOX);

  /** 3D: screen right and up vectors of the orthographic camera. */
  function camera() {
    const a = state.view[0] * Math.PI / 180, e = state.view[1] * Math.PI / 180;
    return { right: [-Math.sin(a), Math.cos(a), 0],
             up: [-Math.sin(e) * Math.cos(a), -Math.sin(e) * Math.sin(a), Math.cos(e)] };
  }
  /** Screen pixels of a parameter vector. */
  function toScreen(w) {
    if (dim === 2) return [plane.sx(w[0]), plane.sy(w[1])];
    const cam = camera();
    return [plane.sx(dot(w, cam.right)), plane.sy(dot(w, cam.up))];
  }
  const pts = (list) => list.map((w) => toScreen(w).map((v) => v.toFixed(2)).join(",")).join(" ");
  const inView = (w) => w.every((v) => Math.abs(v) < 50);

  function drawSolutionSet(S, x, y) {
    if (!(norm(x) > 0)) return;   // x = 0: every w fits (y = 0) or none does
    const c = axpy(y / dot(x, x), x, new Array(dim).fill(0));   // the min-norm point
    if (dim === 2) {
      const d = [-x[1] / norm(x), x[0] / norm(x)];
      S("line", { x1: toScreen(axpy(-100, d, c))[0], y1: toScreen(axpy(-100, d, c))[1], x2: toScreen(axpy(100, d, c))[0], y2: toScreen(axpy(100, d, c))[1], stroke: COLORS.line, "stroke-width": 2 }, plane.layer);
      return;
    }
    // an orthonormal basis (e1, e2) of the plane x.w = 0, then a patch around c
    const n = x.map((v) => v / norm(x));
    const helper = Math.abs(n[0]) < 0.9 ? [1, 0, 0] : [0, 1, 0];
    let e1 = axpy(-dot(helper, n), n, helper);
    e1 = e1.map((v) => v / norm(e1));
    const e2 = [n[1] * e1[2] - n[2] * e1[1], n[2] * e1[0] - n[0] * e1[2], n[0] * e1[1] - n[1] * e1[0]];
    const R = 2.5;
    const corner = (s, t) => axpy(t, e2, axpy(s, e1, c));
    S("polygon", { points: pts([corner(-R, -R), corner(R, -R), corner(R, R), corner(-R, R)]), fill: "#444", "fill-opacity": 0.08, stroke: COLORS.line, "stroke-width": 1.5 }, plane.layer);
    for (let k = -R + 0.5; k < R; k += 1) {
      S("polyline", { points: pts([corner(k, -R), corner(k, R)]), stroke: "#444", "stroke-opacity": 0.18, fill: "none" }, plane.layer);
      S("polyline", { points: pts([corner(-R, k), corner(R, k)]), stroke: "#444", "stroke-opacity": 0.18, fill: "none" }, plane.layer);
    }
  }

  function drawAxes3D(S) {
    const names = ["w₁", "w₂", "w₃"];
    for (let i = 0; i < 3; i++) {
      const e = [0, 0, 0];
      e[i] = 3.5;
      const [a, b] = [toScreen(e.map((v) => -v)), toScreen(e)];
      S("line", { x1: a[0], y1: a[1], x2: b[0], y2: b[1], class: "axis" }, plane.layer);
      S("text", { x: b[0] + 4, y: b[1] - 4, class: "tick", text: names[i] }, plane.layer);
    }
  }

  function draw(result, closest, minNorm, fraction = 1) {
    plane.clear();
    const S = IB.svg, { x, y, w0 } = state;
    if (dim === 2) plane.axes({ xlabel: "w₁", ylabel: "w₂" });
    else drawAxes3D(S);
    drawSolutionSet(S, x, y);
    const seg = (a, b, attrs) => {
      const [p, r] = [toScreen(a), toScreen(b)];
      S("line", { x1: p[0], y1: p[1], x2: r[0], y2: r[1], ...attrs }, plane.layer);
    };
    const dotAt = (w, attrs) => { const p = toScreen(w); S("circle", { cx: p[0], cy: p[1], ...attrs }, plane.layer); };
    if (minNorm) {
      seg(new Array(dim).fill(0), minNorm, { stroke: COLORS.minnorm, "stroke-dasharray": "3 3" });
      dotAt(minNorm, { r: 4, fill: COLORS.minnorm });
    }
    if (closest) seg(w0, closest, { stroke: COLORS.closest, "stroke-dasharray": "6 4", "stroke-width": 1.5 });
    if (result) {
      const count = Math.max(1, Math.ceil(result.path.length * fraction));
      const shown = result.path.slice(0, count).filter(inView);
      S("polyline", { points: pts(shown), fill: "none", stroke: COLORS.path, "stroke-width": 2 }, plane.layer);
      for (const p of shown.slice(0, 60)) dotAt(p, { r: 2.2, fill: COLORS.path });
      if (fraction >= 1 && result.status !== "diverged") {
        dotAt(result.w, { r: 7, fill: "none", stroke: COLORS.path, "stroke-width": 2.5, id: "limit-marker" });
      }
    }
    if (closest) dotAt(closest, { r: 4, fill: COLORS.closest, id: "closest-marker" });
    dotAt(w0, { r: 9, fill: COLORS.w0, stroke: "#fff", "stroke-width": 2, id: "w0-handle", cursor: "grab" });
  }

  // ------------------------------------------------------------ numbers
  let anim = null;
  function update({ animate = true } = {}) {
    const { x, y, w0, lr } = state;
    const saved = { p: dim, x, y, w0, lr };
    if (dim === 3) saved.view = state.view.map((v) => Math.round(v));
    IB.writeState(saved);
    IB.byId("lr").value = lr;
    IB.setText("lr-value", lr.toFixed(3));
    IB.setText("w0", IB.fmtVec(w0, 3));
    const xx = dot(x, x);
    if (!(xx > 1e-12)) {
      IB.setStatus("status", "x must not be the zero vector", "bad");
      for (const id of ["gd-limit", "closest", "gap", "dist", "steps", "minnorm", "lr-max"]) IB.setText(id, "—");
      draw(null, null, null);
      document.body.dataset.ready = "1";
      return;
    }
    IB.setText("lr-max", IB.fmt(2 / xx, 4));
    const result = runGD(x, y, w0, lr);
    const closest = closestPoint(x, y, w0);
    const minNorm = x.map((v) => v * y / xx);
    const gap = norm(axpy(-1, closest, result.w));
    IB.setText("closest", IB.fmtVec(closest, 10));
    IB.setText("dist", IB.fmt(norm(axpy(-1, closest, w0)), 10));
    IB.setText("minnorm", IB.fmtVec(minNorm, 6));
    IB.setText("steps", String(result.steps));
    const ratio = lr * xx;
    if (result.status === "diverged") {
      IB.setText("gd-limit", "— (diverged)");
      IB.setText("gap", "—");
      IB.setStatus("status", `GD diverges: lr·|x|² = ${ratio.toFixed(3)} ≥ 2 (step ${result.steps}).`, "bad");
    } else {
      IB.setText("gd-limit", IB.fmtVec(result.w, 10));
      IB.setText("gap", gap.toExponential(2));
      const how = ratio < 1 ? "monotone" : `oscillating across the ${dim === 2 ? "line" : "plane"}`;
      const kind = result.status === "converged" ? "good" : "bad";
      IB.setStatus("status", result.status === "converged"
        ? `GD converged in ${result.steps} steps (${how}, contraction |1 − lr·|x|²| = ${Math.abs(1 - ratio).toFixed(3)}).`
        : `GD has not converged after ${result.steps} steps (contraction ${Math.abs(1 - ratio).toFixed(5)}).`, kind);
    }
    document.body.dataset.ready = "1";
    if (anim) cancelAnimationFrame(anim);
    if (!animate) { draw(result, closest, minNorm); document.body.dataset.anim = "done"; return; }
    document.body.dataset.anim = "running";
    const frames = 36;
    let frame = 0;
    const tick = () => {
      frame++;
      draw(result, closest, minNorm, Math.min(1, frame / frames));
      if (frame < frames) { anim = requestAnimationFrame(tick); return; }
      anim = null;
      document.body.dataset.anim = "done";
    };
    tick();
  }

  // ------------------------------------------------------------ interaction
  // p = 2: the pointer sets w0. p = 3: dragging w0's handle moves it parallel to the
  // screen; dragging anywhere else turns the view.
  let drag = null;
  function snap(w) { return w.map((v) => Math.max(-LIMIT, Math.min(LIMIT, Math.round(v * SNAP) / SNAP))); }
  plane.svg.addEventListener("pointerdown", (evt) => {
    plane.svg.setPointerCapture(evt.pointerId);
    const at = plane.toData(evt);
    if (dim === 2) { drag = { kind: "w0" }; state.w0 = snap(at); IB.note("w0", null); update({ animate: false }); return; }
    const h = toScreen(state.w0), p = [plane.sx(at[0]), plane.sy(at[1])];
    const onHandle = Math.hypot(h[0] - p[0], h[1] - p[1]) < 14;
    drag = { kind: onHandle ? "w0" : "view", start: at, w0: state.w0.slice(), view: state.view.slice() };
  });
  plane.svg.addEventListener("pointermove", (evt) => {
    if (!drag) return;
    const at = plane.toData(evt);
    if (dim === 2) { state.w0 = snap(at); update({ animate: false }); return; }
    const dx = at[0] - drag.start[0], dy = at[1] - drag.start[1];
    if (drag.kind === "w0") {
      const cam = camera();
      state.w0 = snap(axpy(dy, cam.up, axpy(dx, cam.right, drag.w0)));
    } else {
      state.view = [drag.view[0] - dx * 20, Math.max(-89, Math.min(89, drag.view[1] - dy * 20))];
    }
    update({ animate: false });
  });
  const stop = () => { if (drag) { const moved = drag.kind === "w0"; drag = null; update({ animate: moved }); } };
  plane.svg.addEventListener("pointerup", stop);
  plane.svg.addEventListener("pointercancel", stop);

  const names = { x1: "x₁", x2: "x₂", x3: "x₃", y: "y" };
  ["x1", "x2", "x3"].slice(0, dim).forEach((id, i) => {
    const input = IB.byId(id);
    input.value = state.x[i];
    IB.bindNumberBox(input, { name: id, label: names[id], lo: -LIMIT, hi: LIMIT, get: () => state.x[i],
      set: (v) => { state.x = state.x.map((u, j) => (j === i ? v : u)); IB.note("x", null); update(); } });
  });
  if (dim === 2) IB.byId("x3-row").hidden = true;
  IB.byId("y").value = state.y;
  IB.bindNumberBox(IB.byId("y"), { name: "y", lo: -LIMIT, hi: LIMIT, get: () => state.y,
    set: (v) => { state.y = v; update(); } });
  IB.byId("lr").addEventListener("input", () => { state.lr = Number(IB.byId("lr").value); IB.note("lr", null); update(); });
  IB.byId("replay").addEventListener("click", () => update());
  IB.byId(dim === 2 ? "mode-2" : "mode-3").checked = true;
  for (const id of ["mode-2", "mode-3"]) {
    IB.byId(id).addEventListener("change", (e) => { window.location.search = "?p=" + e.target.value; });
  }
  IB.setText("set-name", dim === 2 ? "line" : "plane");
  IB.byId("view-hint").hidden = dim === 2;
  if (dim === 3) {
    IB.byId("how-to").textContent = "Drag w₀'s handle to move it parallel to the screen; drag anywhere else to turn the view.";
  }

  IB.nav("/min-norm");
  update();
})();
