package webui

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/apronlab/apron/allocator"
	"github.com/apronlab/apron/runtime/master"
)

func TestPaginate(t *testing.T) {
	rows := make([]int, 120)
	tests := []struct {
		query                      string
		n, of, first, last, pv, nx int
	}{
		{"", 1, 3, 1, 50, 0, 2},
		{"p=2", 2, 3, 51, 100, 1, 3},
		{"p=3", 3, 3, 101, 120, 2, 0},
		{"p=9", 3, 3, 101, 120, 2, 0},
		{"p=x", 1, 3, 1, 50, 0, 2},
	}
	for _, tt := range tests {
		r := httptest.NewRequest("GET", "/?"+tt.query, nil)
		p := paginate(r, "p", rows)
		if p.N != tt.n || p.Of != tt.of || p.First != tt.first || p.Last != tt.last || p.Prev != tt.pv || p.Next != tt.nx || len(p.Rows) != tt.last-tt.first+1 {
			t.Errorf("%q: got page %d of %d rows %d-%d prev %d next %d", tt.query, p.N, p.Of, p.First, p.Last, p.Prev, p.Next)
		}
	}
	if p := paginate(httptest.NewRequest("GET", "/", nil), "p", []int{}); p.Of != 1 || len(p.Rows) != 0 || p.First != 0 {
		t.Errorf("empty: %+v", p)
	}
}

func TestPages(t *testing.T) {
	start := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	now := start
	clock := func() time.Time { t := now; now = start.Add(90 * time.Minute); return t } // started, then 90 minutes later
	m, err := master.New(master.Options{Now: clock, Policy: allocator.Config{Policy: "hdrf",
		Roles: []allocator.RoleConfig{{Name: "analytics", Weight: 3, Guarantee: allocator.MustParseResources("cpus:1"), Limit: allocator.MustParseResources("mem:512")}}}})
	if err != nil {
		t.Fatal(err)
	}
	h := Handler(m)
	tests := []struct {
		path string
		code int
		want string
	}{
		{"/", 200, "<title>Cluster · apron</title>"},
		{"/?partial=1", 200, `<h1>Cluster</h1>`},
		{"/", 200, `<strong id="policy-name">hdrf</strong>`},
		{"/", 200, `<td>analytics</td><td class="n">3</td><td>cpus 1</td><td>mem 512 MiB</td>`},
		{"/", 200, `<span class="big" id="tasks-staging">0</span> <span class="state s-STAGING">staging</span>`},
		{"/", 200, `id="tasks-lost">0</span>`},
		{"/", 200, `<span id="version">apron ` + version + `</span> · master started 2026-12-01 10:00:00.000 UTC, up <span id="uptime" data-ms="5400000">1h30m0s</span>`},
		{"/agents", 200, `<span id="uptime" data-ms="5400000">1h30m0s</span>`},
		{"/agents", 200, "no agents"},
		{"/frameworks", 200, "no frameworks"},
		{"/agents/nope", 404, "agent nope not found"},
		{"/frameworks/nope", 404, "framework nope not found"},
		{"/tasks/f/t", 404, "task t not found"},
		{"/sandbox/nope/f/t/stdout", 404, "agent nope not found"},
		{"/sandbox/a/f/t/passwd", 404, "sandbox file passwd not found"},
		{"/static/app.js", 200, "partial"},
		{"/state", 200, `"agents"`},
		{"/health", 200, ""},
	}
	for _, tt := range tests {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, tt.path, nil))
		if w.Code != tt.code || !strings.Contains(w.Body.String(), tt.want) {
			t.Errorf("GET %s: %d, want %d with %q:\n%.300s", tt.path, w.Code, tt.code, tt.want, w.Body.String())
		}
		if strings.Contains(tt.path, "partial") && strings.Contains(w.Body.String(), "<html") {
			t.Errorf("GET %s: a partial page holds the whole document", tt.path)
		}
	}
}

// A replicated master's overview shows the masters, each with its URL
// linked and its role, the leader and the term; a master of its own shows
// no Masters panel.
func TestMastersPanel(t *testing.T) {
	m, err := master.New(master.Options{Policy: allocator.Config{Policy: "drf"}})
	if err != nil {
		t.Fatal(err)
	}
	u := newUI(m)
	render := func(st master.Summary) string {
		w := httptest.NewRecorder()
		u.render(w, httptest.NewRequest(http.MethodGet, "/?partial=1", nil), "overview", overviewData{Title: "Cluster", St: st})
		return w.Body.String()
	}
	if body := render(master.Summary{}); strings.Contains(body, "h-masters") {
		t.Errorf("a master of its own shows a Masters panel:\n%s", body)
	}
	body := render(master.Summary{Cluster: &master.ClusterView{Leader: 2, Term: 7, Self: 2, Masters: []master.MasterView{
		{ID: 1, URL: "http://127.0.0.1:5050", Role: "follower"}, {ID: 2, URL: "http://127.0.0.1:5051", Role: "leader"}, {ID: 3, URL: "http://127.0.0.1:5052", Role: "unknown"}}}})
	for _, want := range []string{
		`<span id="masters-count">3</span>`,
		`master <strong id="masters-leader">2</strong> leads in term <strong id="masters-term">7</strong>`,
		`<tr data-master="1" data-role="follower"><td class="n">1</td><td><a href="http://127.0.0.1:5050/">http://127.0.0.1:5050</a></td><td class="role r-follower">follower</td></tr>`,
		`<tr data-master="2" data-role="leader"><td class="n">2</td><td><a href="http://127.0.0.1:5051/">http://127.0.0.1:5051</a></td><td class="role r-leader">leader</td></tr>`,
		`<tr data-master="3" data-role="unknown">`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("the overview does not hold %s:\n%s", want, body)
		}
	}
}
