# ccoin — run `make help` for the targets.
GO       ?= go
BIN      := bin/ccoin
PKGS     := ./...
# A count, not a duration: with a duration Go's fuzz coordinator can fail a
# clean run with "context deadline exceeded" when a busy worker misses the
# stop deadline (golang/go#75804, unfixed in Go 1.26); a count has no deadline.
FUZZTIME ?= 500000x
SEEDS    ?= 100

.DEFAULT_GOAL := help

help: ## list the targets
	@grep -E '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-16s %s\n", $$1, $$2}'

build: ## build the static binary into bin/ccoin
	CGO_ENABLED=0 $(GO) build -trimpath -o $(BIN) ./cmd/ccoin

DEVNET_DIR   ?= .devnet
DEVNET_FLAGS ?=

# The binary is built first and then exec'd, so Ctrl-C reaches it alone and
# its exit status (0 after a clean stop) is the target's: `go run` reports a
# child stopped by the terminal's SIGINT as a failure, and make printed
# "*** Error 1" after every clean Ctrl-C.
devnet: build ## run a local devnet (3 validators, 1 basic node) in .devnet; Ctrl-C stops it
	@exec $(BIN) devnet --dir $(DEVNET_DIR) $(DEVNET_FLAGS)

test: ## every test with the race detector, then 200 simulator seeds (the README's test command)
	$(GO) test -race -count=1 -timeout 20m $(PKGS)
	@$(MAKE) --no-print-directory test-sim

test-race: test ## alias of test

test-sync: ## the late-joiner test at full size (10,000 blocks; the race detector shrinks it in make test)
	CCOIN_TEST_SYNC_BLOCKS=10000 $(GO) test -count=1 -v -run '^TestClusterLateJoinerSync$$' ./node

lint: ## gofmt and go vet
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)

fuzz: ## run each fuzz target for FUZZTIME inputs (default 500000x)
	$(GO) test -run '^$$' -fuzz '^FuzzDecodeTx$$' -fuzztime $(FUZZTIME) ./ccoin/types
	$(GO) test -run '^$$' -fuzz '^FuzzDecodeBlock$$' -fuzztime $(FUZZTIME) ./ccoin/types
	$(GO) test -run '^$$' -fuzz '^FuzzReadFrame$$' -fuzztime $(FUZZTIME) ./ccoin/p2p/wire
	$(GO) test -run '^$$' -fuzz '^FuzzDecode$$' -fuzztime $(FUZZTIME) ./ccoin/p2p/wire

sim: ## deterministic fault simulator over SEEDS schedules; SEED=S replays one (KEEP=i,j its minimised faults, SIMFLAGS=... its shape)
	@if [ -n "$(SEED)" ]; then \
		$(GO) run ./cmd/ccoin-sim -seed $(SEED) $(if $(KEEP),-keep $(KEEP)) $(SIMFLAGS); \
	else \
		$(GO) run ./cmd/ccoin-sim -seeds $(SEEDS) $(SIMFLAGS); \
	fi

test-sim: ## the simulator's test sweep at CI size (200 seeds; every invariant must hold)
	CCOIN_SIM_SEEDS=200 $(GO) test -count=1 -v -run '^TestSweep$$' ./ccoin/sim

bench: ## run the Go benchmarks of the hot paths
	$(GO) test -run '^$$' -bench . -benchtime 3x ./ccoin/types ./ccoin/state/... ./ccoin/chain ./ccoin/txpool ./ccoin/p2p/wire ./ccoin/consensus

loadtest: build ## run the load generator against a running `make devnet`
	$(BIN) bench --dir .devnet --txs 50000 --rate max --duration 60s

localnet-start: build ## start the Docker testnet (registry, 3 validators, 1 basic node)
	scripts/localnet.sh start

localnet-stop: ## stop and remove the Docker testnet: containers, volumes (its chains) and network
	scripts/localnet.sh stop

localnet-reset: build ## remove the Docker testnet and start a fresh one
	scripts/localnet.sh reset

e2e: build ## run the fault-injection suite against the Docker testnet
	$(GO) test -tags e2e -count=1 -v -timeout 25m ./e2e/

ci: lint test test-sync fuzz ## what .ci/run runs (test includes test-sim)

.PHONY: help build devnet test test-race test-sync test-sim sim lint fuzz bench loadtest localnet-start localnet-stop localnet-reset e2e ci
