package core

import (
	"fmt"
	"testing"
	"time"

	"github.com/apronlab/apron/runtime/api"
)

// BenchmarkMesosViews times Mesos' /master/state, a page of
// /master/tasks and GET_TASKS with 200 agents and 20,000 running tasks,
// each task's JSON already written (as after the first request), beside
// apron's own /state.
func BenchmarkMesosViews(b *testing.B) {
	const agents, perAgent = 200, 100
	r := newRig(b, Config{Limits: Limits{MaxTasksPerAccept: perAgent}})
	for i := range agents {
		r.agent(fmt.Sprintf("a%d", i), fmt.Sprintf("cpus:%d;mem:%d", perAgent, perAgent*128), nil)
	}
	fw, fs := r.framework(api.FrameworkInfo{Name: "filler"})
	r.advance(time.Millisecond)
	n := 0
	for _, e := range r.events(fs, api.EventOffers) {
		for _, o := range e.Offers.Offers {
			var tasks []api.TaskInfo
			for range perAgent {
				n++
				tasks = append(tasks, taskInfo(fmt.Sprintf("t%d", n), "cpus:1;mem:128"))
			}
			if ref := r.call(fw, fs, launchCall([]string{o.ID.Value}, tasks...)); ref != nil {
				b.Fatal(ref)
			}
		}
	}
	if got := r.c.reg.counts[TaskStaging]; got != agents*perAgent {
		b.Fatalf("%d tasks launched, want %d", got, agents*perAgent)
	}
	for _, v := range []struct {
		name  string
		write func() []byte
	}{
		{"state", func() []byte { return r.c.AppendState(nil) }},
		{"master-state", func() []byte { return r.c.AppendMesosState(nil, mesosInfo) }},
		{"master-tasks-page", func() []byte { return r.c.AppendMesosTasks(nil, TasksQuery{Limit: 100, Desc: true}) }},
		{"GET_TASKS", func() []byte { out, _ := r.c.OperatorGet(nil, GetTasks, mesosInfo); return out }},
	} {
		b.Run(v.name, func(b *testing.B) {
			size := len(v.write())
			b.ResetTimer()
			for range b.N {
				v.write()
			}
			b.ReportMetric(float64(size)/1e6, "MB")
		})
	}
}
