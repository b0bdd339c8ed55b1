package bundle

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
)

func TestReadPrefersFilesThenBundled(t *testing.T) {
	fsys := fstest.MapFS{"s/a.yaml": {Data: []byte("bundled a")}, "s/b.yaml": {Data: []byte("bundled b")}}
	file := filepath.Join(t.TempDir(), "a.yaml")
	if err := os.WriteFile(file, []byte("file a"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, want, err string }{
		{file, "file a", ""},
		{"a", "bundled a", ""},
		{"b.yaml", "bundled b", ""},
		{"c", "", "c: no such file, nor a bundled one (bundled: a, b)"},
	} {
		got, err := Read(tc.name, fsys, "s")
		if string(got) != tc.want || (err == nil) != (tc.err == "") || err != nil && !strings.Contains(err.Error(), tc.err) {
			t.Errorf("Read(%q) = %q, %v; want %q, %q", tc.name, got, err, tc.want, tc.err)
		}
	}
}

func TestAgentNames(t *testing.T) {
	for _, tc := range []struct {
		count int
		want  []string
	}{{0, []string{"h"}}, {1, []string{"h"}}, {3, []string{"h-1", "h-2", "h-3"}}} {
		if got := AgentNames("h", tc.count); !slices.Equal(got, tc.want) {
			t.Errorf("AgentNames(h, %d) = %v; want %v", tc.count, got, tc.want)
		}
	}
}
