package chaos

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"syscall"
	"time"

	"github.com/apronlab/apron/runtime/master"
)

// What is left behind: task processes (found by the sandbox in their
// environment, which every process of a task inherits) and task cgroups.

// taskProcesses maps task ids to the pids of live processes whose
// environment names a sandbox under the directory root.
func taskProcesses(root string) map[string][]int {
	out := map[string][]int{}
	entries, _ := os.ReadDir("/proc")
	self := os.Getpid()
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == self {
			continue
		}
		env, err := os.ReadFile(filepath.Join("/proc", e.Name(), "environ"))
		if err != nil || !bytes.Contains(env, []byte("APRON_SANDBOX="+filepath.Clean(root)+"/")) || zombie(pid) {
			continue
		}
		task := "?"
		for _, kv := range bytes.Split(env, []byte{0}) {
			if v, ok := bytes.CutPrefix(kv, []byte("APRON_TASK_ID=")); ok {
				task = string(v)
			}
		}
		out[task] = append(out[task], pid)
	}
	return out
}

// zombie says whether pid has exited and waits for its parent to reap it.
func zombie(pid int) bool {
	stat, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return true
	}
	i := bytes.LastIndexByte(stat, ')')
	return i < 0 || i+2 >= len(stat) || stat[i+2] == 'Z'
}

// cgroupRoots are the agents' cgroup directories, on cgroup v1 (one per
// hierarchy) and v2.
func cgroupRoots(agents []string) []string {
	var out []string
	for _, a := range agents {
		v1, _ := filepath.Glob(filepath.Join("/sys/fs/cgroup", "*", "apron", a))
		out = append(out, v1...)
		if fi, err := os.Stat(filepath.Join("/sys/fs/cgroup", "apron", a)); err == nil && fi.IsDir() {
			out = append(out, filepath.Join("/sys/fs/cgroup", "apron", a))
		}
	}
	return out
}

// taskCgroups lists the task cgroups left under the agents' roots.
func taskCgroups(agents []string) []string {
	var out []string
	for _, root := range cgroupRoots(agents) {
		entries, _ := os.ReadDir(root)
		for _, e := range entries {
			if e.IsDir() {
				out = append(out, filepath.Join(root, e.Name()))
			}
		}
	}
	slices.Sort(out)
	return out
}

// cleanUp kills leftover task processes and removes the agents' cgroups,
// so that a failed seed does not burden the next one.
func cleanUp(procs map[string][]int, agents []string) {
	for _, pids := range procs {
		for _, pid := range pids {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
	time.Sleep(100 * time.Millisecond)
	for _, dir := range taskCgroups(agents) {
		_ = os.Remove(dir)
	}
	for _, dir := range cgroupRoots(agents) {
		_ = os.Remove(dir)
	}
}

// snapshot reads the leading master's /state, as the tester: a master
// has 1.5 s to answer before the next is asked (a stopped one never does).
// During an election none answers.
func (c *cluster) snapshot(ctx context.Context) (*Snapshot, error) {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	hc := &http.Client{Timeout: 1500 * time.Millisecond, Transport: c.transport(tester)(http.DefaultTransport.(*http.Transport))}
	st, err := master.FetchState(ctx, hc, c.tester)
	if err != nil {
		return nil, err
	}
	return snapshotOf(st), nil
}

// connected lists the agents of names that the snapshot has active and
// connected.
func (s *Snapshot) connected(names []string) []string {
	var out []string
	for _, a := range s.Agents {
		if a.State == "active" && a.Connected && slices.Contains(names, a.ID) {
			out = append(out, a.ID)
		}
	}
	return out
}
