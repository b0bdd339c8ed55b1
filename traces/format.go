package traces

import (
	"fmt"
	"slices"
	"strings"
)

// JobReader streams the jobs of a trace and says what it read.
type JobReader interface {
	Source
	Stats() Stats
}

// MachineReader streams the machine events of a trace (a machine table is
// machines added at time 0).
type MachineReader interface {
	NextMachine() (*MachineEvent, error) // io.EOF after the last
	Stats() Stats
}

// Format is a trace format: how to recognise it and how to read its jobs,
// its machines, or both.
type Format struct {
	Name     string
	Describe string
	// Detect reports whether the first bytes (decompressed) of a file are
	// in this format.
	Detect   func(head []byte) bool
	Jobs     func(in *Input, opts Options) (JobReader, error)
	Machines func(in *Input, opts Options) (MachineReader, error)
}

var formats []Format

// Register adds a format; it is meant for init functions.
func Register(f Format) {
	if slices.ContainsFunc(formats, func(g Format) bool { return g.Name == f.Name }) {
		panic("traces: format " + f.Name + " registered twice")
	}
	formats = append(formats, f)
	slices.SortFunc(formats, func(a, b Format) int { return strings.Compare(a.Name, b.Name) })
}

// Formats returns every registered format, by name.
func Formats() []Format { return slices.Clone(formats) }

// Lookup returns the named format; an unknown name is an error that lists
// the known ones.
func Lookup(name string) (Format, error) {
	for _, f := range formats {
		if f.Name == name {
			return f, nil
		}
	}
	var names []string
	for _, f := range formats {
		names = append(names, f.Name)
	}
	return Format{}, fmt.Errorf("unknown trace format %q; known formats: %s", name, strings.Join(names, ", "))
}

// Detect returns the format of in from its first bytes.
func Detect(in *Input) (Format, error) {
	head := in.Head(64 << 10)
	for _, f := range formats {
		if f.Detect != nil && f.Detect(head) {
			return f, nil
		}
	}
	file, _ := in.Pos()
	return Format{}, fmt.Errorf("%s: cannot tell the trace format from its content; name it with --format (known: %s)", file, strings.Join(formatNames(), ", "))
}

func formatNames() []string {
	var names []string
	for _, f := range formats {
		names = append(names, f.Name)
	}
	return names
}
