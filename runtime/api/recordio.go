package api

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
)

// MaxRecord is the largest RecordIO record a reader accepts.
const MaxRecord = 64 << 20

// AppendRecord appends one RecordIO frame, "<length>\n<bytes>", holding v
// encoded as JSON.
func AppendRecord(dst []byte, v any) ([]byte, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return dst, err
	}
	dst = strconv.AppendInt(dst, int64(len(data)), 10)
	dst = append(dst, '\n')
	return append(dst, data...), nil
}

// RecordReader reads RecordIO frames.
type RecordReader struct {
	r *bufio.Reader
}

// NewRecordReader reads frames from r.
func NewRecordReader(r io.Reader) *RecordReader {
	return &RecordReader{r: bufio.NewReaderSize(r, 64<<10)}
}

// Next returns the next record's bytes; io.EOF at a clean end of stream.
func (rr *RecordReader) Next() ([]byte, error) {
	line, err := rr.r.ReadSlice('\n')
	if err != nil {
		if err == io.EOF && len(line) == 0 {
			return nil, io.EOF
		}
		return nil, fmt.Errorf("recordio: reading a frame's length: %w", noEOF(err))
	}
	n, err := strconv.Atoi(string(line[:len(line)-1]))
	if err != nil || n < 0 || n > MaxRecord {
		return nil, fmt.Errorf("recordio: frame length %q is not a number from 0 to %d", line[:len(line)-1], MaxRecord)
	}
	buf := make([]byte, n)
	if _, err := io.ReadFull(rr.r, buf); err != nil {
		return nil, fmt.Errorf("recordio: reading a %d-byte frame: %w", n, noEOF(err))
	}
	return buf, nil
}

// Decode reads the next record into v.
func (rr *RecordReader) Decode(v any) error {
	data, err := rr.Next()
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("recordio: a frame is not the JSON expected: %w", err)
	}
	return nil
}

func noEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}
