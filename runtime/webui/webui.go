package webui

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"strconv"
	"time"

	"github.com/apronlab/apron/internal/buildinfo"
	"github.com/apronlab/apron/runtime/auth"
	"github.com/apronlab/apron/runtime/master"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// version is apron's, shown in every page's footer.
var version = buildinfo.Read().String()

// PageSize is how many rows a table shows per page.
const PageSize = 50

// UI serves the web interface of one master.
type UI struct {
	m     *master.Master
	pages map[string]*template.Template
	api   http.Handler
	hc    *http.Client
}

// Handler serves the web interface at / and the master's API everywhere
// the interface does not.
func Handler(m *master.Master) http.Handler {
	u := newUI(m)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /login", login)
	static, _ := fs.Sub(staticFS, "static")
	mux.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(static)))
	mux.HandleFunc("GET /{$}", u.viewing(u.overview))
	mux.HandleFunc("GET /agents", u.viewing(u.agents))
	mux.HandleFunc("GET /agents/{id}", u.viewing(u.agent))
	mux.HandleFunc("GET /frameworks", u.viewing(u.frameworks))
	mux.HandleFunc("GET /frameworks/{id}", u.viewing(u.framework))
	mux.HandleFunc("GET /tasks/{fw}/{id}", u.viewing(u.task))
	mux.HandleFunc("GET /sandbox/{agent}/{fw}/{task}/{file}", u.sandbox)
	mux.Handle("/", u.api)
	// A standby master sends its visitors to the leader; every page but
	// the static files needs credentials (a login link's session).
	return m.Authenticate(m.LeaderOnly(mux))
}

// viewing lets a page be seen by those view_state allows on "ui".
func (u *UI) viewing(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if u.m.Allowed(w, r, auth.ViewState, "ui", false) {
			h(w, r)
		}
	}
}

// newUI parses the pages of m's interface.
func newUI(m *master.Master) *UI {
	u := &UI{m: m, pages: map[string]*template.Template{}, api: m.Handler(), hc: m.Client(2 * time.Second)}
	footer := template.FuncMap{"started": m.Started, "uptime": m.Uptime}
	for _, name := range []string{"overview", "agents", "agent", "frameworks", "framework", "task"} {
		u.pages[name] = template.Must(template.New("layout.html").Funcs(funcs).Funcs(footer).ParseFS(templateFS, "templates/layout.html", "templates/parts.html", "templates/"+name+".html"))
	}
	return u
}

// render writes a page, or only its content when the script asks for it
// (?partial=1) to refresh the page in place.
func (u *UI) render(w http.ResponseWriter, r *http.Request, name string, data any) {
	var buf bytes.Buffer
	tmpl := "layout.html"
	if r.URL.Query().Get("partial") == "1" {
		tmpl = "content"
	}
	if err := u.pages[name].ExecuteTemplate(&buf, tmpl, data); err != nil {
		http.Error(w, "rendering the page: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(buf.Bytes())
}

func notFound(w http.ResponseWriter, what string) {
	http.Error(w, what+" not found: it never existed, or it ended long enough ago to be forgotten", http.StatusNotFound)
}

// page is one page of a long table.
type page[T any] struct {
	Rows        []T
	Param       string // the query parameter that picks the page
	N, Of       int    // this page (1-based) and how many
	Total       int
	Prev, Next  int
	First, Last int // the rows shown, 1-based
}

func paginate[T any](r *http.Request, param string, rows []T) page[T] {
	p := page[T]{Param: param, Total: len(rows), Of: max(1, (len(rows)+PageSize-1)/PageSize)}
	p.N, _ = strconv.Atoi(r.URL.Query().Get(param))
	p.N = min(max(p.N, 1), p.Of)
	lo := (p.N - 1) * PageSize
	hi := min(lo+PageSize, len(rows))
	p.Rows = rows[lo:hi]
	if len(p.Rows) > 0 {
		p.First, p.Last = lo+1, hi
	}
	if p.N > 1 {
		p.Prev = p.N - 1
	}
	if p.N < p.Of {
		p.Next = p.N + 1
	}
	return p
}

var funcs = template.FuncMap{
	"pct": func(a, b float64) string {
		if b <= 0 {
			return "–"
		}
		return fmt.Sprintf("%.1f%%", 100*a/b)
	},
	"num":     num,
	"amount":  amount,
	"amounts": amounts,
	"restext": resourceText,
	"version": func() string { return version },
	"dur":     func(d time.Duration) string { return d.Round(time.Second).String() },
	"share":   func(v float64) string { return fmt.Sprintf("%.3f", v) },
	"ago": func(t time.Time) string {
		if t.IsZero() {
			return "–"
		}
		return time.Since(t).Round(time.Second).String() + " ago"
	},
	"when":  func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05.000") },
	"unix":  func(s float64) string { return time.UnixMilli(int64(s * 1000)).UTC().Format("15:04:05.000") },
	"short": func(s string) string { return shortState(s) },
	"pageURL": func(param string, n int) template.URL {
		return template.URL("?" + param + "=" + strconv.Itoa(n))
	},
}

// shortState drops the TASK_ prefix.
func shortState(s string) string {
	if len(s) > 5 && s[:5] == "TASK_" {
		return s[5:]
	}
	return s
}
