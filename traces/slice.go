package traces

import (
	"fmt"
	"hash/fnv"
	"io"
	"math"
	"time"
)

// Slice says which part of a trace to keep and how to reshape it.
type Slice struct {
	From, To time.Duration // keep jobs submitted in [From, To); To 0: no end
	Fraction float64       // keep this fraction of the jobs (by a hash of id and seed); 0 means 1
	Seed     uint64
	// TimeScale multiplies submit times (after shifting From to 0) and
	// closed-loop think times: 0.5 submits the same jobs twice as fast,
	// doubling the load. Task durations are kept. 0 means 1.
	TimeScale float64
	// MachineFraction keeps this fraction of the machines (by a hash of id
	// and seed); 0 means 1.
	MachineFraction float64
}

func (s Slice) check() error {
	for _, f := range []struct {
		name string
		v    float64
	}{{"fraction", s.Fraction}, {"machine fraction", s.MachineFraction}} {
		if f.v < 0 || f.v > 1 || math.IsNaN(f.v) {
			return fmt.Errorf("slice %s %v: want a fraction from 0 to 1", f.name, f.v)
		}
	}
	if s.TimeScale < 0 || math.IsNaN(s.TimeScale) || math.IsInf(s.TimeScale, 0) {
		return fmt.Errorf("slice time scale %v: want a positive number", s.TimeScale)
	}
	if s.To != 0 && s.To <= s.From {
		return fmt.Errorf("slice window [%v, %v) is empty", s.From, s.To)
	}
	return nil
}

// keep reports whether an id falls in a fraction, stably for a seed.
func keep(id string, fraction float64, seed uint64) bool {
	if fraction == 0 || fraction >= 1 {
		return true
	}
	h := fnv.New64a()
	fmt.Fprintf(h, "%d/%s", seed, id)
	// FNV's high bits mix poorly over short, similar ids: finish with
	// splitmix64's mixer before taking them.
	x := h.Sum64()
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	x ^= x >> 31
	return float64(x>>11)/(1<<53) < fraction
}

// Jobs returns the sliced job stream.
func (s Slice) Jobs(src Source) (Source, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	return &sliced{s: s, src: src}, nil
}

type sliced struct {
	s   Slice
	src Source
}

func (x *sliced) Next() (*Job, error) {
	for {
		j, err := x.src.Next()
		if err != nil {
			return nil, err
		}
		if j.Submit < x.s.From || !keep(j.ID, x.s.Fraction, x.s.Seed) {
			continue
		}
		if x.s.To != 0 && j.Submit >= x.s.To {
			return nil, io.EOF // the stream is in submit order: nothing later fits
		}
		out := *j
		out.Submit = j.Submit - x.s.From
		if x.s.TimeScale != 0 {
			out.Submit = time.Duration(float64(out.Submit) * x.s.TimeScale)
			out.Think = time.Duration(float64(out.Think) * x.s.TimeScale)
		}
		return &out, nil
	}
}

// Machines returns the sliced machine stream: a fraction of the machines,
// their event times shifted by From and scaled like the jobs'.
func (s Slice) Machines(r MachineReader) (MachineReader, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	return &slicedMachines{s: s, r: r}, nil
}

type slicedMachines struct {
	s Slice
	r MachineReader
}

func (x *slicedMachines) NextMachine() (*MachineEvent, error) {
	for {
		e, err := x.r.NextMachine()
		if err != nil {
			return nil, err
		}
		if !keep(e.Machine.ID, x.s.MachineFraction, x.s.Seed) {
			continue
		}
		out := *e
		out.At = max(0, e.At-x.s.From)
		if x.s.TimeScale != 0 {
			out.At = time.Duration(float64(out.At) * x.s.TimeScale)
		}
		return &out, nil
	}
}

func (x *slicedMachines) Stats() Stats { return x.r.Stats() }
