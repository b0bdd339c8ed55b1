package isolation

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/containerd/cgroups/v3/cgroup1"
)

// v1Names are the only v1 hierarchies the package touches.
var v1Names = []cgroup1.Name{cgroup1.Cpu, cgroup1.Memory, cgroup1.Pids}

// pather is what the library's v1 subsystems implement to locate a cgroup.
type pather interface{ Path(string) string }

// v1Isolator makes containers in the cpu, memory and pids v1 hierarchies.
type v1Isolator struct {
	root string              // e.g. "/apron/agent-1"
	subs []cgroup1.Subsystem // cpu, memory, pids
	swap bool                // memory.memsw.* exist: limit memory+swap
}

// newV1 finds the cpu, memory and pids hierarchies and probes them.
func newV1(root string) (*v1Isolator, error) {
	all, err := cgroup1.Default()
	if err != nil {
		return nil, fmt.Errorf("finding the cgroup v1 hierarchies: %w", err)
	}
	v := &v1Isolator{root: root}
	var missing []string
	for _, n := range v1Names {
		i := slices.IndexFunc(all, func(s cgroup1.Subsystem) bool { return s.Name() == n })
		if i < 0 {
			missing = append(missing, string(n))
			continue
		}
		if _, ok := all[i].(pather); !ok {
			return nil, fmt.Errorf("cgroup v1 subsystem %s has no path", n)
		}
		v.subs = append(v.subs, all[i])
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("cgroup v1 controller(s) %s not mounted (no such hierarchy under the cgroup mount)",
			strings.Join(missing, ", "))
	}
	v.swap = exists(v.dir(cgroup1.Memory, "/") + "/memory.memsw.limit_in_bytes")
	c, err := v.create(probeID(), probeLimits)
	if err != nil {
		return nil, fmt.Errorf("probe: %w", err)
	}
	if err := c.Delete(); err != nil {
		return nil, fmt.Errorf("probe: %w", err)
	}
	return v, nil
}

func (v *v1Isolator) Name() string { return "cgroups-v1" }

func (v *v1Isolator) Close() error { return removeEmpty(v.dirs(v.root)) }

// hierarchy is the library's view of the hierarchies: ours only.
func (v *v1Isolator) hierarchy() ([]cgroup1.Subsystem, error) { return v.subs, nil }

// dir is the directory of cgroup path p in hierarchy n.
func (v *v1Isolator) dir(n cgroup1.Name, p string) string {
	return subDir(v.subs, n, p)
}

// dirs are the directories of cgroup path p in every hierarchy.
func (v *v1Isolator) dirs(p string) []string {
	var out []string
	for _, s := range v.subs {
		out = append(out, s.(pather).Path(p))
	}
	return out
}

func (v *v1Isolator) Create(id string, l Limits) (Container, error) {
	return newContainer(id, l, v.create)
}

// create makes the cgroup of id, unchecked, setting its limits through the
// library; on failure it removes what it made.
func (v *v1Isolator) create(id string, l Limits) (*v1Container, error) {
	p := v.root + "/" + id
	for _, d := range v.dirs(p) {
		if exists(d) {
			return nil, fmt.Errorf("isolation: create %s: %s: %w", p, d, fs.ErrExist)
		}
	}
	cg, err := cgroup1.New(cgroup1.StaticPath(p), l.resources(v.swap), cgroup1.WithHierarchy(v.hierarchy))
	if err != nil {
		for _, d := range v.dirs(p) {
			os.Remove(d)
		}
		return nil, fmt.Errorf("isolation: create %s: %w", p, err)
	}
	return &v1Container{path: p, cg: cg, subs: v.subs}, nil
}

func (v *v1Isolator) Recover(id string) (Container, error) {
	if err := checkID(id); err != nil {
		return nil, fmt.Errorf("isolation: recover: %w", err)
	}
	p := v.root + "/" + id
	var missing []string
	for _, s := range v.subs {
		if !exists(s.(pather).Path(p)) {
			missing = append(missing, string(s.Name()))
		}
	}
	if len(missing) == len(v.subs) {
		return nil, fmt.Errorf("isolation: recover %s: no such container: %w", p, fs.ErrNotExist)
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("isolation: recover %s: gone from the %s hierarchies: %w",
			p, strings.Join(missing, ", "), fs.ErrNotExist)
	}
	cg, err := cgroup1.Load(cgroup1.StaticPath(p), cgroup1.WithHierarchy(v.hierarchy))
	if err != nil {
		return nil, fmt.Errorf("isolation: recover %s: %w", p, err)
	}
	return &v1Container{path: p, cg: cg, subs: v.subs}, nil
}

// v1Container is a task's cgroup in the cpu, memory and pids hierarchies.
type v1Container struct {
	path string
	cg   cgroup1.Cgroup
	subs []cgroup1.Subsystem
}

// subDir is the directory of cgroup path p in hierarchy n of subs.
func subDir(subs []cgroup1.Subsystem, n cgroup1.Name, p string) string {
	for _, s := range subs {
		if s.Name() == n {
			return s.(pather).Path(p)
		}
	}
	return ""
}

func (c *v1Container) dir(n cgroup1.Name) string { return subDir(c.subs, n, c.path) }

func (c *v1Container) Path() string { return c.path }

func (c *v1Container) Add(pid int) error {
	return addProc(c.path, pid, func(p uint64) error { return c.cg.AddProc(p) })
}

// OOMKilled reads memory.oom_control: oom_kill > 0 (kernels 4.13 on).
// Older kernels have no oom_kill count; there it falls back to under_oom,
// then to memory.failcnt > 0, which says the limit was hit, not that a
// process was killed.
func (c *v1Container) OOMKilled() (bool, error) {
	dir := c.dir(cgroup1.Memory)
	kv, err := readKV(dir + "/memory.oom_control")
	if err != nil {
		return false, fmt.Errorf("isolation: oom of %s: %w", c.path, err)
	}
	if n, ok := kv["oom_kill"]; ok {
		return n > 0, nil
	}
	if kv["under_oom"] > 0 {
		return true, nil
	}
	b, err := os.ReadFile(dir + "/memory.failcnt")
	if err != nil {
		return false, fmt.Errorf("isolation: oom of %s: %w", c.path, err)
	}
	n, err := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64)
	if err != nil {
		return false, fmt.Errorf("isolation: oom of %s: memory.failcnt: %w", c.path, err)
	}
	return n > 0, nil
}

// Pids is the processes in the container, sorted, read from the first
// hierarchy's cgroup.procs (every task process is in all three, and tasks
// make no sub-cgroups); it is empty once the container is deleted.
func (c *v1Container) Pids() ([]int, error) {
	return readProcs(filepath.Join(c.dir(c.subs[0].Name()), "cgroup.procs"))
}

// readProcs reads a cgroup.procs file; a cgroup that is gone has none.
func readProcs(path string) ([]int, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("isolation: %w", err)
	}
	var pids []int
	for _, f := range strings.Fields(string(data)) {
		if p, err := strconv.Atoi(f); err == nil {
			pids = append(pids, p)
		}
	}
	slices.Sort(pids)
	return slices.Compact(pids), nil
}

func (c *v1Container) Files() map[string]string {
	cpu, mem, pids := c.dir(cgroup1.Cpu), c.dir(cgroup1.Memory), c.dir(cgroup1.Pids)
	return readFiles(map[string]string{
		"cpu.cfs_quota_us":      cpu + "/cpu.cfs_quota_us",
		"cpu.cfs_period_us":     cpu + "/cpu.cfs_period_us",
		"cpu.shares":            cpu + "/cpu.shares",
		"memory.limit_in_bytes": mem + "/memory.limit_in_bytes",
		"pids.max":              pids + "/pids.max",
	})
}

func (c *v1Container) Delete() error {
	// rmdir each hierarchy's directory, as the kernel allows once the
	// processes are gone; cheaper than the library's Delete, which walks
	// the tree to move stragglers to the parent.
	err := retryDelete(func() error {
		for _, s := range c.subs {
			if err := os.Remove(c.dir(s.Name())); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return err
			}
		}
		return nil
	})
	if err != nil {
		left, _ := c.Pids()
		return fmt.Errorf("isolation: delete %s: %w (processes in it: %v)", c.path, err, left)
	}
	return nil
}
