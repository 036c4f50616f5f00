# Two commands on a fresh machine: `make bench` and `make test` (see README.md).
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: bench test report setup clean browser

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -c constraints.txt -e '.[dev,hf,dist]'
	touch $(STAMP)

setup: $(STAMP)

bench: $(STAMP)
	$(BIN)/xlbench run
	$(BIN)/xlbench report

report: $(STAMP)
	$(BIN)/xlbench report

test: $(STAMP)
	$(BIN)/python -m pytest -q

clean:
	rm -rf $(VENV) results/default
