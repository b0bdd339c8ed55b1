package traces

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/klauspost/compress/zstd"
)

// Input reads the lines of one trace table stored in one or more part
// files, in order, as one stream; gzip and zstd parts are decompressed
// transparently (detected by their magic bytes, not their names), and the
// regular files of a tar archive (as Alibaba publishes its tables, .tar.gz)
// are read in archive order as parts of their own. It knows the file and
// line of every line it returns, for errors; a file in an archive is named
// archive:member.
type Input struct {
	paths []string
	next  int
	f     *os.File
	dec   io.Closer
	br    *bufio.Reader
	file  string
	line  int
	read  countingReader
	err   error
	tr    *tar.Reader // the archive being read, if any
	arch  string      // its path
}

// Open opens the part files of one table, to be read in the order given.
func Open(paths ...string) (*Input, error) {
	if len(paths) == 0 {
		return nil, errors.New("no input file")
	}
	for _, p := range paths {
		if _, err := os.Stat(p); err != nil {
			return nil, err
		}
	}
	in := &Input{paths: paths}
	if err := in.advance(); err != nil {
		return nil, err
	}
	return in, nil
}

// countingReader counts the bytes read from the files (compressed), for
// progress.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

func (in *Input) advance() error {
	if in.tr != nil {
		if ok, err := in.nextMember(); ok || err != nil {
			return err
		}
	}
	in.closeCurrent()
	if in.next >= len(in.paths) {
		return io.EOF
	}
	in.file = in.paths[in.next]
	in.next++
	in.line = 0
	f, err := os.Open(in.file)
	if err != nil {
		return err
	}
	in.f = f
	in.read.r = f
	raw := bufio.NewReaderSize(&in.read, 1<<16)
	magic, _ := raw.Peek(4)
	var r io.Reader = raw
	switch {
	case bytes.HasPrefix(magic, []byte{0x1f, 0x8b}):
		gz, err := gzip.NewReader(raw)
		if err != nil {
			return fmt.Errorf("%s: %w", in.file, err)
		}
		r, in.dec = gz, gz
	case bytes.HasPrefix(magic, []byte{0x28, 0xb5, 0x2f, 0xfd}):
		zr, err := zstd.NewReader(raw)
		if err != nil {
			return fmt.Errorf("%s: %w", in.file, err)
		}
		r, in.dec = zr, zr.IOReadCloser()
	}
	in.br = bufio.NewReaderSize(r, 1<<20)
	if head, _ := in.br.Peek(512); isTar(head) {
		in.tr, in.arch = tar.NewReader(in.br), in.file
		if ok, err := in.nextMember(); !ok && err == nil {
			return in.advance() // an archive of no regular file
		} else if err != nil {
			return err
		}
	}
	return nil
}

// isTar reports whether b starts with a POSIX (ustar) tar header.
func isTar(b []byte) bool { return len(b) >= 263 && string(b[257:262]) == "ustar" }

// nextMember moves to the next regular file of the archive; false at its
// end.
func (in *Input) nextMember() (bool, error) {
	for {
		h, err := in.tr.Next()
		if err == io.EOF {
			in.tr = nil
			return false, nil
		}
		if err != nil {
			if errors.Is(err, io.ErrUnexpectedEOF) {
				err = fmt.Errorf("truncated archive: %w", err)
			}
			return false, fmt.Errorf("%s: %w", in.arch, err)
		}
		if h.Typeflag == tar.TypeReg {
			in.file, in.line = in.arch+":"+h.Name, 0
			in.br = bufio.NewReaderSize(in.tr, 1<<20)
			return true, nil
		}
	}
}

func (in *Input) closeCurrent() {
	in.tr = nil
	if in.dec != nil {
		in.dec.Close()
		in.dec = nil
	}
	if in.f != nil {
		in.f.Close()
		in.f = nil
	}
}

// Line returns the next line without its line ending, and where it stands.
// The slice is valid until the next call. At the end of the last file it
// returns io.EOF; a damaged or truncated compressed file is an error that
// names the file, never a short trace.
func (in *Input) Line() ([]byte, error) {
	for {
		if in.err != nil {
			return nil, in.err
		}
		line, err := in.br.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			long := append([]byte(nil), line...)
			for err == bufio.ErrBufferFull {
				line, err = in.br.ReadSlice('\n')
				long = append(long, line...)
			}
			line = long
		}
		if len(line) > 0 && (err == nil || err == io.EOF) {
			in.line++
			return bytes.TrimRight(line, "\r\n"), nil
		}
		if err == io.EOF {
			if in.err = in.advance(); in.err != nil {
				return nil, in.err
			}
			continue
		}
		if errors.Is(err, io.ErrUnexpectedEOF) {
			err = fmt.Errorf("truncated compressed stream after line %d: %w", in.line, err)
		}
		in.err = fmt.Errorf("%s: %w", in.file, err)
		return nil, in.err
	}
}

// Pos returns the file and line number of the line Line returned last.
func (in *Input) Pos() (string, int) { return in.file, in.line }

// BytesRead returns how many bytes of the files (as stored) have been read.
func (in *Input) BytesRead() int64 { return in.read.n }

// Head returns the first n bytes of the (decompressed) first file, for
// format detection, without consuming them.
func (in *Input) Head(n int) []byte {
	b, _ := in.br.Peek(n)
	return b
}

// Close closes the open file.
func (in *Input) Close() error {
	in.closeCurrent()
	return nil
}

// ParseError is a malformed line: where it is and what was expected.
type ParseError struct {
	File   string
	Line   int
	Column int    // 1-based field number; 0 when the whole line is wrong
	Field  string // the field's name, when known
	Err    error
}

func (e *ParseError) Error() string {
	switch {
	case e.Column > 0 && e.Field != "":
		return fmt.Sprintf("%s:%d: column %d (%s): %v", e.File, e.Line, e.Column, e.Field, e.Err)
	case e.Column > 0:
		return fmt.Sprintf("%s:%d: column %d: %v", e.File, e.Line, e.Column, e.Err)
	}
	return fmt.Sprintf("%s:%d: %v", e.File, e.Line, e.Err)
}

func (e *ParseError) Unwrap() error { return e.Err }

// Stats is what a reader has read so far.
type Stats struct {
	Lines    int64  // data lines read
	Skipped  int64  // malformed lines skipped (Options.SkipBad)
	FirstBad error  // the first skipped line's error
	Units    string // the units the reader converted from, said in words
	// Header holds what a format's header says (SWF: MaxProcs,
	// UnixStartTime, TimeZone...), by key.
	Header map[string]string
}

// Options are the knobs the readers take.
type Options struct {
	// SkipBad skips malformed lines, counting them in Stats, instead of
	// stopping at the first.
	SkipBad bool
	// MachineCPUs and MachineMemMiB are the size of the largest machine,
	// for traces whose resources are normalised to it (Google 2011 and
	// 2019); 0 takes the reader's documented default.
	MachineCPUs   float64
	MachineMemMiB float64
	// Reorder is the window, in jobs, of the buffer that mends nearly
	// ordered traces; 0 takes the reader's default.
	Reorder int
	// Mapping drives the generic CSV reader.
	Mapping *CSVMapping
}

// CSVMapping says which column of a CSV file holds what, for traces no
// reader knows. Columns are named by header name or 1-based number.
type CSVMapping struct {
	Comma   string `yaml:"comma" json:"comma,omitempty"`     // default ","
	Header  bool   `yaml:"header" json:"header,omitempty"`   // the first line names the columns
	Comment string `yaml:"comment" json:"comment,omitempty"` // lines starting with it are skipped
	// Columns maps a field (job, submit, duration, end, tasks, cpus, mem,
	// disk, gpus, user, group, priority) to its column.
	Columns map[string]CSVColumn `yaml:"columns" json:"columns"`
}

// CSVColumn is one mapped column: where it is and how to read it.
type CSVColumn struct {
	Name  string  `yaml:"name" json:"name,omitempty"`   // header name
	Index int     `yaml:"index" json:"index,omitempty"` // or 1-based number
	Unit  string  `yaml:"unit" json:"unit,omitempty"`   // times: s, ms, us, ns; sizes: B, KiB, MiB, GiB
	Scale float64 `yaml:"scale" json:"scale,omitempty"` // multiplied in after the unit; 0 means 1
}

// skip decides what a malformed line means: with SkipBad it is counted and
// reading goes on (skip reports true); without, it is the error.
func (s *Stats) skip(opts Options, err error) (bool, error) {
	if !opts.SkipBad {
		return false, err
	}
	s.Skipped++
	if s.FirstBad == nil {
		s.FirstBad = err
	}
	return true, nil
}
