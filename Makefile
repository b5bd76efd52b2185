# ssoflow: the commands of the README. `make help` lists them.
GO       ?= go
BIN      := bin
COMMANDS := ingest worker scheduler ssoflow
FUZZTIME ?= 30s

.DEFAULT_GOAL := help

.PHONY: help
help: ## list the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-z-]+:.*## / {printf "  make %-12s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

.PHONY: run
run: ## run the whole product in one process (embedded Redis, mock flows) on 127.0.0.1:8080
	$(GO) run ./cmd/ssoflow dev

.PHONY: build
build: ## build the binaries into bin/
	$(GO) build -o $(BIN)/ $(addprefix ./cmd/,$(COMMANDS))

.PHONY: test
test: ## run all tests with the race detector (starts its own redis-server)
	$(GO) test -race -count=1 ./...

.PHONY: lint
lint: ## gofmt and go vet
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2

.PHONY: staticcheck
staticcheck: ## staticcheck (fetched and built by go run)
	$(GO) run $(STATICCHECK) ./...

.PHONY: fuzz
fuzz: ## run each fuzzer for FUZZTIME (default 30s)
	$(GO) test ./pkg/events -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(FUZZTIME)
	$(GO) test ./pkg/events -run '^$$' -fuzz '^FuzzParseHookDelivery$$' -fuzztime $(FUZZTIME)
	$(GO) test ./pkg/rules -run '^$$' -fuzz '^FuzzRulesYAML$$' -fuzztime $(FUZZTIME)
	$(GO) test ./pkg/flows -run '^$$' -fuzz '^FuzzRegistryYAML$$' -fuzztime $(FUZZTIME)

.PHONY: bench
bench: ## run the benchmarks (figures in BENCHMARKS.md)
	$(GO) test -run '^$$' -bench . -benchmem -count=1 ./...

.PHONY: clean
clean: ## remove built binaries
	rm -rf $(BIN)
