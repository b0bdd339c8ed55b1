package chaos

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/apronlab/apron/internal/sorted"
	"gonum.org/v1/gonum/stat"
)

// Report is a failed run for a person: how to replay it, its schedule,
// its violations and the history of the tasks they are about.
func (r *Result) Report() string {
	var b strings.Builder
	fmt.Fprintf(&b, "chaos seed %d: %d violations\n", r.Plan.Seed, len(r.Violations))
	fmt.Fprintf(&b, "replay: APRON_CHAOS=1 APRON_CHAOS_SEED=%d go test ./runtime/chaos -run TestChaos -v\n", r.Plan.Seed)
	b.WriteString(r.Plan.String())
	b.WriteString("violations:\n")
	for _, v := range r.Violations {
		fmt.Fprintf(&b, "  %s\n", v)
	}
	var tasks []string
	for _, v := range r.Violations {
		if v.Task != "" && !slices.Contains(tasks, v.Task) {
			tasks = append(tasks, v.Task)
		}
	}
	const most = 4
	for _, id := range tasks[:min(len(tasks), most)] {
		fmt.Fprintf(&b, "history of %s (truth: %+v):\n", id, r.Truths[id])
		for _, e := range r.excerpt(id) {
			fmt.Fprintf(&b, "  %s\n", e)
		}
	}
	if len(tasks) > most {
		fmt.Fprintf(&b, "(%d more tasks; the whole history is in history.jsonl)\n", len(tasks)-most)
	}
	return b.String()
}

// excerpt is the history of one task: the calls that name it, its
// updates, and the faults and phases meanwhile.
func (r *Result) excerpt(task string) []Entry {
	var out []Entry
	for _, e := range r.Entries {
		if mentions(e, task) || e.What == WhatFaultBegin || e.What == WhatFaultEnd || e.What == WhatPhase {
			out = append(out, e)
		}
	}
	return out
}

func mentions(e Entry, task string) bool {
	switch {
	case e.Event != nil && e.Event.Update != nil:
		return e.Event.Update.Status.TaskID.Value == task
	case e.Call != nil:
		return slices.Contains(strings.FieldsFunc(callString(e.Call), func(r rune) bool { return r == ',' || r == ' ' || r == '=' }), task)
	}
	return false
}

// Summary is the tally of many runs, for docs/reliability.md.
type Summary struct {
	Seeds         int            `json:"seeds"`
	Failed        []uint64       `json:"failed_seeds"`
	Faults        map[string]int `json:"faults"`
	TasksLaunched int            `json:"tasks_launched"`
	TasksStarted  int            `json:"tasks_started"`
	StatusesLost  int            `json:"statuses_lost"`
	StatusesWrong int            `json:"statuses_wrong"`
	ResourcesLeak int            `json:"resources_leaked"`
	ProcessesLeft int            `json:"processes_left"`
	CgroupsLeft   int            `json:"cgroups_left"`
	Violations    map[string]int `json:"violations"`
	Seconds       float64        `json:"seconds"`
	// Replicated counts the seeds of three masters; LeaderChanges the
	// changes of leader their snapshots showed; FailoverSeconds is, for
	// each leader kill or pause, how long until a new leader answered
	// /state, and NoNewLeader counts those after which none did.
	// RunningThrough counts the tasks running at a leader fault.
	Replicated      int       `json:"replicated_seeds"`
	LeaderChanges   int       `json:"leader_changes"`
	FailoverSeconds []float64 `json:"failover_seconds"`
	NoNewLeader     int       `json:"no_new_leader"`
	RunningThrough  int       `json:"tasks_running_through_failovers"`
	// BySeed lists, for each failed seed, the kinds of violation it found.
	BySeed map[uint64][]string `json:"by_seed,omitempty"`
}

// NewSummary is an empty summary.
func NewSummary() *Summary {
	return &Summary{Faults: map[string]int{}, Violations: map[string]int{}, BySeed: map[uint64][]string{}}
}

// Add counts a run.
func (s *Summary) Add(r *Result) {
	s.Seeds++
	s.Seconds += r.Wall.Seconds()
	if r.Plan.Masters > 1 {
		s.Replicated++
	}
	s.LeaderChanges += r.LeaderChanges
	for _, fo := range r.Failovers {
		s.RunningThrough += fo.Running
		if fo.Took < 0 {
			s.NoNewLeader++
			continue
		}
		s.FailoverSeconds = append(s.FailoverSeconds, math.Round(fo.Took.Seconds()*1000)/1000)
	}
	for _, e := range r.Entries {
		if e.What == WhatFaultBegin {
			s.Faults[string(e.Fault.Kind)]++
		}
	}
	hs := index(Observed{Plan: &r.Plan, Entries: r.Entries, Truths: r.Truths, Agents: r.Agents})
	for _, th := range hs.tasks {
		if th.launched() {
			s.TasksLaunched++
		}
		if th.truth.Starts > 0 {
			s.TasksStarted++
		}
	}
	var kinds []string
	for _, v := range r.Violations {
		s.Violations[v.Kind]++
		switch v.Kind {
		case StatusLost:
			s.StatusesLost++
		case DupTerminal, WrongState, FalseLoss, AfterEnd, UUIDReused, RanRefused:
			s.StatusesWrong++
		case HeldAfterEnd, Books, Overcommit:
			s.ResourcesLeak++
		case ProcessLeft:
			s.ProcessesLeft++
		case CgroupLeft:
			s.CgroupsLeft++
		}
		if !slices.Contains(kinds, v.Kind) {
			kinds = append(kinds, v.Kind)
		}
	}
	if len(kinds) > 0 {
		slices.Sort(kinds)
		s.Failed = append(s.Failed, r.Plan.Seed)
		s.BySeed[r.Plan.Seed] = kinds
	}
}

// Write writes summary.json and summary.md into dir.
func (s *Summary) Write(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	data, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "summary.json"), append(data, '\n'), 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "summary.md"), []byte(s.Markdown()), 0o644)
}

// failoverTable is the failover figures: leader faults, changes of
// leader, and how long until a new leader answered.
func (s *Summary) failoverTable() string {
	var b strings.Builder
	fmt.Fprintf(&b, "| seeds of 3 masters | leader kills and pauses | tasks running through them | no new leader | leader changes | failover min | median | max |\n")
	fmt.Fprintf(&b, "|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	fmt.Fprintf(&b, "| %d | %d | %d | %d | %d | %s |\n\n", s.Replicated, len(s.FailoverSeconds)+s.NoNewLeader, s.RunningThrough, s.NoNewLeader,
		s.LeaderChanges, strings.Join(spread(s.FailoverSeconds), " | "))
	return b.String()
}

// spread is the least, median and greatest of xs, in seconds ("-" for
// none).
func spread(xs []float64) []string {
	if len(xs) == 0 {
		return []string{"-", "-", "-"}
	}
	ys := slices.Sorted(slices.Values(xs))
	var out []string
	for _, y := range []float64{ys[0], stat.Quantile(0.5, stat.Empirical, ys, nil), ys[len(ys)-1]} {
		out = append(out, fmt.Sprintf("%.2f s", y))
	}
	return out
}

// Markdown is the summary as tables for docs/reliability.md.
func (s *Summary) Markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "| seeds | failed | tasks launched | tasks started | statuses lost | statuses wrong | resources leaked | processes left | cgroups left | wall time |\n")
	fmt.Fprintf(&b, "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	fmt.Fprintf(&b, "| %d | %d | %d | %d | %d | %d | %d | %d | %d | %s |\n\n", s.Seeds, len(s.Failed), s.TasksLaunched, s.TasksStarted,
		s.StatusesLost, s.StatusesWrong, s.ResourcesLeak, s.ProcessesLeft, s.CgroupsLeft, (time.Duration(s.Seconds) * time.Second).String())
	b.WriteString(s.failoverTable())
	b.WriteString("| fault | injected |\n|---|---:|\n")
	for _, k := range FaultKinds {
		fmt.Fprintf(&b, "| %s | %d |\n", k, s.Faults[string(k)])
	}
	if len(s.Violations) > 0 {
		b.WriteString("\n| violation | count |\n|---|---:|\n")
		for _, k := range sorted.Keys(s.Violations) {
			fmt.Fprintf(&b, "| %s | %d |\n", k, s.Violations[k])
		}
		b.WriteString("\n| failed seed | violations |\n|---:|---|\n")
		for _, seed := range s.Failed {
			fmt.Fprintf(&b, "| %d | %s |\n", seed, strings.Join(s.BySeed[seed], ", "))
		}
	}
	return b.String()
}
