package launch

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"syscall"

	"golang.org/x/sys/unix"
)

// The helper's fds: the gate it reads its Spec from, and where it writes
// what failed (close-on-exec: EOF tells the agent the task runs).
const (
	gateFD = 3
	errFD  = 4
)

func init() {
	if len(os.Args) == 1 && os.Args[0] == helperName {
		runHelper()
	}
}

// runHelper follows the Spec and execs the task; it never returns.
func runHelper() {
	runtime.LockOSThread() // the namespace is the thread's: exec from it
	syscall.CloseOnExec(errFD)
	err := helper(os.NewFile(gateFD, "gate"))
	fmt.Fprint(os.NewFile(errFD, "errors"), err)
	os.Exit(127)
}

func helper(gate *os.File) error {
	data, err := io.ReadAll(io.LimitReader(gate, maxSpec+1))
	gate.Close()
	switch {
	case err != nil:
		return fmt.Errorf("reading the spec: %w", err)
	case len(data) == 0:
		return errors.New("the agent gave no spec")
	case len(data) > maxSpec:
		return fmt.Errorf("the spec is longer than %d bytes", maxSpec)
	}
	var s Spec
	if err := json.Unmarshal(data, &s); err != nil {
		return fmt.Errorf("reading the spec: %w", err)
	}
	if len(s.Argv) == 0 {
		return errors.New("the spec has no command")
	}
	if s.CgroupNS {
		if err := unix.Unshare(unix.CLONE_NEWCGROUP); err != nil {
			return fmt.Errorf("entering a new cgroup namespace: %w", err)
		}
	}
	if s.User != nil {
		if err := become(*s.User); err != nil {
			return err
		}
	}
	return fmt.Errorf("exec %s: %w", s.Argv[0], syscall.Exec(s.Argv[0], s.Argv, s.Env))
}

// become switches every thread to the user: its groups, gid, then uid; an
// unprivileged user must then be unable to get root back.
func become(id Identity) error {
	groups := make([]int, len(id.Groups))
	for i, g := range id.Groups {
		groups[i] = int(g)
	}
	if err := syscall.Setgroups(groups); err != nil {
		return fmt.Errorf("becoming user %s: setgroups %v: %w", id.Name, groups, err)
	}
	if err := syscall.Setresgid(int(id.GID), int(id.GID), int(id.GID)); err != nil {
		return fmt.Errorf("becoming user %s: setgid %d: %w", id.Name, id.GID, err)
	}
	if err := syscall.Setresuid(int(id.UID), int(id.UID), int(id.UID)); err != nil {
		return fmt.Errorf("becoming user %s: setuid %d: %w", id.Name, id.UID, err)
	}
	if id.UID != 0 && syscall.Setresuid(0, 0, 0) == nil {
		return fmt.Errorf("becoming user %s: root could be regained", id.Name)
	}
	return nil
}
