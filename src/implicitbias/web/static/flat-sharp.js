// Flat vs sharp minima: noisy GD walkers on the flat-sharp experiment's 1D landscape.
"use strict";

(() => {
  // The landscape of implicitbias.problems.landscapes (same formula and constants):
  //   g(x) = x^2 - 3 + 4 / (1 + x^2),  w(x) = A + B tanh(x / ell),  L(x) = w(x) g(x),
  //   A = (k_sharp + k_flat) / 8,  B = (k_flat - k_sharp) / (8 tanh(1 / ell)),
  // minima x = -1 (curvature k_sharp) and x = +1 (curvature k_flat), both with L = 0.
  const K_SHARP = 20, K_FLAT = 2, ELL = 0.5;
  const A = (K_SHARP + K_FLAT) / 8, B = (K_FLAT - K_SHARP) / (8 * Math.tanh(1 / ELL));
  const INIT = [-2, 2];          // walkers start uniformly here
  const DIVERGED = 1e6;          // |x| beyond this: diverged
  const VIEW = { xmin: -2.6, xmax: 2.6 };
  const BIN = 0.05;

  function loss(x) {
    const w = A + B * Math.tanh(x / ELL);
    return w * (x * x - 3 + 4 / (1 + x * x));
  }
  function grad(x) {
    const t = Math.tanh(x / ELL), w = A + B * t, dw = B * (1 - t * t) / ELL;
    const x2 = 1 + x * x;
    return dw * (x * x - 3 + 4 / x2) + w * (2 * x - 8 * x / (x2 * x2));
  }
  /** The barrier: the root of L' in (-1, 1) (bisection; L' < 0 left of it, > 0 right). */
  function barrier() {
    let lo = -1 + 1e-9, hi = 1 - 1e-9;
    for (let i = 0; i < 200; i++) {
      const mid = (lo + hi) / 2;
      if (grad(mid) > 0) lo = mid; else hi = mid;   // L rises towards the barrier from -1
    }
    return (lo + hi) / 2;
  }
  const XB = barrier();

  /** Flat-basin mass of the Gibbs law exp(-L/T) (trapezoid on [-6, 6]). */
  function gibbsFlat(T) {
    if (!(T > 1e-4)) {   // the harmonic (small-T) limit: mass ~ 1 / sqrt(k)
      const s = 1 / Math.sqrt(K_SHARP), f = 1 / Math.sqrt(K_FLAT);
      return f / (s + f);
    }
    const n = 48000, lo = -6, hi = 6, h = (hi - lo) / n;
    let flat = 0, sharp = 0;
    for (let i = 0; i <= n; i++) {
      const x = lo + i * h, v = Math.exp(-loss(x) / T) * (i === 0 || i === n ? 0.5 : 1);
      if (x > XB) flat += v; else sharp += v;
    }
    return flat / (flat + sharp);
  }

  const q = IB.query();
  const state = {
    noise: IB.readNumber(q, "noise", 2.5, 0, 100),
    lr: IB.readNumber(q, "lr", 0.01, 1e-4, 1),
    walkers: Math.round(IB.readNumber(q, "walkers", 400, 200, 5000)),
    steps: Math.round(IB.readNumber(q, "steps", 5000, 10, 20000)),
    seed: Math.round(IB.readNumber(q, "seed", 1, 0, 1e6)),
  };

  const land = new IB.Plane(IB.byId("landscape"), { xmin: VIEW.xmin, xmax: VIEW.xmax, ymin: -0.6, ymax: 8 },
                            { width: 620, height: 300, pad: 28 });
  const hist = new IB.Plane(IB.byId("histogram"), { xmin: VIEW.xmin, xmax: VIEW.xmax, ymin: 0, ymax: 1 },
                            { width: 620, height: 220, pad: 28 });

  function drawLandscape(xs) {
    land.clear();
    land.axes({ xstep: 0.5, ystep: 2, xlabel: "x", ylabel: "L(x)" });
    const pts = [];
    for (let i = 0; i <= 400; i++) {
      const x = VIEW.xmin + (VIEW.xmax - VIEW.xmin) * i / 400;
      pts.push(`${land.sx(x).toFixed(2)},${land.sy(loss(x)).toFixed(2)}`);
    }
    IB.svg("line", { x1: land.sx(XB), x2: land.sx(XB), y1: land.sy(-0.6), y2: land.sy(8), stroke: "#9aa5b1", "stroke-dasharray": "4 4" }, land.layer);
    IB.svg("polyline", { points: pts.join(" "), fill: "none", stroke: "#333", "stroke-width": 2 }, land.layer);
    IB.svg("text", { x: land.sx(-1), y: land.sy(1.4), "text-anchor": "middle", class: "tick", text: "sharp (k = 20)" }, land.layer);
    IB.svg("text", { x: land.sx(1), y: land.sy(1.0), "text-anchor": "middle", class: "tick", text: "flat (k = 2)" }, land.layer);
    if (!xs) return;
    const g = IB.svg("g", { "fill-opacity": 0.35 }, land.layer);
    for (const x of xs) {
      if (!Number.isFinite(x) || x < VIEW.xmin || x > VIEW.xmax) continue;
      IB.svg("circle", { cx: land.sx(x).toFixed(1), cy: land.sy(loss(x)).toFixed(1), r: 3, fill: x > XB ? "#1d8a4a" : "#c8382c" }, g);
    }
  }

  function drawHistogram(xs) {
    const nb = Math.round((VIEW.xmax - VIEW.xmin) / BIN), counts = new Array(nb).fill(0);
    for (const x of xs) {
      const k = Math.floor((x - VIEW.xmin) / BIN);
      if (k >= 0 && k < nb) counts[k]++;
    }
    const top = Math.max(1, ...counts);
    hist.box.ymax = top * 1.1;
    hist.clear();
    const ystep = Math.max(1, Math.pow(10, Math.floor(Math.log10(top))) * (top / Math.pow(10, Math.floor(Math.log10(top))) > 4 ? 2 : 1) / 2);
    hist.axes({ xstep: 0.5, ystep: Math.ceil(ystep), xlabel: "end position x" });
    IB.svg("line", { x1: hist.sx(XB), x2: hist.sx(XB), y1: hist.sy(0), y2: hist.sy(hist.box.ymax), stroke: "#9aa5b1", "stroke-dasharray": "4 4" }, hist.layer);
    counts.forEach((c, k) => {
      if (!c) return;
      const x0 = VIEW.xmin + k * BIN, center = x0 + BIN / 2;
      IB.svg("rect", { x: hist.sx(x0) + 0.5, y: hist.sy(c), width: Math.max(1, hist.sx(x0 + BIN) - hist.sx(x0) - 1), height: hist.sy(0) - hist.sy(c), fill: center > XB ? "#1d8a4a" : "#c8382c" }, hist.layer);
    });
  }

  function showStatic() {
    const T = state.lr * state.noise * state.noise / 2;
    IB.setText("noise-value", state.noise.toFixed(1));
    IB.setText("lr-value", state.lr.toFixed(3));
    IB.setText("temperature", IB.fmt(T, 4));
    IB.setText("gibbs", IB.fmt(gibbsFlat(T), 4));
    IB.setText("barrier", IB.fmt(XB, 4));
    const limit = 2 / K_SHARP;
    IB.setText("stable", state.lr < limit ? `yes (η = ${state.lr} < 2/k = ${limit})` : `no (η = ${state.lr} ≥ 2/k = ${limit})`);
    IB.writeState(state);
  }

  let job = null, runCount = 0;
  function run() {
    if (job) cancelAnimationFrame(job);
    showStatic();
    const { noise, lr, walkers, steps, seed } = state;
    const uniform = IB.rng(seed), normal = IB.normal(uniform);
    const xs = new Float64Array(walkers);
    for (let i = 0; i < walkers; i++) xs[i] = INIT[0] + (INIT[1] - INIT[0]) * uniform();
    const alive = new Uint8Array(walkers).fill(1);
    let done = 0;
    const perFrame = Math.max(1, Math.ceil(steps / 30));
    document.body.dataset.state = "running";
    IB.setStatus("status", "running…");
    const frame = () => {
      const until = Math.min(steps, done + perFrame);
      for (; done < until; done++) {
        for (let i = 0; i < walkers; i++) {
          if (!alive[i]) continue;
          const x = xs[i] - lr * (grad(xs[i]) + noise * normal());
          if (!Number.isFinite(x) || Math.abs(x) > DIVERGED) { alive[i] = 0; xs[i] = NaN; } else xs[i] = x;
        }
      }
      drawLandscape(xs);
      if (done < steps) { job = requestAnimationFrame(frame); return; }
      job = null;
      finish(xs);
    };
    job = requestAnimationFrame(frame);
  }

  function finish(xs) {
    let flat = 0, sharp = 0, diverged = 0;
    for (const x of xs) {
      if (!Number.isFinite(x)) diverged++;
      else if (x > XB) flat++;
      else sharp++;
    }
    const n = xs.length;
    drawHistogram(Array.from(xs).filter(Number.isFinite));
    IB.setText("flat-fraction", IB.fmt(flat / n, 4));
    IB.setText("sharp-fraction", IB.fmt(sharp / n, 4));
    IB.setText("counts", `${flat} / ${sharp} / ${diverged} of ${n}`);
    IB.setStatus("status", `${n} walkers, ${state.steps} steps: ${(100 * flat / n).toFixed(1)} % end in the flat basin.`, "good");
    runCount++;
    document.body.dataset.run = String(runCount);
    document.body.dataset.state = "done";
  }

  // ------------------------------------------------------------ controls
  function bindRange(id, key) {
    const input = IB.byId(id);
    input.value = state[key];
    input.addEventListener("input", () => { state[key] = Number(input.value); showStatic(); });
  }
  function bindInt(id, key, lo, hi) {
    const input = IB.byId(id);
    input.value = state[key];
    input.addEventListener("change", () => {
      const v = Math.round(Number(input.value));
      if (Number.isFinite(v)) state[key] = Math.max(lo, Math.min(hi, v));
      input.value = state[key];
      showStatic();
    });
  }
  bindRange("noise", "noise");
  bindRange("lr", "lr");
  bindInt("walkers", "walkers", 200, 5000);
  bindInt("steps", "steps", 10, 20000);
  bindInt("seed", "seed", 0, 1000000);
  IB.byId("run").addEventListener("click", run);

  IB.nav("/flat-sharp");
  drawHistogram([]);
  run();
})();
