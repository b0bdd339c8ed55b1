// Command apron is the one binary of apron: the allocation playground, and
// (as they land) the simulator, trace tools, experiment runner and live
// master and agents. It only reads flags and prints; the work is done by the
// packages it calls.
package main

import (
	"fmt"
	"os"
)

func main() {
	if err := newRoot().Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "apron:", err)
		os.Exit(1)
	}
}
