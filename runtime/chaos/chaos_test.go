package chaos

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/apronlab/apron/internal/testutil"
)

// The real-process runs: seeds 1-3 in every go test (about a minute);
// -short or APRON_CHAOS=0 turns them off. APRON_CHAOS_SEED=N replays one seed;
// APRON_CHAOS_SEEDS=N runs seeds 1..N (default 3, about 2 minutes) from
// APRON_CHAOS_FIRST (default 1); APRON_CHAOS_OUT=DIR writes the summary
// there (make chaos: results/chaos). A seed's history and logs stay in its
// artifact directory (go test -artifacts) when it fails, or with
// APRON_CHAOS_KEEP=1.

var apronBin string

func TestMain(m *testing.M) {
	if os.Getenv("APRON_CHAOS") == "0" {
		os.Exit(m.Run())
	}
	testutil.MainWithApron(m, func(bin, _ string) error { apronBin = bin; return nil })
}

func envInt(t *testing.T, name string, def uint64) uint64 {
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		t.Fatalf("%s=%q: want a whole number", name, s)
	}
	return n
}

func TestChaos(t *testing.T) {
	if apronBin == "" || testing.Short() {
		t.Skip("the real-process fault-injection runs are off (APRON_CHAOS=0 or -short)")
	}
	first, n := envInt(t, "APRON_CHAOS_FIRST", 1), envInt(t, "APRON_CHAOS_SEEDS", 3)
	if s := os.Getenv("APRON_CHAOS_SEED"); s != "" {
		first, n = envInt(t, "APRON_CHAOS_SEED", 0), 1
	}
	sum := NewSummary()
	for seed := first; seed < first+n; seed++ {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			res, err := Run(t.Context(), Config{Apron: apronBin, Dir: t.ArtifactDir(), Isolation: os.Geteuid() == 0,
				Tag: fmt.Sprintf("s%dp%d", seed, os.Getpid())}, Generate(seed))
			if err != nil {
				t.Fatalf("seed %d: %v", seed, err)
			}
			sum.Add(res)
			fmt.Fprintf(os.Stderr, "chaos: seed %d (%d of %d): %d master(s), %d violations, %d faults%s, %.1fs\n", seed, seed-first+1, n,
				res.Plan.Masters, len(res.Violations), len(res.Plan.Faults), failovers(res.Failovers), res.Wall.Seconds())
			if len(res.Violations) > 0 {
				t.Errorf("%s\n(logs and history.jsonl in %s)", res.Report(), t.ArtifactDir())
			} else if os.Getenv("APRON_CHAOS_KEEP") == "" {
				emptyDir(t, t.ArtifactDir())
			}
		})
	}
	if out := os.Getenv("APRON_CHAOS_OUT"); out != "" {
		if err := sum.Write(out); err != nil {
			t.Fatal(err)
		}
		t.Logf("summary in %s:\n%s", out, sum.Markdown())
	}
}

// failovers says how soon each leader fault had a new leader.
func failovers(fos []Failover) string {
	s := ""
	for _, fo := range fos {
		s += fmt.Sprintf(", %s of m%d: m%d leads after %.2fs", fo.Kind, fo.Master, fo.Leader, fo.Took.Seconds())
	}
	return s
}

// emptyDir empties a passing seed's artifact directory.
func emptyDir(t *testing.T, dir string) {
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
			t.Log(err)
		}
	}
}
