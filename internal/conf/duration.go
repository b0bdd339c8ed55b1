package conf

import (
	"errors"
	"time"
)

// Duration is a time.Duration written as "1s", "100ms", "2h", 0 or more.
type Duration time.Duration

// UnmarshalText reads a Go duration string.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil || v < 0 {
		return errors.New("is not a duration; want a non-negative one such as 1s, 100ms or 2h")
	}
	*d = Duration(v)
	return nil
}

// Example says what a duration looks like, for errors.
func (Duration) Example() string { return "a duration such as 1s, 100ms or 2h" }

// MarshalText writes the duration as a string, for manifests.
func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }
