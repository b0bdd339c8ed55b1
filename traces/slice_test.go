package traces_test

import (
	"testing"
	"time"

	"github.com/apronlab/apron/traces"
)

func TestSliceWindowFractionAndScale(t *testing.T) {
	var jobs traces.Jobs
	for i := range 1000 {
		jobs = append(jobs, &traces.Job{ID: string(rune('a'+i%26)) + string(rune('0'+i/26%10)) + string(rune('A'+i/260)), Submit: time.Duration(i) * time.Second,
			Tasks: []traces.Task{{Duration: time.Minute, Resources: traces.Resources{CPUs: 1}}}})
	}
	src, err := traces.Slice{From: 100 * time.Second, To: 600 * time.Second, Fraction: 0.5, Seed: 1, TimeScale: 0.5}.Jobs(jobs.Source())
	if err != nil {
		t.Fatal(err)
	}
	s, err := traces.Summarize(src, nil)
	if err != nil {
		t.Fatal(err)
	}
	if s.Jobs < 200 || s.Jobs > 300 {
		t.Errorf("kept %d of 500 jobs in the window; want about half", s.Jobs)
	}
	if s.Last > 250*time.Second || s.First < 0 {
		t.Errorf("submits from %v to %v; want within [0, 250s) after shifting and halving", s.First, s.Last)
	}
	if s.Duration.Max != 60 {
		t.Errorf("durations changed: max %v", s.Duration.Max)
	}
	closed := traces.Jobs{{ID: "a", Submit: 4 * time.Second, Tasks: jobs[0].Tasks}, {ID: "b", Submit: 4 * time.Second, After: "a", Think: time.Minute, Tasks: jobs[0].Tasks}}
	src, err = traces.Slice{TimeScale: 0.5}.Jobs(closed.Source())
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []traces.Job{{ID: "a", Submit: 2 * time.Second}, {ID: "b", Submit: 2 * time.Second, After: "a", Think: 30 * time.Second}} {
		if j, err := src.Next(); err != nil || j.Submit != want.Submit || j.After != want.After || j.Think != want.Think {
			t.Errorf("%+v, %v; want %s at %v after %q thinking %v", j, err, want.ID, want.Submit, want.After, want.Think)
		}
	}
	for _, bad := range []traces.Slice{{Fraction: 2}, {TimeScale: -1}, {From: 5, To: 5}} {
		if _, err := bad.Jobs(jobs.Source()); err == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
}

func TestSummarizeGenerated(t *testing.T) {
	src, err := traces.FacebookHadoop(3).Source()
	if err != nil {
		t.Fatal(err)
	}
	s, err := traces.Summarize(src, nil)
	if err != nil {
		t.Fatal(err)
	}
	if s.Jobs != 100 || s.Tasks < 100 || s.CPUs.Min != 1 || s.CPUs.Max != 1 || s.TasksPerJob.Max > 430 {
		t.Fatalf("summary %+v", s)
	}
}
