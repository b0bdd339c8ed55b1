package master

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/apronlab/apron/allocator"
)

// The hand-written /state JSON must equal encoding/json's.
func TestStateJSONMatchesEncodingJSON(t *testing.T) {
	tasks := TaskList{
		{ID: "t1", Name: "plain", FrameworkID: "f", AgentID: "a", Role: "r", State: "TASK_RUNNING", Resources: "cpus:1", Updated: 1.5},
		{ID: "t2", Name: "ünï \"quoted\" <b>\n", FrameworkID: "f", AgentID: "a", Role: "r", State: "TASK_FAILED", Reason: "memory-limit", Message: "a\\b\x01", Resources: "mem:1", Updated: 1764547200.123},
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

// A master without agents or frameworks writes its empty lists as [] (what
// a client iterates over), never null, in both forms of /state.
func TestEmptyStateHasNoNull(t *testing.T) {
	m, err := New(Options{Policy: allocator.Config{Policy: "drf"}})
	if err != nil {
		t.Fatal(err)
	}
	h := m.Handler()
	for _, path := range []string{"/state", "/state?pretty"} {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, path, nil))
		body := w.Body.String()
		if w.Code != http.StatusOK || strings.Contains(body, "null") {
			t.Errorf("GET %s: %d\n%s\nwant 200 and no null", path, w.Code, body)
		}
		var st map[string]json.RawMessage
		if err := json.Unmarshal(w.Body.Bytes(), &st); err != nil {
			t.Fatal(err)
		}
		for _, k := range []string{"agents", "frameworks", "completed_frameworks", "roles", "tasks", "completed_tasks"} {
			if got := string(bytes.TrimSpace(st[k])); got != "[]" {
				t.Errorf("GET %s: %q is %s, want []", path, k, got)
			}
		}
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
