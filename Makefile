# `make site` and `make test` set up .venv (Python packages, Node.js) and MathJax (from npm,
# pinned by builder/node/package-lock.json) themselves on first use.
PYTHON  ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)
MATHJAX := builder/node/node_modules/.package-lock.json
SETUP   := $(STAMP) $(MATHJAX)

.PHONY: site test serve check deploy figures bench lint clean

site: $(SETUP)
	$(BIN)/blog build

test: $(SETUP)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

serve: $(SETUP)
	$(BIN)/blog serve

check: $(SETUP)
	$(BIN)/blog check

deploy: $(SETUP)
	$(BIN)/blog deploy

figures: $(SETUP)
	$(BIN)/blog figures

bench: $(SETUP)
	$(BIN)/python bench/figures.py

lint: $(SETUP)
	$(BIN)/ruff check .

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[figures,test]'
	rm -f $(VENV)/.installed-*
	touch $@

# npm ci: exactly the versions and integrity hashes of the lock file, into builder/node/node_modules.
$(MATHJAX): builder/node/package-lock.json | $(STAMP)
	$(BIN)/npm ci --prefix builder/node --ignore-scripts --no-audit --no-fund --loglevel=error
	touch $@

# The built site and the caches a build makes again; the trained figures stay (they take
# minutes): `blog clean --figures` removes them too.
clean:
	@if [ -x $(BIN)/blog ]; then $(BIN)/blog clean; else echo "make clean: .venv has no blog yet (run make site first); nothing removed"; fi
