package playground_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apronlab/apron/allocator/playground"
)

// Parse never panics, and what it accepts has agents and frameworks and
// events of exactly one kind each; what it refuses names the file.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("scenarios/*.yaml")
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(oneAgent + oneFramework + "events:\n  - {at: 1s, end_task: f, count: 1}\n  - {at: 2s, set_weight: {role: r, weight: 2}}\n"))
	f.Add([]byte("agents: [{name: a, resources: \"cpus:1\"}]\nframeworks: [{name: f, role: r, task: \"cpus:1\", tasks: unlimited}]\nevents: [{at: 1s, add_agent: {name: b, resources: \"cpus:2\"}}, {at: 1s, remove_agent: a}]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := playground.Parse("fuzz.yaml", bytes.NewReader(data))
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz.yaml") {
				t.Fatalf("error %q does not name the file", err)
			}
			return
		}
		if len(s.Agents) == 0 || len(s.Frameworks) == 0 {
			t.Fatalf("accepted a scenario without agents or frameworks: %+v", s)
		}
		for _, e := range s.Events {
			kinds := 0
			for _, given := range []bool{e.EndTask != "", e.EndFramework != "", e.AddAgent != nil, e.RemoveAgent != "", e.SetWeight != nil} {
				if given {
					kinds++
				}
			}
			if kinds != 1 {
				t.Fatalf("accepted an event of %d kinds: %+v", kinds, e)
			}
		}
	})
}
