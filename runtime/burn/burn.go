package burn

import (
	"context"
	"fmt"
	"math"
	"runtime"
	"sync"
	"time"
)

// Spec is what to burn.
type Spec struct {
	CPUs     float64       // cores; a fraction runs a duty cycle
	MemMiB   float64       // touched and held
	Duration time.Duration // 0: until ctx ends
}

// slice is the period of the duty cycle.
const slice = 10 * time.Millisecond

// Run burns until the duration passes or ctx ends.
func Run(ctx context.Context, s Spec) error {
	if s.CPUs < 0 || s.MemMiB < 0 || s.Duration < 0 || math.IsNaN(s.CPUs) || math.IsNaN(s.MemMiB) {
		return fmt.Errorf("burn: cpus %v, mem %v, duration %v; each must be 0 or more", s.CPUs, s.MemMiB, s.Duration)
	}
	if s.Duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, s.Duration)
		defer cancel()
	}
	mem := make([]byte, int(s.MemMiB*(1<<20)))
	for i := 0; i < len(mem); i += 4096 {
		mem[i] = 1
	}
	var wg sync.WaitGroup
	for left := s.CPUs; left > 0; left-- {
		share := math.Min(left, 1)
		wg.Go(func() { spin(ctx, share) })
	}
	<-ctx.Done()
	wg.Wait()
	keep(mem)
	return nil
}

// spin keeps one core busy for share of every slice.
func spin(ctx context.Context, share float64) {
	busy := time.Duration(share * float64(slice))
	for ctx.Err() == nil {
		start := time.Now()
		for time.Since(start) < busy {
		}
		if rest := slice - time.Since(start); rest > 0 {
			time.Sleep(rest)
		}
	}
}

// keep makes the memory live to the end.
func keep(b []byte) { runtime.KeepAlive(b) }
