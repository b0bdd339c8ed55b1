package integration

import (
	"encoding/json"
	"errors"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

func jsonDecode(resp *http.Response, v any) error { return json.NewDecoder(resp.Body).Decode(v) }

type agentState struct {
	Tasks []agentTask `json:"tasks"`
}

// agentTask is a task in an agent's /state.
type agentTask struct {
	ID     string            `json:"id"`
	Pid    int               `json:"pid"`
	Cgroup string            `json:"cgroup"` // "" without isolation
	Limits map[string]string `json:"limits"`
}

func readAgent(t *testing.T, url string) agentState {
	t.Helper()
	resp, err := ops.Get(url + "/state")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var st agentState
	if err := jsonDecode(resp, &st); err != nil {
		t.Fatal(err)
	}
	return st
}

// findTask is task on agent, as the agent's /state shows it.
func findTask(t *testing.T, c *cluster, agent, task string) agentTask {
	t.Helper()
	st, _ := c.state()
	for _, tk := range readAgent(t, st.agent(agent).URL).Tasks {
		if tk.ID == task {
			return tk
		}
	}
	t.Fatalf("agent %s does not run %s", agent, task)
	return agentTask{}
}

func taskLimits(t *testing.T, url, task string) map[string]string {
	for _, tk := range readAgent(t, url).Tasks {
		if tk.ID == task {
			return tk.Limits
		}
	}
	t.Fatalf("no task %s on %s", task, url)
	return nil
}

// removeCgroup removes a task's cgroup and its agent's root, once the
// task's processes have left (for up to 2 s), in every hierarchy.
func removeCgroup(cg string) {
	if cg == "" {
		return
	}
	dirs, _ := filepath.Glob("/sys/fs/cgroup/*" + cg)
	dirs = append(dirs, "/sys/fs/cgroup"+cg)
	for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		left := 0
		for _, d := range dirs {
			if err := os.Remove(d); err != nil && !errors.Is(err, fs.ErrNotExist) {
				left++
				continue
			}
			_ = os.Remove(filepath.Dir(d)) // the root, if empty
		}
		if left == 0 {
			return
		}
	}
}

// repeatedKeys returns the keys a log line (log/slog's text form:
// key=value or key="quoted value") holds more than once.
func repeatedKeys(line string) []string {
	seen := map[string]bool{}
	var dup []string
	for rest := strings.TrimSpace(line); rest != ""; rest = strings.TrimLeft(rest, " ") {
		key, val, ok := strings.Cut(rest, "=")
		if !ok || strings.Contains(key, " ") {
			return dup // not key=value: a line printed with fmt
		}
		if seen[key] {
			dup = append(dup, key)
		}
		seen[key] = true
		if q, err := strconv.QuotedPrefix(val); err == nil {
			rest = val[len(q):]
		} else if i := strings.IndexByte(val, ' '); i >= 0 {
			rest = val[i:]
		} else {
			rest = ""
		}
	}
	return dup
}

func TestRepeatedKeys(t *testing.T) {
	for _, tt := range []struct{ line, want string }{
		{`time=x level=INFO msg=registered agent=agent-1 agent=agent-1`, "agent"},
		{`time=x level=INFO msg="agent registered" id=a resources=cpus:1;mem:2 isolation=none`, ""},
		{`time=x msg="a=b msg=c" err="x \"y=z\" y"`, ""},
		{`time=x msg=a msg="b" id=1 id=2`, "msg id"},
		{`apron master: http://x (policy drf)`, ""},
	} {
		if got := strings.Join(repeatedKeys(tt.line), " "); got != tt.want {
			t.Errorf("repeatedKeys(%q) = %q, want %q", tt.line, got, tt.want)
		}
	}
}

// must is v, or a panic: for values a test makes that cannot fail.
func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
