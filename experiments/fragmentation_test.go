package experiments_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apronlab/apron/experiments"
)

// TestFragmentationByteIdentical runs a small openb fragmentation study
// twice, with one worker and with two: every file, the figures too, must
// be the same bytes, and the CSV files those of the golden files.
func TestFragmentationByteIdentical(t *testing.T) {
	f := experiments.OpenbFragmentation()
	f.Placements, f.Seeds, f.Target, f.Levels = []string{"random", "fgd", "best-fit"}, []uint64{42, 7}, 1.1, 10
	dirs := []string{t.TempDir(), t.TempDir()}
	var mds []string
	for i, dir := range dirs {
		md, err := experiments.RunFragmentation(context.Background(), f, dir, i+1, nil)
		if err != nil {
			t.Fatal(err)
		}
		mds = append(mds, md)
	}
	if mds[0] != mds[1] || !strings.Contains(mds[0], "| FGD GPU allocation at 110%, seed 42 |") {
		t.Errorf("the two runs' tables:\n%s\n%s", mds[0], mds[1])
	}
	for _, name := range []string{"runs.csv", "aggregate.csv", "paper.csv", "figures/allocation.png", "figures/allocation.svg"} {
		a, err := os.ReadFile(filepath.Join(dirs[0], name))
		if err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(filepath.Join(dirs[1], name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(a, b) || len(a) == 0 {
			t.Errorf("%s differs between the runs (or is empty)", name)
		}
		if strings.HasSuffix(name, ".csv") {
			checkGolden(t, "openb-fragmentation/"+name, a)
		}
	}
}

func TestFragmentationUnknownPlacement(t *testing.T) {
	f := experiments.OpenbFragmentation()
	f.Placements = []string{"worst-fit"}
	if _, err := experiments.RunFragmentation(context.Background(), f, t.TempDir(), 1, nil); err == nil || !strings.Contains(err.Error(), "want one of") {
		t.Errorf("experiments.RunFragmentation(worst-fit) = %v; want an error listing the placements", err)
	}
}
