package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/apronlab/apron/internal/docsh"
)

// docFiles are the Markdown files whose ```sh blocks TestDocCommands runs.
var docFiles = []string{"README.md", "docs/*.md", "experiments/README.md", "notebooks/README.md"}

// docCovered are the documented commands TestDocCommands does not run: a
// command that begins with prefix (as written, with `go run ./cmd/apron`
// read as `apron`) is live, long or needs what a test cannot have here, and
// test names the test or benchmark that covers it, or why says why no test
// can. Every apron command not listed is run and must exit 0; anything else
// must be listed.
var docCovered = []struct{ prefix, test, why string }{
	{prefix: "apron trace info ", test: "TestTraceInfoOnEverySample"},              // the trace files are not in a clone
	{prefix: "apron sim --config my.yaml ", test: "TestSimWritesTheRunDirectory"},  // my.yaml is the reader's config
	{prefix: "apron sim --config google-scale", test: "BenchmarkGoogleScaleMonth"}, // 29 simulated days
	{prefix: "apron master --listen 127.0.0.1:50", test: "TestLeaderFailover"},
	{prefix: "apron agent --master 127.0.0.1:5050,", test: "TestLeaderFailover"},
	{prefix: "apron up --masters 3", test: "TestUpThreeMastersFailover"}, // before "apron up ", which it begins with
	{prefix: "kill -9 LEADER_PID", test: "TestUpThreeMastersFailover"},
	{prefix: "apron execute --master 127.0.0.1:5050,127.0.0.1:5051,", test: "TestUpThreeMastersFailover"},
	{prefix: "apron up ", test: "TestUpThenExecute"},
	{prefix: "apron execute ", test: "TestUpThenExecute"},
	{prefix: "apron run sim-vs-live --master ", test: "TestLiveBackendWritesTheSameFiles"},
	{prefix: "apron policy apply ", test: "TestPolicyApply"},
	{prefix: "curl -sK /tmp/apron-up/secrets/ops.curlrc 'https://127.0.0.1:5050/state?pretty'", test: "TestUpThenExecute"}, // runs the curl apron up prints
	{prefix: "curl -sNK /tmp/apron-up/secrets/ops.curlrc -D - https://127.0.0.1:5050/api/v1/scheduler -H 'Content-Type: application/json' -d '", test: "TestAPIDocCalls"},
	{prefix: "call '", test: "TestAPIDocCalls"},
	{prefix: "curl -sK /tmp/apron-up/secrets/ops.curlrc https://127.0.0.1:5050/api/v1/policy", test: "TestPolicyShow"},
	{prefix: "curl -sK /tmp/apron-up/secrets/ops.curlrc -X POST 'https://127.0.0.1:5050/api/v1/policy?name=weights.yaml'", test: "TestPolicyApply"},
	{prefix: "curl -sK /tmp/apron-up/secrets/ops.curlrc https://127.0.0.1:5050/master/state", test: "TestOperatorDocCalls"},
	{prefix: "curl -sK /tmp/apron-up/secrets/ops.curlrc 'https://127.0.0.1:5050/master/tasks", test: "TestOperatorDocCalls"},
	{prefix: "curl -sK /tmp/apron-up/secrets/ops.curlrc https://127.0.0.1:5050/metrics/snapshot", test: "TestOperatorDocCalls"},
	{prefix: "curl -sK /tmp/apron-up/secrets/ops.curlrc https://127.0.0.1:5050/version", test: "TestOperatorDocCalls"},
	{prefix: "operator '", test: "TestOperatorDocCalls"},
	{prefix: "make test", why: "the whole suite, this test included"},
	{prefix: "make notebooks", why: "executes the notebooks with Jupyter; make test runs it"},
	{prefix: "go install github.com/apronlab/apron/cmd/apron@latest", why: "installs the published module from the Go module proxy"},
	{prefix: "JUPYTER_PATH=$PWD/bin/jupyter ", why: "opens Jupyter in a browser"},
}

// Every command of the docs' ```sh blocks either runs here (with the built
// binary, in a directory that sees the checkout's files and has results/
// of its own, the blocks of a file in order) and exits 0, or is listed in
// docCovered with the test that covers it: a documented command that
// stops working fails this test.
func TestDocCommands(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "apron")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("building apron: %v\n%s", err, out)
	}
	tests := testNames(t, root)
	for _, c := range docCovered {
		if c.test != "" && !tests[c.test] {
			t.Errorf("docCovered names %s for %q: no such test or benchmark", c.test, c.prefix)
		}
	}
	used := map[string]bool{}
	for _, file := range docPaths(t, root) {
		rel, _ := filepath.Rel(root, file)
		blocks, err := docsh.Blocks(file)
		if err != nil {
			t.Error(err)
			continue
		}
		work := workspace(t, root)
		for _, b := range blocks {
			cmds, err := b.Commands("PWD=" + work)
			if err != nil {
				t.Error(err)
				continue
			}
			for _, c := range cmds {
				if c.Func {
					continue // a helper the block's commands call
				}
				src, args := apronCommand(c)
				if cov := covering(src); cov != "" {
					used[cov] = true
					continue
				}
				if len(args) == 0 {
					t.Errorf("%s:%d: %q is neither an apron command this test can run nor listed in docCovered with the test that covers it", rel, c.Line, c.Source)
					continue
				}
				t.Run(strings.ReplaceAll(rel, "/", "_")+":"+strconv.Itoa(c.Line), func(t *testing.T) {
					ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
					defer cancel()
					cmd := exec.CommandContext(ctx, bin, args...)
					cmd.Dir = work
					if out, err := cmd.CombinedOutput(); err != nil {
						t.Errorf("%s:%d: %s: %v\n%s", rel, c.Line, c.Source, err, out)
					}
				})
			}
		}
	}
	for _, c := range docCovered {
		if !used[c.prefix] {
			t.Errorf("docCovered lists %q, which no doc's sh block has any more: remove it", c.prefix)
		}
	}
}

// apronCommand reads `go run ./cmd/apron ARGS` as `apron ARGS`: the source
// so read, and the arguments to give the binary (nil for another program).
func apronCommand(c docsh.Command) (string, []string) {
	src := c.Source
	if rest, ok := strings.CutPrefix(src, "go run ./cmd/apron "); ok {
		src = "apron " + rest
	}
	switch {
	case c.Background: // a server the block leaves running
	case len(c.Args) >= 3 && c.Args[0] == "go" && c.Args[1] == "run" && c.Args[2] == "./cmd/apron":
		return src, c.Args[3:]
	case len(c.Args) >= 1 && c.Args[0] == "apron":
		return src, c.Args[1:]
	}
	return src, nil
}

func covering(src string) string {
	for _, c := range docCovered {
		if strings.HasPrefix(src, c.prefix) {
			return c.prefix
		}
	}
	return ""
}

func docPaths(t *testing.T, root string) []string {
	var out []string
	for _, pat := range docFiles {
		m, err := filepath.Glob(filepath.Join(root, pat))
		if err != nil || len(m) == 0 {
			t.Fatalf("no doc matches %s (%v)", pat, err)
		}
		out = append(out, m...)
	}
	return out
}

// workspace is a directory that sees the checkout's files through links
// but writes results/ of its own.
func workspace(t *testing.T, root string) string {
	dir := t.TempDir()
	entries, err := os.ReadDir(root)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		switch e.Name() {
		case "results", "bin", "apron", ".git":
			continue
		}
		if err := os.Symlink(filepath.Join(root, e.Name()), filepath.Join(dir, e.Name())); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// testNames are the tests and benchmarks of the module.
func testNames(t *testing.T, root string) map[string]bool {
	names := map[string]bool{}
	re := regexp.MustCompile(`(?m)^func ((Test|Benchmark)\w+)\(`)
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "results" || strings.HasPrefix(d.Name(), ".")) && p != root {
			return filepath.SkipDir
		}
		if strings.HasSuffix(p, "_test.go") {
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			for _, m := range re.FindAllStringSubmatch(string(data), -1) {
				names[m[1]] = true
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return names
}
