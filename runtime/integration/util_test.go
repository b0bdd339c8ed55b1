package integration

import (
	"encoding/json"
	"net/http"
	"testing"
)

func jsonDecode(resp *http.Response, v any) error { return json.NewDecoder(resp.Body).Decode(v) }

type agentState struct {
	Tasks []struct {
		ID     string            `json:"id"`
		Pid    int               `json:"pid"`
		Limits map[string]string `json:"limits"`
	} `json:"tasks"`
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
	st, _ := c.state()
	for _, tk := range readAgent(t, st.agent(agent).URL).Tasks {
		if tk.ID == task {
			return tk.Pid
		}
	}
	t.Fatalf("agent %s does not run %s", agent, task)
	return 0
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
