# gff2rdf: `make demo` runs the main job, `make test` runs the tests. Both install first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
SHARED ?= ../shared/data

.PHONY: install demo test test-fast lint data bench clean readme browser-deps test-deps pipeline

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,pipeline]'
	touch $(STAMP)

demo: install
	mkdir -p demo-output
	$(BIN)/gff2rdf convert tests/data/arabidopsis_TAIR10_40_small.gff3 \
		-o demo-output/arabidopsis_TAIR10_40.ttl \
		--species "Arabidopsis thaliana" --taxon 3702 --assembly TAIR10 --annotation Araport11
	@echo "--- one gene of demo-output/arabidopsis_TAIR10_40.ttl:"
	@awk -v RS= '/feature\/gene:AT1G01010> a /' demo-output/arabidopsis_TAIR10_40.ttl
	@echo "--- loading two Arabidopsis genome versions into the embedded store demo-output/store:"
	$(BIN)/gff2rdf load tests/data/arabidopsis_TAIR10_40_small.gff3 --store demo-output/store \
		--species "Arabidopsis thaliana" --taxon 3702 --assembly TAIR10 --annotation Araport11
	$(BIN)/gff2rdf load tests/data/tair10_chr5_mikado.gff3 --store demo-output/store \
		--species "Arabidopsis thaliana" --taxon 3702 --assembly TAIR10 --annotation mikado
	$(BIN)/gff2rdf graphs --store demo-output/store
	$(BIN)/gff2rdf query type-counts --store demo-output/store \
		--param genome=arabidopsis_thaliana/TAIR10/Araport11
	$(BIN)/gff2rdf query gene --store demo-output/store --format tsv \
		--param genome=arabidopsis_thaliana/TAIR10/Araport11 --param id=AT1G01010

test: install
	$(BIN)/python -m pytest -q

# All but the tests marked slow, browser or pipeline (tests/conftest.py), on every core.
test-fast: install
	$(BIN)/python -m pytest -q -n auto -m "not slow and not browser and not pipeline"

# The dagster UI on 127.0.0.1 for the bundled example genomes (examples/catalogue.yaml); its
# store and dagster instance go to demo-output/. PORT=3001 make pipeline for another port.
PORT ?= 3000
pipeline: install
	$(BIN)/gff2rdf pipeline ui --catalogue examples/catalogue.yaml \
		--store demo-output/pipeline-store --host 127.0.0.1 --port $(PORT)

# For the page test (tests/server/test_server_page.py, headless Chromium; skipped with the reason
# without these): Debian's chromium and chromium-driver, and selenium in the venv.
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
browser-deps: install
	@if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; then \
		echo "chromium and chromedriver are installed"; \
	else \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium chromium-driver; \
	fi
	$(BIN)/python -m pip install --quiet 'selenium>=4.20'

# For the GenomeTools oracle (tests/gff3/test_conformance.py runs `gt gff3validator` on every file of
# ../shared/data and is skipped with the reason without it) and for rapper, an RDF parser
# independent of gff2rdf's: Debian's genometools and raptor2-utils. For the tests of Virtuoso as an
# external store (tests/virtuoso.py starts its own on free loopback ports): virtuoso-opensource.
test-deps:
	@if command -v gt >/dev/null && command -v rapper >/dev/null \
			&& command -v virtuoso-t >/dev/null && command -v isql-vt >/dev/null; then \
		echo "gt, rapper, virtuoso-t and isql-vt are installed"; \
	else \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq genometools raptor2-utils \
			virtuoso-opensource; \
	fi

lint: install
	$(BIN)/ruff check gff2rdf tests bench tools
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/python tools/readme_cli.py --check

# Rebuild the packaged SO table and Dbxref prefix map (needs ../shared/data).
data: install
	$(BIN)/python tools/build_so_table.py $(SHARED)/ontologies/so.obo gff2rdf/data/so_terms.tsv
	$(BIN)/python tools/build_prefix_map.py gff2rdf/data/dbxref_prefixes.tsv

bench: install
	$(BIN)/python bench/convert.py

clean:
	rm -rf $(VENV) demo-output build dist *.egg-info

readme: install
	$(BIN)/python tools/readme_cli.py

# Regenerate shapes/generated.ttl from the LinkML schema: gen-shacl, post-processed
# deterministically by tools/gen_shapes.py (tests/shacl/test_shacl.py fails when it is out of date).
.PHONY: shapes
shapes: install
	$(BIN)/python tools/gen_shapes.py
