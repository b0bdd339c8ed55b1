package sim_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/apronlab/apron/internal/testutil"
	"github.com/apronlab/apron/sim"
)

// backfillLog is "EASY delays the second job" of the framework's
// schedules, times x100: J1 6 processors for 1000 s, J2 8 for 1000 s, J3 9
// for 3000 s, J4 2 for 4000 s, each requesting its run time, on the 10
// processors of the header.
const backfillLog = `; Version: 2.2
; MaxNodes: 10
; MaxProcs: 10
1    0 -1 1000 6 -1 -1 6 1000 -1 1 1 1 -1 -1 -1 -1 -1
2  100 -1 1000 8 -1 -1 8 1000 -1 1 1 1 -1 -1 -1 -1 -1
3  200 -1 3000 9 -1 -1 9 3000 -1 1 1 1 -1 -1 -1 -1 -1
4  300 -1 4000 2 -1 -1 2 4000 -1 1 1 1 -1 -1 -1 -1 -1
`

// backfillConfig replays an SWF log as one rigid framework on the machine
// its header gives.
func backfillConfig(t *testing.T, log, backfill, extra string) *sim.Config {
	t.Helper()
	cfg, err := sim.ParseConfig("backfill.yaml", strings.NewReader(fmt.Sprintf(`
sample_interval: 1h
machines: {trace: [%[1]s]}
workload: {trace: [%[1]s], kind: gang, backfill: %[2]s, decision: {job: 0s, task: 0s}%[3]s}
`, log, backfill, extra)))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// The simulator schedules as the framework's hand-computed schedule says,
// but for the offer cycle: J1 arrives at 0 just after the cycle at 0 and
// starts with the next, at 1, so whatever waits for its end starts a
// second later too (J2 at 1001...). Under EASY, J4 starts when it arrives
// (300), on the offers held for J2, and J3 when J4 ends (4300).
func TestBackfillReplaysHandSchedule(t *testing.T) {
	log := filepath.Join(t.TempDir(), "log.swf")
	if err := os.WriteFile(log, []byte(backfillLog), 0o644); err != nil {
		t.Fatal(err)
	}
	for backfill, starts := range map[string][]int{
		"none":         {1, 1001, 2001, 5001},
		"easy":         {1, 1001, 4300, 300},
		"conservative": {1, 1001, 2001, 5001},
	} {
		dir, _ := run(t, backfillConfig(t, log, backfill, ""))
		rows := testutil.ReadCSV(t, filepath.Join(dir, "jobs.csv"))
		col := map[string]int{}
		for i, name := range rows[0] {
			col[name] = i
		}
		if len(rows) != len(starts)+1 {
			t.Errorf("%s: %d jobs in jobs.csv; want %d", backfill, len(rows)-1, len(starts))
		}
		for _, r := range rows[1:] {
			id, _ := strconv.Atoi(r[col["job"]])
			submit, _ := strconv.ParseFloat(r[col["submit_s"]], 64)
			start, _ := strconv.ParseFloat(r[col["first_start_s"]], 64)
			if want := float64(starts[id-1]); start != want || r[col["status"]] != "completed" {
				t.Errorf("%s: job %d (submitted at %g) started at %g, %s; want %g, completed", backfill, id, submit, start, r[col["status"]], want)
			}
		}
	}
}

// A slice of the KTH log under each backfilling policy gives
// byte-identical results whatever GOMAXPROCS.
func TestBackfillDeterministic(t *testing.T) {
	kth := testutil.Sample(t, "swf/KTH-SP2-1996-2.1-cln.swf")
	for _, backfill := range []string{"easy", "conservative"} {
		var first map[string][]byte
		for _, procs := range []int{1, 2} {
			prev := runtime.GOMAXPROCS(procs)
			dir, _ := run(t, backfillConfig(t, kth, backfill, ", scale: 0.02, seed: 3, time_scale: 0.01"))
			runtime.GOMAXPROCS(prev)
			got := map[string][]byte{}
			for _, f := range []string{"timeseries.csv", "jobs.csv", "summary.json"} {
				got[f], _ = os.ReadFile(filepath.Join(dir, f))
			}
			if first == nil {
				first = got
				continue
			}
			for f, data := range got {
				if len(data) == 0 || !bytes.Equal(data, first[f]) {
					t.Errorf("%s: %s differs between runs (or is empty)", backfill, f)
				}
			}
		}
	}
}
