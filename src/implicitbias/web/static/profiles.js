// Profiles: the saved implicit-bias profiles side by side (one row per optimizer of each
// profile, one column per probe), from GET /api/profiles. State: ?runs=a,b (the profiles
// shown; all of them when absent).
"use strict";

(() => {
  const { make, byId } = IB;
  const fileUrl = (run, file) =>
    `/runs/${encodeURIComponent(run)}/` + file.split("/").map(encodeURIComponent).join("/");
  const when = (t) => new Date(t * 1000).toISOString().replace("T", " ").slice(0, 16);

  /** Like the heatmap's numbers: 3 significant digits, 1 decimal of exponent when tiny or huge. */
  function num(x) {
    if (x === null || x === undefined || !Number.isFinite(x)) return "—";
    if (x !== 0 && (Math.abs(x) < 1e-2 || Math.abs(x) >= 1e4)) return x.toExponential(1);
    return String(Number(x.toPrecision(3)));
  }

  let data = null;

  /** The probe columns: the union over the shown profiles, each profile's order kept. */
  function probeColumns(profiles) {
    const order = [], titles = new Map(), labels = new Map();
    for (const prof of profiles) {
      let at = -1;
      for (const probe of prof.probes) {
        let i = order.indexOf(probe.name);
        if (i < 0) { order.splice(at + 1, 0, probe.name); i = at + 1; titles.set(probe.name, probe.title); }
        at = i;
        for (const cell of Object.values(probe.optimizers)) {
          const seen = labels.get(probe.name);
          labels.set(probe.name, seen === undefined || seen === cell.label ? cell.label : null);
        }
      }
    }
    return order.map((name) => ({ name, title: titles.get(name), label: labels.get(name) || "" }));
  }

  function fillCell(td, cell) {
    if (!cell) {
      td.className = "cell missing";
      td.textContent = "—";
      td.title = "not measured in this profile";
      return;
    }
    td.className = "cell" + (cell.fitted ? "" : " nofit");
    let text = num(cell.mean);
    if (cell.spread !== null) text += " ± " + num(cell.spread);
    make("span", { class: "val num", text }, td);
    if (cell.nearest) {
      const near = cell.nearest;
      make("span", { class: "near num" + (near.agree === near.n ? " all" : ""),
                     text: `${near.mode} ${near.agree}/${near.n}` }, td);
    }
    if (!cell.fitted) make("span", { class: "nofit-mark", text: "no fit" }, td);
    const lines = [cell.label, `mean ± spread over n = ${cell.n}`];
    if (cell.reference) lines.push("reference: " + cell.reference);
    lines.push("step: " + (cell.learning_rate === null ? "—" : cell.learning_rate));
    if (!cell.fitted) lines.push("no step of the grid fit in every seed: measured at the lowest mean loss");
    td.title = lines.join("\n");
  }

  function runHead(body, prof, span) {
    const tr = make("tr", { class: "run-head", "data-run": prof.name }, body);
    const th = make("th", { colspan: span, scope: "rowgroup" }, tr);
    const box = make("div", { class: "run-head-box" }, th);
    make("strong", { class: "num", text: prof.name }, box);
    const bits = [`level ${prof.level || "?"}`];
    if (prof.seeds !== null) bits.push(`${prof.seeds} seed${prof.seeds === 1 ? "" : "s"}`);
    bits.push(when(prof.modified) + " UTC");
    make("span", { class: "hint", text: " · " + bits.join(" · ") + " · " }, box);
    const links = [];
    for (const fig of prof.figures) links.push([fig, fig.replace(/\.png$/, "")]);
    links.push(["report.html", "report"], ["results.json", "results.json"]);
    links.forEach(([file, text], i) => {
      if (i) box.appendChild(document.createTextNode(" · "));
      make("a", { href: fileUrl(prof.name, file), target: "_blank", rel: "noopener",
                  class: "run-file", "data-file": file, text }, box);
    });
  }

  function renderTable(shown) {
    const head = byId("profiles-head"), body = byId("profiles-body");
    head.textContent = "";
    body.textContent = "";
    byId("table-box").hidden = !shown.length;
    if (!shown.length) return;
    const columns = probeColumns(shown);
    const hr = make("tr", {}, head);
    make("th", { class: "opt", scope: "col", text: "optimizer" }, hr);
    for (const col of columns) {
      const th = make("th", { scope: "col", "data-probe": col.name }, hr);
      make("span", { class: "probe-title", text: col.title }, th);
      if (col.label) make("span", { class: "probe-label", text: col.label }, th);
    }
    for (const prof of shown) {
      runHead(body, prof, columns.length + 1);
      const byName = new Map(prof.probes.map((p) => [p.name, p]));
      for (const opt of prof.optimizers) {
        const tr = make("tr", { class: "opt-row", "data-run": prof.name, "data-key": opt.key }, body);
        const th = make("th", { class: "opt", scope: "row" }, tr);
        make("span", { class: "opt-label", text: opt.label }, th);
        if (opt.card) {
          th.appendChild(document.createTextNode(" "));
          make("a", { class: "card-link", href: fileUrl(prof.name, opt.card), target: "_blank",
                      rel: "noopener", text: "card" }, th);
        }
        for (const col of columns) {
          const probe = byName.get(col.name);
          fillCell(make("td", { "data-probe": col.name }, tr), probe ? probe.optimizers[opt.key] : null);
        }
      }
    }
  }

  function selected() {
    return [...document.querySelectorAll("#choices input:checked")].map((c) => c.value);
  }

  function update({ write = true } = {}) {
    const names = new Set(selected());
    const shown = data.profiles.filter((p) => names.has(p.name));
    renderTable(shown);
    const rows = shown.reduce((n, p) => n + p.optimizers.length, 0);
    const total = data.profiles.length;
    if (!shown.length) {
      IB.setStatus("status", `no profile selected: tick one or more of the ${total} below`);
    } else {
      IB.setStatus("status", `${shown.length} of ${total} profile${total > 1 ? "s" : ""}` +
        ` shown, ${rows} optimizer row${rows > 1 ? "s" : ""}` + (data.truncated ? " (the newest profiles listed)" : ""));
    }
    if (write) IB.writeState({ runs: [...names] });
  }

  function renderChooser(wanted) {
    const box = byId("choices");
    box.textContent = "";
    for (const prof of data.profiles) {
      const label = make("label", { class: "choice" }, box);
      const input = make("input", { type: "checkbox", value: prof.name }, label);
      input.checked = wanted === null || wanted.includes(prof.name);
      input.addEventListener("change", () => update());
      const opts = prof.optimizers.map((o) => o.label).join(", ");
      const text = make("span", { class: "choice-text" }, label);
      make("span", { class: "num", text: prof.name }, text);
      make("span", { class: "hint", text: ` ${prof.level} · ${opts}` }, text);
    }
    byId("chooser").hidden = false;
  }

  function render() {
    const root = data.root || "runs";
    byId("root").textContent = data.root || "(none)";
    const skipped = byId("skipped");
    skipped.hidden = !data.skipped.length;
    skipped.textContent = data.skipped.length
      ? "Left out (incomplete or corrupt results.json): " +
        data.skipped.map((s) => `${s.name} (${s.reason})`).join("; ")
      : "";
    if (!data.profiles.length) {
      byId("empty-command").textContent = `implicitbias profile gd adam --out ${root}`;
      byId("empty").hidden = false;
      IB.setStatus("status", data.message ? data.message + "; no saved profiles"
        : `no saved profiles under ${root} yet: make one with implicitbias profile gd adam --out ${root}`);
      return;
    }
    const q = IB.query();
    let wanted = null;
    if (q.has("runs")) {
      const asked = q.get("runs").split(",").filter((s) => s);
      const known = new Set(data.profiles.map((p) => p.name));
      wanted = asked.filter((s) => known.has(s));
      renderChooser(wanted);
      update({ write: wanted.length !== asked.length });
      const missing = asked.filter((s) => !known.has(s));
      if (missing.length) {
        const node = byId("status");
        node.textContent += ` · not found and left out: ${missing.join(", ")}`;
      }
    } else {
      renderChooser(null);
      update({ write: false });
    }
  }

  function setAll(on) {
    for (const c of document.querySelectorAll("#choices input")) c.checked = on;
    update();
  }

  async function load() {
    try {
      const response = await fetch("/api/profiles");
      const body = await response.json();
      if (!response.ok) throw new Error(body.error || response.statusText);
      data = body;
      render();
    } catch (err) {
      IB.setStatus("status", "could not list the profiles: " + err.message, "bad");
    }
    document.body.dataset.state = "done";
  }

  byId("select-all").addEventListener("click", () => setAll(true));
  byId("select-none").addEventListener("click", () => setAll(false));
  IB.nav("/profiles");
  load();
})();
