package burn

import (
	"context"
	"testing"
	"time"
)

func TestRunEndsAfterItsDuration(t *testing.T) {
	if err := Run(context.Background(), Spec{CPUs: 0.5, MemMiB: 8, Duration: 50 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
}

func TestRunEndsWithItsContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	go func() { time.Sleep(20 * time.Millisecond); cancel() }()
	if err := Run(ctx, Spec{CPUs: 1}); err != nil {
		t.Fatal(err)
	}
}

func TestRunRefusesNegatives(t *testing.T) {
	for _, s := range []Spec{{CPUs: -1}, {MemMiB: -1}, {Duration: -time.Second}} {
		if err := Run(context.Background(), s); err == nil {
			t.Errorf("Run(%+v): no error", s)
		}
	}
}
