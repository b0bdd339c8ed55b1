// Package notebooks_test tests failed.py, which make notebooks runs on each
// executed notebook: a failing cell is reported with the Go error it
// printed, not only GoNB's "exit status 2".
package notebooks_test

import (
	"os/exec"
	"strings"
	"testing"
)

func TestFailedSaysTheGoError(t *testing.T) {
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("no python3 (make notebooks needs Jupyter, and so python3)")
	}
	for _, c := range []struct {
		notebook string
		fails    bool
		want     []string
	}{
		{"testdata/go-error.ipynb", true, []string{"cell 4 failed:",
			"  apron: workload.trace: $TRACES/swf/KTH-SP2-1996-2.1-cln.swf: not in /nonexistent",
			"ERROR: exit status 2"}},
		{"testdata/compile-error.ipynb", true, []string{"cell 4 failed:", "Cell[2]: Line 18 ./main.go:22:1: undefined: mustt"}},
		{"testdata/ok.ipynb", false, nil},
	} {
		out, err := exec.Command("python3", "failed.py", c.notebook).CombinedOutput()
		if (err != nil) != c.fails {
			t.Errorf("%s: exit %v; want failure %v\n%s", c.notebook, err, c.fails, out)
		}
		for _, w := range c.want {
			if !strings.Contains(string(out), w) {
				t.Errorf("%s: output lacks %q:\n%s", c.notebook, w, out)
			}
		}
		for _, noise := range []string{"goroutine ", "\x1b[", "<div", "panic: "} {
			if strings.Contains(string(out), noise) {
				t.Errorf("%s: output shows %q:\n%s", c.notebook, noise, out)
			}
		}
	}
}
