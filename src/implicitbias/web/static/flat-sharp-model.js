// Flat vs sharp minima: the landscape and the noisy-GD walkers, shared by the page
// (flat-sharp.js) and its worker (flat-sharp-worker.js). Plain JavaScript, no DOM.
"use strict";

const FS = (() => {
  // The landscape of implicitbias.problems.landscapes (same formula and constants):
  //   g(x) = x^2 - 3 + 4 / (1 + x^2),  w(x) = A + B tanh(x / ell),  L(x) = w(x) g(x),
  //   A = (k_sharp + k_flat) / 8,  B = (k_flat - k_sharp) / (8 tanh(1 / ell)),
  // minima x = -1 (curvature k_sharp) and x = +1 (curvature k_flat), both with L = 0.
  const K_SHARP = 20, K_FLAT = 2, ELL = 0.5;
  const A = (K_SHARP + K_FLAT) / 8, B = (K_FLAT - K_SHARP) / (8 * Math.tanh(1 / ELL));
  const INIT = [-2, 2];          // walkers start uniformly here
  const DIVERGED = 1e6;          // |x| beyond this: diverged

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

  /** Walkers x <- x - lr (L'(x) + noise xi), seeded: the same settings give the same numbers
   *  however the steps are split into chunks. `advance(until)` runs steps up to `until`. */
  function walkers({ noise, lr, walkers: n, steps, seed }, rng, normalFrom) {
    const uniform = rng(seed), normal = normalFrom(uniform);
    const xs = new Float64Array(n);
    for (let i = 0; i < n; i++) xs[i] = INIT[0] + (INIT[1] - INIT[0]) * uniform();
    const alive = new Uint8Array(n).fill(1);
    const job = { xs, done: 0, steps };
    job.advance = (until) => {
      until = Math.min(steps, until);
      for (; job.done < until; job.done++) {
        for (let i = 0; i < n; i++) {
          if (!alive[i]) continue;
          const x = xs[i] - lr * (grad(xs[i]) + noise * normal());
          if (!Number.isFinite(x) || Math.abs(x) > DIVERGED) { alive[i] = 0; xs[i] = NaN; } else xs[i] = x;
        }
      }
    };
    return job;
  }

  return { K_SHARP, K_FLAT, INIT, DIVERGED, loss, grad, XB, gibbsFlat, walkers };
})();
