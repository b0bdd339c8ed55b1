package isolation

import (
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strings"
	"sync/atomic"

	"github.com/containerd/cgroups/v3/cgroup2"
)

// v2Mount is where the unified hierarchy is mounted.
const v2Mount = "/sys/fs/cgroup"

// v2Controllers are the controllers a v2 container needs.
var v2Controllers = []string{"cpu", "memory", "pids"}

// v2Isolator makes containers in the unified hierarchy.
type v2Isolator struct {
	root string // e.g. "/apron/agent-1"
}

// newV2 checks the root cgroup offers the controllers and probes.
func newV2(root string) (*v2Isolator, error) {
	b, err := os.ReadFile(v2Mount + "/cgroup.controllers")
	if err != nil {
		return nil, fmt.Errorf("reading the available controllers: %w", err)
	}
	have := strings.Fields(string(b))
	var missing []string
	for _, c := range v2Controllers {
		if !slices.Contains(have, c) {
			missing = append(missing, c)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("cgroup v2 controller(s) %s not available (%s/cgroup.controllers: %q)",
			strings.Join(missing, ", "), v2Mount, strings.TrimSpace(string(b)))
	}
	v := &v2Isolator{root: root}
	c, err := v.create(probeID(), probeLimits)
	if err != nil {
		return nil, fmt.Errorf("probe: %w", err)
	}
	if err := c.Delete(); err != nil {
		return nil, fmt.Errorf("probe: %w", err)
	}
	return v, nil
}

func (v *v2Isolator) Name() string { return "cgroups-v2" }

func (v *v2Isolator) Close() error { return removeEmpty(v.dirs(v.root)) }

// dirs are the directories of cgroup path p (one: the unified hierarchy).
func (v *v2Isolator) dirs(p string) []string { return []string{v2Mount + p} }

func (v *v2Isolator) Create(id string, l Limits) (Container, error) {
	return newContainer(id, l, v.create)
}

// create makes the cgroup of id, unchecked, enabling cpu, memory and pids
// in its ancestors' subtree_control and setting its limits through the
// library. A memory limit also sets memory.swap.max to 0 where swap is
// accounted, so that the limit covers memory+swap as on v1.
func (v *v2Isolator) create(id string, l Limits) (*v2Container, error) {
	group := v.root + "/" + id
	dir := v2Mount + group
	if exists(dir) {
		return nil, fmt.Errorf("isolation: create %s: %s: %w", group, dir, fs.ErrExist)
	}
	res := cgroup2.ToResources(l.resources(false))
	if res.CPU == nil {
		res.CPU = &cgroup2.CPU{}
	}
	if res.Memory == nil {
		res.Memory = &cgroup2.Memory{}
	}
	if res.Pids == nil {
		res.Pids = &cgroup2.Pids{}
	}
	m, err := cgroup2.NewManager(v2Mount, group, res)
	if err != nil {
		return nil, fmt.Errorf("isolation: create %s: %w", group, err)
	}
	if l.MemMiB > 0 && exists(dir+"/memory.swap.max") {
		zero := int64(0)
		if err := m.Update(&cgroup2.Resources{Memory: &cgroup2.Memory{Swap: &zero}}); err != nil {
			os.Remove(dir)
			return nil, fmt.Errorf("isolation: create %s: %w", group, err)
		}
	}
	return &v2Container{group: group, dir: dir, m: m}, nil
}

func (v *v2Isolator) Recover(id string) (Container, error) {
	if err := checkID(id); err != nil {
		return nil, fmt.Errorf("isolation: recover: %w", err)
	}
	group := v.root + "/" + id
	dir := v2Mount + group
	if !exists(dir + "/cgroup.procs") {
		return nil, fmt.Errorf("isolation: recover %s: no such container: %w", group, fs.ErrNotExist)
	}
	m, err := cgroup2.Load(group)
	if err != nil {
		return nil, fmt.Errorf("isolation: recover %s: %w", group, err)
	}
	return &v2Container{group: group, dir: dir, m: m}, nil
}

// v2Container is a task's cgroup in the unified hierarchy.
type v2Container struct {
	group   string // e.g. "/apron/agent-1/task-42"
	dir     string // its directory under v2Mount
	m       *cgroup2.Manager
	deleted atomic.Bool
}

func (c *v2Container) Path() string { return c.group }

func (c *v2Container) Add(pid int) error { return addProc(c.group, pid, c.m.AddProc) }

// OOMKilled reads oom_kill in memory.events, which counts the processes of
// the cgroup killed by any OOM killer.
func (c *v2Container) OOMKilled() (bool, error) {
	kv, err := readKV(c.dir + "/memory.events")
	if err != nil {
		return false, fmt.Errorf("isolation: oom of %s: %w", c.group, err)
	}
	return kv["oom_kill"] > 0, nil
}

// Pids lists the processes in the cgroup and its children, sorted; it is
// empty once the container is deleted.
func (c *v2Container) Pids() ([]int, error) {
	if c.deleted.Load() {
		return nil, nil
	}
	procs, err := c.m.Procs(true)
	if err != nil {
		return nil, fmt.Errorf("isolation: pids of %s: %w", c.group, err)
	}
	pids := make([]int, len(procs))
	for i, p := range procs {
		pids[i] = int(p)
	}
	slices.Sort(pids)
	return slices.Compact(pids), nil
}

func (c *v2Container) Files() map[string]string {
	paths := map[string]string{}
	for _, f := range []string{"cpu.max", "cpu.weight", "memory.max", "pids.max"} {
		paths[f] = c.dir + "/" + f
	}
	return readFiles(paths)
}

func (c *v2Container) Delete() error {
	err := retryDelete(func() error {
		if !exists(c.dir) {
			return nil
		}
		return c.m.Delete()
	})
	if err != nil {
		left, _ := c.Pids()
		return fmt.Errorf("isolation: delete %s: %w (processes in it: %v)", c.group, err, left)
	}
	c.deleted.Store(true)
	return nil
}
