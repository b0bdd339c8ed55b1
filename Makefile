# apron's build, test and lint entry points. Only Go is needed; staticcheck
# is pinned in tools/go.mod and run through `go tool`.
GO       ?= go
PKGS     ?= ./...
FUZZTIME ?= 30s

.PHONY: all build test gotest notebooks lint fuzz bench bench-long chaos faultsim clean

all: lint test

build:
	$(GO) build -o apron ./cmd/apron

# Every unit, property, golden and integration test, with the fuzz seeds;
# then every notebook (skipped, saying why, without Jupyter).
test: gotest notebooks

# The browser test's screenshots land in results/artifacts.
gotest:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || \
	    echo "gotest: no Chromium (Debian: apt-get install chromium): the web UI's browser test will be skipped"
	mkdir -p results/artifacts
	$(GO) test -count=1 -artifacts -outputdir $(CURDIR)/results/artifacts $(PKGS)

# Executes every notebook headless: the Go kernel GoNB and goimports are
# pinned in tools/go.mod, Jupyter's nbconvert comes from Debian
# (jupyter-nbconvert python3-nbclient python3-ipykernel). The notebooks run
# their studies into results/ and the executed copies go to
# results/notebooks. A cell that fails is reported with what it wrote to
# stderr (the Go error) by notebooks/failed.py.
# The kernel is registered inside this checkout, not for the whole user:
# gonb --install writes bin/jupyter/kernels/gonb (JUPYTER_DATA_DIR), where
# nbconvert finds it; for `jupyter notebook`, JUPYTER_PATH=$PWD/bin/jupyter.
notebooks: export JUPYTER_DATA_DIR := $(CURDIR)/bin/jupyter
notebooks:
	@if ! command -v jupyter >/dev/null 2>&1 || ! jupyter nbconvert --version >/dev/null 2>&1; then \
	  echo "notebooks: skipped: Jupyter's nbconvert is not installed (Debian: apt-get install jupyter-nbconvert python3-nbclient python3-ipykernel)"; \
	  exit 0; fi; \
	set -e; \
	(cd tools && $(GO) build -o ../bin/gonb github.com/janpfeifer/gonb && $(GO) build -o ../bin/goimports golang.org/x/tools/cmd/goimports); \
	PATH="$(CURDIR)/bin:$$PATH" bin/gonb --install --force_deps --logtostderr=false; \
	mkdir -p results/notebooks; \
	for nb in notebooks/*.ipynb; do \
	  echo "notebooks: executing $$nb"; \
	  APRON_ROOT="$(CURDIR)" PATH="$(CURDIR)/bin:$$PATH" jupyter nbconvert --to notebook --execute --allow-errors \
	    --ExecutePreprocessor.timeout=3600 --output-dir results/notebooks "$$nb" 2>results/notebooks/nbconvert.log \
	    || { tail -40 results/notebooks/nbconvert.log; exit 1; }; \
	  python3 notebooks/failed.py "results/notebooks/$$(basename "$$nb")" || exit 1; \
	done

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
	$(GO) test ./sim -run '^$$' -fuzz '^FuzzParsePolicy$$' -fuzztime $(FUZZTIME)
	$(GO) test ./internal/conf -run '^$$' -fuzz '^FuzzParseDecode$$' -fuzztime $(FUZZTIME)
	$(GO) test ./runtime/api -run '^$$' -fuzz '^FuzzRecordReader$$' -fuzztime $(FUZZTIME)
	$(GO) test ./internal/docsh -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(FUZZTIME)
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

# The fault-injection suite with real processes (runtime/chaos): SEEDS
# seeds from FIRST against a real master and agents, about 20 s a seed
# that passes and 50 s one that fails. Each seed's history and logs land
# in results/chaos/_artifacts (kept for failed seeds only), the tally in
# results/chaos/summary.json and summary.md (for docs/reliability.md).
# Replay one seed: APRON_CHAOS=1 APRON_CHAOS_SEED=N go test ./runtime/chaos -run TestChaos -v
SEEDS ?= 20
FIRST ?= 1
chaos:
	rm -rf results/chaos/_artifacts
	mkdir -p results/chaos
	APRON_CHAOS=1 APRON_CHAOS_SEEDS=$(SEEDS) APRON_CHAOS_FIRST=$(FIRST) APRON_CHAOS_OUT=$(CURDIR)/results/chaos \
	  $(GO) test ./runtime/chaos -run '^TestChaos$$' -count=1 -timeout 0 -v -artifacts -outputdir $(CURDIR)/results/chaos

# The in-process fault simulator's long run (runtime/faultsim): SCHEDULES
# seeded schedules with one memoryless master, and as many with three
# raft-replicated masters; summaries in results/faultsim/faultsim.json and
# faultsim-replicated.json. About 3 min per 10,000 schedules on 2 cores.
# Replay one: go test ./runtime/faultsim -run TestSchedules -faultsim.seed N
SCHEDULES ?= 100000
faultsim:
	mkdir -p results/faultsim
	cd runtime/faultsim && $(GO) test . -run '^(TestSchedules|TestReplicatedSchedules)$$' -count=1 -timeout 0 -v \
	  -faultsim.seeds $(SCHEDULES) -faultsim.report $(CURDIR)/results/faultsim/faultsim.json

clean:
	rm -rf apron bin
