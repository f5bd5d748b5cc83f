"""Copy the W3C SPARQL 1.0 and 1.1 test queries (and the data they run on) into tests/data.

``tests/server/test_guard_bypass.py`` checks that the guard's canonical re-serialisation does not
change what a query means, on every syntax and evaluation test of the W3C suites that does not
use SERVICE or LOAD. This tool reads a git checkout of https://github.com/w3c/rdf-tests and
writes one file, ``tests/data/w3c_sparql.json``: the upstream commit, one record per test, and
the text of every query, update and data file the tests name (unchanged, keyed by their
upstream paths), one per line. The suite's licence goes beside it, as
``tests/data/w3c_sparql.LICENSE.md``.

Usage:
    python tools/vendor_w3c_sparql.py PATH/TO/rdf-tests [tests/data/w3c_sparql.json]

``PATH`` may be a work tree or a bare repository (its HEAD is read with ``git show``).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pyoxigraph as ox

MF = "http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#"
QT = "http://www.w3.org/2001/sw/DataAccess/tests/test-query#"
UT = "http://www.w3.org/2009/sparql/tests/test-update#"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
BASE = "https://w3c.github.io/rdf-tests/"
SYNTAX = {
    "PositiveSyntaxTest": ("query", True), "PositiveSyntaxTest11": ("query", True),
    "NegativeSyntaxTest": ("query", False), "NegativeSyntaxTest11": ("query", False),
    "PositiveUpdateSyntaxTest11": ("update", True),
    "NegativeUpdateSyntaxTest11": ("update", False),
}
# What the guard's equivalence test cannot run: network calls, and entailment regimes.
SKIPPED_DIRECTORIES = ("entailment", "service", "syntax-fed", "protocol", "http-rdf-update",
                       "graph-store-protocol", "service-description")


class Repository:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.commit = self._git("rev-parse", "HEAD").decode().strip()

    def _git(self, *args: str) -> bytes:
        return subprocess.run(["git", "-C", str(self.path), *args], check=True,
                              capture_output=True).stdout

    def files(self) -> list[str]:
        return self._git("ls-tree", "-r", "--name-only", "HEAD", "sparql/sparql10",
                         "sparql/sparql11").decode().split("\n")

    def read(self, name: str) -> bytes:
        return self._git("show", f"HEAD:{name}")


def _objects(store: ox.Store, subject: object, predicate: str) -> list[object]:
    return [q.object for q in store.quads_for_pattern(subject, ox.NamedNode(predicate), None)]


def _path(node: object) -> str:
    return str(getattr(node, "value", ""))[len(BASE):]


def _list(store: ox.Store, head: object) -> list[object]:
    items = []
    nil = "http://www.w3.org/1999/02/22-rdf-syntax-ns#nil"
    while getattr(head, "value", nil) != nil:
        items += _objects(store, head, "http://www.w3.org/1999/02/22-rdf-syntax-ns#first")
        rest = _objects(store, head, "http://www.w3.org/1999/02/22-rdf-syntax-ns#rest")
        if not rest:
            break
        head = rest[0]
    return items


def tests_of(repo: Repository, manifest: str) -> list[dict[str, object]]:
    store = ox.Store()
    store.load(repo.read(manifest), format=ox.RdfFormat.TURTLE, base_iri=BASE + manifest)
    found: list[dict[str, object]] = []
    for head in _objects(store, ox.NamedNode(BASE + manifest), MF + "entries"):
        for test in _list(store, head):
            kinds = [str(getattr(t, "value", "")).rsplit("#", 1)[-1]
                     for t in _objects(store, test, RDF_TYPE)]
            name = (manifest.rsplit("/", 1)[0].removeprefix("sparql/") + "#"
                    + str(getattr(test, "value", "")).rsplit("#", 1)[-1])
            actions = _objects(store, test, MF + "action")
            if not actions:
                continue
            action = actions[0]
            for kind in kinds:
                if kind in SYNTAX:
                    what, positive = SYNTAX[kind]
                    found.append({"name": name, "kind": "syntax", "what": what,
                                  "positive": positive, "file": _path(action)})
                elif kind == "QueryEvaluationTest":
                    query = _objects(store, action, QT + "query")
                    found.append({
                        "name": name, "kind": "eval", "what": "query",
                        "file": _path(query[0]) if query else "",
                        "data": sorted(_path(d) for d in _objects(store, action, QT + "data")),
                        "graphs": {_path(g): BASE + _path(g)
                                   for g in _objects(store, action, QT + "graphData")},
                    })
                elif kind == "UpdateEvaluationTest":
                    request = _objects(store, action, UT + "request")
                    graphs = {}
                    for g in _objects(store, action, UT + "graphData"):
                        files = _objects(store, g, UT + "graph")
                        labels = _objects(store, g, RDFS_LABEL)
                        if files and labels:
                            graphs[_path(files[0])] = str(getattr(labels[0], "value", ""))
                    found.append({
                        "name": name, "kind": "eval", "what": "update",
                        "file": _path(request[0]) if request else "",
                        "data": sorted(_path(d) for d in _objects(store, action, UT + "data")),
                        "graphs": graphs,
                    })
    return found


def main(source: str, target: str = "tests/data/w3c_sparql.json") -> int:
    repo = Repository(Path(source))
    tests: list[dict[str, object]] = []
    for name in repo.files():
        if name.endswith("/manifest.ttl") and not any(f"/{d}/" in name
                                                      for d in SKIPPED_DIRECTORIES):
            tests += tests_of(repo, name)
    kept = []
    files: dict[str, str] = {}
    for test in tests:
        text = repo.read(str(test["file"])).decode() if test["file"] else ""
        if not text or "service" in text.casefold() or "load" in text.casefold():
            continue
        kept.append(test)
        graphs = test.get("graphs", {})
        data = test.get("data", [])
        assert isinstance(graphs, dict) and isinstance(data, list)
        for name in [str(test["file"]), *data, *graphs]:
            files[name] = repo.read(name).decode()
    kept.sort(key=lambda t: str(t["name"]))
    lines = [f'{{"source": "https://github.com/w3c/rdf-tests", "commit": "{repo.commit}",',
             f' "base": "{BASE}",', ' "tests": [']
    lines += [f"  {json.dumps(t, ensure_ascii=False)}," for t in kept]
    lines[-1] = lines[-1].rstrip(",")
    lines += [" ],", ' "files": {']
    lines += [f"  {json.dumps(k)}: {json.dumps(v, ensure_ascii=False)},"
              for k, v in sorted(files.items())]
    lines[-1] = lines[-1].rstrip(",")
    lines += [" }", "}", ""]
    out = Path(target)
    out.write_text("\n".join(lines))
    out.with_suffix(".LICENSE.md").write_text(
        "# Licence of tests/data/w3c_sparql.json\n\n"
        f"Copied from https://github.com/w3c/rdf-tests at {repo.commit} by "
        "tools/vendor_w3c_sparql.py: the query, update and data files are unchanged, packed "
        "into one JSON file with an index of the tests that name them.\n\n"
        "## rdf-tests/LICENSE.md\n\n" + repo.read("LICENSE.md").decode()
        + "\n## rdf-tests/sparql/sparql10/LICENSE\n\n"
        + repo.read("sparql/sparql10/LICENSE").decode("utf-8", "replace"))
    print(f"{len(kept)} tests ({len(tests) - len(kept)} with SERVICE or LOAD left out), "
          f"{len(files)} files, from {repo.commit[:10]} into {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
