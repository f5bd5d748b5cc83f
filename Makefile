# gff2rdf: `make demo` runs the main job, `make test` runs the tests. Both install first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
SHARED ?= ../shared/data

.PHONY: install demo test lint data bench clean readme

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: install
	mkdir -p demo-output
	$(BIN)/gff2rdf convert tests/data/arabidopsis_TAIR10_40_small.gff3 \
		-o demo-output/arabidopsis_TAIR10_40.ttl \
		--species "Arabidopsis thaliana" --taxon 3702 --assembly TAIR10 --annotation Araport11
	@echo "--- one gene of demo-output/arabidopsis_TAIR10_40.ttl:"
	@awk -v RS= '/feature\/AT1G01010> a /' demo-output/arabidopsis_TAIR10_40.ttl

test: install
	$(BIN)/python -m pytest -q

lint: install
	$(BIN)/ruff check gff2rdf tests bench tools
	$(BIN)/mypy

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
