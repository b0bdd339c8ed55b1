package traces_test

import (
	"io"
	"math"
	"strings"
	"testing"

	"github.com/apronlab/apron/traces"
)

func drain(t *testing.T, g traces.Generator) []*traces.Job {
	t.Helper()
	src, err := g.Source()
	if err != nil {
		t.Fatal(err)
	}
	var jobs []*traces.Job
	for {
		j, err := src.Next()
		if err == io.EOF {
			return jobs
		}
		if err != nil {
			t.Fatal(err)
		}
		jobs = append(jobs, j)
	}
}

func TestGeneratorIsSeededAndOrdered(t *testing.T) {
	g := traces.FacebookHadoop(7)
	a, b := drain(t, g), drain(t, g)
	if len(a) != 100 {
		t.Fatalf("%d jobs; want 100", len(a))
	}
	for i := range a {
		if a[i].Submit != b[i].Submit || len(a[i].Tasks) != len(b[i].Tasks) || a[i].Tasks[0] != b[i].Tasks[0] {
			t.Fatalf("job %d differs between two runs of the same seed", i)
		}
		if i > 0 && a[i].Submit < a[i-1].Submit {
			t.Fatalf("job %d submitted before job %d", i, i-1)
		}
	}
	if c := drain(t, traces.FacebookHadoop(8)); c[1].Submit == a[1].Submit {
		t.Fatal("another seed gave the same arrivals")
	}
}

// The Facebook mix: mean inter-arrival 14 s (100 jobs span about 23 min),
// exactly the paper's count of jobs of each bin (Table 3), named after the
// bin, with its maps and reduces; a map reads a block in 11.8 s (4.8 s for
// a one-map job) and reduces last what Table 5's static time leaves after
// the 19.2 s startup and the maps' waves on 96 slots.
func TestFacebookHadoopMix(t *testing.T) {
	bins := map[string]struct {
		jobs, maps, reduces int
		mapTime, reduceTime float64
	}{
		"bin1-selection": {38, 1, 0, 4.8, 0}, "bin2-textsearch": {18, 2, 0, 11.8, 0}, "bin3-aggregation": {14, 10, 2, 11.8, 82 - 19.2 - 11.8},
		"bin4-selection": {12, 50, 0, 11.8, 0}, "bin5-aggregation": {6, 100, 10, 11.8, 192 - 19.2 - 2*11.8}, "bin6-selection": {6, 200, 0, 11.8, 0},
		"bin7-textsearch": {4, 400, 0, 11.8, 0}, "bin8-join": {2, 400, 30, 11.8, 662 - 19.2 - 5*11.8},
	}
	var gaps float64
	const seeds = 50
	for seed := range uint64(seeds) {
		jobs := drain(t, traces.FacebookHadoop(seed))
		gaps += (jobs[len(jobs)-1].Submit - jobs[0].Submit).Seconds() / float64(len(jobs)-1)
		count := map[string]int{}
		for _, j := range jobs {
			name := j.ID[:strings.LastIndex(j.ID, "-")]
			b, ok := bins[name]
			if !ok || len(j.Tasks) != b.maps+b.reduces {
				t.Fatalf("job %s of %d tasks: want one of the paper's bins", j.ID, len(j.Tasks))
			}
			for k, task := range j.Tasks {
				want := b.mapTime
				if k >= b.maps {
					want = b.reduceTime
				}
				if math.Abs(task.Duration.Seconds()-want) > 1e-6 || task.Resources.CPUs != 1 || task.Resources.MemMiB != 1024 {
					t.Fatalf("job %s task %d: %v, %+v; want %vs, 1 CPU, 1 GiB", j.ID, k, task.Duration, task.Resources, want)
				}
			}
			count[name]++
		}
		for name, b := range bins {
			if count[name] != b.jobs {
				t.Fatalf("seed %d: %d jobs of %s; want %d", seed, count[name], name, b.jobs)
			}
		}
	}
	if mean := gaps / seeds; math.Abs(mean-14) > 1 {
		t.Fatalf("mean inter-arrival %.2fs; want about 14s", mean)
	}
}

// Classes: each class's count exactly, in an order that depends on the
// seed; Jobs takes the first of that sequence and may not exceed it.
func TestGeneratorClasses(t *testing.T) {
	g := traces.Generator{Seed: 1, Classes: []traces.Class{
		{Name: "a", Count: 3, Tasks: traces.Dist{Mean: 1}, Duration: traces.Dist{Mean: 5}},
		{Name: "b", Count: 2, Tasks: traces.Dist{Mean: 4}, Duration: traces.Dist{Kind: "uniform", Lo: 10, Hi: 20}},
	}}
	if g.JobCount() != 5 {
		t.Fatalf("JobCount %d; want 5", g.JobCount())
	}
	order := func(g traces.Generator) string {
		var names []string
		for _, j := range drain(t, g) {
			names = append(names, j.ID)
			if strings.HasPrefix(j.ID, "b-") && (len(j.Tasks) != 4 || j.Tasks[0].Duration < 10e9 || j.Tasks[0].Duration > 20e9) {
				t.Errorf("%s: %d tasks of %v; want class b's", j.ID, len(j.Tasks), j.Tasks[0].Duration)
			}
		}
		return strings.Join(names, " ")
	}
	first := order(g)
	if strings.Count(first, "a-") != 3 || strings.Count(first, "b-") != 2 {
		t.Fatalf("jobs %s; want 3 of a and 2 of b", first)
	}
	seeds := map[string]bool{}
	for seed := range uint64(10) {
		g.Seed = seed
		seeds[order(g)] = true
	}
	if len(seeds) < 2 {
		t.Error("ten seeds gave the same order of classes")
	}
	g.Jobs = 2
	if got := drain(t, g); len(got) != 2 {
		t.Errorf("%d jobs with jobs: 2; want 2", len(got))
	}
	g.Jobs = 6
	if _, err := g.Source(); err == nil || !strings.Contains(err.Error(), "more than the classes' 5") {
		t.Errorf("jobs 6 of 5: err %v", err)
	}
	g.Jobs, g.Classes[1].Count = 0, -1
	if _, err := g.Source(); err == nil {
		t.Error("a negative count accepted")
	}
}

func TestGoogleScaleShape(t *testing.T) {
	g := traces.GoogleScale(1)
	g.Jobs = 20000
	jobs := drain(t, g)
	tasks := 0
	for _, j := range jobs {
		tasks += len(j.Tasks)
	}
	// 683,000 jobs of about 37 tasks make about 25 million tasks.
	if per := float64(tasks) / float64(len(jobs)); per < 25 || per > 50 {
		t.Fatalf("%.1f tasks per job; want about 37", per)
	}
}

func TestBadDistributions(t *testing.T) {
	for _, d := range []traces.Dist{{Kind: "exp"}, {Kind: "pareto", Min: 1}, {Kind: "uniform", Lo: 2, Hi: 1}, {Kind: "empirical", Values: []float64{1}}, {Kind: "zipf"}} {
		g := traces.Generator{Jobs: 1, Duration: d}
		if _, err := g.Source(); err == nil {
			t.Errorf("%+v accepted", d)
		}
	}
}

// Closed-loop chains: every Chain jobs start a chain by the inter-arrival
// times; the others follow the previous job with a drawn think time, carry
// its submit time and its user; an open-loop generator is unchanged by
// the chain keys' zero values.
func TestGeneratorChains(t *testing.T) {
	for _, tc := range []struct {
		name   string
		chain  int
		starts []int // indexes of the jobs that start a chain
	}{
		{"open loop", 0, []int{0, 1, 2, 3, 4, 5, 6}},
		{"chain of one", 1, []int{0, 1, 2, 3, 4, 5, 6}},
		{"chains of three", 3, []int{0, 3, 6}},
		{"one chain", 7, []int{0}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := traces.Generator{Seed: 3, Jobs: 7, Chain: tc.chain, Interarrival: traces.Dist{Kind: "exp", Mean: 10},
				Think: traces.Dist{Kind: "uniform", Lo: 5, Hi: 6}, Tasks: traces.Dist{Mean: 1}, Users: 9}
			jobs := drain(t, g)
			starts := 0
			for i, j := range jobs {
				if starts < len(tc.starts) && tc.starts[starts] == i {
					starts++
					if j.After != "" || j.Think != 0 {
						t.Errorf("job %d starts a chain but follows %q after %v", i, j.After, j.Think)
					}
					continue
				}
				p := jobs[i-1]
				if j.After != p.ID || j.Submit != p.Submit || j.User != p.User || j.Think < 5e9 || j.Think > 6e9 {
					t.Errorf("job %d: after %q at %v, user %q, think %v; want after %s at %v, user %q, think 5-6s", i, j.After, j.Submit, j.User, j.Think, p.ID, p.Submit, p.User)
				}
			}
			if starts != len(tc.starts) {
				t.Errorf("%d chains; want %d", starts, len(tc.starts))
			}
		})
	}
	open := drain(t, traces.FacebookHadoop(4))
	g := traces.FacebookHadoop(4)
	g.Think = traces.Dist{Kind: "exp", Mean: 3} // without Chain, no effect
	for i, j := range drain(t, g) {
		if j.Submit != open[i].Submit || j.After != "" {
			t.Fatalf("job %d: an open-loop generator changed with a think time alone", i)
		}
	}
	if _, err := (traces.Generator{Jobs: 1, Chain: -1}).Source(); err == nil {
		t.Error("a negative chain accepted")
	}
}
