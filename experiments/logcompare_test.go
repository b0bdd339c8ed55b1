package experiments_test

import (
	"encoding/csv"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/apronlab/apron/experiments"
)

// recordedLog is a log on 10 processors that recorded, in its wait times,
// the EASY schedule of its four jobs (computed by hand): J1 6 processors
// for 1000 s, J2 8 for 1000 s, J3 9 for 3000 s, J4 2 for 4000 s, each
// requesting its run time. J4 starts at once beside J2's reservation and
// delays J3 to 4300.
const recordedLog = `; Version: 2.2
; MaxNodes: 10
; MaxProcs: 10
1    0    0 1000 6 -1 -1 6 1000 -1 1 1 1 -1 -1 -1 -1 -1
2  100  900 1000 8 -1 -1 8 1000 -1 1 1 1 -1 -1 -1 -1 -1
3  200 4100 3000 9 -1 -1 9 3000 -1 1 1 1 -1 -1 -1 -1 -1
4  300    0 4000 2 -1 -1 2 4000 -1 1 1 1 -1 -1 -1 -1 -1
`

const logStudy = `
name: log
sim:
  sample_interval: 1h
  machines: {trace: [log.swf]}
  workload: {trace: [log.swf], kind: gang, decision: {job: 0s, task: 0s}}
policies:
  - {name: fcfs, set: {workload.backfill: none}}
  - {name: easy, set: {workload.backfill: easy}}
figures: [log-waits]
log: {waits: WAITS}
`

func logStudyDir(t *testing.T, waits string) string {
	t.Helper()
	study := writeStudy(t, strings.ReplaceAll(logStudy, "WAITS", waits))
	if err := os.WriteFile(filepath.Join(filepath.Dir(study), "log.swf"), []byte(recordedLog), 0o644); err != nil {
		t.Fatal(err)
	}
	return execute(t, study, experiments.Options{Dir: t.TempDir()}).Dir
}

// The comparison's means, by hand. The simulated waits are the hand
// schedules' but for J1, which starts at the cycle after it arrives (1 s),
// and what waits for J1's end: in submit order 1, 901, 1801 and 4701 s;
// under EASY 1, 901, 4100 and 0 s. Bounded slowdown (wait + run) / run,
// every run being over 10 s: the log's 1, 1.9, 7100/3000 and 1.
func TestLogComparisonByHand(t *testing.T) {
	dir := logStudyDir(t, "recorded")
	logSlow := (1 + 1.9 + 7100.0/3000 + 1) / 4
	want := map[string][2]float64{ // log, apron
		"fcfs mean_wait_s":           {1250, (1 + 901 + 1801 + 4701) / 4.0},
		"fcfs mean_bounded_slowdown": {logSlow, (1.001 + 1.901 + 4801.0/3000 + 8701.0/4000) / 4},
		"easy mean_wait_s":           {1250, (1 + 901 + 4100 + 0) / 4.0},
		"easy mean_bounded_slowdown": {logSlow, (1.001 + 1.901 + 7100.0/3000 + 1) / 4},
	}
	f, err := os.Open(filepath.Join(dir, "log-comparison.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != len(want)+1 {
		t.Fatalf("%d rows; want %d", len(rows)-1, len(want))
	}
	for _, r := range rows[1:] {
		w, ok := want[r[0]+" "+r[3]]
		if !ok {
			t.Fatalf("row %v: want variants fcfs and easy, metrics mean_wait_s and mean_bounded_slowdown", r)
		}
		log, _ := strconv.ParseFloat(r[5], 64)
		apron, _ := strconv.ParseFloat(r[6], 64)
		ratio, _ := strconv.ParseFloat(r[7], 64)
		holds := map[bool]string{true: "yes", false: "no"}[math.Abs(w[1]/w[0]-1) <= 0.25]
		if r[4] != "4" || !near(log, w[0]) || !near(apron, w[1]) || !near(ratio, w[1]/w[0]) || r[8] != "0.25" || r[9] != holds {
			t.Errorf("%s %s: jobs %s, log %s, apron %s, ratio %s, tolerance %s, holds %s; want 4, %g, %g, %g, 0.25, %s",
				r[0], r[3], r[4], r[5], r[6], r[7], r[8], r[9], w[0], w[1], w[1]/w[0], holds)
		}
	}
	md, err := experiments.Markdown(dir)
	if err != nil || !strings.Contains(md, "| easy | mean_wait_s | 1250 | 1250 | 1.00 | yes | 4 |") {
		t.Errorf("report (%v):\n%s\nwant the comparison's rows", err, md)
	}
}

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-9*math.Max(1, math.Abs(b)) }

// The comparison and its figure are golden files, for a log whose waits
// are recorded and for one whose submit times are start times.
func TestLogComparisonGolden(t *testing.T) {
	for _, waits := range []string{"recorded", "zero"} {
		dir := logStudyDir(t, waits)
		for _, name := range []string{"log-comparison.csv", "figures/log-waits.png", "figures/log-waits.svg"} {
			data, err := os.ReadFile(filepath.Join(dir, name))
			if err != nil {
				t.Fatal(err)
			}
			checkGolden(t, waits+"-"+name, data)
		}
	}
}

func TestLogComparisonErrors(t *testing.T) {
	for _, c := range []struct{ log, want string }{
		{"{waits: guessed}", `log.waits: "guessed"; want recorded`},
		{"{tolerance: -1}", "log.tolerance: -1; want a fraction above 0"},
	} {
		_, err := experiments.Load(writeStudy(t, strings.ReplaceAll(logStudy, "{waits: WAITS}", c.log)), nil)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("log %s: %v; want %q", c.log, err, c.want)
		}
	}
}
