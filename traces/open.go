package traces

import (
	"errors"
	"fmt"
)

// Table is one opened trace table: its format and a reader of its jobs or
// of its machines.
type Table struct {
	Format   Format
	Input    *Input
	Jobs     JobReader     // nil for a machine table
	Machines MachineReader // nil for a job table
}

// OpenTable opens the part files of one table. An empty format is detected
// from the content. A format with both jobs and machines is read for its
// jobs unless machines is set.
func OpenTable(format string, machines bool, opts Options, paths ...string) (*Table, error) {
	in, err := Open(paths...)
	if err != nil {
		return nil, err
	}
	t := &Table{Input: in}
	if format == "" {
		t.Format, err = Detect(in)
	} else {
		t.Format, err = Lookup(format)
	}
	if err != nil {
		in.Close()
		return nil, err
	}
	switch {
	case t.Format.Jobs != nil && !machines:
		t.Jobs, err = t.Format.Jobs(in, opts)
		if errors.Is(err, ErrMachineTable) && t.Format.Machines != nil {
			t.Jobs = nil
			t.Machines, err = t.Format.Machines(in, opts)
		}
	case t.Format.Machines != nil:
		t.Machines, err = t.Format.Machines(in, opts)
	default:
		err = fmt.Errorf("format %s has no %s table", t.Format.Name, map[bool]string{true: "machine", false: "job"}[machines])
	}
	if err != nil {
		in.Close()
		return nil, err
	}
	return t, nil
}

// Stats returns the reader's statistics.
func (t *Table) Stats() Stats {
	if t.Jobs != nil {
		return t.Jobs.Stats()
	}
	return t.Machines.Stats()
}

// Close closes the files.
func (t *Table) Close() error { return t.Input.Close() }
