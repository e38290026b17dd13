# perp-backstop: every target installs what is missing first (./toolchain/install.sh),
# and skips what is already installed, so a second run starts in seconds.
VENV := .venv/bin
APE  := $(VENV)/ape
# CI and `make test` run the `ci` Hypothesis profile; `make fuzz-deep` the `deep` one.
HYPOTHESIS_PROFILE ?= ci
export HYPOTHESIS_PROFILE

.PHONY: setup compile test demo bench fuzz-deep replay lint lock clean

setup:
	@./toolchain/install.sh

compile: setup
	@./toolchain/compile.sh

test: compile
	$(VENV)/pytest tests -n 2 --dist loadgroup -q

demo: compile
	@$(APE) run demo

bench: compile
	@$(APE) run bench

# make fuzz-deep [FUZZ_MINUTES=30]: the `deep` profile on both cores (two shards, one Anvil each),
# a progress line per shard every 10 s, then one summary; with FUZZ_MINUTES it stops cleanly when
# the budget is spent. Exits non-zero if either shard failed.
fuzz-deep: compile
	@report=$$(mktemp -d); export HYPOTHESIS_PROFILE=deep FUZZ_REPORT_DIR=$$report FUZZ_MINUTES=$(FUZZ_MINUTES); \
	$(VENV)/pytest tests/fuzz -q -s -p no:cacheprovider -k shard_0 & first=$$!; \
	$(VENV)/pytest tests/fuzz -q -s -p no:cacheprovider -k shard_1 & second=$$!; \
	wait $$first; a=$$?; wait $$second; b=$$?; \
	$(VENV)/python -m difftest.fuzz_report $$report; rm -rf $$report; [ $$a -eq 0 ] && [ $$b -eq 0 ]

# make replay VECTOR=tests/vectors/adl_step.json [ARGS="--json out.json"]
replay: compile
	@$(APE) run replay $(VECTOR) $(ARGS)

lint: setup
	$(VENV)/ruff check . && $(VENV)/ruff format --check .

# Re-resolve Python dependencies after editing requirements.in.
lock: setup
	$(VENV)/uv pip compile -q --python-version 3.11 requirements.in -o requirements.lock

clean:
	rm -rf .venv node_modules .toolchain .build
