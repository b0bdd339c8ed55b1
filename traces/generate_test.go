package traces_test

import (
	"io"
	"math"
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
// and job sizes only from the paper's bins.
func TestFacebookHadoopMix(t *testing.T) {
	sizes := map[int]bool{1: true, 2: true, 12: true, 50: true, 110: true, 200: true, 400: true, 430: true}
	var gaps float64
	const seeds = 50
	for seed := range uint64(seeds) {
		jobs := drain(t, traces.FacebookHadoop(seed))
		gaps += (jobs[len(jobs)-1].Submit - jobs[0].Submit).Seconds() / float64(len(jobs)-1)
		for _, j := range jobs {
			if !sizes[len(j.Tasks)] {
				t.Fatalf("job of %d tasks: not one of the paper's bins", len(j.Tasks))
			}
		}
	}
	if mean := gaps / seeds; math.Abs(mean-14) > 1 {
		t.Fatalf("mean inter-arrival %.2fs; want about 14s", mean)
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
