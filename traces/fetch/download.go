package fetch

import (
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// once makes one attempt at dest's download, resuming dest.part, and
// gives the file its name once it is complete and checked.
func (f *Fetcher) once(ctx context.Context, file File, dest string) (Result, error) {
	part := dest + ".part"
	if err := os.MkdirAll(filepath.Dir(dest), 0o755); err != nil {
		return Result{}, err
	}
	var offset int64
	if st, err := os.Stat(part); err == nil && (file.Size == 0 || st.Size() <= file.Size) {
		offset = st.Size() // else longer than the file: start again
	}
	sums, err := hashFile(part, offset)
	if err != nil {
		return Result{}, err
	}
	t := transfer{file: file, dest: dest, part: part, offset: offset, total: file.Size, sums: sums}
	if file.Size == 0 || offset < file.Size {
		if err := f.get(ctx, &t); err != nil {
			return Result{}, err
		}
	}
	return f.finish(&t)
}

// A transfer is one attempt at one file.
type transfer struct {
	file        File
	dest, part  string
	offset      int64 // bytes of the part file before this attempt
	size        int64 // bytes of the part file now
	total       int64 // the file's size, 0 when unknown
	sums        *sums
	whole       bool   // this attempt received the whole file
	contentMD5  string // the MD5 Google Cloud Storage sends (base64), if any
	serverTotal int64
}

// get requests the rest of the file and appends it to the part file.
func (f *Fetcher) get(ctx context.Context, t *transfer) error {
	rctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	req, err := http.NewRequestWithContext(rctx, http.MethodGet, t.file.URL, nil)
	if err != nil {
		return err
	}
	req.Header.Set("User-Agent", "apron-trace-fetch (+https://github.com/apronlab/apron)")
	req.Header.Set("Accept-Encoding", "identity") // the bytes as published, never recompressed on the way
	if t.offset > 0 {
		req.Header.Set("Range", fmt.Sprintf("bytes=%d-", t.offset))
	}
	resp, err := f.Client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("%s: interrupted: %w", t.file.URL, ctx.Err())
		}
		return offline(t.file.URL, err)
	}
	defer resp.Body.Close()
	t.size = t.offset
	switch resp.StatusCode {
	case http.StatusOK:
		if t.offset > 0 {
			f.note(t.dest, 0, t.total, "the server does not resume downloads (no Range support): starting again from 0")
			t.offset, t.size, t.sums = 0, 0, newSums()
		}
		t.whole = true
		if resp.ContentLength >= 0 {
			t.serverTotal = resp.ContentLength
		}
	case http.StatusPartialContent:
		start, total, ok := contentRange(resp.Header.Get("Content-Range"))
		if !ok || start != t.offset {
			os.Remove(t.part)
			return transient{fmt.Errorf("%s: asked for the bytes from %d, the server sent %q: starting again from 0", t.file.URL, t.offset, resp.Header.Get("Content-Range"))}
		}
		t.serverTotal = total
		f.note(t.dest, t.offset, total, fmt.Sprintf("resuming at byte %d", t.offset))
	case http.StatusRequestedRangeNotSatisfiable:
		if _, total, ok := contentRange(resp.Header.Get("Content-Range")); ok && total == t.offset {
			t.serverTotal = total
			return nil // the part file is the whole file
		}
		os.Remove(t.part)
		return transient{fmt.Errorf("%s: the partial file %s is not a prefix of the file served: starting again from 0", t.file.URL, t.part)}
	case http.StatusNotFound:
		return &NotFoundError{URL: t.file.URL}
	default:
		err := fmt.Errorf("%s: the server answered %s", t.file.URL, resp.Status)
		if resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests {
			return transient{err}
		}
		return err
	}
	if t.serverTotal > 0 {
		if t.file.Size > 0 && t.serverTotal != t.file.Size {
			return fmt.Errorf("%s: the server sends %d bytes, but %d are published: not downloaded", t.file.URL, t.serverTotal, t.file.Size)
		}
		t.total = t.serverTotal
	}
	if t.whole {
		t.contentMD5 = googleMD5(resp.Header)
	}
	return f.copyBody(ctx, rctx, cancel, t, resp.Body)
}

var errStalled = errors.New("stalled")

// copyBody appends the body to the part file, hashing and reporting it; a
// stall (no byte for f.Stall) cancels rctx.
func (f *Fetcher) copyBody(ctx, rctx context.Context, cancel context.CancelCauseFunc, t *transfer, body io.Reader) error {
	flags := os.O_CREATE | os.O_WRONLY | os.O_APPEND
	if t.offset == 0 {
		flags |= os.O_TRUNC
	}
	out, err := os.OpenFile(t.part, flags, 0o644)
	if err != nil {
		return err
	}
	stall := f.Stall
	if stall <= 0 {
		stall = time.Hour
	}
	timer := time.AfterFunc(stall, func() { cancel(errStalled) })
	defer timer.Stop()
	buf := make([]byte, 256<<10)
	var copyErr error
	for {
		n, err := body.Read(buf)
		if n > 0 {
			timer.Reset(stall)
			if _, werr := out.Write(buf[:n]); werr != nil {
				copyErr = werr
				break
			}
			t.sums.Write(buf[:n])
			t.size += int64(n)
			f.note(t.dest, t.size, t.total, "")
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			copyErr = err
			break
		}
	}
	if err := out.Close(); err != nil && copyErr == nil {
		copyErr = err
	}
	if copyErr == nil {
		return nil
	}
	kept := fmt.Sprintf("%d of %s bytes kept in %s", t.size, sizeText(t.total), t.part)
	switch {
	case ctx.Err() != nil:
		return fmt.Errorf("%s: interrupted: %s; run the same command again to resume: %w", t.file.URL, kept, ctx.Err())
	case errors.Is(context.Cause(rctx), errStalled):
		return transient{fmt.Errorf("%s: no data for %v: %s", t.file.URL, stall, kept)}
	}
	return transient{fmt.Errorf("%s: the transfer broke off (%v): %s", t.file.URL, copyErr, kept)}
}

func sizeText(n int64) string {
	if n <= 0 {
		return "?"
	}
	return strconv.FormatInt(n, 10)
}

// finish checks the complete part file and gives it its name; a file that
// fails a check is deleted.
func (f *Fetcher) finish(t *transfer) (Result, error) {
	if t.size < t.offset {
		t.size = t.offset
	}
	if t.total > 0 && t.size < t.total {
		return Result{}, transient{fmt.Errorf("%s: the transfer ended early: %d of %d bytes kept in %s", t.file.URL, t.size, t.total, t.part)}
	}
	r := Result{File: t.dest, Size: t.size, Checked: "unchecked", Fetched: true}
	bad := func(check, got, want string) (Result, error) {
		os.Remove(t.part)
		return Result{}, &ChecksumError{File: t.dest, URL: t.file.URL, Check: check, Got: got, Want: want}
	}
	if t.file.Size > 0 {
		if t.size != t.file.Size {
			return bad("the size", strconv.FormatInt(t.size, 10), strconv.FormatInt(t.file.Size, 10))
		}
		r.Checked = "size"
	}
	switch {
	case t.file.SHA256 != "":
		if got := t.sums.sha256(); got != t.file.SHA256 {
			return bad("the sha256", got, t.file.SHA256)
		}
		r.Checked = "sha256"
	case t.contentMD5 != "":
		if got := t.sums.md5(); got != t.contentMD5 {
			return bad("the MD5 (base64)", got, t.contentMD5+" (x-goog-hash)")
		}
		r.Checked = "md5 (x-goog-hash)"
	}
	if err := os.Rename(t.part, t.dest); err != nil {
		return Result{}, err
	}
	f.note(t.dest, t.size, t.size, "done ("+r.Checked+")")
	return r, nil
}

// contentRange parses "bytes START-END/TOTAL" or "bytes */TOTAL" (START
// -1); total -1 when "*".
func contentRange(h string) (start, total int64, ok bool) {
	rest, ok := strings.CutPrefix(h, "bytes ")
	if !ok {
		return 0, 0, false
	}
	rng, tot, ok := strings.Cut(rest, "/")
	if !ok {
		return 0, 0, false
	}
	total = -1
	if tot != "*" {
		n, err := strconv.ParseInt(tot, 10, 64)
		if err != nil {
			return 0, 0, false
		}
		total = n
	}
	if rng == "*" {
		return -1, total, true
	}
	s, _, ok := strings.Cut(rng, "-")
	n, err := strconv.ParseInt(s, 10, 64)
	if !ok || err != nil {
		return 0, 0, false
	}
	return n, total, true
}

// googleMD5 returns the md5 of an x-goog-hash header ("crc32c=...,md5=..."),
// base64, or "".
func googleMD5(h http.Header) string {
	for _, v := range h.Values("X-Goog-Hash") {
		for _, part := range strings.Split(v, ",") {
			if s, ok := strings.CutPrefix(strings.TrimSpace(part), "md5="); ok {
				return s
			}
		}
	}
	return ""
}

// sums hashes a file as it is written.
type sums struct{ s, m hash.Hash }

func newSums() *sums { return &sums{s: sha256.New(), m: md5.New()} }

func (h *sums) Write(p []byte) {
	h.s.Write(p)
	h.m.Write(p)
}

func (h *sums) sha256() string { return hex.EncodeToString(h.s.Sum(nil)) }
func (h *sums) md5() string    { return base64.StdEncoding.EncodeToString(h.m.Sum(nil)) }

// hashFile hashes the first n bytes of the file at p (nothing when n is 0).
func hashFile(p string, n int64) (*sums, error) {
	h := newSums()
	if n == 0 {
		return h, nil
	}
	in, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer in.Close()
	w := writerFunc(func(b []byte) (int, error) { h.Write(b); return len(b), nil })
	if _, err := io.CopyN(w, in, n); err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	return h, nil
}

type writerFunc func([]byte) (int, error)

func (w writerFunc) Write(b []byte) (int, error) { return w(b) }
