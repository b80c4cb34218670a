// Flat vs sharp minima: the walkers run here, off the page's thread, so the page stays
// responsive however many walkers and steps the settings ask for. The page posts the
// settings, gets progress (with the positions, for the picture) about every 100 ms and the
// end positions at the end; it cancels a run by terminating the worker.
"use strict";
importScripts("/static/common.js", "/static/flat-sharp-model.js");

self.onmessage = (event) => {
  const settings = event.data;
  const job = FS.walkers(settings, IB.rng, IB.normal);
  const chunk = Math.max(1, Math.floor(20000 / settings.walkers));   // ~2e4 walker-steps
  let last = performance.now();
  while (job.done < job.steps) {
    job.advance(job.done + chunk);
    const now = performance.now();
    if (now - last > 100 && job.done < job.steps) {
      last = now;
      self.postMessage({ kind: "progress", id: settings.id, done: job.done, xs: job.xs.slice() });
    }
  }
  self.postMessage({ kind: "done", id: settings.id, done: job.done, xs: job.xs });
};
