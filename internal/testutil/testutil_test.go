package testutil

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Nothing in the repository names the old trace folder beside the
// checkout: a user's clone has nothing beside it. The needles are built
// from parts so that this file does not name it either.
func TestNothingNamesTheFolderBesideTheCheckout(t *testing.T) {
	root := moduleRoot(t)
	needles := [][]byte{[]byte(".." + "/shared"), []byte(`"shared", ` + `"traces"`)}
	files := trackedFiles(t, root)
	if len(files) < 100 {
		t.Fatalf("only %d files found under %s", len(files), root)
	}
	for _, f := range files {
		data, err := os.ReadFile(filepath.Join(root, f))
		if os.IsNotExist(err) {
			continue // deleted, not yet committed
		}
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range needles {
			if i := bytes.Index(data, n); i >= 0 {
				line := bytes.Count(data[:i], []byte("\n")) + 1
				t.Errorf("%s:%d names %q; use the shipped samples (traces/samples, $TRACES/) instead", f, line, n)
			}
		}
	}
}

// moduleRoot is the folder of go.mod above the working directory.
func moduleRoot(t *testing.T) string {
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the working directory")
		}
		dir = parent
	}
}

// trackedFiles lists the files git tracks, or, without git, every file
// under root but .git's.
func trackedFiles(t *testing.T, root string) []string {
	cmd := exec.Command("git", "ls-files", "-z")
	cmd.Dir = root
	if out, err := cmd.Output(); err == nil {
		var files []string
		for _, f := range strings.Split(string(out), "\x00") {
			if f != "" {
				files = append(files, f)
			}
		}
		return files
	}
	var files []string
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == ".git" {
			return filepath.SkipDir
		}
		if !d.IsDir() {
			rel, _ := filepath.Rel(root, p)
			files = append(files, rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}
