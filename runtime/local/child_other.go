//go:build !linux

package local

import "syscall"

// childAttr puts a master process in a process group of its own (a
// terminal's Ctrl-C reaches apron up, which stops the masters after its
// agents). Only Linux can also have it killed when this process dies.
func childAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
