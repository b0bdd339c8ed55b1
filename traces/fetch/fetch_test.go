package fetch

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// server serves files by path, with faults on demand.
type server struct {
	*httptest.Server
	mu       sync.Mutex
	files    map[string][]byte
	noRange  bool              // ignore Range headers: 200 and the whole file
	cut      map[string]int    // the first request of a path sends this many bytes, then breaks the connection
	hang     map[string]int    // every request of a path sends this many bytes, then waits for the client to go
	googMD5  map[string]string // x-goog-hash md5 to send
	requests []string          // "path range"
}

func newServer(t *testing.T) *server {
	s := &server{files: map[string][]byte{}, cut: map[string]int{}, hang: map[string]int{}, googMD5: map[string]string{}}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

func (s *server) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.requests = append(s.requests, r.URL.Path+" "+r.Header.Get("Range"))
	data, ok := s.files[r.URL.Path]
	cut, cutting := s.cut[r.URL.Path]
	delete(s.cut, r.URL.Path)
	hang, hanging := s.hang[r.URL.Path]
	md := s.googMD5[r.URL.Path]
	noRange := s.noRange
	s.mu.Unlock()
	if !ok {
		http.NotFound(w, r)
		return
	}
	if md != "" {
		w.Header().Set("X-Goog-Hash", "crc32c=AAAAAA==,md5="+md)
	}
	switch {
	case cutting || hanging:
		n := cut
		if hanging {
			n = hang
		}
		w.Header().Set("Content-Length", fmt.Sprint(len(data)))
		w.WriteHeader(http.StatusOK)
		w.Write(data[:n])
		w.(http.Flusher).Flush()
		if hanging {
			<-r.Context().Done()
		}
		panic(http.ErrAbortHandler) // break the connection mid-body
	case noRange:
		w.Header().Set("Content-Length", fmt.Sprint(len(data)))
		w.Write(data)
	default:
		http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(data))
	}
}

func (s *server) add(path string, data []byte) File {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.files[path] = data
	return File{Name: strings.TrimPrefix(path, "/"), URL: s.URL + path, Size: int64(len(data)), SHA256: hexSum(data)}
}

func (s *server) log() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.requests...)
}

func hexSum(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func payload(n int) []byte {
	b := make([]byte, n)
	r := rand.New(rand.NewPCG(1, uint64(n)))
	for i := range b {
		b[i] = byte(r.IntN(256))
	}
	return b
}

// quick is a Fetcher for tests: no retries unless asked, no waiting.
func quick(notes *[]string) *Fetcher {
	f := New()
	f.Retries, f.Backoff = 0, time.Millisecond
	f.Progress = func(e Event) {
		if e.Note != "" && notes != nil {
			*notes = append(*notes, e.Note)
		}
	}
	return f
}

func mustContain(t *testing.T, p string, want []byte) {
	t.Helper()
	got, err := os.ReadFile(p)
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("%s: %d bytes, %v; want the %d bytes served", p, len(got), err, len(want))
	}
}

func absent(t *testing.T, paths ...string) {
	t.Helper()
	for _, p := range paths {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Errorf("%s is there (%v); want it absent", p, err)
		}
	}
}

// partHas fails unless dest's part file holds the n bytes received.
func partHas(t *testing.T, dest string, n int64) {
	t.Helper()
	if st, err := os.Stat(dest + ".part"); err != nil || st.Size() != n {
		t.Fatalf("part file %v, %v; want the %d bytes received kept", st, err, n)
	}
}

func TestFetchChecksAndKeeps(t *testing.T) {
	s := newServer(t)
	data := payload(300_000)
	file := s.add("/a.swf.gz", data)
	dest := filepath.Join(t.TempDir(), "a.swf.gz")
	var notes []string
	f := quick(&notes)
	r, err := f.File(context.Background(), file, dest)
	if err != nil || !r.Fetched || r.Checked != "sha256" || r.Size != int64(len(data)) {
		t.Fatalf("File = %+v, %v; want fetched, sha256 checked", r, err)
	}
	mustContain(t, dest, data)
	absent(t, dest+".part")
	// Again: already here, no request.
	before := len(s.log())
	r, err = f.File(context.Background(), file, dest)
	if err != nil || r.Fetched || len(s.log()) != before {
		t.Fatalf("again: %+v, %v, %d requests; want it kept without a request", r, err, len(s.log())-before)
	}
	// With Verify, a file altered in place is an error, left to the user.
	f.Verify = true
	data2 := append([]byte(nil), data...)
	data2[7] ^= 1
	os.WriteFile(dest, data2, 0o644)
	if _, err := f.File(context.Background(), file, dest); err == nil || !strings.Contains(err.Error(), "delete it") {
		t.Fatalf("altered file: %v; want an error telling to delete it", err)
	}
}

// A transfer that breaks off keeps its partial file; the next run asks for
// the rest with a Range request and ends with the right file.
func TestResumeAfterInterruptedTransfer(t *testing.T) {
	s := newServer(t)
	data := payload(500_000)
	file := s.add("/t.tar.gz", data)
	s.cut["/t.tar.gz"] = 200_000
	dest := filepath.Join(t.TempDir(), "t.tar.gz")
	_, err := quick(nil).File(context.Background(), file, dest)
	var tr transient
	if err == nil || !errors.As(err, &tr) || !strings.Contains(err.Error(), "broke off") || !strings.Contains(err.Error(), dest+".part") {
		t.Fatalf("cut transfer: %v; want a transient error naming the kept part file", err)
	}
	absent(t, dest)
	partHas(t, dest, 200_000)
	var notes []string
	r, err := quick(&notes).File(context.Background(), file, dest)
	if err != nil || r.Checked != "sha256" {
		t.Fatalf("resume: %+v, %v", r, err)
	}
	mustContain(t, dest, data)
	log := s.log()
	if last := log[len(log)-1]; last != "/t.tar.gz bytes=200000-" {
		t.Errorf("last request %q; want a Range from byte 200000", last)
	}
	if !strings.Contains(strings.Join(notes, "\n"), "resuming at byte 200000") {
		t.Errorf("notes %q; want one saying it resumed", notes)
	}
}

// With retries, one Fetch rides out a broken transfer, resuming.
func TestRetryResumes(t *testing.T) {
	s := newServer(t)
	data := payload(100_000)
	file := s.add("/r.csv", data)
	s.cut["/r.csv"] = 30_000
	f := quick(nil)
	f.Retries = 2
	dest := filepath.Join(t.TempDir(), "r.csv")
	if _, err := f.File(context.Background(), file, dest); err != nil {
		t.Fatal(err)
	}
	mustContain(t, dest, data)
	if log := s.log(); len(log) != 2 || log[1] != "/r.csv bytes=30000-" {
		t.Errorf("requests %q; want the cut one and a resume from 30000", log)
	}
}

// A server without Range support sends the whole file again: the part
// file is started over, not appended to.
func TestServerWithoutRange(t *testing.T) {
	s := newServer(t)
	s.noRange = true
	data := payload(80_000)
	file := s.add("/n.swf", data)
	dest := filepath.Join(t.TempDir(), "n.swf")
	if err := os.WriteFile(dest+".part", data[:30_000], 0o644); err != nil {
		t.Fatal(err)
	}
	var notes []string
	r, err := quick(&notes).File(context.Background(), file, dest)
	if err != nil || r.Checked != "sha256" {
		t.Fatalf("%+v, %v", r, err)
	}
	mustContain(t, dest, data)
	if !strings.Contains(strings.Join(notes, "\n"), "no Range support") {
		t.Errorf("notes %q; want one saying the download started again", notes)
	}
}

// A file that does not match its published sum is deleted and reported,
// never given its name; so is one of the wrong size.
func TestChecksumMismatch(t *testing.T) {
	s := newServer(t)
	data := payload(50_000)
	file := s.add("/c.tar.gz", data)
	dir := t.TempDir()
	dest := filepath.Join(dir, "c.tar.gz")
	file.SHA256 = hexSum([]byte("something else"))
	_, err := quick(nil).File(context.Background(), file, dest)
	var ce *ChecksumError
	if !errors.As(err, &ce) || !strings.Contains(err.Error(), "sha256") || !strings.Contains(err.Error(), file.SHA256) || !strings.Contains(err.Error(), "deleted") {
		t.Fatalf("err %v; want a *ChecksumError naming the sha256 wanted", err)
	}
	absent(t, dest, dest+".part")
	// The published size differs from what the server sends: nothing
	// downloaded.
	file = s.add("/c.tar.gz", data)
	file.Size++
	_, err = quick(nil).File(context.Background(), file, dest)
	if err == nil || !strings.Contains(err.Error(), "published") {
		t.Fatalf("wrong size: %v; want an error saying the published size differs", err)
	}
	absent(t, dest)
}

func TestNotFound(t *testing.T) {
	s := newServer(t)
	dest := filepath.Join(t.TempDir(), "x")
	_, err := quick(nil).File(context.Background(), File{Name: "x", URL: s.URL + "/x"}, dest)
	var nf *NotFoundError
	if !errors.As(err, &nf) || !strings.Contains(err.Error(), s.URL+"/x") || !strings.Contains(err.Error(), "404") {
		t.Fatalf("err %v; want a *NotFoundError naming the URL", err)
	}
	absent(t, dest, dest+".part")
}

// A part file that is already the whole file (the server answers 416 to a
// range past its end) is checked and named, without a body.
func TestCompletePartFile(t *testing.T) {
	s := newServer(t)
	data := payload(10_000)
	file := s.add("/p.csv", data)
	file.Size = 0 // unknown, so the server is asked
	dest := filepath.Join(t.TempDir(), "p.csv")
	os.WriteFile(dest+".part", data, 0o644)
	if r, err := quick(nil).File(context.Background(), file, dest); err != nil || r.Checked != "sha256" {
		t.Fatalf("%+v, %v", r, err)
	}
	mustContain(t, dest, data)
}

// Offline: an error naming the URL and saying that the network or DNS
// failed.
func TestOffline(t *testing.T) {
	f := quick(nil)
	f.Client = &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		return nil, &net.OpError{Op: "dial", Net: network, Err: &net.DNSError{Err: "no such host", Name: "aliopentrace.oss-cn-beijing.aliyuncs.com", IsNotFound: true}}
	}}}
	url := "http://aliopentrace.oss-cn-beijing.aliyuncs.com/v2018Traces/batch_task.tar.gz"
	_, err := f.File(context.Background(), File{Name: "b", URL: url}, filepath.Join(t.TempDir(), "b"))
	if err == nil || !strings.Contains(err.Error(), url) || !strings.Contains(err.Error(), "no network") || !strings.Contains(err.Error(), "DNS") {
		t.Fatalf("err %v; want one naming the URL, no network and DNS", err)
	}
	// A refused connection.
	s := newServer(t)
	s.Close()
	_, err = quick(nil).File(context.Background(), File{Name: "c", URL: s.URL + "/c"}, filepath.Join(t.TempDir(), "c"))
	if err == nil || !strings.Contains(err.Error(), s.URL+"/c") || !strings.Contains(err.Error(), "cannot connect") {
		t.Fatalf("refused: %v; want one naming the URL and saying it cannot connect", err)
	}
}

// Cancelling (Ctrl-C) keeps the partial file and says how to resume.
func TestCancelKeepsPartial(t *testing.T) {
	s := newServer(t)
	data := payload(400_000)
	file := s.add("/h.json.gz", data)
	s.hang["/h.json.gz"] = 150_000
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	f := quick(nil)
	f.Retries = 3
	f.Progress = func(e Event) {
		if e.Done >= 150_000 {
			cancel()
		}
	}
	dest := filepath.Join(t.TempDir(), "h.json.gz")
	_, err := f.File(ctx, file, dest)
	if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "run the same command again to resume") {
		t.Fatalf("err %v; want a cancellation saying how to resume", err)
	}
	partHas(t, dest, 150_000)
	absent(t, dest)
	if n := len(s.log()); n != 1 {
		t.Errorf("%d requests; want no retry after a cancellation", n)
	}
}

// A transfer that stops sending is ended after Stall and may be resumed.
func TestStall(t *testing.T) {
	s := newServer(t)
	data := payload(100_000)
	file := s.add("/s.csv", data)
	s.hang["/s.csv"] = 40_000
	f := quick(nil)
	f.Stall = 200 * time.Millisecond
	dest := filepath.Join(t.TempDir(), "s.csv")
	_, err := f.File(context.Background(), file, dest)
	if err == nil || !strings.Contains(err.Error(), "no data for 200ms") {
		t.Fatalf("err %v; want a stall", err)
	}
	partHas(t, dest, 40_000)
	delete(s.hang, "/s.csv")
	if _, err := f.File(context.Background(), file, dest); err != nil {
		t.Fatal(err)
	}
	mustContain(t, dest, data)
}

// Numbered shards are fetched until the first 404; a table without shard
// 0 is an error.
func TestShards(t *testing.T) {
	s := newServer(t)
	var want [][]byte
	for i := range 3 {
		want = append(want, payload(1000+i))
		s.add(fmt.Sprintf("/ev-%03d.json.gz", i), want[i])
	}
	s.googMD5["/ev-001.json.gz"] = md5Of(want[1])
	tr := Trace{Name: "g", Tables: []Table{{Name: "ev", Shards: s.URL + "/ev-%03d.json.gz", ShardName: "ev/ev-%03d.json.gz"}, {Name: "none", Shards: s.URL + "/none-%03d.json.gz", ShardName: "none-%03d.json.gz"}}}
	dir := t.TempDir()
	res, err := quick(nil).Fetch(context.Background(), tr, dir, "ev")
	if err != nil || len(res) != 3 || res[1].Checked != "md5 (x-goog-hash)" || res[0].Checked != "unchecked" {
		t.Fatalf("Fetch = %+v, %v; want 3 shards, the second checked by its MD5", res, err)
	}
	for i := range 3 {
		mustContain(t, filepath.Join(dir, "ev", fmt.Sprintf("ev-%03d.json.gz", i)), want[i])
	}
	if _, err := quick(nil).Fetch(context.Background(), tr, dir, "none"); err == nil || !strings.Contains(err.Error(), "404") {
		t.Fatalf("no shard 0: %v; want a 404", err)
	}
	if _, err := quick(nil).Fetch(context.Background(), tr, dir, "nosuch"); err == nil || !strings.Contains(err.Error(), "ev, none") {
		t.Fatalf("unknown table: %v; want an error listing the tables", err)
	}
	// A wrong MD5 from the server: the shard is deleted.
	s.googMD5["/ev-000.json.gz"] = md5Of([]byte("x"))
	os.Remove(filepath.Join(dir, "ev", "ev-000.json.gz"))
	var ce *ChecksumError
	if _, err := quick(nil).Fetch(context.Background(), tr, dir, "ev"); !errors.As(err, &ce) {
		t.Fatalf("bad MD5: %v; want a *ChecksumError", err)
	}
	absent(t, filepath.Join(dir, "ev", "ev-000.json.gz"))
}

func md5Of(b []byte) string {
	s := md5.Sum(b)
	return base64.StdEncoding.EncodeToString(s[:])
}

// A trace with a published checksum list: its files are the ones listed,
// checked by their sums, filtered by table.
func TestSumsList(t *testing.T) {
	s := newServer(t)
	a, b, schema := payload(2000), payload(3000), []byte("schema\n")
	s.add("/job_events/part-00000-of-00001.csv.gz", a)
	s.add("/task_events/part-00000-of-00001.csv.gz", b)
	s.add("/schema.csv", schema)
	s.add("/SHA256SUM", []byte(hexSum(a)+"  ./job_events/part-00000-of-00001.csv.gz\n"+
		hexSum(b)+" *task_events/part-00000-of-00001.csv.gz\n"+hexSum(schema)+"  schema.csv\n"))
	tr := Trace{Name: "g11", Sums: s.URL + "/SHA256SUM", Base: s.URL + "/", Tables: []Table{{Name: "job_events"}, {Name: "task_events"}}}
	dir := t.TempDir()
	res, err := quick(nil).Fetch(context.Background(), tr, dir, "task_events")
	if err != nil || len(res) != 1 || res[0].Checked != "sha256" {
		t.Fatalf("one table: %+v, %v", res, err)
	}
	mustContain(t, filepath.Join(dir, "task_events", "part-00000-of-00001.csv.gz"), b)
	absent(t, filepath.Join(dir, "job_events"))
	res, err = quick(nil).Fetch(context.Background(), tr, dir)
	if err != nil || len(res) != 3 || res[1].Fetched {
		t.Fatalf("all: %+v, %v; want 3 files, task_events kept", res, err)
	}
	mustContain(t, filepath.Join(dir, "schema.csv"), schema)
	// A file that does not match the list.
	s.add("/job_events/part-00000-of-00001.csv.gz", b)
	os.Remove(filepath.Join(dir, "job_events", "part-00000-of-00001.csv.gz"))
	var ce *ChecksumError
	if _, err := quick(nil).Fetch(context.Background(), tr, dir, "job_events"); !errors.As(err, &ce) {
		t.Fatalf("mismatch: %v; want a *ChecksumError", err)
	}
}

func TestParseSums(t *testing.T) {
	sum := strings.Repeat("ab", 32)
	got, err := ParseSums([]byte(sum + "  a/b.gz\r\n\n" + strings.ToUpper(sum) + " *./c\n"))
	if err != nil || len(got) != 2 || got[0] != (Sum{sum, "a/b.gz"}) || got[1] != (Sum{sum, "c"}) {
		t.Fatalf("ParseSums = %+v, %v", got, err)
	}
	for _, bad := range []string{"abc  x", sum, sum + "  ../x", sum + "  /etc/x", strings.Repeat("zz", 32) + "  x"} {
		if _, err := ParseSums([]byte(bad)); err == nil || !strings.Contains(err.Error(), "line 1") {
			t.Errorf("ParseSums(%q): %v; want an error at line 1", bad, err)
		}
	}
}

func TestContentRange(t *testing.T) {
	for _, c := range []struct {
		h            string
		start, total int64
		ok           bool
	}{
		{"bytes 100-199/1000", 100, 1000, true},
		{"bytes */1000", -1, 1000, true},
		{"bytes 0-9/*", 0, -1, true},
		{"bits 0-9/10", 0, 0, false},
		{"bytes x-9/10", 0, 0, false},
		{"", 0, 0, false},
	} {
		s, tot, ok := contentRange(c.h)
		if s != c.start || tot != c.total || ok != c.ok {
			t.Errorf("contentRange(%q) = %d, %d, %v; want %d, %d, %v", c.h, s, tot, ok, c.start, c.total, c.ok)
		}
	}
}
