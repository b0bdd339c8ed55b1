package samples

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
)

// Manifest names the file of the shipped files' sha256 sums, in the format
// of sha256sum (a sum, two spaces, a slash-separated path).
const Manifest = "SHA256SUMS"

//go:embed SHA256SUMS README.md swf alibaba-v2017 alibaba-v2018 alibaba-gpu-v2020 alibaba-gpu-v2023 philly
var embedded embed.FS

// FS returns the shipped samples as a read-only file system: the data
// files, the README.md files and the manifest.
func FS() fs.FS { return embedded }

// Sums returns the manifest: each shipped file's sha256 (hex) by its
// slash-separated path.
func Sums() (map[string]string, error) {
	data, err := embedded.ReadFile(Manifest)
	if err != nil {
		return nil, err
	}
	return parseSums(data)
}

func parseSums(data []byte) (map[string]string, error) {
	sums := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		sum, name, ok := strings.Cut(sc.Text(), "  ")
		if !ok || len(sum) != 64 || name == "" {
			return nil, fmt.Errorf("%s:%d: %q is not \"SHA256  PATH\"", Manifest, n, sc.Text())
		}
		sums[name] = sum
	}
	return sums, sc.Err()
}

// Dir returns the absolute path of the folder holding the samples,
// writing them there on first use: the user's cache folder
// (os.UserCacheDir)/apron/traces-KEY, where KEY is from the manifest's
// hash, so that every version of the samples has its own folder. Every
// file there is checked against the manifest; a missing or altered one is
// written again (to a temporary file renamed into place, so that
// concurrent processes never see a partial file).
func Dir() (string, error) { return dirOnce() }

var dirOnce = sync.OnceValues(func() (string, error) {
	base, err := os.UserCacheDir()
	if err != nil {
		base = filepath.Join(os.TempDir(), fmt.Sprintf("apron-cache-%d", os.Getuid()))
	}
	return materialise(base)
})

// materialise writes the samples into a folder under base and returns it.
func materialise(base string) (string, error) {
	manifest, err := embedded.ReadFile(Manifest)
	if err != nil {
		return "", err
	}
	sums, err := parseSums(manifest)
	if err != nil {
		return "", err
	}
	key := sha256.Sum256(manifest)
	dir, err := filepath.Abs(filepath.Join(base, "apron", "traces-"+hex.EncodeToString(key[:6])))
	if err != nil {
		return "", err
	}
	err = fs.WalkDir(embedded, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || name == Manifest {
			return err
		}
		want, ok := sums[name]
		if !ok {
			return fmt.Errorf("shipped trace sample %s is not in %s", name, Manifest)
		}
		return place(filepath.Join(dir, filepath.FromSlash(name)), name, want)
	})
	if err != nil {
		return "", fmt.Errorf("trace samples: writing them to %s: %w", dir, err)
	}
	return dir, nil
}

// place makes dest hold the embedded file name, whose sha256 is want.
func place(dest, name, want string) error {
	if got, err := sumFile(dest); err == nil && got == want {
		return nil
	}
	data, err := embedded.ReadFile(name)
	if err != nil {
		return err
	}
	if got := sum(data); got != want {
		return fmt.Errorf("%s: sha256 %s, %s says %s", name, got, Manifest, want)
	}
	if err := os.MkdirAll(filepath.Dir(dest), 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(dest), ".part-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // once renamed, there is nothing to remove
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(0o444); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), dest)
}

func sum(data []byte) string {
	s := sha256.Sum256(data)
	return hex.EncodeToString(s[:])
}

func sumFile(p string) (string, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// Find returns the absolute path of a shipped sample named by its path in
// the samples' folder, slash-separated, with or without its compression
// suffix: "swf/KTH-SP2-1996-2.1-cln.swf" finds the .zst file.
func Find(rel string) (string, error) {
	dir, err := Dir()
	if err != nil {
		return "", err
	}
	p, err := lookup(dir, rel)
	if err != nil {
		return "", fmt.Errorf("trace sample %s: %w (the shipped samples are listed in traces/samples/%s)", rel, err, Manifest)
	}
	return p, nil
}

// compressed are the suffixes a file may carry beyond the name it is
// asked for; the trace readers decompress both transparently.
var compressed = []string{".zst", ".gz"}

// lookup finds rel under root: as named, with a compression suffix added,
// or without the one it has (a study naming x.swf.gz reads a raw x.swf).
func lookup(root, rel string) (string, error) {
	if rel == "" || path.IsAbs(rel) || strings.HasPrefix(path.Clean(rel), "..") {
		return "", fmt.Errorf("%q is not a path inside the trace folder", rel)
	}
	stem := rel
	for _, c := range compressed {
		stem = strings.TrimSuffix(stem, c)
	}
	tried := []string{rel}
	for _, c := range append([]string{""}, compressed...) {
		if n := stem + c; n != rel {
			tried = append(tried, n)
		}
	}
	for _, n := range tried {
		p := filepath.Join(root, filepath.FromSlash(n))
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("not in %s (looked for %s): %w", root, strings.Join(tried, ", "), fs.ErrNotExist)
}

// Env names the environment variable of the folder that $TRACES/ stands
// for instead of the shipped samples.
const Env = "APRON_TRACES"

// Prefix begins a path under the trace folder.
const Prefix = "$TRACES/"

// Resolve turns a path beginning $TRACES/ into an absolute path: under
// $APRON_TRACES when it is set, else in the shipped samples (Dir), the
// file as named or under its compressed name (see Find). Any other path
// is returned as it is, so resolving twice changes nothing. A $TRACES/
// path that names no file is an error saying where it was looked for.
func Resolve(p string) (string, error) {
	rel, ok := strings.CutPrefix(p, Prefix)
	if !ok {
		return p, nil
	}
	root, where := os.Getenv(Env), "$"+Env
	if root == "" {
		dir, err := Dir()
		if err != nil {
			return "", fmt.Errorf("%s: %w", p, err)
		}
		root, where = dir, "the samples shipped with apron; set "+Env+" to read another folder"
	} else {
		abs, err := filepath.Abs(root)
		if err != nil {
			return "", fmt.Errorf("%s: %s=%s: %w", p, Env, root, err)
		}
		root = abs
	}
	found, err := lookup(root, rel)
	if err != nil {
		return "", fmt.Errorf("%s: %w ($TRACES is %s)", p, err, where)
	}
	return found, nil
}

// ResolveAll resolves every path (see Resolve).
func ResolveAll(paths []string) ([]string, error) {
	out := make([]string, len(paths))
	for i, p := range paths {
		r, err := Resolve(p)
		if err != nil {
			return nil, err
		}
		out[i] = r
	}
	return out, nil
}
