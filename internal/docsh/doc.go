// Package docsh reads the shell examples of apron's Markdown documentation
// (its ```sh blocks) as commands, so that tests can run them or name the
// test that covers them: a documented command that stops working fails a
// test. It also checks that every code fence of a file closes on a line of
// its own, so the file renders. Shell parsing and word expansion are
// mvdan.cc/sh's.
package docsh
