# One-command entry points. `make install` builds .venv from requirements.lock (exact versions,
# installed with --no-deps because allennlp 2.10.1 pins torch<1.13, which has no Python 3.11 build).
PY := .venv/bin/python
SHELL := /bin/bash
DATA ?= ../shared/data
TARGET ?= es

.PHONY: install test main benchmark-crf clean

install: .venv/.installed

.venv/.installed: requirements.lock setup.py
	python3 -m pip install -q uv || pip install -q uv
	uv venv .venv --python 3.11 --allow-existing
	uv pip install --python $(PY) --no-deps -r requirements.lock
	uv pip install --python $(PY) --no-deps -e .
	touch $@

test: install
	$(PY) -m pytest -q tests

main: install
	bash scripts/main.sh

clean:
	rm -rf .venv runs artifacts
