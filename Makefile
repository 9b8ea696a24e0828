# muster — see README.md. `make run` starts the server on the embedded
# SQLite default; `make test` installs what the tests need and runs them all.

SHELL    := /bin/bash
GO       ?= go
BIN      := bin/muster
DATA_DIR ?= .muster
LISTEN   ?= 127.0.0.1:8080
FUZZTIME ?= 5s
VERSION  ?= 0.1.0

.PHONY: all build msi run test test-deps vet fuzz bench clean

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

# Each fuzz target runs for FUZZTIME (go test allows one target per run).
fuzz:
	@set -e; for target in \
	  ./inventories/ocsxml:FuzzDecodeBody \
	  ./inventories/ocsxml:FuzzParse \
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
	  ./agent/setup:FuzzFind; do \
	  pkg=$${target%%:*}; fn=$${target##*:}; \
	  echo "fuzz $$pkg $$fn ($(FUZZTIME))"; \
	  out=$$($(GO) test -run '^$$' -fuzz "^$$fn\$$" -fuzztime $(FUZZTIME) $$pkg 2>&1) || { echo "$$out"; exit 1; }; \
	done

# Comparative benchmarks: muster beside its anchor, measured in the same run.
# As root, the real OCS server is stood up on 127.0.0.1:8081 for the ratio.
bench: build test-deps
	@if [ "$$(id -u)" = 0 ]; then ./scripts/ocs-reference.sh up; \
	 else echo "bench: not root, so no OCS reference server: muster's figures only"; fi
	$(GO) run ./internal/loadgen/cmd/ingestbench -muster $(BIN)
	$(GO) run ./internal/agentbench -muster $(BIN)
	$(GO) run ./internal/packagebench -muster $(BIN)
	$(GO) run ./internal/winrmbench -muster $(BIN)
	@if [ "$$(id -u)" = 0 ]; then $(GO) run ./internal/discoverbench -muster $(BIN) && \
	   $(GO) run ./internal/pushbench -muster $(BIN); \
	 else echo "bench: not root, so no test bed: discover and push benchmarks skipped"; fi

clean:
	rm -rf bin
