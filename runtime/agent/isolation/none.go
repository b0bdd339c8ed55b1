package isolation

import "fmt"

// None returns the no-isolation isolator: its containers hold nothing (Add
// does nothing, Pids is empty, OOMKilled is false, Files is empty) and
// Recover always succeeds, as there is nothing to lose in a restart.
func None() Isolator { return noneIsolator{} }

type noneIsolator struct{}

func (noneIsolator) Name() string { return "none" }

func (noneIsolator) Close() error { return nil }

func (noneIsolator) Create(id string, l Limits) (Container, error) {
	if err := checkID(id); err != nil {
		return nil, fmt.Errorf("isolation: create: %w", err)
	}
	if err := l.check(); err != nil {
		return nil, fmt.Errorf("isolation: create %s: %w", id, err)
	}
	return noneContainer{}, nil
}

func (noneIsolator) Recover(id string) (Container, error) {
	if err := checkID(id); err != nil {
		return nil, fmt.Errorf("isolation: recover: %w", err)
	}
	return noneContainer{}, nil
}

type noneContainer struct{}

func (noneContainer) Add(int) error            { return nil }
func (noneContainer) OOMKilled() (bool, error) { return false, nil }
func (noneContainer) Pids() ([]int, error)     { return nil, nil }
func (noneContainer) Files() map[string]string { return map[string]string{} }
func (noneContainer) Path() string             { return "" }
func (noneContainer) Delete() error            { return nil }
