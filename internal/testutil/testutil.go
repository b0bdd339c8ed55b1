package testutil

import (
	"encoding/csv"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/apronlab/apron/traces/samples"
)

// Sample returns the absolute path of a shipped trace sample, named by its
// path in traces/samples with or without its compression suffix
// ("swf/KTH-SP2-1996-2.1-cln.swf"). A sample that is not shipped fails
// the test: it never skips.
func Sample(t testing.TB, rel string) string {
	t.Helper()
	p, err := samples.Find(rel)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// MainWithApron runs a package's tests (m) with the apron binary built
// into a temporary directory: set gets its path, and the directory for
// anything else the tests need, before they run. It exits the process
// with the tests' status, or 1 if the build or set fails.
func MainWithApron(m *testing.M, set func(bin, dir string) error) {
	os.Exit(mainWithApron(m, set))
}

func mainWithApron(m *testing.M, set func(bin, dir string) error) int {
	dir, err := os.MkdirTemp("", "apron-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	bin := filepath.Join(dir, "apron")
	build := exec.Command("go", "build", "-o", bin, "github.com/apronlab/apron/cmd/apron")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building apron:", err)
		return 1
	}
	if err := set(bin, dir); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return m.Run()
}

// ReadCSV reads a whole CSV file (a run's jobs.csv, a study's paper.csv);
// an error fails the test.
func ReadCSV(t testing.TB, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return rows
}
