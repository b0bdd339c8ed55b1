package launch

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/user"
	"strconv"
	"syscall"
)

// helperName is the helper's argv[0], which init recognises.
const helperName = "apron-task-init"

// maxSpec bounds the Spec the helper reads.
const maxSpec = 16 << 20

// Spec is what the helper does once the agent has put it in its cgroup.
type Spec struct {
	// User is who the task runs as; nil: the agent's own user (an agent
	// that is not root cannot switch).
	User *Identity `json:"user,omitempty"`
	// CgroupNS: enter a new cgroup namespace first.
	CgroupNS bool     `json:"cgroup_ns,omitempty"`
	Env      []string `json:"env"`
	Argv     []string `json:"argv"` // Argv[0] is an absolute path
}

// Identity is a user as the kernel knows it.
type Identity struct {
	Name   string   `json:"name"`
	UID    uint32   `json:"uid"`
	GID    uint32   `json:"gid"`
	Groups []uint32 `json:"groups"` // supplementary, the primary one included
}

// Lookup resolves a user name on this machine: uid, primary gid and
// supplementary groups.
func Lookup(name string) (Identity, error) {
	u, err := user.Lookup(name)
	if err != nil {
		var unknown user.UnknownUserError
		if errors.As(err, &unknown) {
			return Identity{}, fmt.Errorf("user %q does not exist on this machine", name)
		}
		return Identity{}, fmt.Errorf("looking up user %q: %w", name, err)
	}
	id := Identity{Name: u.Username}
	uid, err := strconv.ParseUint(u.Uid, 10, 32)
	if err != nil {
		return Identity{}, fmt.Errorf("user %q: uid %q: %w", name, u.Uid, err)
	}
	gid, err := strconv.ParseUint(u.Gid, 10, 32)
	if err != nil {
		return Identity{}, fmt.Errorf("user %q: gid %q: %w", name, u.Gid, err)
	}
	id.UID, id.GID = uint32(uid), uint32(gid)
	gids, err := u.GroupIds()
	if err != nil {
		return Identity{}, fmt.Errorf("user %q: supplementary groups: %w", name, err)
	}
	for _, g := range gids {
		n, err := strconv.ParseUint(g, 10, 32)
		if err != nil {
			return Identity{}, fmt.Errorf("user %q: group %q: %w", name, g, err)
		}
		id.Groups = append(id.Groups, uint32(n))
	}
	return id, nil
}

// Process is a helper, started and held at its gate until Release.
type Process struct {
	Cmd  *exec.Cmd
	gate *os.File // the Spec goes here
	errs *os.File // the helper's error, or EOF once it exec'd the task
}

// Start starts the helper in dir with the task's stdout and stderr, with
// no environment, in a process group of its own; it waits for Release.
func Start(dir string, stdout, stderr *os.File) (*Process, error) {
	gateR, gateW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	errR, errW, err := os.Pipe()
	if err != nil {
		gateR.Close()
		gateW.Close()
		return nil, err
	}
	cmd := &exec.Cmd{Path: "/proc/self/exe", Args: []string{helperName}, Env: []string{}, Dir: dir,
		Stdout: stdout, Stderr: stderr, ExtraFiles: []*os.File{gateR, errW}, SysProcAttr: &syscall.SysProcAttr{Setpgid: true}}
	err = cmd.Start()
	gateR.Close()
	errW.Close()
	if err != nil {
		gateW.Close()
		errR.Close()
		return nil, fmt.Errorf("starting the task's helper: %w", err)
	}
	return &Process{Cmd: cmd, gate: gateW, errs: errR}, nil
}

// Release gives the helper its Spec and waits until it has exec'd the
// task's command (nil) or failed (what failed; the helper has exited and
// Cmd.Wait reaps it).
func (p *Process) Release(s Spec) error {
	data, err := json.Marshal(s)
	if err != nil {
		p.Abort()
		return err
	}
	_, werr := p.gate.Write(data)
	p.gate.Close()
	msg, _ := io.ReadAll(io.LimitReader(p.errs, 4096))
	p.errs.Close()
	switch {
	case len(msg) > 0:
		return errors.New(string(msg))
	case werr != nil:
		return fmt.Errorf("giving the task's helper its spec: %w", werr)
	}
	return nil
}

// Abort kills a held helper and reaps it.
func (p *Process) Abort() {
	p.gate.Close()
	p.errs.Close()
	_ = p.Cmd.Process.Kill()
	_ = p.Cmd.Wait()
}

// CgroupNamespaces says whether the kernel has cgroup namespaces.
func CgroupNamespaces() bool {
	_, err := os.Stat("/proc/self/ns/cgroup")
	return err == nil
}
