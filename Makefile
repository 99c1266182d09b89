# `make site` and `make test` set up .venv themselves on first use.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)

.PHONY: site test serve check deploy figures bench lint clean

site: $(STAMP)
	$(BIN)/blog build

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

serve: $(STAMP)
	$(BIN)/blog serve

check: $(STAMP)
	$(BIN)/blog check

deploy: $(STAMP)
	$(BIN)/blog deploy

figures: $(STAMP)
	$(BIN)/blog figures

bench: $(STAMP)
	$(BIN)/python bench/figures.py

lint: $(STAMP)
	$(BIN)/ruff check .

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[figures,test]'
	rm -f $(VENV)/.installed-*
	touch $@

clean:
	rm -rf _site .cache
