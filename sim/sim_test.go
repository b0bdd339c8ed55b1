package sim_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/apronlab/apron/sim"
)

func runConfig(t *testing.T, path string, edit func(*sim.Config)) (string, sim.Summary) {
	t.Helper()
	cfg, err := sim.LoadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	if edit != nil {
		edit(cfg)
	}
	s, err := sim.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	res, err := s.Run(context.Background(), sim.Options{Dir: dir, Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Complete {
		t.Fatal("run incomplete")
	}
	var sum sim.Summary
	data, err := os.ReadFile(filepath.Join(dir, "summary.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &sum); err != nil {
		t.Fatal(err)
	}
	return dir, sum
}

func TestStaticVsShared(t *testing.T) {
	_, shared := runConfig(t, "testdata/static-vs-shared.yaml", nil)
	_, static := runConfig(t, "testdata/static-vs-shared.yaml", func(c *sim.Config) { c.Allocator.Policy = "static" })
	t.Logf("shared: %+v", shared)
	t.Logf("static: %+v", static)
}
