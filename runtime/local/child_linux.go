package local

import "syscall"

// childAttr puts a master process in a process group of its own (a
// terminal's Ctrl-C reaches apron up, which stops the masters after its
// agents) and has the kernel kill it if this process dies first.
func childAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
