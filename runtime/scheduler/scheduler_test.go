package scheduler

import (
	"strings"
	"testing"
	"time"

	"github.com/apronlab/apron/allocator"
	"github.com/apronlab/apron/runtime/api"
	"github.com/apronlab/apron/sim/framework"
)

func TestTaskIDsAreSandboxSafeAndReversible(t *testing.T) {
	m := newTaskIDs()
	tests := []struct{ in, want string }{
		{"job-1/0", "job-1_0"},
		{"job-1_0", "job-1_0-2"}, // taken by the first
		{"ünï code", "_n__code"},
		{"plain.id", "plain.id"},
		{"job-1/0", "job-1_0"}, // the same task, the same id
	}
	for _, tt := range tests {
		got := m.wire(framework.TaskID(tt.in))
		if got != tt.want {
			t.Errorf("wire(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if back := m.framework(got); string(back) != tt.in {
			t.Errorf("framework(%q) = %q, want %q", got, back, tt.in)
		}
	}
	m.forget("job-1_0")
	if got := m.wire("job-9/9"); got != "job-9_9" {
		t.Errorf("after forget: %q", got)
	}
	if got := m.framework("unknown"); got != "unknown" {
		t.Errorf("an unknown wire id maps to %q", got)
	}
}

// A task launched again after it ended gets a new wire id; an update
// sent again, or a reconciliation answer that tells nothing new, is not
// delivered twice.
func TestRelaunchAndRepeats(t *testing.T) {
	m := newTaskIDs()
	first := m.wire("job/0")
	m.forget(first)
	if again := m.wire("job/0"); again == first || m.framework(again) != "job/0" {
		t.Errorf("relaunched as %q (first %q)", again, first)
	}
	seen := newSeenUpdates()
	up := func(state string, uuid api.UUID) api.TaskStatus {
		return api.TaskStatus{TaskID: api.ID{Value: "t"}, State: state, UUID: uuid}
	}
	steps := []struct {
		s    api.TaskStatus
		want bool
	}{
		{up("TASK_RUNNING", "u1"), true},
		{up("TASK_RUNNING", "u1"), false}, // sent again
		{up("TASK_RUNNING", ""), false},   // reconciliation, nothing new
		{up("TASK_FINISHED", "u2"), true},
		{up("TASK_FINISHED", "u2"), false},
		{up("TASK_LOST", ""), false}, // after the end
	}
	for i, st := range steps {
		if got := seen.fresh(st.s); got != st.want {
			t.Errorf("step %d (%s %s): fresh %v, want %v", i, st.s.State, st.s.UUID, got, st.want)
		}
	}
}

func TestBurn(t *testing.T) {
	task := framework.Task{Resources: allocator.MustParseResources("cpus:0.5;mem:256")}
	tests := []struct {
		wall time.Duration
		want string
	}{
		{0, "true"},
		{1500 * time.Millisecond, `exec "$APRON" burn --cpus 0.5 --mem 232 --duration 1.5s`},
		{-1, `exec "$APRON" burn --cpus 0.5 --mem 232 --duration 0`},
	}
	for _, tt := range tests {
		if got := Burn(task, tt.wall); got != tt.want {
			t.Errorf("Burn(%v) = %q, want %q", tt.wall, got, tt.want)
		}
	}
	small := framework.Task{Resources: allocator.MustParseResources("cpus:1;mem:16")}
	if got := Burn(small, time.Second); !strings.Contains(got, "--mem 0 ") {
		t.Errorf("a task smaller than burn's own runtime burns no extra memory: %q", got)
	}
}

// driver records what a framework asks of it.
type driver struct {
	launched []framework.Task
	declined []framework.OfferID
	after    []func()
}

func (d *driver) Now() time.Duration { return 0 }
func (d *driver) Launch(_ framework.OfferID, ts []framework.Task, _ time.Duration) {
	d.launched = append(d.launched, ts...)
}
func (d *driver) Decline(o framework.OfferID, _ time.Duration) { d.declined = append(d.declined, o) }
func (d *driver) Suppress()                                    {}
func (d *driver) Revive()                                      {}
func (d *driver) Kill(framework.TaskID)                        {}
func (d *driver) After(_ time.Duration, fn func())             { d.after = append(d.after, fn) }
func (d *driver) Submitted(framework.JobInfo) error            { return nil }

func TestOneTaskLaunchesOnceOnTheFirstOfferThatFits(t *testing.T) {
	d := &driver{}
	o := &OneTask{Name: "hello", Command: "echo hi", Resources: allocator.MustParseResources("cpus:1;mem:128")}
	o.Offers(d, []framework.Offer{
		{ID: "small", Resources: allocator.MustParseResources("cpus:0.5;mem:1024")},
		{ID: "fits", Resources: allocator.MustParseResources("cpus:2;mem:1024")},
		{ID: "later", Resources: allocator.MustParseResources("cpus:2;mem:1024")},
	})
	if len(d.launched) != 1 || d.launched[0].Command != "echo hi" || d.launched[0].Duration != framework.Forever {
		t.Fatalf("launched %+v", d.launched)
	}
	if len(d.declined) != 2 || d.declined[0] != "small" || d.declined[1] != "later" {
		t.Errorf("declined %v, want small and later", d.declined)
	}
	if o.Done() {
		t.Fatal("done before the task ended")
	}
	o.Update(d, framework.Status{Task: "hello", State: framework.TaskRunning})
	o.Update(d, framework.Status{Task: "hello", State: framework.TaskFinished})
	if !o.Done() || o.Final().State != framework.TaskFinished {
		t.Errorf("final %+v", o.Final())
	}
}
