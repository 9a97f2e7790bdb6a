# One-command entry points. `make install` builds .venv from requirements.lock (exact versions,
# installed with --no-deps because allennlp 2.10.1 pins torch<1.13, which has no Python 3.11 build).
PY := .venv/bin/python
SHELL := /bin/bash
TARGET ?= es
# The data root: DATA=... if given, else $$XLNER_DATA, else the data layout's default
# (xlner_allennlp/data_layout.json, which also names every file under it).
LAYOUT = $(PY) -m xlner_allennlp.data_layout $(if $(DATA),--data $(DATA))
layout = $(or $(shell $(LAYOUT) $(1)),$(error data layout: no "$(1)"))
DATA_ARG = --data $(call layout,root)

.PHONY: install test test-quick main elmo main-elmo clean benchmark-crf benchmark-bli benchmark-vecmap benchmark-optima benchmark-ner benchmark-parser benchmark-failure benchmark-scale benchmark-loading results

install: .venv/.installed

.venv/.installed: requirements.lock setup.py xlner_allennlp/alignment/_textparse.c
	python3 -m pip install -q uv || pip install -q uv
	uv venv .venv --python 3.11 --allow-existing
	uv pip install --python $(PY) --no-deps -r requirements.lock
	uv pip install --python $(PY) --no-deps -e .
	touch $@

test: install
	$(PY) -m pytest -q tests

# The suite without the tests marked slow (those that train models).
test-quick: install
	$(PY) -m pytest -q -m "not slow" tests

ALLENNLP := .venv/bin/allennlp
ALIGNMENTS ?= artifacts/alignments
# How each language is aligned to English (the NER benchmark's --alignment-method names):
# multistep (default) and procrustes-refine fit on the MUSE training dictionary; self-learning uses
# no bilingual dictionary at all (Bari et al.'s zero-resource setting); self-learning+identical
# starts it from the identical-strings seed (no dictionary, only the spellings both share).
ALIGNMENT ?= multistep
ALIGN_ARGS_multistep = --method multistep --dictionary $(call layout,dictionary $* en train)
ALIGN_ARGS_procrustes-refine = --method procrustes-refine --dictionary $(call layout,dictionary $* en train)
ALIGN_ARGS_self-learning = --method self-learning
ALIGN_ARGS_self-learning+identical = --method self-learning --seed identical
ALIGNMENT_SETTINGS := multistep procrustes-refine self-learning self-learning+identical
ifeq ($(filter $(ALIGNMENT),$(ALIGNMENT_SETTINGS)),)
$(error ALIGNMENT=$(ALIGNMENT) is not one of $(ALIGNMENT_SETTINGS))
endif
ALIGNED := $(ALIGNMENTS)/$(ALIGNMENT)
RUN ?= runs/cross_augmented-$(TARGET)-$(ALIGNMENT)
CONFIG ?= training_config/cross_augmented.jsonnet
EXAMPLE_es := Mariano Rajoy visitó ayer la sede de Telefónica en Barcelona .
EXAMPLE_nl := Mark Rutte sprak gisteren in Amsterdam met de directie van Philips .
EXAMPLE_de := Angela Merkel besuchte gestern das Werk von Siemens in München .
EXAMPLE_fr := Emmanuel Macron a rencontré les dirigeants de Renault à Lyon .
export XLNER_TARGET := $(TARGET)
export XLNER_ALIGNMENTS := $(ALIGNED)

# The main job: align TARGET's vectors to English, train Cross-Augmented on English labels only,
# evaluate on the TARGET dev set, tag a raw TARGET sentence. `make main TARGET=nl RUN=runs/x`;
# OVERRIDES='{"trainer.num_epochs": 1}' passes config overrides (-o) to the training.
# Running it again reuses the alignment, resumes an unfinished RUN (--recover, with the same
# TARGET, DATA and OVERRIDES) and skips the training of a finished one (delete RUN to retrain).
main: $(RUN)/metrics.json
	@echo "model: $(RUN)/model.tar.gz (a finished run is reused: delete $(RUN) or pick another RUN= to retrain)"
	$(ALLENNLP) xlner-evaluate $(RUN)/model.tar.gz --language $(TARGET) --data $(call layout,dev $(TARGET)) \
	  --encoding $(call layout,encoding $(TARGET)) --output-file $(RUN)/target_dev_metrics.json \
	  --include-package xlner_allennlp
	echo '{"sentence": "$(EXAMPLE_$(TARGET))", "language": "$(TARGET)"}' > $(RUN)/example.jsonl
	$(ALLENNLP) predict $(RUN)/model.tar.gz $(RUN)/example.jsonl --predictor xlner_tagger \
	  --include-package xlner_allennlp --silent --output-file $(RUN)/example_prediction.jsonl
	cat $(RUN)/example_prediction.jsonl

# A run is finished when allennlp has written its final metrics.json (an interrupted run has
# checkpoints, and may have an archive of its best epoch so far, but no metrics.json). Order-only
# prerequisites: an existing installation or alignment is reused, never redone for a timestamp.
# The static alignment the run needs (none for main-elmo, whose ELMo alignments are made first).
ALIGNED_PREREQUISITE ?= $(ALIGNED)/$(TARGET)-en/meta.json
$(RUN)/metrics.json: | .venv/.installed $(ALIGNED_PREREQUISITE)
	@if [ -d $(RUN) ]; then echo "$(RUN) is an unfinished run: resuming it (--recover)"; fi
	XLNER_DATA=$(call layout,root) $(ALLENNLP) train $(CONFIG) -s $(RUN) $$([ -d $(RUN) ] && echo --recover) \
	  $(if $(OVERRIDES),-o '$(OVERRIDES)') --include-package xlner_allennlp

# Alignment of a language's vectors into English space with the ALIGNMENT setting (the default,
# methods.DEFAULT_SUPERVISED_METHOD: the multi-step framework, refinement chosen on held-out pairs,
# MUSE train dictionary). A fit that fails its own checks is written with status "failed", and the
# training then stops before it starts, saying so.
# One rule per setting, so that a target may need another setting's artifacts (benchmark-parser).
define alignment_rule
$(ALIGNMENTS)/$(1)/%-en/meta.json: | .venv/.installed
	$$(ALLENNLP) xlner-align --mapped-vectors $$(call layout,vectors $$*) --reference-vectors $$(call layout,vectors en) \
	  $$(ALIGN_ARGS_$(1)) --output $(ALIGNMENTS)/$(1)/$$*-en
endef
$(foreach setting,$(ALIGNMENT_SETTINGS),$(eval $(call alignment_rule,$(setting))))

# Contextual alignment (Schuster et al. 2019). `make elmo LANGUAGE=es` trains the language's BiLM
# (training_config/bilm.jsonnet, resumed with --recover when interrupted), exports it in ELMo format
# (artifacts/elmo/es) and computes its per-layer anchors over the same text (artifacts/anchors/es).
# `make main-elmo TARGET=es` does that for English and TARGET, aligns each layer's TARGET anchors to
# the English ones (procrustes-refine on the MUSE training dictionary, no renormalization: the anchors
# are already divided by their layer's mean token norm), trains training_config/cross_elmo.jsonnet on
# English labels only and evaluates and tags TARGET like `make main`.
LANGUAGE ?= $(TARGET)
ELMO_LAYERS := 0 1 2
ELMO_ALIGNED := artifacts/elmo_alignments
ELMO_RUN ?= runs/cross_elmo-$(TARGET)

elmo: artifacts/anchors/$(LANGUAGE)/geometry.json

# An unfinished run resumes from the config it started with (runs/bilm-<l>/config.json), so that a
# later edit of bilm.jsonnet does not stop --recover (allennlp requires the same config).
runs/bilm-%/metrics.json: | .venv/.installed
	@if [ -f runs/bilm-$*/config.json ]; then echo "runs/bilm-$* is an unfinished run: resuming it with its own config.json (--recover)"; fi
	XLNER_DATA=$(call layout,root) XLNER_LANGUAGE=$* $(ALLENNLP) train \
	  $$([ -f runs/bilm-$*/config.json ] && echo runs/bilm-$*/config.json --recover || echo training_config/bilm.jsonnet \
	  $(if $(BILM_OVERRIDES),-o '$(BILM_OVERRIDES)')) -s runs/bilm-$* --include-package xlner_allennlp

artifacts/elmo/%/weights.hdf5: | runs/bilm-%/metrics.json
	$(ALLENNLP) xlner-export-elmo runs/bilm-$*/model.tar.gz --output artifacts/elmo/$* --include-package xlner_allennlp

# geometry.json is the last file xlner-anchors writes.
artifacts/anchors/%/geometry.json: | artifacts/elmo/%/weights.hdf5
	$(ALLENNLP) xlner-anchors --elmo artifacts/elmo/$* --text $(call layout,lm_train $*) --output artifacts/anchors/$* \
	  --include-package xlner_allennlp

# One artifact per layer, <lang>-en/layer<l>; layers already aligned are kept.
$(ELMO_ALIGNED)/%-en/layer$(lastword $(ELMO_LAYERS))/meta.json: | artifacts/anchors/%/geometry.json artifacts/anchors/en/geometry.json
	for l in $(ELMO_LAYERS); do [ -f $(ELMO_ALIGNED)/$*-en/layer$$l/meta.json ] || \
	  $(ALLENNLP) xlner-align --mapped-vectors artifacts/anchors/$*/layer$$l.npy --reference-vectors artifacts/anchors/en/layer$$l.npy \
	    --mapped-language $* --reference-language en --normalization none --method procrustes-refine \
	    --dictionary $(call layout,dictionary $* en train) --output $(ELMO_ALIGNED)/$*-en/layer$$l || exit 1; done

# Files made along a chain of pattern rules (BiLM run, export, anchors) are kept, not deleted as intermediates.
.SECONDARY:

main-elmo: | $(ELMO_ALIGNED)/$(TARGET)-en/layer$(lastword $(ELMO_LAYERS))/meta.json
	$(MAKE) main RUN=$(ELMO_RUN) CONFIG=training_config/cross_elmo.jsonnet ALIGNED_PREREQUISITE=

clean:
	rm -rf .venv runs artifacts

# Benchmarks: each appends records to benchmarks/results/<name>.jsonl; `make results` renders the
# tables of docs/RESULTS.md and the README's headline from them. docs/RESULTS.md prints these commands.
benchmark-crf: install
	OMP_NUM_THREADS=1 $(PY) benchmarks/crf_speed.py $(DATA_ARG)

benchmark-bli: install
	OMP_NUM_THREADS=1 $(PY) benchmarks/alignment_bli.py $(DATA_ARG)

benchmark-vecmap: install
	OMP_NUM_THREADS=1 $(PY) benchmarks/vecmap_comparison.py $(DATA_ARG)

benchmark-optima: install
	OMP_NUM_THREADS=1 $(PY) benchmarks/self_learning_optima.py $(DATA_ARG) --pair en-es --seeds 0 1 2

benchmark-ner: install
	OMP_NUM_THREADS=1 $(PY) benchmarks/ner_zero_shot.py $(DATA_ARG) --configs source_mono cross_word cross_shared --seeds 13 42 7 --epochs 10
	OMP_NUM_THREADS=1 $(PY) benchmarks/ner_zero_shot.py $(DATA_ARG) --configs cross_augmented --languages es nl de fr --seeds 13 42 7

# Zero-shot parsing (English EWT -> es, fr, de, nl dev sets); needs the <lang>-en artifacts it evaluates.
# One parser serves every language, so its artifacts must place English alike: PARSER_ALIGNMENT is a
# setting that only normalizes English (procrustes-refine, self-learning), never multistep.
PARSER_ALIGNMENT ?= procrustes-refine
PARSER_ALIGNED := $(ALIGNMENTS)/$(PARSER_ALIGNMENT)
benchmark-parser: install | $(foreach l,es fr de nl,$(PARSER_ALIGNED)/$(l)-en/meta.json)
	OMP_NUM_THREADS=1 $(PY) benchmarks/parser_zero_shot.py $(DATA_ARG) --alignments $(PARSER_ALIGNED)

# The unsupervised failure checks on the supervised artifacts and on synthetic mappings that work or
# fail (the adversarial fit on the synthetic pair takes about 10 minutes of one core).
benchmark-failure: install | $(foreach l,es fr de nl,$(ALIGNMENTS)/procrustes-refine/$(l)-en/meta.json)
	OMP_NUM_THREADS=1 $(PY) benchmarks/failure_check.py $(DATA_ARG) --alignments $(ALIGNMENTS)/procrustes-refine --adversarial

# Loading a synthetic 2M x 300 fastText-format text file (~4.5 GB in /tmp, deleted afterwards):
# block parser, cache write, cache hit and the per-line parser, each in a fresh process.
benchmark-loading: install
	OMP_NUM_THREADS=1 $(PY) benchmarks/vector_loading.py

results: install
	$(PY) benchmarks/render_results.py

# CSLS k-NN against the sgemm limit, and xlner-align / xlner-bli wall time and peak memory with a
# 2M-row mapped side, on synthetic .npy vectors written under /tmp (about 3 GB of disk, 6 GB of RAM).
benchmark-scale: install
	OMP_NUM_THREADS=1 $(PY) benchmarks/alignment_scale.py
