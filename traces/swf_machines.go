package traces

import (
	"fmt"
	"io"
	"strconv"
)

// swfMachines reads the machine an SWF log ran on from its header, which
// comes before the first job: MaxNodes nodes of MaxProcs/MaxNodes
// processors each (MaxProcs one-processor nodes when the header has no
// MaxNodes), named node-1 to node-N, present from the start. SWF gives no
// memory per node: each gets Options.MachineMemMiB (0, none, by default;
// the reader's tasks ask for the log's memory, 0 where it has none).
func swfMachines(in *Input, opts Options) (MachineReader, error) {
	r := NewSWFReader(in, opts)
	for {
		line, err := in.Line()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		line = trimSpace(line)
		if len(line) > 0 && line[0] != ';' {
			break // the first job: the header is over
		}
		if len(line) > 0 {
			r.header(line[1:])
		}
	}
	nodes, procs, err := swfSize(r.stats.Header)
	if err != nil {
		file, _ := in.Pos()
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	m := &swfMachineReader{stats: Stats{Units: "processors as CPUs; memory in MiB", Header: r.stats.Header}, nodes: nodes}
	m.capacity = Resources{CPUs: float64(procs / nodes), MemMiB: max(opts.MachineMemMiB, 0)}
	return m, nil
}

// swfSize reads MaxNodes and MaxProcs from an SWF header.
func swfSize(h map[string]string) (nodes, procs int64, err error) {
	num := func(key string) (int64, error) {
		v, ok := h[key]
		if !ok {
			return 0, nil
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 || n > MaxTasksPerJob {
			return 0, fmt.Errorf("header %s: %q; want a count from 1 to %d", key, v, MaxTasksPerJob)
		}
		return n, nil
	}
	if procs, err = num("MaxProcs"); err != nil {
		return 0, 0, err
	}
	if nodes, err = num("MaxNodes"); err != nil {
		return 0, 0, err
	}
	switch {
	case procs == 0 && nodes == 0:
		return 0, 0, fmt.Errorf("no MaxProcs or MaxNodes in the header; want \"; MaxProcs: N\" to size the machine")
	case procs == 0:
		procs = nodes
	case nodes == 0:
		nodes = procs
	}
	if procs%nodes != 0 {
		return 0, 0, fmt.Errorf("header MaxProcs %d is not a multiple of MaxNodes %d; want the same processors on every node", procs, nodes)
	}
	return nodes, procs, nil
}

type swfMachineReader struct {
	stats    Stats
	nodes    int64
	next     int64
	capacity Resources
}

func (m *swfMachineReader) NextMachine() (*MachineEvent, error) {
	if m.next >= m.nodes {
		return nil, io.EOF
	}
	m.next++
	return &MachineEvent{Kind: MachineAdd, Machine: Machine{ID: "node-" + strconv.FormatInt(m.next, 10), Capacity: m.capacity}}, nil
}

func (m *swfMachineReader) Stats() Stats { return m.stats }
