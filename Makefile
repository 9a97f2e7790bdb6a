# One-command entry points. `make install` builds .venv from requirements.lock (exact versions,
# installed with --no-deps because allennlp 2.10.1 pins torch<1.13, which has no Python 3.11 build).
PY := .venv/bin/python
SHELL := /bin/bash
DATA ?= ../shared/data
TARGET ?= es

.PHONY: install test main clean benchmark-crf benchmark-bli benchmark-ner benchmark-parser

install: .venv/.installed

.venv/.installed: requirements.lock setup.py
	python3 -m pip install -q uv || pip install -q uv
	uv venv .venv --python 3.11 --allow-existing
	uv pip install --python $(PY) --no-deps -r requirements.lock
	uv pip install --python $(PY) --no-deps -e .
	touch $@

test: install
	$(PY) -m pytest -q tests

ALLENNLP := .venv/bin/allennlp
ALIGNMENTS ?= artifacts/alignments
RUN ?= runs/cross_augmented-$(TARGET)
CONFIG ?= training_config/cross_augmented.jsonnet
DEV_es := $(DATA)/ner/es/conll2002/esp.testa
DEV_nl := $(DATA)/ner/nl/conll2002/ned.testa
DEV_de := $(DATA)/ner/de/conll2003/deu.testa
DEV_fr := $(DATA)/ner/fr/wikineural/val.tsv
ENC_de := latin-1
EXAMPLE_es := Mariano Rajoy visitó ayer la sede de Telefónica en Barcelona .
EXAMPLE_nl := Mark Rutte sprak gisteren in Amsterdam met de directie van Philips .
EXAMPLE_de := Angela Merkel besuchte gestern das Werk von Siemens in München .
EXAMPLE_fr := Emmanuel Macron a rencontré les dirigeants de Renault à Lyon .
export XLNER_DATA := $(DATA)
export XLNER_TARGET := $(TARGET)
export XLNER_ALIGNMENTS := $(ALIGNMENTS)

# The main job: align TARGET's vectors to English, train Cross-Augmented on English labels only,
# evaluate on the TARGET dev set, tag a raw TARGET sentence. `make main TARGET=nl RUN=runs/x`.
main: install $(ALIGNMENTS)/$(TARGET)-en/meta.json
	$(ALLENNLP) train $(CONFIG) -s $(RUN) --include-package xlner_allennlp
	$(ALLENNLP) xlner-evaluate $(RUN)/model.tar.gz --language $(TARGET) --data $(DEV_$(TARGET)) \
	  --encoding $(or $(ENC_$(TARGET)),utf-8) --output-file $(RUN)/target_dev_metrics.json \
	  --include-package xlner_allennlp
	echo '{"sentence": "$(EXAMPLE_$(TARGET))", "language": "$(TARGET)"}' > $(RUN)/example.jsonl
	$(ALLENNLP) predict $(RUN)/model.tar.gz $(RUN)/example.jsonl --predictor xlner_tagger \
	  --include-package xlner_allennlp --silent --output-file $(RUN)/example_prediction.jsonl
	cat $(RUN)/example_prediction.jsonl

# Alignment of a language's vectors into English space (Procrustes + CSLS refinement, MUSE train dictionary).
$(ALIGNMENTS)/%-en/meta.json: install
	$(ALLENNLP) xlner-align --source-vectors $(DATA)/emb/$*.npy --target-vectors $(DATA)/emb/en.npy \
	  --method procrustes-refine --dictionary $(DATA)/dict/muse/$*-en.0-5000.txt --output $(ALIGNMENTS)/$*-en

clean:
	rm -rf .venv runs artifacts

# Benchmarks (print a table, write JSON under benchmarks/results/).
benchmark-crf: install
	$(PY) benchmarks/crf_speed.py --data $(DATA)

benchmark-bli: install
	XLNER_DATA=$(DATA) $(PY) benchmarks/alignment_bli.py

benchmark-ner: install
	OMP_NUM_THREADS=1 $(PY) benchmarks/ner_zero_shot.py --data $(DATA) --configs source_mono cross_word cross_shared --epochs 10
	OMP_NUM_THREADS=1 $(PY) benchmarks/ner_zero_shot.py --data $(DATA) --configs cross_augmented

# Zero-shot parsing (English EWT -> es, fr, de, nl dev sets); needs the <lang>-en artifacts it evaluates.
benchmark-parser: install $(foreach l,es fr de nl,$(ALIGNMENTS)/$(l)-en/meta.json)
	OMP_NUM_THREADS=1 $(PY) benchmarks/parser_zero_shot.py --data $(DATA) --alignments $(ALIGNMENTS)
