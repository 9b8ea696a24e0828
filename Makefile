# muster — see README.md. `make run` starts the server on the embedded
# SQLite default; `make test` installs what the tests need and runs them all.

SHELL    := /bin/bash
GO       ?= go
BIN      := bin/muster
DATA_DIR ?= .muster
LISTEN   ?= 127.0.0.1:8080
FUZZTIME ?= 5s
VERSION  ?= 0.1.0

.PHONY: all build msi run test test-deps vet fuzz race bench clean

all: build

build:
	$(GO) build -o $(BIN) ./cmd/muster

# The Windows agent's MSI (wixl); signed when MSI_SIGN_CERT and MSI_SIGN_KEY are set.
msi:
	./scripts/build-msi.sh bin/muster-agent.msi $(VERSION)

run: build
	./$(BIN) server --data-dir $(DATA_DIR) --listen $(LISTEN)

test-deps:
	./scripts/install-test-deps.sh

vet:
	@test -z "$$(gofmt -l .)" || { echo "gofmt needed:"; gofmt -l .; exit 1; }
	$(GO) vet ./...
	GOOS=windows $(GO) build ./...

# The test bed's self-test runs verbose so its set-up figures (hosts/s) show.
test: test-deps vet
	$(GO) test -count=1 -timeout 25m $$($(GO) list ./... | grep -v /internal/testbed$$)
	$(GO) test -count=1 -timeout 10m -v ./internal/testbed/ | grep -E '^(---|ok|FAIL|PASS)|hosts/s|loss|rtt|Error|error|panic'; exit $${PIPESTATUS[0]}
	$(MAKE) fuzz FUZZTIME=$(FUZZTIME)

# The unit tests under the race detector (the e2e suite runs the built
# binary, so it has nothing to add there).
race:
	$(GO) test -race -count=1 $$($(GO) list ./... | grep -v -e /internal/e2e$$ -e /internal/testbed$$)

# Each fuzz target runs for FUZZTIME (go test allows one target per run). A
# failure that is only Go's fuzz-deadline race (no failing input written,
# no test error: go.dev/issue/75804, before Go 1.27) runs once more; a
# second failure, or any real one, fails.
fuzz:
	@set -e; for target in \
	  ./inventories/ocsxml:FuzzDecodeBody \
	  ./inventories/ocsxml:FuzzParse \
	  ./inventories/ocsxml:FuzzParseFast \
	  ./inventories:FuzzParseDocument \
	  ./internal/config:FuzzParseINI \
	  ./discover:FuzzDecodeARP \
	  ./discover:FuzzReadIEEECSV \
	  ./push:FuzzParseList \
	  ./push/shell:FuzzParseInvocation \
	  ./push/winrm:FuzzOpen \
	  ./internal/textsafe:FuzzSanitize \
	  ./internal/winrmemu:FuzzFastSend \
	  ./inventories:FuzzUnixParsers \
	  ./packages:FuzzParseInfo \
	  ./packages:FuzzExtract \
	  ./packages:FuzzSignedInfo \
	  ./agent:FuzzSOCKS4Reply \
	  ./agent/setup:FuzzFind \
	  ./server/query:FuzzParse; do \
	  pkg=$${target%%:*}; fn=$${target##*:}; \
	  echo "fuzz $$pkg $$fn ($(FUZZTIME))"; \
	  out=$$($(GO) test -run '^$$' -fuzz "^$$fn\$$" -fuzztime $(FUZZTIME) $$pkg 2>&1) || { \
	    if echo "$$out" | grep -q 'context deadline exceeded' && ! echo "$$out" | grep -qE 'Failing input written|panic:|_test.go:[0-9]+:'; then \
	      echo "  the fuzz coordinator's deadline race (go.dev/issue/75804, fixed in Go 1.27), no failing input: once more"; \
	      out=$$($(GO) test -run '^$$' -fuzz "^$$fn\$$" -fuzztime $(FUZZTIME) $$pkg 2>&1) || { echo "$$out"; exit 1; }; \
	    else echo "$$out"; exit 1; fi; }; \
	done

# Comparative benchmarks through internal/bench: each prints what "the same
# work" means, both sides' medians and spread, the equality check, then the
# ratio. Every one runs; the target fails at the end if any did (unequal
# work, a side that failed). As root the real OCS server is stood up on
# 127.0.0.1:8081 as the ingest anchor, and the namespace bed is built.
bench: build test-deps
	@test "$$(id -u)" = 0 || { echo "bench: needs root (the OCS server, the test bed)"; exit 1; }
	./scripts/ocs-reference.sh up
	@failed=0; echo "## ingestbench"; $(GO) run ./internal/loadgen/cmd/ingestbench -muster $(BIN) || failed=1; \
	./scripts/ocs-reference.sh down; \
	for b in ./internal/agentbench ./internal/packagebench ./internal/winrmbench ./internal/discoverbench ./internal/pushbench ./internal/consolebench; do \
	  echo "## $$b"; $(GO) run $$b -muster $(BIN) || { echo "## $$b FAILED"; failed=$$((failed+1)); }; \
	done; test $$failed = 0

clean:
	rm -rf bin
