package integration

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
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
	resp, err := http.Get(url + "/state")
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

func taskPid(t *testing.T, c *cluster, agent, task string) int {
	return findTask(t, c, agent, task).Pid
}

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
