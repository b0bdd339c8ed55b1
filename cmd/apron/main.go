// Command apron is the one binary of apron: the allocation playground, the
// simulator, the trace tools, the experiment runner, and the live master
// (with its web UI), agents and tools. It only reads flags and prints; the
// work is done by the packages it calls.
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
