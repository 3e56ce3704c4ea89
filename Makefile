# netkit's everyday tasks. "make help" lists them.

GO        ?= go
PKG       := github.com/netkit-dev/netkit
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT    ?= $(shell git rev-parse HEAD 2>/dev/null)
LDFLAGS   := -s -w -X $(PKG)/internal/cli.version=$(VERSION) -X $(PKG)/internal/cli.commit=$(COMMIT)
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2
FUZZTIME  ?= 10s
BENCHTIME ?= 1s

.PHONY: help build test test-ci lint fuzz soak bench bench-peers docs clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-9s %s\n", $$1, $$2}'

build: ## build a static bin/netkit with its version stamped in
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o bin/netkit ./cmd/netkit

test: ## run the tests (the README's test command)
	$(GO) test ./...

test-ci: ## the tests as CI runs them: race detector, peers and namespaces required
	NETKIT_REQUIRE_INTEROP=1 NETKIT_REQUIRE_NETNS=1 $(GO) test -race -count=1 ./...

lint: ## gofmt check, go vet, staticcheck (pinned)
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...

fuzz: ## run every Fuzz target for FUZZTIME (default 10s) each; new inputs minimised for 2s at most
	@set -e; for pkg in $$($(GO) list ./...); do \
		for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz' || true); do \
			echo "== $$pkg $$f"; \
			$(GO) test $$pkg -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) -fuzzminimizetime 2s; \
		done; \
	done

soak: ## move files up to 256 MiB through every fault of netkit impair (minutes)
	NETKIT_SOAK=1 $(GO) test -run TestSoak -timeout 60m -v ./transfer

bench: ## run the Go benchmarks (the peer comparisons are in bench/)
	$(GO) test -run '^$$' -bench . -benchmem -benchtime $(BENCHTIME) ./...

bench-peers: ## regenerate every peer comparison of issue 17, with charts (root, about 11 minutes)
	bench/peers.sh

docs: ## regenerate docs/commands.md from the commands' help
	$(GO) run ./internal/cli/gendocs > docs/commands.md

clean: ## remove build output
	rm -rf bin
