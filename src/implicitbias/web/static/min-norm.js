// Minimum-norm explorer: GD on (x.w - y)^2 / 2 in the plane, from a draggable start w0.
"use strict";

(() => {
  const BOX = { xmin: -3, xmax: 3, ymin: -3, ymax: 3 };
  const MAX_STEPS = 200000;   // GD stops here if it has not converged
  const DIVERGED = 1e8;       // |w| beyond this: diverged
  const SNAP = 1000;          // w0 is rounded to 1/SNAP (short, exact URLs)
  const COLORS = { path: "#e07b00", w0: "#1f6fd1", closest: "#1d8a4a", line: "#444", minnorm: "#8a939e" };

  const q = IB.query();
  const state = {
    x: IB.readVector(q, "x", [1, 2], 2, -100, 100),
    y: IB.readNumber(q, "y", 1, -100, 100),
    w0: IB.readVector(q, "w0", [-2, -1], 2, -100, 100),
    lr: IB.readNumber(q, "lr", 0.1, 0.001, 10),
  };

  /** GD iterates until the residual stops changing (or diverges, or MAX_STEPS). */
  function runGD(x, y, w0, lr) {
    let w = w0.slice();
    const path = [w.slice()];
    const xx = x[0] * x[0] + x[1] * x[1];
    let steps = 0, status = "converged";
    for (; steps < MAX_STEPS; steps++) {
      const r = x[0] * w[0] + x[1] * w[1] - y;
      const next = [w[0] - lr * r * x[0], w[1] - lr * r * x[1]];
      if (!Number.isFinite(next[0]) || Math.hypot(next[0], next[1]) > DIVERGED) { status = "diverged"; break; }
      if (next[0] === w[0] && next[1] === w[1]) break;   // a fixed point in floating point
      w = next;
      if (path.length < 2000) path.push(w.slice());
      const rNext = Math.abs(x[0] * w[0] + x[1] * w[1] - y);
      if (rNext <= 1e-15 * (Math.abs(y) + Math.sqrt(xx) * Math.hypot(w[0], w[1]) + 1e-300)) { steps++; break; }
    }
    if (steps >= MAX_STEPS) status = "not converged";
    return { w, path, steps, status };
  }

  function closestPoint(x, y, w0) {
    const xx = x[0] * x[0] + x[1] * x[1];
    const r = x[0] * w0[0] + x[1] * w0[1] - y;
    return [w0[0] - r * x[0] / xx, w0[1] - r * x[1] / xx];
  }

  const plane = new IB.Plane(IB.byId("plane"), BOX);
  let anim = null;

  function lineEnds(x, y) {
    // Points of x.w = y at the edges of a generous box (the line may be steep).
    const big = 100, ends = [];
    if (Math.abs(x[1]) > 1e-12) {
      for (const w1 of [-big, big]) ends.push([w1, (y - x[0] * w1) / x[1]]);
    } else {
      for (const w2 of [-big, big]) ends.push([y / x[0], w2]);
    }
    return ends;
  }

  function draw(result, closest, minNorm, fraction = 1) {
    plane.clear();
    plane.axes({ xlabel: "w₁", ylabel: "w₂" });
    const { x, y, w0 } = state, S = IB.svg;
    if (Math.hypot(x[0], x[1]) > 0) {   // x = 0: every w fits (y = 0) or none does
      const [a, b] = lineEnds(x, y);
      S("line", { x1: plane.sx(a[0]), y1: plane.sy(a[1]), x2: plane.sx(b[0]), y2: plane.sy(b[1]), stroke: COLORS.line, "stroke-width": 2 }, plane.layer);
    }
    if (minNorm) {
      S("line", { x1: plane.sx(0), y1: plane.sy(0), x2: plane.sx(minNorm[0]), y2: plane.sy(minNorm[1]), stroke: COLORS.minnorm, "stroke-dasharray": "3 3" }, plane.layer);
      S("circle", { cx: plane.sx(minNorm[0]), cy: plane.sy(minNorm[1]), r: 4, fill: COLORS.minnorm }, plane.layer);
    }
    if (closest) {
      S("line", { x1: plane.sx(w0[0]), y1: plane.sy(w0[1]), x2: plane.sx(closest[0]), y2: plane.sy(closest[1]), stroke: COLORS.closest, "stroke-dasharray": "6 4", "stroke-width": 1.5 }, plane.layer);
    }
    if (result) {
      const count = Math.max(1, Math.ceil(result.path.length * fraction));
      const pts = result.path.slice(0, count).filter((p) => Math.abs(p[0]) < 50 && Math.abs(p[1]) < 50)
        .map((p) => `${plane.sx(p[0]).toFixed(2)},${plane.sy(p[1]).toFixed(2)}`).join(" ");
      S("polyline", { points: pts, fill: "none", stroke: COLORS.path, "stroke-width": 2 }, plane.layer);
      for (const p of result.path.slice(0, Math.min(count, 60))) {
        if (Math.abs(p[0]) < 50 && Math.abs(p[1]) < 50) S("circle", { cx: plane.sx(p[0]), cy: plane.sy(p[1]), r: 2.2, fill: COLORS.path }, plane.layer);
      }
      if (fraction >= 1 && result.status !== "diverged") {
        S("circle", { cx: plane.sx(result.w[0]), cy: plane.sy(result.w[1]), r: 7, fill: "none", stroke: COLORS.path, "stroke-width": 2.5, id: "limit-marker" }, plane.layer);
      }
    }
    if (closest) S("circle", { cx: plane.sx(closest[0]), cy: plane.sy(closest[1]), r: 4, fill: COLORS.closest, id: "closest-marker" }, plane.layer);
    S("circle", { cx: plane.sx(w0[0]), cy: plane.sy(w0[1]), r: 9, fill: COLORS.w0, stroke: "#fff", "stroke-width": 2, id: "w0-handle", cursor: "grab" }, plane.layer);
  }

  function update({ animate = true } = {}) {
    const { x, y, w0, lr } = state;
    IB.writeState({ x, y, w0, lr });
    IB.byId("lr").value = lr;
    IB.setText("lr-value", lr.toFixed(3));
    IB.setText("w0", IB.fmtVec(w0, 3));
    const xx = x[0] * x[0] + x[1] * x[1];
    if (!(xx > 1e-12)) {
      IB.setStatus("status", "x must not be the zero vector", "bad");
      for (const id of ["gd-limit", "closest", "gap", "dist", "steps", "minnorm"]) IB.setText(id, "—");
      draw(null, null, null);
      document.body.dataset.ready = "1";
      return;
    }
    IB.setText("lr-max", IB.fmt(2 / xx, 4));
    const result = runGD(x, y, w0, lr);
    const closest = closestPoint(x, y, w0);
    const minNorm = [x[0] * y / xx, x[1] * y / xx];
    const gap = Math.hypot(result.w[0] - closest[0], result.w[1] - closest[1]);
    IB.setText("closest", IB.fmtVec(closest, 10));
    IB.setText("dist", IB.fmt(Math.hypot(w0[0] - closest[0], w0[1] - closest[1]), 10));
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
      const how = ratio < 1 ? "monotone" : "oscillating across the line";
      const kind = result.status === "converged" ? "good" : "bad";
      IB.setStatus("status", result.status === "converged"
        ? `GD converged in ${result.steps} steps (${how}, contraction |1 − lr·|x|²| = ${Math.abs(1 - ratio).toFixed(3)}).`
        : `GD has not converged after ${result.steps} steps (contraction ${Math.abs(1 - ratio).toFixed(5)}).`, kind);
    }
    document.body.dataset.ready = "1";
    if (anim) cancelAnimationFrame(anim);
    if (!animate) { draw(result, closest, minNorm); return; }
    const frames = 36;
    let frame = 0;
    const tick = () => {
      frame++;
      draw(result, closest, minNorm, Math.min(1, frame / frames));
      anim = frame < frames ? requestAnimationFrame(tick) : null;
    };
    tick();
  }

  // ------------------------------------------------------------ interaction
  let dragging = false;
  function moveTo(evt) {
    const [a, b] = plane.toData(evt);
    state.w0 = [Math.round(a * SNAP) / SNAP, Math.round(b * SNAP) / SNAP].map((v) => Math.max(-100, Math.min(100, v)));
    update({ animate: false });
  }
  plane.svg.addEventListener("pointerdown", (evt) => {
    dragging = true;
    plane.svg.setPointerCapture(evt.pointerId);
    moveTo(evt);
  });
  plane.svg.addEventListener("pointermove", (evt) => { if (dragging) moveTo(evt); });
  const stop = () => { if (dragging) { dragging = false; update({ animate: true }); } };
  plane.svg.addEventListener("pointerup", stop);
  plane.svg.addEventListener("pointercancel", stop);

  function bindNumber(id, set) {
    const input = IB.byId(id);
    input.addEventListener("input", () => {
      const v = Number(input.value);
      if (input.value.trim() !== "" && Number.isFinite(v) && Math.abs(v) <= 100) { set(v); update(); }
    });
  }
  IB.byId("x1").value = state.x[0];
  IB.byId("x2").value = state.x[1];
  IB.byId("y").value = state.y;
  bindNumber("x1", (v) => { state.x = [v, state.x[1]]; });
  bindNumber("x2", (v) => { state.x = [state.x[0], v]; });
  bindNumber("y", (v) => { state.y = v; });
  IB.byId("lr").addEventListener("input", () => { state.lr = Number(IB.byId("lr").value); update(); });
  IB.byId("replay").addEventListener("click", () => update());

  IB.nav("/min-norm");
  update();
})();
