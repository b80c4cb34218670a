// Max-margin explorer: the three optimizers run here, off the page's thread, so the page
// stays responsive for any number of points and steps. The page posts the points and the
// settings; the worker answers a "frame" (the directions) at each of the trail's steps, a
// "progress" (the step reached) about every 100 ms in between, and "done" at the end. The
// page stops a run by terminating the worker.
"use strict";
importScripts("/static/max-margin-model.js");

self.onmessage = (event) => {
  const { id, points, steps, eps, adam } = event.data;
  const run = MM.newRuns(points);
  const opts = { eps, adam };
  const chunk = Math.max(1, Math.floor(20000 / Math.max(1, points.length)));
  let last = performance.now(), frame = 0;
  while (run.t < steps && !run.failed) {
    frame++;
    const until = MM.frameStep(steps, frame, run.t);
    while (run.t < until) {
      MM.advance(run, Math.min(until, run.t + chunk), opts);
      const now = performance.now();
      if (now - last > 100 && run.t < until) {
        last = now;
        self.postMessage({ kind: "progress", id, t: run.t });
      }
    }
    const dirs = MM.record(run);
    self.postMessage({ kind: "frame", id, t: run.t, dirs, failed: run.failed });
  }
  self.postMessage({ kind: "done", id, t: run.t, failed: run.failed });
};
