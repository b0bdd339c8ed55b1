// Package bundle holds what apron's packages share about inputs built into
// the binary: reading a file or, when no such file exists, a bundled one of
// that name; and naming the agents of a group (name-1 ... name-N). It
// imports nothing of apron's.
package bundle
