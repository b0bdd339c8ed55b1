package isolation

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/containerd/cgroups/v3"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Limits are what a task may use.
type Limits struct {
	CPUs   float64 // cores: CPU quota = CPUs x period (period 100ms), and shares = 1024 x CPUs (v1) / weight (v2)
	MemMiB float64 // memory limit in MiB (0: none)
	Pids   int64   // pids limit (0: none)
}

// Isolator makes one container (cgroup) per task under a root it owns, e.g.
// RootFor(the agent's work dir).
type Isolator interface {
	// Name is "cgroups-v1", "cgroups-v2" or "none".
	Name() string
	// Create makes the container of task id with limits l. The id is a
	// safe path element (letters, digits, '-', '_', '.', not starting with
	// '.'); Create fails if the container already exists.
	Create(id string, l Limits) (Container, error)
	// Recover loads an existing container after an agent restart; the
	// error wraps fs.ErrNotExist if it is gone.
	Recover(id string) (Container, error)
	// Close removes the root if no container is left in it (an agent that
	// stops with no task running leaves no cgroup behind); with containers
	// left it keeps the root, for the agent restarted on them.
	Close() error
}

// Container is the cgroup of one task.
type Container interface {
	// Add moves a process into the container (all controllers).
	Add(pid int) error
	// OOMKilled says whether the kernel's OOM killer killed a process in
	// the container (see the package's implementations for the details).
	OOMKilled() (bool, error)
	// Pids lists the processes in the container, for killing stragglers.
	Pids() ([]int, error)
	// Files maps the limit files to their current contents: on v1
	// "cpu.cfs_quota_us", "cpu.cfs_period_us", "cpu.shares",
	// "memory.limit_in_bytes" and "pids.max"; on v2 "cpu.max",
	// "cpu.weight", "memory.max" and "pids.max". Unreadable files are left
	// out.
	Files() map[string]string
	// Path is the cgroup path relative to the hierarchy root, e.g.
	// /apron/agent-1/task-42.
	Path() string
	// Delete removes the container once its processes are gone, retrying
	// briefly while they leave; deleting it again does nothing.
	Delete() error
}

const (
	cpuPeriod  = 100000 // µs
	minQuota   = 1000   // µs, the kernel's minimum CFS quota
	minShares  = 2
	maxCPUs    = 1 << 20
	maxMemMiB  = 1 << 40
	maxIDLen   = 128
	deleteWait = 2 * time.Second
)

// probeLimits are written to the probe cgroup New makes, so that every kind
// of write a task's container needs is tried once.
var probeLimits = Limits{CPUs: 1, MemMiB: 1024, Pids: 1024}

// New returns the best isolator for this machine under root (e.g.
// "apron/agent-1", or RootFor(the agent's work dir)). Without root
// privileges or without usable cgroups it returns a "none" isolator (Create returns a container whose Add does
// nothing, OOMKilled false, Files empty) AND a non-nil warning error saying
// exactly why (not root; no cgroup mount; which controller is missing; the
// write that failed), so the agent can print it loudly once.
func New(root string) (Isolator, error) {
	r, err := cleanRoot(root)
	if err != nil {
		return None(), fmt.Errorf("isolation: tasks run WITHOUT isolation: %w", err)
	}
	if euid := os.Geteuid(); euid != 0 {
		return None(), fmt.Errorf("isolation: tasks run WITHOUT isolation: not root (euid %d), cannot manage cgroups", euid)
	}
	var iso Isolator
	switch cgroups.Mode() {
	case cgroups.Unified:
		iso, err = newV2(r)
	case cgroups.Legacy, cgroups.Hybrid:
		iso, err = newV1(r)
	default:
		err = errors.New("no cgroup filesystem mounted at /sys/fs/cgroup")
	}
	if err != nil {
		return None(), fmt.Errorf("isolation: tasks run WITHOUT isolation: cgroups %s unusable: %w", Mode(), err)
	}
	return iso, nil
}

// Mode describes the machine's cgroup mode for messages: "v1 (hybrid)",
// "v1", "v2" or "unavailable".
func Mode() string {
	switch cgroups.Mode() {
	case cgroups.Legacy:
		return "v1"
	case cgroups.Hybrid:
		return "v1 (hybrid)"
	case cgroups.Unified:
		return "v2"
	}
	return "unavailable"
}

// checkID checks that id is a safe path element: letters, digits, '-', '_'
// and '.', not starting with '.' (so neither "." nor ".." nor a probe name).
func checkID(id string) error {
	if id == "" {
		return errors.New("empty id")
	}
	if len(id) > maxIDLen {
		return fmt.Errorf("id %.20q... longer than %d bytes", id, maxIDLen)
	}
	if id[0] == '.' {
		return fmt.Errorf("id %q starts with '.'", id)
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			c == '-' || c == '_' || c == '.'
		if !ok {
			return fmt.Errorf("id %q has %q: only letters, digits, '-', '_' and '.' are allowed", id, c)
		}
	}
	return nil
}

// RootFor is the cgroup root of the agent whose work directory is workDir:
// "apron/<base>-<hash>", base the directory's name made a safe path
// element and hash 12 hex digits of the SHA-256 of its absolute path. Two
// agents of two clusters on one machine get different roots even when
// their work directories share a name (both .../apron-up/agent-1), and an
// agent restarted on the same work directory gets the same root back, so it
// recovers its tasks' cgroups.
func RootFor(workDir string) string {
	abs, err := filepath.Abs(workDir)
	if err != nil {
		abs = filepath.Clean(workDir) // no working directory: the path as given
	}
	sum := sha256.Sum256([]byte(abs))
	base := strings.Map(func(c rune) rune {
		if c < 0x80 && (c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return c
		}
		return '_'
	}, filepath.Base(abs))
	base = strings.TrimLeft(base, ".")
	if len(base) > 48 {
		base = base[:48]
	}
	if base == "" || base == "_" {
		base = "agent"
	}
	return "apron/" + base + "-" + hex.EncodeToString(sum[:6])
}

// cleanRoot turns "apron/agent-1" (or "/apron/agent-1/") into
// "/apron/agent-1", checking each element like an id.
func cleanRoot(root string) (string, error) {
	t := strings.Trim(root, "/")
	if t == "" {
		return "", fmt.Errorf("cgroup root %q is empty", root)
	}
	for _, e := range strings.Split(t, "/") {
		if err := checkID(e); err != nil {
			return "", fmt.Errorf("cgroup root %q: %w", root, err)
		}
	}
	return "/" + t, nil
}

// check rejects limits the kernel would refuse or that overflow.
func (l Limits) check() error {
	bad := func(v float64, max float64) bool {
		return math.IsNaN(v) || v < 0 || v > max
	}
	switch {
	case bad(l.CPUs, maxCPUs):
		return fmt.Errorf("bad CPUs %v", l.CPUs)
	case bad(l.MemMiB, maxMemMiB):
		return fmt.Errorf("bad MemMiB %v", l.MemMiB)
	case l.Pids < 0:
		return fmt.Errorf("bad Pids %d", l.Pids)
	}
	return nil
}

// resources are the limits in OCI form. With swap the memory limit covers
// memory+swap (v1 memory.memsw.limit_in_bytes), so a task cannot dodge its
// limit by swapping.
func (l Limits) resources(swap bool) *specs.LinuxResources {
	r := &specs.LinuxResources{}
	if l.CPUs > 0 {
		period := uint64(cpuPeriod)
		quota := max(int64(math.Round(l.CPUs*cpuPeriod)), minQuota)
		shares := max(uint64(math.Round(1024*l.CPUs)), minShares)
		r.CPU = &specs.LinuxCPU{Quota: &quota, Period: &period, Shares: &shares}
	}
	if l.MemMiB > 0 {
		limit := int64(l.MemMiB * (1 << 20))
		r.Memory = &specs.LinuxMemory{Limit: &limit}
		if swap {
			sw := limit
			r.Memory.Swap = &sw
		}
	}
	if l.Pids > 0 {
		pids := l.Pids
		r.Pids = &specs.LinuxPids{Limit: &pids}
	}
	return r
}

// probeID is the name of the throwaway cgroup New creates and deletes.
func probeID() string {
	return fmt.Sprintf(".probe-%d-%d", os.Getpid(), time.Now().UnixNano())
}

// removeEmpty removes the directories of an empty cgroup; a cgroup still
// holding cgroups or processes (EBUSY, ENOTEMPTY) or gone is left alone.
func removeEmpty(dirs []string) error {
	for _, d := range dirs {
		err := os.Remove(d)
		if err != nil && !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, syscall.EBUSY) && !errors.Is(err, syscall.ENOTEMPTY) {
			return fmt.Errorf("isolation: removing the root: %w", err)
		}
	}
	return nil
}

// retryDelete calls del until it succeeds or deleteWait has passed:
// processes just killed take a moment to leave their cgroup.
func retryDelete(del func() error) error {
	deadline := time.Now().Add(deleteWait)
	delay := 10 * time.Millisecond
	for {
		err := del()
		if err == nil || time.Now().After(deadline) {
			return err
		}
		time.Sleep(delay)
		delay = min(2*delay, 200*time.Millisecond)
	}
}

// readFiles reads the files at paths (keyed by their stable names) into a
// map, trimmed, leaving out the unreadable ones.
func readFiles(paths map[string]string) map[string]string {
	out := make(map[string]string, len(paths))
	for name, p := range paths {
		if b, err := os.ReadFile(p); err == nil {
			out[name] = strings.TrimSpace(string(b))
		}
	}
	return out
}

// readKV parses a flat "key value" file such as memory.events.
func readKV(path string) (map[string]uint64, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	out := map[string]uint64{}
	for _, line := range strings.Split(string(b), "\n") {
		var k string
		var v uint64
		if n, _ := fmt.Sscan(line, &k, &v); n == 2 {
			out[k] = v
		}
	}
	return out, nil
}

// exists says whether path exists.
func exists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}

// newContainer checks a container's id and limits and makes it with make; a
// failure is a nil Container, never a typed nil.
func newContainer[C Container](id string, l Limits, make func(string, Limits) (C, error)) (Container, error) {
	if err := checkID(id); err != nil {
		return nil, fmt.Errorf("isolation: create: %w", err)
	}
	if err := l.check(); err != nil {
		return nil, fmt.Errorf("isolation: create %s: %w", id, err)
	}
	c, err := make(id, l)
	if err != nil {
		return nil, err
	}
	return c, nil
}

// addProc moves a process into the container at path with add.
func addProc(path string, pid int, add func(uint64) error) error {
	if pid <= 0 {
		return fmt.Errorf("isolation: add %d to %s: bad pid", pid, path)
	}
	if err := add(uint64(pid)); err != nil {
		return fmt.Errorf("isolation: add %d to %s: %w", pid, path, err)
	}
	return nil
}
