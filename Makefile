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

# make fuzz-deep [FUZZ_MINUTES=30] [FUZZ_STEPS=1000000] [FUZZ_SHARDS=2] [SCHEDULER=tcp://host:8786]:
# a campaign of the `deep` profile (`ape run fuzz`, difftest/campaign.py): FUZZ_SHARDS shards,
# one Anvil and Hypothesis seed each, on local processes or the Dask cluster at SCHEDULER; a
# live progress line, one summary, and the record in FUZZ_RECORD. FUZZ_MINUTES / FUZZ_STEPS stop
# it cleanly. Exits non-zero if any shard failed.
FUZZ_SHARDS ?= 2
FUZZ_RECORD ?= docs/fuzz-campaign.json
fuzz-deep: compile
	@$(APE) run fuzz --profile deep --shards $(FUZZ_SHARDS) --out $(FUZZ_RECORD) \
	  $(if $(FUZZ_MINUTES),--budget-minutes $(FUZZ_MINUTES)) $(if $(FUZZ_STEPS),--steps $(FUZZ_STEPS)) \
	  $(if $(SCHEDULER),--scheduler $(SCHEDULER))

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
