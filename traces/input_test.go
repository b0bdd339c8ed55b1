package traces_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apronlab/apron/traces"
	"github.com/klauspost/compress/zstd"
)

func write(t *testing.T, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func gz(t *testing.T, s string) []byte {
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	w.Write([]byte(s))
	w.Close()
	return b.Bytes()
}

func zst(t *testing.T, s string) []byte {
	var b bytes.Buffer
	w, err := zstd.NewWriter(&b)
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte(s))
	w.Close()
	return b.Bytes()
}

// Part files in plain text, gzip and zstd read as one stream, with the
// file and line of every line known.
// tarOf is a tar archive of name, content pairs; a name ending in / is a
// directory.
func tarOf(t *testing.T, files ...string) string {
	t.Helper()
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	for i := 0; i < len(files); i += 2 {
		h := &tar.Header{Name: files[i], Mode: 0o644, Size: int64(len(files[i+1])), Typeflag: tar.TypeReg}
		if strings.HasSuffix(files[i], "/") {
			h.Typeflag, h.Mode = tar.TypeDir, 0o755
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(files[i+1])); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestInputReadsPartsAcrossCompressions(t *testing.T) {
	dir := t.TempDir()
	a := write(t, dir, "part-0", []byte("a1\na2\n"))
	b := write(t, dir, "part-1", gz(t, "b1\r\nb2"))
	c := write(t, dir, "part-2", zst(t, "c1\n"))
	d := write(t, dir, "part-3.tar.gz", gz(t, tarOf(t, "d.csv", "d1\nd2\n", "sub/", "", "e.csv", "e1\n")))
	in, err := traces.Open(a, b, c, d)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	var got []string
	for {
		line, err := in.Line()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		file, n := in.Pos()
		got = append(got, string(line)+"@"+filepath.Base(file)+":"+string(rune('0'+n)))
	}
	want := "a1@part-0:1 a2@part-0:2 b1@part-1:1 b2@part-1:2 c1@part-2:1 d1@part-3.tar.gz:d.csv:1 d2@part-3.tar.gz:d.csv:2 e1@part-3.tar.gz:e.csv:1"
	if strings.Join(got, " ") != want {
		t.Fatalf("got %v; want %s", got, want)
	}
}

// A truncated compressed part is an error naming the file, never a short
// trace.
func TestInputTruncatedCompressionIsAnError(t *testing.T) {
	long := strings.Repeat("0 1 2 3 4 5 6 7 8 9\n", 5000)
	archive := []byte(tarOf(t, "a.csv", long, "b.csv", long))
	for name, data := range map[string][]byte{"cut.gz": gz(t, long), "cut.zst": zst(t, long), "cut.tar": archive, "cut.tar.gz": gz(t, string(archive))} {
		p := write(t, t.TempDir(), name, data[:len(data)/2])
		in, err := traces.Open(p)
		if err == nil {
			for err == nil {
				_, err = in.Line()
			}
		}
		if errors.Is(err, io.EOF) || !strings.Contains(err.Error(), name) {
			t.Errorf("%s: err = %v; want an error naming the file", name, err)
		}
	}
}
