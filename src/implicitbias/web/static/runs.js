// Runs: the run folders under the server's --runs folder, their claims, figures and reports.
"use strict";

(() => {
  const { make, byId } = IB;
  const fileUrl = (run, file) => `/runs/${encodeURIComponent(run)}/${encodeURIComponent(file)}`;

  function claimsCell(td, claims) {
    const parts = [["holds", "holds", "holds"], ["does not hold", "fails", "do not hold"], ["error", "errors", "errors"]];
    let any = false;
    for (const [key, cls, label] of parts) {
      if (!claims[key]) continue;
      if (any) td.appendChild(document.createTextNode(", "));
      make("span", { class: cls, text: `${claims[key]} ${label}` }, td);
      any = true;
    }
    if (!any) td.textContent = "—";
  }

  function showDetail(run) {
    const box = byId("detail");
    box.textContent = "";
    if (!run) return;
    make("h2", { text: run.name }, box);
    if (run.message) make("p", { class: "hint", text: run.message }, box);
    const links = make("p", {}, box);
    if (run.report) make("a", { href: fileUrl(run.name, run.report), target: "_blank", rel: "noopener", text: "report" }, links);
    for (const f of run.files.filter((f) => !f.endsWith(".png") && !f.endsWith(".svg"))) {
      links.appendChild(document.createTextNode(" · "));
      make("a", { href: fileUrl(run.name, f), target: "_blank", rel: "noopener", text: f }, links);
    }
    const gallery = make("div", { class: "gallery", id: "figures" }, box);
    for (const f of run.figures) {
      const fig = make("figure", {}, gallery);
      make("img", { src: fileUrl(run.name, f), alt: f, loading: "lazy" }, fig);
      make("figcaption", { text: f }, fig);
    }
    if (!run.figures.length) make("p", { class: "hint", text: "no figures in this folder" }, box);
  }

  function render(data, selected) {
    byId("root").textContent = data.root || "(none)";
    const body = byId("runs-body");
    body.textContent = "";
    if (!data.runs.length) {
      IB.setStatus("status", data.message || `no run folders yet: try implicitbias run min-norm --preset smoke --out ${data.root}`);
    } else {
      IB.setStatus("status", `${data.runs.length} run folder${data.runs.length > 1 ? "s" : ""}` + (data.truncated ? " (the newest shown)" : ""));
    }
    let chosen = null;
    for (const run of data.runs) {
      const tr = make("tr", { "data-run": run.name }, body);
      if (run.name === selected) { tr.className = "selected"; chosen = run; }
      const name = make("td", {}, tr);
      make("a", { href: "?run=" + encodeURIComponent(run.name), class: "run-link", text: run.name }, name);
      make("td", { text: run.experiment }, tr);
      make("td", { text: run.preset }, tr);
      make("td", { text: run.status, class: run.status === "ok" ? "holds" : "errors" }, tr);
      claimsCell(make("td", {}, tr), run.claims);
      const rep = make("td", {}, tr);
      if (run.report) make("a", { href: fileUrl(run.name, run.report), target: "_blank", rel: "noopener", text: "report" }, rep);
      make("td", { class: "num", text: new Date(run.started * 1000).toISOString().replace("T", " ").slice(0, 19) }, tr);
    }
    const reports = byId("reports");
    reports.textContent = "";
    if (data.reports.length) {
      make("h2", { text: "Reports beside the runs" }, reports);
      const ul = make("ul", {}, reports);
      for (const r of data.reports) make("a", { href: "/runs/" + encodeURIComponent(r), target: "_blank", rel: "noopener", text: r }, make("li", {}, ul));
    }
    showDetail(chosen);
  }

  async function load() {
    const selected = IB.query().get("run") || "";
    try {
      const response = await fetch("/api/runs");
      const data = await response.json();
      if (!response.ok) throw new Error(data.error || response.statusText);
      render(data, selected);
    } catch (err) {
      IB.setStatus("status", "could not list the runs: " + err.message, "bad");
    }
    document.body.dataset.state = "done";
  }

  IB.nav("/runs");
  load();
})();
