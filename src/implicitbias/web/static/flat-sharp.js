// Flat vs sharp minima: noisy GD walkers on the flat-sharp experiment's 1D landscape.
// The landscape and the walkers are in flat-sharp-model.js; a run goes to a Web Worker
// (flat-sharp-worker.js), so the page stays responsive, shows progress and can cancel.
"use strict";

(() => {
  const { loss, XB, K_SHARP } = FS;
  const VIEW = { xmin: -2.6, xmax: 2.6 };
  const BIN = 0.05;
  const MAX_DOTS = 1000;         // walkers drawn on the curve (the histogram counts all)
  // Allowed ranges (the rule of common.js: a value outside is not used, with a note).
  const RANGE = { noise: [0, 16], lr: [0.001, 0.2], walkers: [200, 5000], steps: [10, 20000], seed: [0, 1000000] };
  const LABEL = { noise: "noise σ", lr: "learning rate η", walkers: "walkers", steps: "steps", seed: "seed" };
  const SHORT = { noise: "σ", lr: "η", walkers: "walkers", steps: "steps", seed: "seed" };
  const DEFAULT = { noise: 2.5, lr: 0.01, walkers: 400, steps: 5000, seed: 1 };
  const KEYS = Object.keys(DEFAULT);

  const q = IB.query();
  const state = {};
  for (const key of KEYS) {
    const v = IB.readNumber(q, key, DEFAULT[key], RANGE[key][0], RANGE[key][1], LABEL[key]);
    state[key] = key === "noise" || key === "lr" ? v : Math.round(v);
  }

  const land = new IB.Plane(IB.byId("landscape"), { xmin: VIEW.xmin, xmax: VIEW.xmax, ymin: -1.2, ymax: 8 },
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
    IB.svg("line", { x1: land.sx(XB), x2: land.sx(XB), y1: land.sy(-1.2), y2: land.sy(8), stroke: "#9aa5b1", "stroke-dasharray": "4 4" }, land.layer);
    IB.svg("polyline", { id: "curve", points: pts.join(" "), fill: "none", stroke: "#333", "stroke-width": 2 }, land.layer);
    // L >= 0 everywhere: the labels sit under the minima, below L = 0, clear of the curve
    IB.svg("text", { id: "sharp-label", x: land.sx(-1), y: land.sy(-0.8), "text-anchor": "middle", class: "tick", text: "sharp (k = 20)" }, land.layer);
    IB.svg("text", { id: "flat-label", x: land.sx(1), y: land.sy(-0.8), "text-anchor": "middle", class: "tick", text: "flat (k = 2)" }, land.layer);
    if (!xs) return;
    const g = IB.svg("g", { "fill-opacity": 0.35 }, land.layer);
    const n = Math.min(xs.length, MAX_DOTS);
    for (let i = 0; i < n; i++) {
      const x = xs[i];
      if (!Number.isFinite(x) || x < VIEW.xmin || x > VIEW.xmax) continue;
      IB.svg("circle", { cx: land.sx(x).toFixed(1), cy: land.sy(loss(x)).toFixed(1), r: 3, fill: x > XB ? "#1d8a4a" : "#c8382c" }, g);
    }
    const hint = IB.byId("dots-hint");
    hint.hidden = xs.length <= MAX_DOTS;
    hint.textContent = `The curve shows the first ${MAX_DOTS} of the ${xs.length} walkers; the histogram and the fractions count all of them.`;
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
    IB.svg("text", { id: "hist-ylabel", x: hist.pad, y: hist.pad - 10, class: "axis-label", text: `walkers per bin (bins ${BIN} wide)` }, hist.under);
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
    IB.setText("gibbs", IB.fmt(FS.gibbsFlat(T), 4));
    IB.setText("barrier", IB.fmt(XB, 4));
    const limit = 2 / K_SHARP;
    IB.setText("stable", state.lr < limit ? `yes (η = ${state.lr} < 2/k = ${limit})` : `no (η = ${state.lr} ≥ 2/k = ${limit})`);
    IB.writeState(state);
    markStale();
  }

  // ------------------------------------------------------------ results and staleness
  let shown = null;        // the settings of the results on the page
  let runCount = 0;
  const settingsText = (s, keys = KEYS) => keys.map((k) => `${SHORT[k]} = ${s[k]}`).join(", ");

  /** Results computed with other settings than the current ones are marked stale. */
  function markStale() {
    const changed = shown ? KEYS.filter((k) => shown[k] !== state[k]) : [];
    const stale = changed.length > 0;
    document.body.dataset.stale = stale ? "1" : "0";
    for (const node of document.querySelectorAll("td.result, #histogram-box, #landscape-box svg g[fill-opacity]")) {
      node.classList.toggle("stale", stale);
    }
    IB.byId("histogram-box").classList.toggle("stale", stale);
    const note = IB.byId("stale-note");
    note.hidden = !stale;
    note.textContent = stale
      ? `Stale: the histogram and the fractions are for ${settingsText(shown, changed)}, ` +
        `not for the settings now (${settingsText(state, changed)}). Press Run SGD to update them.`
      : "";
  }

  // ------------------------------------------------------------ runs, in a worker
  let worker = null, current = null, progress = null, drawPending = false;
  function stopWorker() {
    if (worker) { worker.terminate(); worker = null; }
    current = null;
    progress = null;
  }
  function showProgress(done, steps) {
    IB.byId("progress-row").hidden = false;
    IB.byId("progress").value = steps ? done / steps : 0;
    IB.setText("progress-text", `step ${done} of ${steps}`);
    IB.setStatus("status", `running: ${current.walkers} walkers, step ${done} of ${steps} (${Math.floor(100 * done / steps)} %)…`);
  }
  function run() {
    stopWorker();
    showStatic();
    const settings = { ...state, id: ++runCount };
    current = settings;
    document.body.dataset.state = "running";
    showProgress(0, settings.steps);
    worker = new Worker("/static/flat-sharp-worker.js");
    worker.onmessage = (event) => {
      const msg = event.data;
      if (!current || msg.id !== current.id) return;
      if (msg.kind === "done") { const s = current; stopWorker(); finish(msg.xs, s); return; }
      progress = msg;
      if (drawPending) return;
      drawPending = true;
      requestAnimationFrame(() => {
        drawPending = false;
        if (!progress || !current) return;
        drawLandscape(progress.xs);
        showProgress(progress.done, current.steps);
      });
    };
    worker.onerror = (event) => {
      event.preventDefault();
      stopWorker();
      IB.byId("progress-row").hidden = true;
      IB.setStatus("status", "the run failed: " + (event.message || "worker error"), "bad");
      document.body.dataset.state = "failed";
    };
    worker.postMessage(settings);
  }
  function cancel() {
    if (!current) return;
    const at = progress ? progress.done : 0, of = current.steps;
    stopWorker();
    IB.byId("progress-row").hidden = true;
    IB.setStatus("status", `cancelled at step ${at} of ${of}` +
      (shown ? `; the results below are from the previous run (${settingsText(shown)}).` : "; no results yet."), "bad");
    document.body.dataset.state = "cancelled";
    if (shown) drawLandscape(shown.xs); else drawLandscape(null);
    markStale();
  }

  function finish(xs, settings) {
    let flat = 0, sharp = 0, diverged = 0;
    for (const x of xs) {
      if (!Number.isFinite(x)) diverged++;
      else if (x > XB) flat++;
      else sharp++;
    }
    const n = xs.length;
    shown = { ...settings, xs };
    drawLandscape(xs);
    drawHistogram(Array.from(xs).filter(Number.isFinite));
    IB.setText("flat-fraction", IB.fmt(flat / n, 4));
    IB.setText("sharp-fraction", IB.fmt(sharp / n, 4));
    IB.setText("counts", `${flat} / ${sharp} / ${diverged} of ${n}`);
    IB.byId("progress-row").hidden = true;
    IB.setStatus("status", `${n} walkers, ${settings.steps} steps: ${(100 * flat / n).toFixed(1)} % end in the flat basin.`, "good");
    markStale();
    document.body.dataset.run = String(settings.id);
    document.body.dataset.state = "done";
  }

  // ------------------------------------------------------------ controls
  function bindRange(id, key) {
    const input = IB.byId(id);
    input.value = state[key];
    input.addEventListener("input", () => { state[key] = Number(input.value); IB.note(key, null); showStatic(); });
  }
  bindRange("noise", "noise");
  bindRange("lr", "lr");
  for (const key of ["walkers", "steps", "seed"]) {
    const input = IB.byId(key);
    input.value = state[key];
    IB.bindNumberBox(input, { name: key, label: LABEL[key], lo: RANGE[key][0], hi: RANGE[key][1], integer: true,
      on: "change", get: () => state[key], set: (v) => { state[key] = v; showStatic(); } });
  }
  IB.byId("run").addEventListener("click", run);
  IB.byId("cancel").addEventListener("click", cancel);

  IB.nav("/flat-sharp");
  drawLandscape(null);
  drawHistogram([]);
  run();
})();
