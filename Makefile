# apron's build, test and lint entry points. Only Go is needed; staticcheck
# is pinned in tools/go.mod and run through `go tool`.
GO       ?= go
PKGS     ?= ./...
FUZZTIME ?= 30s

.PHONY: all build test lint fuzz bench bench-long clean

all: lint test

build:
	$(GO) build -o apron ./cmd/apron

# Every unit, property, golden and integration test, with the fuzz seeds.
test:
	$(GO) test -count=1 $(PKGS)

lint:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$unformatted" ]; then echo "gofmt would change: $$unformatted"; exit 1; fi
	$(GO) vet $(PKGS)
	$(GO) tool -modfile=tools/go.mod staticcheck $(PKGS)

# Short coverage-guided runs of every fuzz target.
ALLOC_FUZZ  = FuzzParseResources FuzzParseQuantity
TRACES_FUZZ = FuzzSWF FuzzNativeCSV FuzzNativeJSONL FuzzCSVMapping FuzzGoogle2011TaskEvents FuzzGoogle2019 \
	FuzzAlibaba2017 FuzzAlibaba2018Machines FuzzAlibabaBatchTask FuzzPAI FuzzOpenbNodes FuzzOpenbPods FuzzPhilly
fuzz:
	@for f in $(ALLOC_FUZZ); do $(GO) test ./allocator -run '^$$' -fuzz "^$$f\$$" -fuzztime $(FUZZTIME) || exit 1; done
	@for f in $(TRACES_FUZZ); do $(GO) test ./traces -run '^$$' -fuzz "^$$f\$$" -fuzztime $(FUZZTIME) || exit 1; done

bench:
	$(GO) test ./allocator -run '^$$' -bench 'BenchmarkAllocateDeclineOffers/agents=10000' -benchtime 2000x -benchmem
	$(GO) test ./allocator -run '^$$' -bench 'BenchmarkAllocateAccept' -benchtime 300x -benchmem
	$(GO) test ./sim -run '^$$' -bench 'BenchmarkEngine' -count 3

# The long ones: 50,000 agents (about 30 min, 16 GB) and the Google-scale month.
bench-long:
	$(GO) test ./allocator -run '^$$' -bench 'BenchmarkAllocateDeclineOffers/agents=50000' -benchtime 6000x -benchmem -timeout 2h
	$(GO) test ./sim -run '^$$' -bench 'BenchmarkGoogleScaleMonth' -benchtime 1x -timeout 3h

clean:
	rm -f apron
