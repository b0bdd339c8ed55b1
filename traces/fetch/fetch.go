package fetch

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// A Fetcher downloads traces. The zero value is not ready: use New.
type Fetcher struct {
	Client *http.Client
	// Retries is how many times a transfer that breaks off (or a 5xx
	// answer) is tried again, resuming, before Fetch gives up.
	Retries int
	// Backoff is the wait before the first retry, doubled for each next.
	Backoff time.Duration
	// Stall ends a transfer that receives nothing for this long (a retry
	// then resumes it).
	Stall time.Duration
	// Verify hashes files already downloaded again; otherwise a file in
	// place is trusted when its size is the published one (it was checked
	// before it was given its name).
	Verify bool
	// Progress, if set, is told about each file as its bytes arrive and
	// of what happens to it (Event.Note).
	Progress func(Event)
}

// An Event reports the progress of one file.
type Event struct {
	File        string // the local path
	Done, Total int64  // bytes; Total 0 when not known
	Note        string // a message ("resuming at ...") or ""
}

// New returns a Fetcher with an HTTP client whose connections time out
// (but not transfers, which may take hours), 3 retries and a one-minute
// stall limit.
func New() *Fetcher {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.ResponseHeaderTimeout = time.Minute
	return &Fetcher{Client: &http.Client{Transport: tr}, Retries: 3, Backoff: 2 * time.Second, Stall: time.Minute}
}

// A Result says what Fetch did with one file.
type Result struct {
	File    string // the local path
	Size    int64
	Checked string // "sha256", "size", "md5 (x-goog-hash)", ... or "unchecked"
	Fetched bool   // false if it was already there
}

// Fetch downloads the trace's files into dir, in their tables' order; the
// named tables only when tables is not empty. Files already there are
// kept; partial ones are resumed. It stops at the first file that fails,
// with an error saying which and why.
func (f *Fetcher) Fetch(ctx context.Context, t Trace, dir string, tables ...string) ([]Result, error) {
	for _, name := range tables {
		if !slices.Contains(t.TableNames(), name) {
			return nil, fmt.Errorf("%s has no table %q; its tables: %s", t.Name, name, strings.Join(t.TableNames(), ", "))
		}
	}
	want := func(table string) bool { return len(tables) == 0 || slices.Contains(tables, table) }
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	var results []Result
	get := func(file File) error {
		r, err := f.File(ctx, file, filepath.Join(dir, filepath.FromSlash(file.Name)))
		if err == nil {
			results = append(results, r)
		}
		return err
	}
	if t.Sums != "" {
		files, err := f.listed(ctx, t, dir)
		if err != nil {
			return results, err
		}
		for _, file := range files {
			table, _, nested := strings.Cut(file.Name, "/")
			if (nested && want(table)) || (!nested && len(tables) == 0) {
				if err := get(file); err != nil {
					return results, err
				}
			}
		}
		return results, nil
	}
	for _, tb := range t.Tables {
		if !want(tb.Name) {
			continue
		}
		for _, file := range tb.Files {
			if err := get(file); err != nil {
				return results, err
			}
		}
		for i := 0; tb.Shards != ""; i++ {
			err := get(File{Name: fmt.Sprintf(tb.ShardName, i), URL: fmt.Sprintf(tb.Shards, i)})
			var nf *NotFoundError
			if errors.As(err, &nf) && i > 0 {
				break // the shards end here
			}
			if err != nil {
				return results, err
			}
		}
	}
	return results, nil
}

// listed fetches the trace's checksum list and returns the files it names.
func (f *Fetcher) listed(ctx context.Context, t Trace, dir string) ([]File, error) {
	name := path.Base(t.Sums)
	p := filepath.Join(dir, name)
	if _, err := f.File(ctx, File{Name: name, URL: t.Sums}, p); err != nil {
		return nil, err
	}
	data, err := os.ReadFile(p)
	if err != nil {
		return nil, err
	}
	sums, err := ParseSums(data)
	if err != nil {
		return nil, fmt.Errorf("%s (from %s): %w", p, t.Sums, err)
	}
	var files []File
	for _, s := range sums {
		files = append(files, File{Name: s.Name, URL: t.Base + s.Name, SHA256: s.SHA256})
	}
	return files, nil
}

// A Sum is one line of a sha256sum-format list.
type Sum struct{ SHA256, Name string }

// ParseSums reads a sha256sum-format list: a 64-digit hex sum, white
// space, an optional '*' (binary mode) and a path, which loses a leading
// "./". Blank lines are skipped.
func ParseSums(data []byte) ([]Sum, error) {
	var sums []Sum
	for n, line := range strings.Split(string(data), "\n") {
		line = strings.TrimRight(line, "\r")
		if strings.TrimSpace(line) == "" {
			continue
		}
		sum, name, ok := strings.Cut(line, " ")
		name = strings.TrimPrefix(strings.TrimLeft(name, " "), "*")
		name = strings.TrimPrefix(name, "./")
		if !ok || len(sum) != 64 || strings.Trim(strings.ToLower(sum), "0123456789abcdef") != "" || name == "" ||
			path.IsAbs(name) || strings.HasPrefix(path.Clean(name), "..") {
			return nil, fmt.Errorf("line %d: %q is not \"SHA256  PATH\" with a relative path", n+1, line)
		}
		sums = append(sums, Sum{SHA256: strings.ToLower(sum), Name: path.Clean(name)})
	}
	return sums, nil
}

// NotFoundError is the server's 404 Not Found for a file.
type NotFoundError struct{ URL string }

func (e *NotFoundError) Error() string {
	return e.URL + ": 404 Not Found (the publisher does not serve this file, or no longer at this address)"
}

// ChecksumError is a downloaded file that is not what its publisher says;
// it was deleted.
type ChecksumError struct {
	File, URL, Check, Got, Want string
}

func (e *ChecksumError) Error() string {
	return fmt.Sprintf("%s (from %s): %s is %s, want %s as published: the download is corrupt or the file has changed; it was deleted (run again to download it anew)",
		e.File, e.URL, e.Check, e.Got, e.Want)
}

// transient marks an error worth a retry that resumes.
type transient struct{ error }

func (t transient) Unwrap() error { return t.error }

// File downloads one file to dest (see Fetcher), retrying transfers that
// break off.
func (f *Fetcher) File(ctx context.Context, file File, dest string) (Result, error) {
	if r, done, err := f.present(file, dest); done || err != nil {
		return r, err
	}
	wait := f.Backoff
	for attempt := 0; ; attempt++ {
		r, err := f.once(ctx, file, dest)
		var tr transient
		if err == nil || !errors.As(err, &tr) || attempt >= f.Retries || ctx.Err() != nil {
			return r, err
		}
		f.note(dest, 0, 0, fmt.Sprintf("%v; retrying in %v (%d of %d)", err, wait, attempt+1, f.Retries))
		select {
		case <-ctx.Done():
			return r, fmt.Errorf("%w (interrupted)", err)
		case <-time.After(wait):
		}
		wait *= 2
	}
}

func (f *Fetcher) note(file string, done, total int64, msg string) {
	if f.Progress != nil {
		f.Progress(Event{File: file, Done: done, Total: total, Note: msg})
	}
}

// present reports whether dest is already there, checked as well as Verify
// asks; a file there that fails the check is an error (it is the user's to
// delete).
func (f *Fetcher) present(file File, dest string) (Result, bool, error) {
	st, err := os.Stat(dest)
	if err != nil {
		return Result{}, false, nil
	}
	r := Result{File: dest, Size: st.Size(), Checked: "unchecked"}
	if file.Size > 0 {
		if st.Size() != file.Size {
			return r, false, fmt.Errorf("%s is already there with %d bytes, but %s has %d: delete it to fetch it again", dest, st.Size(), file.URL, file.Size)
		}
		r.Checked = "size"
	}
	if f.Verify && file.SHA256 != "" {
		sums, err := hashFile(dest, st.Size())
		if err != nil {
			return r, false, err
		}
		if got := sums.sha256(); got != file.SHA256 {
			return r, false, fmt.Errorf("%s is already there but its sha256 is %s, want %s as published for %s: delete it to fetch it again", dest, got, file.SHA256, file.URL)
		}
		r.Checked = "sha256"
	}
	f.note(dest, st.Size(), st.Size(), "already here ("+r.Checked+")")
	return r, true, nil
}

// offline explains a failure to reach the server.
func offline(url string, err error) error {
	var dns *net.DNSError
	if errors.As(err, &dns) {
		return fmt.Errorf("%s: no network? the DNS lookup of %s failed: %w", url, dns.Name, err)
	}
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return fmt.Errorf("%s: cannot connect (no network, a firewall, or the server is down): %w", url, err)
	}
	return fmt.Errorf("%s: %w", url, err)
}
