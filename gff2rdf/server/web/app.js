// The gff2rdf endpoint page: genome versions, a query editor, canned queries.
// Every value from the store is put into the page as text (textContent), never as HTML.
"use strict";

const ACCEPT = "application/sparql-results+json, text/turtle;q=0.9";

function el(tag, text, cls) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  if (cls) node.className = cls;
  return node;
}

function show(id, visible) {
  document.getElementById(id).hidden = !visible;
}

function termText(term) {
  if (!term) return "";
  if (term.type === "literal" && term["xml:lang"]) return `${term.value}@${term["xml:lang"]}`;
  if (term.type === "bnode") return `_:${term.value}`;
  if (term.type === "triple") {
    const t = term.value;
    return `<< ${termText(t.subject)} ${termText(t.predicate)} ${termText(t.object)} >>`;
  }
  return term.value;
}

function clearResults() {
  const table = document.getElementById("results");
  table.tHead.replaceChildren();
  table.tBodies[0].replaceChildren();
  show("error", false);
  show("graph", false);
}

function renderSelect(doc) {
  const table = document.getElementById("results");
  const vars = doc.head.vars || [];
  const head = el("tr");
  for (const v of vars) head.append(el("th", v));
  table.tHead.append(head);
  const body = table.tBodies[0];
  for (const binding of doc.results.bindings) {
    const row = el("tr");
    for (const v of vars) row.append(el("td", termText(binding[v])));
    body.append(row);
  }
  return doc.results.bindings.length;
}

// The last SELECT, asked for again as GFF3 by "Download as GFF3" (its first column's features)
let lastSelect = null;

async function downloadGff3() {
  if (!lastSelect) return;
  const status = document.getElementById("status");
  const headers = { ...(lastSelect.options.headers || {}), "Accept": "text/x-gff3" };
  status.textContent = "Writing GFF3…";
  try {
    const response = await fetch(lastSelect.url, { ...lastSelect.options, headers });
    const text = await response.text();
    if (!response.ok) throw new Error(`${response.status} ${response.statusText}: ${text}`);
    const link = el("a");
    link.href = URL.createObjectURL(new Blob([text], { type: "text/x-gff3" }));
    link.download = `${lastSelect.label}.gff3`;
    link.click();
    URL.revokeObjectURL(link.href);
    status.textContent = `GFF3 of the result's features: ${text.length} characters`;
  } catch (err) {
    const error = document.getElementById("error");
    error.textContent = `The GFF3 download failed: ${err.message}`;
    show("error", true);
  }
}

async function runRequest(url, options, label) {
  const status = document.getElementById("status");
  const button = document.getElementById("run");
  clearResults();
  lastSelect = null;
  show("gff3", false);
  button.disabled = true;
  status.textContent = `Running ${label}…`;
  const started = performance.now();
  try {
    const response = await fetch(url, options);
    const type = response.headers.get("Content-Type") || "";
    const text = await response.text();
    const ms = Math.round(performance.now() - started);
    if (!response.ok) {
      const error = document.getElementById("error");
      error.textContent = `${response.status} ${response.statusText}: ${text}`;
      show("error", true);
      status.textContent = `Failed after ${ms} ms`;
      return;
    }
    if (type.startsWith("application/sparql-results+json")) {
      const doc = JSON.parse(text);
      if (typeof doc.boolean === "boolean") {
        const table = document.getElementById("results");
        table.tHead.append(el("tr")).append(el("th", "ASK"));
        table.tBodies[0].append(el("tr")).append(el("td", String(doc.boolean)));
        status.textContent = `ASK: ${doc.boolean} in ${ms} ms`;
      } else {
        const n = renderSelect(doc);
        status.textContent = `${n} row${n === 1 ? "" : "s"} in ${ms} ms`;
        const first = (doc.head.vars || [])[0];
        if (doc.results.bindings.some((b) => b[first] && b[first].type === "uri")) {
          lastSelect = { url, options, label: label.replace(/[^A-Za-z0-9_-]+/g, "-") };
          show("gff3", true);
        }
      }
    } else {
      const graph = document.getElementById("graph");
      graph.textContent = text;
      show("graph", true);
      status.textContent = `${text.length} characters of ${type.split(";")[0]} in ${ms} ms`;
    }
  } catch (err) {
    const error = document.getElementById("error");
    error.textContent = `The request failed: ${err}`;
    show("error", true);
    status.textContent = "Failed";
  } finally {
    button.disabled = false;
  }
}

function runQuery() {
  const query = document.getElementById("query").value;
  return runRequest("/sparql", {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded", "Accept": ACCEPT },
    body: new URLSearchParams({ query }),
  }, "query");
}

async function loadGenomes() {
  const status = document.getElementById("genomes-status");
  try {
    const response = await fetch("/genomes", { headers: { "Accept": "application/json" } });
    if (!response.ok) throw new Error(`${response.status} ${await response.text()}`);
    const genomes = await response.json();
    if (!genomes.length) {
      status.textContent = "No genome versions in this store yet (gff2rdf load FILE --store DIR).";
      return;
    }
    const body = document.querySelector("#genomes tbody");
    for (const g of genomes) {
      const row = el("tr");
      const name = el("td");
      name.append(el("div", g.path), el("code", g.genome, "muted"));
      row.append(name, el("td", g.species), el("td", g.assembly), el("td", g.annotation),
        el("td", Number(g.triples).toLocaleString("en")), el("td", g.source || g.input_path),
        el("td", (g.source_sha256 || "").slice(0, 12)), el("td", g.created),
        el("td", `${g.code_version} / ${g.schema_version}`),
        el("td", g.current ? "current" : `stale: ${g.stale_reasons.join("; ")}`,
          g.current ? "" : "stale"));
      body.append(row);
    }
    status.textContent = `${genomes.length} genome version${genomes.length === 1 ? "" : "s"}`;
    show("genomes", true);
  } catch (err) {
    status.textContent = `Cannot list the genome versions: ${err.message}`;
  }
}

function cannedForm(query) {
  const box = el("div", null, "canned");
  box.append(el("h3", query.title || query.name));
  if (query.description) box.append(el("p", query.description, "muted"));
  const inputs = {};
  const form = el("form");
  for (const p of query.parameters) {
    const label = el("label", p.name);
    const input = el("input");
    input.name = p.name;
    input.value = p.default ?? p.example ?? "";
    input.placeholder = p.type;
    if (p.description) input.title = p.description;
    inputs[p.name] = input;
    label.append(input);
    form.append(label);
  }
  const run = el("button", "Run");
  run.type = "submit";
  form.append(run);
  const source = el("button", "Edit");
  source.type = "button";
  form.append(" ", source);
  // The same route runs the query and, with /sparql, shows the SPARQL it runs (bound, with the
  // store's current build and bin index), as `gff2rdf query --show-sparql` prints it.
  const route = () => {
    const params = new URLSearchParams();
    for (const [name, input] of Object.entries(inputs)) if (input.value !== "") params.set(name, input.value);
    return [`/queries/${encodeURIComponent(query.name)}`, params];
  };
  source.addEventListener("click", async () => {
    const [path, params] = route();
    clearResults();
    try {
      const response = await fetch(`${path}/sparql?${params}`);
      const text = await response.text();
      if (!response.ok) throw new Error(`${response.status} ${response.statusText}: ${text}`);
      document.getElementById("query").value = text;
    } catch (err) {
      const error = document.getElementById("error");
      error.textContent = `Cannot show the SPARQL of ${query.name}: ${err.message}`;
      show("error", true);
    }
  });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const [path, params] = route();
    runRequest(`${path}?${params}`, { headers: { "Accept": ACCEPT } }, query.name);
  });
  box.append(form);
  return box;
}

async function loadCanned() {
  const holder = document.getElementById("canned");
  try {
    const response = await fetch("/queries", { headers: { "Accept": "application/json" } });
    if (!response.ok) throw new Error(`${response.status}`);
    const queries = await response.json();
    holder.replaceChildren();
    if (!queries.length) {
      holder.append(el("p", "No canned queries are installed.", "muted"));
      return;
    }
    for (const q of queries) holder.append(cannedForm(q));
  } catch (err) {
    holder.replaceChildren(el("p", `Cannot list the canned queries: ${err.message}`, "error"));
  }
}

document.addEventListener("DOMContentLoaded", () => {
  document.getElementById("endpoint").textContent = new URL("/sparql", location.href).href;
  document.getElementById("run").addEventListener("click", runQuery);
  document.getElementById("gff3").addEventListener("click", downloadGff3);
  document.getElementById("query").addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) runQuery();
  });
  loadGenomes();
  loadCanned();
});
