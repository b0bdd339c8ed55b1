package core

import (
	"bytes"
	"encoding/json"
	"fmt"
	"testing"
	"time"
)

// The hand-written /state JSON must equal encoding/json's.
func TestStateJSONMatchesEncodingJSON(t *testing.T) {
	tasks := TaskList{
		{ID: "t1", Name: "plain", FrameworkID: "f", AgentID: "a", Role: "r", State: "TASK_RUNNING", Resources: "cpus:1", Updated: 1.5},
		{ID: "t2", Name: "ünï \"quoted\" <b>\n", FrameworkID: "f", AgentID: "a", Role: "r", State: "TASK_FAILED", Reason: "REASON_CONTAINER_LIMITATION_MEMORY", Message: "a\\b\x01", Resources: "mem:1", Updated: 1764547200.123},
	}
	st := State{Summary: Summary{StartTime: time.Unix(0, 0).UTC(), TaskCounts: map[string]int{"TASK_RUNNING": 1}}, Tasks: tasks}
	want, err := json.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	head, _ := json.Marshal(st.Summary)
	got := append(head[:len(head)-1], `,"tasks":`...)
	got = append(st.Tasks.appendJSON(got), `,"completed_tasks":`...)
	got = append(st.CompletedTasks.appendJSON(got), '}')
	if !bytes.Equal(got, want) {
		t.Errorf("hand-written:\n%s\nencoding/json:\n%s", got, want)
	}
}

func TestAmountsString(t *testing.T) {
	for _, tt := range []struct {
		a    Amounts
		want string
	}{
		{Amounts{"mem": 11540.5, "cpus": 1}, "cpus:1;mem:11540.5"},
		{Amounts{"cpus(analytics)": 4, "gpus": 0.25}, "cpus(analytics):4;gpus:0.25"},
		{Amounts{}, ""},
	} {
		if got := fmt.Sprint(tt.a); got != tt.want {
			t.Errorf("%#v prints %q, want %q", map[string]float64(tt.a), got, tt.want)
		}
	}
}
