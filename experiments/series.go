package experiments

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
)

// series is a quantity over time: sorted times (s) and values.
type series struct{ t, v []float64 }

// timeseries reads the samples of one run's timeseries.csv whose metric
// want accepts, keyed by metric and key.
func timeseries(runDir string, want func(metric string) bool) (map[metric]*series, error) {
	out := map[metric]*series{}
	err := eachRow(filepath.Join(runDir, "timeseries.csv"), nil, func(rec []string) error {
		if len(rec) != 4 || !want(rec[1]) {
			return nil
		}
		t, err1 := strconv.ParseFloat(rec[0], 64)
		v, err2 := strconv.ParseFloat(rec[3], 64)
		if err1 != nil || err2 != nil {
			return errors.New("want numbers in time_s and value")
		}
		k := metric{rec[1], rec[2]}
		s := out[k]
		if s == nil {
			s = &series{}
			out[k] = s
		}
		s.t, s.v = append(s.t, t), append(s.v, v)
		return nil
	})
	return out, err
}

// eachRow reads a CSV file: head, if set, gets the header, then row every
// record. An error names the file and line.
func eachRow(p string, head func([]string) error, row func([]string) error) error {
	f, err := os.Open(p)
	if err != nil {
		return err
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.ReuseRecord = true
	h, err := r.Read()
	if err == nil && head != nil {
		err = head(h)
	}
	for err == nil {
		var rec []string
		if rec, err = r.Read(); err == nil {
			err = row(rec)
		}
	}
	if errors.Is(err, io.EOF) {
		return nil
	}
	line, _ := r.FieldPos(0)
	return fmt.Errorf("%s:%d: %w", p, line, err)
}

// runSeries reads each run's timeseries.csv once for all the figures that
// draw from it, keeping the metrics they use.
type runSeries struct {
	dir   string
	byRun map[string]map[metric]*series
}

func (rs *runSeries) get(r Run) (map[metric]*series, error) {
	if ts, ok := rs.byRun[r.ID]; ok {
		return ts, nil
	}
	ts, err := timeseries(filepath.Join(rs.dir, filepath.FromSlash(r.ID)), func(m string) bool {
		return m == "used" || m == "total" || m == "framework_share"
	})
	if err != nil {
		return nil, err
	}
	rs.byRun[r.ID] = ts
	return ts, nil
}

// meanOver averages series sampled at the same times (the runs of one
// variant, whose seeds differ); a time some runs lack averages those that
// have it.
func meanOver(ss []*series) *series {
	sum, n := map[float64]float64{}, map[float64]int{}
	for _, s := range ss {
		for i, t := range s.t {
			sum[t] += s.v[i]
			n[t]++
		}
	}
	out := &series{}
	for _, t := range slices.Sorted(maps.Keys(sum)) {
		out.t, out.v = append(out.t, t), append(out.v, sum[t]/float64(n[t]))
	}
	return out
}

// ratio divides a by b where both have a sample and b is not zero.
func ratio(a, b *series, scale float64) *series {
	at := map[float64]float64{}
	for i, t := range b.t {
		at[t] = b.v[i]
	}
	out := &series{}
	for i, t := range a.t {
		if d, ok := at[t]; ok && d != 0 {
			out.t, out.v = append(out.t, t), append(out.v, scale*a.v[i]/d)
		}
	}
	return out
}

// thin averages s into at most n points, for figures of long runs.
func thin(s *series, n int) *series {
	if len(s.t) <= n {
		return s
	}
	step := (len(s.t) + n - 1) / n
	out := &series{}
	for i := 0; i < len(s.t); i += step {
		j := min(i+step, len(s.t))
		var st, sv float64
		for k := i; k < j; k++ {
			st += s.t[k]
			sv += s.v[k]
		}
		out.t, out.v = append(out.t, st/float64(j-i)), append(out.v, sv/float64(j-i))
	}
	return out
}

// cdf is the empirical CDF of the sorted xs in at most n+1 points: from 0
// at the smallest, the fraction of xs at or under each of about n of them,
// taken at even ranks. Drawn as steps, it is within 1/n of the whole.
func cdf(xs []float64, n int) *series {
	s := &series{t: []float64{xs[0]}, v: []float64{0}}
	step := max(1, (len(xs)+n-1)/n)
	for k := min(step, len(xs)) - 1; ; k = min(k+step, len(xs)-1) {
		for k+1 < len(xs) && xs[k+1] == xs[k] {
			k++ // the last of equal values: the CDF's value there
		}
		s.t, s.v = append(s.t, xs[k]), append(s.v, float64(k+1)/float64(len(xs)))
		if k == len(xs)-1 {
			return s
		}
	}
}

// job is a row of a run's jobs.csv: its framework and id, and, if it
// completed, its wait and completion time (s).
type job struct {
	framework, id    string
	completed        bool
	wait, completion float64
}

// runJobs reads each run's jobs.csv once, for the speedups and the CDFs.
type runJobs struct {
	dir   string
	byRun map[string][]job
}

func newRunJobs(dir string) *runJobs { return &runJobs{dir: dir, byRun: map[string][]job{}} }

func (rj *runJobs) get(r Run) ([]job, error) {
	if js, ok := rj.byRun[r.ID]; ok {
		return js, nil
	}
	js, err := readJobs(filepath.Join(rj.dir, filepath.FromSlash(r.ID), "jobs.csv"))
	if err != nil {
		return nil, err
	}
	rj.byRun[r.ID] = js
	return js, nil
}

// readJobs reads a jobs.csv in file order.
func readJobs(p string) ([]job, error) {
	var out []job
	cols := map[string]int{}
	want := []string{"framework", "job", "wait_s", "completion_s", "status"}
	err := eachRow(p, func(head []string) error {
		for _, c := range want {
			if cols[c] = slices.Index(head, c); cols[c] < 0 {
				return fmt.Errorf("no %s column (want %v)", c, want)
			}
		}
		return nil
	}, func(rec []string) error {
		j := job{framework: rec[cols["framework"]], id: rec[cols["job"]], completed: rec[cols["status"]] == "completed"}
		if j.completed {
			var err1, err2 error
			j.wait, err1 = strconv.ParseFloat(rec[cols["wait_s"]], 64)
			j.completion, err2 = strconv.ParseFloat(rec[cols["completion_s"]], 64)
			if err1 != nil || err2 != nil {
				return errors.New("a completed job wants numbers in wait_s and completion_s")
			}
		}
		out = append(out, j)
		return nil
	})
	return out, err
}
