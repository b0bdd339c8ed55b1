package testutil

import (
	"encoding/csv"
	"os"
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
