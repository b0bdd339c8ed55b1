package samples

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/klauspost/compress/zstd"
)

var update = flag.Bool("update", false, "rewrite SHA256SUMS from the shipped files")

// shipped lists the embedded files but the manifest, sorted.
func shipped(t *testing.T) []string {
	t.Helper()
	var names []string
	err := fs.WalkDir(FS(), ".", func(name string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && name != Manifest {
			names = append(names, name)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(names)
	return names
}

// SHA256SUMS lists every shipped file with its sum, and nothing else;
// -update rewrites it.
func TestManifest(t *testing.T) {
	var want bytes.Buffer
	for _, name := range shipped(t) {
		data, err := fs.ReadFile(FS(), name)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&want, "%s  %s\n", sum(data), name)
	}
	if *update {
		if err := os.WriteFile(Manifest, want.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	got, _ := fs.ReadFile(FS(), Manifest)
	if !bytes.Equal(got, want.Bytes()) {
		t.Fatalf("%s is stale (go test ./traces/samples -run TestManifest -update rewrites it):\ngot\n%s\nwant\n%s", Manifest, got, want.Bytes())
	}
}

// Each folder's README gives the sha256 of every data file shipped in it
// and, for a zstd file, of the original that it decompresses to.
func TestReadmesGiveTheSums(t *testing.T) {
	sums, err := Sums()
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range shipped(t) {
		dir := path.Dir(name)
		if path.Base(name) == "README.md" || dir == "." {
			continue
		}
		readme, err := fs.ReadFile(FS(), path.Join(dir, "README.md"))
		if err != nil {
			t.Fatalf("%s has no README.md: %v", dir, err)
		}
		if line := sums[name] + "  " + path.Base(name); !bytes.Contains(readme, []byte(line)) {
			t.Errorf("%s/README.md lacks the shipped file's sum %q", dir, line)
		}
		if !strings.HasSuffix(name, ".zst") {
			continue
		}
		orig := originalSum(t, name)
		if line := orig + "  " + strings.TrimSuffix(path.Base(name), ".zst"); !bytes.Contains(readme, []byte(line)) {
			t.Errorf("%s/README.md lacks the original's sum %q (what %s decompresses to)", dir, line, name)
		}
	}
}

func originalSum(t *testing.T, name string) string {
	t.Helper()
	f, err := FS().Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := zstd.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	h := sha256.New()
	if _, err := io.Copy(h, zr); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// The samples are written once, read-only, checked on every use and
// written again when altered or missing; writers in parallel agree.
func TestMaterialise(t *testing.T) {
	base := t.TempDir()
	var wg sync.WaitGroup
	dirs := make([]string, 4)
	errs := make([]error, 4)
	for i := range dirs {
		wg.Go(func() { dirs[i], errs[i] = materialise(base) })
	}
	wg.Wait()
	for i := range dirs {
		if errs[i] != nil || dirs[i] != dirs[0] {
			t.Fatalf("writer %d: %q, %v; want %q", i, dirs[i], errs[i], dirs[0])
		}
	}
	dir := dirs[0]
	if !filepath.IsAbs(dir) || !strings.HasPrefix(dir, filepath.Join(base, "apron", "traces-")) {
		t.Fatalf("folder %s; want an absolute one under %s/apron", dir, base)
	}
	sums, err := Sums()
	if err != nil {
		t.Fatal(err)
	}
	check := func() {
		t.Helper()
		for name, want := range sums {
			got, err := sumFile(filepath.Join(dir, filepath.FromSlash(name)))
			if err != nil || got != want {
				t.Fatalf("%s: sha256 %s, %v; want %s", name, got, err, want)
			}
		}
	}
	check()
	kth := filepath.Join(dir, "swf", "KTH-SP2-1996-2.1-cln.swf.zst")
	if st, err := os.Stat(kth); err != nil || st.Mode().Perm()&0o222 != 0 {
		t.Fatalf("%s: %v, %v; want a read-only file", kth, st.Mode(), err)
	}
	if err := os.Chmod(kth, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(kth, []byte("altered"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(dir, "philly", "cluster_machine_list.zst")); err != nil {
		t.Fatal(err)
	}
	if again, err := materialise(base); err != nil || again != dir {
		t.Fatalf("again: %q, %v", again, err)
	}
	check()
	leftovers, _ := filepath.Glob(filepath.Join(dir, "*", ".part-*"))
	if len(leftovers) > 0 {
		t.Errorf("temporary files left: %v", leftovers)
	}
}

func TestLookup(t *testing.T) {
	root := t.TempDir()
	for _, f := range []string{"swf/a.swf.zst", "swf/b.swf", "swf/c.swf.gz", "x.csv"} {
		p := filepath.Join(root, filepath.FromSlash(f))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []struct{ rel, want string }{
		{"x.csv", "x.csv"},
		{"swf/a.swf", "swf/a.swf.zst"},     // the shipped, compressed sample
		{"swf/a.swf.zst", "swf/a.swf.zst"}, // named in full
		{"swf/b.swf.gz", "swf/b.swf"},      // a raw file where a study names the gzipped one
		{"swf/b.swf", "swf/b.swf"},
		{"swf/c.swf", "swf/c.swf.gz"},
		{"swf/c.swf.zst", "swf/c.swf.gz"},
	} {
		got, err := lookup(root, c.rel)
		if want := filepath.Join(root, filepath.FromSlash(c.want)); err != nil || got != want {
			t.Errorf("lookup(%q) = %q, %v; want %q", c.rel, got, err, want)
		}
	}
	_, err := lookup(root, "swf/none.swf")
	if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), "swf/none.swf, swf/none.swf.zst, swf/none.swf.gz") || !strings.Contains(err.Error(), root) {
		t.Errorf("missing file: %v; want ErrNotExist naming the folder and the names tried", err)
	}
	for _, bad := range []string{"", "../x.csv", "/etc/passwd", "swf/../../x"} {
		if _, err := lookup(root, bad); err == nil {
			t.Errorf("lookup(%q) found a file; want an error", bad)
		}
	}
}

func TestResolve(t *testing.T) {
	// Not a $TRACES/ path: as it is.
	for _, p := range []string{"rel/x.csv", "/abs/x.csv", "$TRACESx/y", "TRACES/y"} {
		if got, err := Resolve(p); err != nil || got != p {
			t.Errorf("Resolve(%q) = %q, %v; want it unchanged", p, got, err)
		}
	}
	// The shipped samples by default, under the compressed name.
	t.Setenv(Env, "")
	got, err := Resolve("$TRACES/swf/KTH-SP2-1996-2.1-cln.swf")
	if err != nil || !filepath.IsAbs(got) || filepath.Base(got) != "KTH-SP2-1996-2.1-cln.swf.zst" {
		t.Fatalf("Resolve = %q, %v; want the absolute path of the shipped .zst", got, err)
	}
	if again, err := Resolve(got); err != nil || again != got {
		t.Errorf("resolving twice: %q, %v; want %q", again, err, got)
	}
	if found, err := Find("swf/KTH-SP2-1996-2.1-cln.swf"); err != nil || found != got {
		t.Errorf("Find = %q, %v; want %q", found, err, got)
	}
	_, err = Resolve("$TRACES/swf/none.swf")
	if err == nil || !strings.Contains(err.Error(), "$TRACES/swf/none.swf") || !strings.Contains(err.Error(), "shipped with apron") || !strings.Contains(err.Error(), Env) {
		t.Errorf("missing sample: %v; want an error naming the path, the shipped samples and %s", err, Env)
	}
	// $APRON_TRACES, relative, holding raw files.
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "swf"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "swf", "NASA-iPSC-1993-3.1-cln.swf"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Chdir(filepath.Dir(root))
	t.Setenv(Env, filepath.Base(root))
	got, err = Resolve("$TRACES/swf/NASA-iPSC-1993-3.1-cln.swf.gz")
	if want := filepath.Join(root, "swf", "NASA-iPSC-1993-3.1-cln.swf"); err != nil || got != want {
		t.Errorf("with %s: %q, %v; want %q", Env, got, err, want)
	}
	_, err = Resolve("$TRACES/swf/KTH-SP2-1996-2.1-cln.swf")
	if err == nil || !strings.Contains(err.Error(), "$"+Env) || !strings.Contains(err.Error(), root) {
		t.Errorf("missing under %s: %v; want an error naming it and %s", Env, err, root)
	}
	all, err := ResolveAll([]string{"plain", "$TRACES/swf/NASA-iPSC-1993-3.1-cln.swf"})
	if err != nil || len(all) != 2 || all[0] != "plain" || !filepath.IsAbs(all[1]) {
		t.Errorf("ResolveAll = %q, %v", all, err)
	}
}
