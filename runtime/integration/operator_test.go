package integration

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/apronlab/apron/internal/docsh"
	"github.com/apronlab/apron/runtime/api"
)

// offeredCPUs are the cpus of an offer.
func offeredCPUs(t *testing.T, o api.Offer) float64 {
	t.Helper()
	r, err := api.ToResources("offer", o.Resources)
	if err != nil {
		t.Fatal(err)
	}
	return r.Sum("cpus").Float()
}

// rolePolicy is a role of /state's policy.
type rolePolicy struct {
	Name      string  `json:"name"`
	Weight    float64 `json:"weight"`
	Guarantee string  `json:"guarantee"`
	Limit     string  `json:"limit"`
}

// policyRoles reads the policy in force from /state: its source and roles.
func (c *cluster) policyRoles() (string, map[string]rolePolicy) {
	c.t.Helper()
	var st struct {
		Policy struct {
			Source string       `json:"source"`
			Roles  []rolePolicy `json:"roles"`
		} `json:"policy"`
	}
	c.stateAs(&st)
	roles := map[string]rolePolicy{}
	for _, r := range st.Policy.Roles {
		roles[r.Name] = r
	}
	return st.Policy.Source, roles
}

// Mesos' operator API on real processes with TLS and credentials:
// UPDATE_QUOTA and UPDATE_WEIGHTS change the policy in force, as /state
// shows, and the offers follow it: a limit of 1 cpu caps what the role is
// offered. Their Mesos views agree; a principal without update_policy is
// refused.
func TestOperatorPolicyUpdates(t *testing.T) {
	c := startMaster(t)
	c.startAgent("a1", "cpus:4;mem:4096", t.TempDir())
	f := subscribeBody(t, c.url, []byte(`{"type":"SUBSCRIBE","subscribe":{"framework_info":{"name":"batch","roles":["batch"]}}}`))
	if got := offeredCPUs(t, f.next(api.EventOffers).Offers.Offers[0]); got != 4 {
		t.Fatalf("before any quota, batch is offered %v cpus, want the agent's 4", got)
	}
	operator := func(hc *http.Client, body string) (int, string) {
		t.Helper()
		return send(t, hc, c.url+"/api/v1", []byte(body), "Content-Type", "application/json")
	}
	quota := `{"type":"UPDATE_QUOTA","update_quota":{"quota_configs":[{"role":"batch","guarantees":{"cpus":{"value":1}},"limits":{"cpus":{"value":1},"mem":{"value":1024}}}]}}`
	if code, body := operator(ops, quota); code != http.StatusOK {
		t.Fatalf("UPDATE_QUOTA: %d %s", code, body)
	}
	f.next(api.EventRescind) // the swap takes back what the old policy offered
	if got := offeredCPUs(t, f.next(api.EventOffers).Offers.Offers[0]); got != 1 {
		t.Errorf("under a limit of cpus:1, batch is offered %v cpus", got)
	}
	source, roles := c.policyRoles()
	if b := roles["batch"]; source != "UPDATE_QUOTA" || b.Guarantee != "cpus:1" || b.Limit != "cpus:1;mem:1024" {
		t.Errorf("/state's policy after UPDATE_QUOTA: source %q, batch %+v", source, b)
	}
	if code, body := operator(ops, `{"type":"UPDATE_WEIGHTS","update_weights":{"weight_infos":[{"role":"batch","weight":3},{"role":"*","weight":0.5}]}}`); code != http.StatusOK {
		t.Fatalf("UPDATE_WEIGHTS: %d %s", code, body)
	}
	c.waitFor("the weights in force", func(masterState) bool {
		source, roles := c.policyRoles()
		return source == "UPDATE_WEIGHTS" && roles["batch"].Weight == 3 && roles["default"].Weight == 0.5
	})
	if _, roles := c.policyRoles(); roles["batch"].Limit != "cpus:1;mem:1024" {
		t.Errorf("UPDATE_WEIGHTS lost batch's quota: %+v", roles["batch"])
	}
	for call, want := range map[string]string{
		"GET_WEIGHTS": `"weight_infos":[{"weight":3,"role":"batch"},{"weight":0.5,"role":"*"}]`,
		"GET_QUOTA":   `"configs":[{"role":"batch","guarantees":{"cpus":{"value":1}},"limits":{"cpus":{"value":1},"mem":{"value":1024}}}]`,
		"GET_ROLES":   `{"name":"batch","weight":3,"frameworks":[{"value":"` + f.id + `"}]`,
	} {
		if code, body := operator(ops, `{"type":"`+call+`"}`); code != http.StatusOK || !strings.Contains(body, want) {
			t.Errorf("%s: %d %s; want %s", call, code, body, want)
		}
	}
	resp, err := ops.Get(c.url + "/master/roles")
	if err != nil {
		t.Fatal(err)
	}
	var mr struct {
		Roles []struct {
			Name  string
			Quota struct{ Limit map[string]float64 }
		}
	}
	if err := json.NewDecoder(resp.Body).Decode(&mr); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if len(mr.Roles) != 2 || mr.Roles[0].Name != "batch" || mr.Roles[0].Quota.Limit["cpus"] != 1 {
		t.Errorf("/master/roles: %+v, want batch's with its limit, and *'s", mr.Roles)
	}
	if code, body := operator(clientAs(t, "alice"), quota); code != http.StatusForbidden || !strings.Contains(body, "update_policy") {
		t.Errorf("alice's UPDATE_QUOTA: %d %s, want 403 update_policy", code, body)
	}
	if code, _ := operator(clientAs(t, ""), `{"type":"GET_STATE"}`); code != http.StatusUnauthorized {
		t.Errorf("GET_STATE with no credentials: %d, want 401", code)
	}
}

// The examples of docs/api.md's Mesos compatibility section, run as
// written against a master with an agent: each read-only endpoint answers
// 200 with JSON, each operator call 200, and the answers the doc shows
// are the real ones.
func TestOperatorDocCalls(t *testing.T) {
	c := startMaster(t)
	c.startAgent("a1", "cpus:2;mem:8192", t.TempDir())
	doc, err := os.ReadFile("../../docs/api.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks, err := docsh.Blocks("../../docs/api.md")
	if err != nil {
		t.Fatal(err)
	}
	base := "https://127.0.0.1:5050"
	var gets, calls int
	for _, b := range blocks {
		cmds, err := b.Commands()
		if err != nil {
			t.Fatal(err)
		}
		for _, cmd := range cmds {
			switch {
			case len(cmd.Args) == 2 && cmd.Args[0] == "operator":
				calls++
				code, body := send(t, ops, c.url+"/api/v1", []byte(cmd.Args[1]), "Content-Type", "application/json")
				if code != http.StatusOK {
					t.Errorf("docs/api.md:%d: %d %s", cmd.Line, code, body)
				}
				if strings.HasPrefix(body, `{"type":"GET_HEALTH"`) || strings.HasPrefix(body, `{"type":"GET_QUOTA"`) {
					if !strings.Contains(string(doc), strings.TrimSpace(body)) {
						t.Errorf("docs/api.md does not show %s's answer as it is:\n%s", cmd.Args[1], body)
					}
				}
			case len(cmd.Args) > 0 && cmd.Args[0] == "curl":
				url := cmd.Args[len(cmd.Args)-1]
				path, ok := strings.CutPrefix(url, base)
				if !ok || !(strings.HasPrefix(path, "/master/") || path == "/metrics/snapshot" || path == "/version") {
					continue // the other sections' examples, run by their own tests
				}
				gets++
				resp, err := ops.Get(c.url + path)
				if err != nil {
					t.Fatal(err)
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK || !json.Valid(body) {
					t.Errorf("docs/api.md:%d: GET %s: %s %.200s", cmd.Line, path, resp.Status, body)
				}
			}
		}
	}
	if gets < 4 || calls < 5 {
		t.Errorf("docs/api.md has %d endpoint and %d operator examples; want the Mesos compatibility section's", gets, calls)
	}
}
