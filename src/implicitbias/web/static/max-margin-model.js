// Max-margin explorer: GD, sign GD and Adam on the exponential loss of a linear classifier
// sign(w.x) in 2D, shared by the page (max-margin.js) and its worker (max-margin-worker.js).
// Plain JavaScript, no DOM.
"use strict";

const MM = (() => {
  const STEP = 0.01;            // sign GD, and Adam's constant step
  const FRAMES = 60;            // trail points, at steps spaced evenly in log t

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
  /** Three optimizers from w = 0 on points [[x1, x2, label], ...]. */
  function newRuns(points) {
    const z = points.map(([a, b, l]) => [l * a, l * b]);
    const lam = lambdaMax(z);
    return {
      z, t: 0, lr: lam > 0 ? 1 / lam : 0, failed: false,
      gd: { w: [0, 0], trail: [] }, sign: { w: [0, 0], trail: [] },
      adam: { w: [0, 0], m: [0, 0], v: [0, 0], trail: [] },
    };
  }
  /** Adam's step at iteration t (from 0): constant, or 0.1 (t + 2)^(-3/4). */
  function adamStep(kind, t) { return kind === "const" ? STEP : 0.1 * Math.pow(t + 2, -0.75); }
  /** Run the three optimizers up to step `until`; `opts` = { eps, adam }. */
  function advance(run, until, opts) {
    const { z, lr } = run, eps = opts.eps;
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
        if (den > 0) ad.w[i] -= adamStep(opts.adam, t) * mh / den;   // eps = 0 and a zero gradient: no step
      }
    }
    run.t = Math.max(run.t, until);
    if (![...gd, ...sg, ...ad.w].every(Number.isFinite)) run.failed = true;
  }
  /** The current directions, appended to the trails; returns them. */
  function record(run) {
    const out = {};
    for (const name of ["gd", "sign", "adam"]) {
      const d = unit(run[name].w);
      if (d) run[name].trail.push(d);
      out[name] = d;
    }
    return out;
  }
  /** The step the trail's `frame`-th point is taken at (of FRAMES, evenly in log t). */
  function frameStep(steps, frame, t) {
    const until = Math.min(steps, Math.round(Math.pow(steps, frame / FRAMES)));
    return Math.max(until, t + 1 > steps ? steps : t + 1);
  }
  function unit(w) { const r = Math.hypot(w[0], w[1]); return r > 0 && Number.isFinite(r) ? [w[0] / r, w[1] / r] : null; }
  function angle(a, b) {   // degrees, accurate near 0: 2 atan2(|a - b|, |a + b|)
    return 2 * Math.atan2(Math.hypot(a[0] - b[0], a[1] - b[1]), Math.hypot(a[0] + b[0], a[1] + b[1])) * 180 / Math.PI;
  }

  return { STEP, FRAMES, newRuns, advance, record, frameStep, unit, angle };
})();
