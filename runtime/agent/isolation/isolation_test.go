package isolation

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/containerd/cgroups/v3/cgroup2"
)

// testRoot is the parent of every test's cgroup root.
const testRoot = "apron-test"

// dirser is what the real isolators implement to locate their cgroups.
type dirser interface{ dirs(p string) []string }

// newIsolator returns a real isolator under a fresh root, or skips the test
// when cgroups are unusable; it removes the root (failing the test if it is
// not empty) when the test ends.
func newIsolator(t *testing.T) (Isolator, string) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("not root: cgroups cannot be managed")
	}
	var b [4]byte
	rand.Read(b[:])
	name := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			return r
		}
		return '_'
	}, t.Name())
	root := testRoot + "/" + name + "-" + hex.EncodeToString(b[:])
	iso, err := New(root)
	if err != nil {
		t.Skipf("cgroups unusable (%s): %v", Mode(), err)
	}
	t.Cleanup(func() {
		d := iso.(dirser)
		for _, dir := range d.dirs("/" + root) {
			if err := os.Remove(dir); err != nil && !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("removing the test root: %v", err)
			}
		}
		for _, dir := range d.dirs("/" + testRoot) {
			os.Remove(dir) // fails while other tests use it
		}
	})
	t.Logf("mode %s, isolator %s, root %s", Mode(), iso.Name(), root)
	return iso, root
}

// create makes a container that the test kills and deletes at its end.
func create(t *testing.T, iso Isolator, id string, l Limits) Container {
	t.Helper()
	c, err := iso.Create(id, l)
	if err != nil {
		t.Fatalf("Create(%q, %+v): %v", id, l, err)
	}
	t.Cleanup(func() {
		killAll(t, c)
		if err := c.Delete(); err != nil {
			t.Errorf("cleanup: %v", err)
		}
	})
	return c
}

// start starts /bin/sh -c script, reaped when the test ends.
func start(t *testing.T, script string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command("/bin/sh", "-c", script)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	return cmd
}

// killAll kills the processes in c until there are none left.
func killAll(t *testing.T, c Container) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		pids, err := c.Pids()
		if err != nil {
			t.Errorf("Pids: %v", err)
			return
		}
		if len(pids) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("processes %v do not die", pids)
			return
		}
		for _, p := range pids {
			syscall.Kill(p, syscall.SIGKILL)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestCheckID(t *testing.T) {
	for _, tc := range []struct {
		id string
		ok bool
	}{
		{"task-42", true},
		{"fw_1.task-7", true},
		{"A9", true},
		{"", false},
		{".", false},
		{"..", false},
		{".hidden", false},
		{"a/b", false},
		{"../x", false},
		{"a b", false},
		{"tâche", false},
		{strings.Repeat("x", maxIDLen), true},
		{strings.Repeat("x", maxIDLen+1), false},
	} {
		if err := checkID(tc.id); (err == nil) != tc.ok {
			t.Errorf("checkID(%q) = %v, want ok %v", tc.id, err, tc.ok)
		}
	}
}

func TestCleanRoot(t *testing.T) {
	for _, tc := range []struct {
		root, want string
	}{
		{"apron/agent-1", "/apron/agent-1"},
		{"/apron/agent-1/", "/apron/agent-1"},
		{"apron", "/apron"},
		{"", ""},
		{"/", ""},
		{"apron/../etc", ""},
		{"apron//x", ""},
		{"apron/a b", ""},
	} {
		got, err := cleanRoot(tc.root)
		if got != tc.want || (err == nil) != (tc.want != "") {
			t.Errorf("cleanRoot(%q) = %q, %v; want %q", tc.root, got, err, tc.want)
		}
	}
}

func TestResources(t *testing.T) {
	p := func(v int64) *int64 { return &v }
	u := func(v uint64) *uint64 { return &v }
	for _, tc := range []struct {
		l                   Limits
		swap                bool
		quota, mem, sw, pid *int64
		period, shares      *uint64
	}{
		{l: Limits{}},
		{l: Limits{CPUs: 0.5, MemMiB: 64, Pids: 32},
			quota: p(50000), period: u(100000), shares: u(512), mem: p(64 << 20), pid: p(32)},
		{l: Limits{CPUs: 0.001, MemMiB: 1.5}, swap: true,
			quota: p(minQuota), period: u(100000), shares: u(minShares), mem: p(3 << 19), sw: p(3 << 19)},
	} {
		r := tc.l.resources(tc.swap)
		eq := func(what string, got, want any) {
			if !equalPtr(got, want) {
				t.Errorf("%+v: %s = %v, want %v", tc.l, what, deref(got), deref(want))
			}
		}
		var quota, mem, sw, pid *int64
		var period, shares *uint64
		if r.CPU != nil {
			quota, period, shares = r.CPU.Quota, r.CPU.Period, r.CPU.Shares
		}
		if r.Memory != nil {
			mem, sw = r.Memory.Limit, r.Memory.Swap
		}
		if r.Pids != nil {
			pid = r.Pids.Limit
		}
		eq("quota", quota, tc.quota)
		eq("period", period, tc.period)
		eq("shares", shares, tc.shares)
		eq("memory", mem, tc.mem)
		eq("swap", sw, tc.sw)
		eq("pids", pid, tc.pid)
	}
}

func deref(v any) any {
	switch p := v.(type) {
	case *int64:
		if p != nil {
			return *p
		}
	case *uint64:
		if p != nil {
			return *p
		}
	}
	return nil
}

func equalPtr(a, b any) bool { return deref(a) == deref(b) }

func TestLimitsCheck(t *testing.T) {
	for _, l := range []Limits{{CPUs: -1}, {MemMiB: -1}, {Pids: -1}, {CPUs: maxCPUs + 1}} {
		if _, err := None().Create("t", l); err == nil {
			t.Errorf("Create with %+v: no error", l)
		}
	}
}

func TestNone(t *testing.T) {
	iso := None()
	if iso.Name() != "none" {
		t.Errorf("Name = %q", iso.Name())
	}
	if _, err := iso.Create("../x", Limits{}); err == nil {
		t.Error("Create accepted a bad id")
	}
	c, err := iso.Create("task-1", Limits{CPUs: 1, MemMiB: 16, Pids: 8})
	if err != nil {
		t.Fatal(err)
	}
	cmd := start(t, "sleep 5")
	if err := c.Add(cmd.Process.Pid); err != nil {
		t.Errorf("Add: %v", err)
	}
	if oom, err := c.OOMKilled(); oom || err != nil {
		t.Errorf("OOMKilled = %v, %v", oom, err)
	}
	if pids, err := c.Pids(); len(pids) != 0 || err != nil {
		t.Errorf("Pids = %v, %v", pids, err)
	}
	if f := c.Files(); len(f) != 0 {
		t.Errorf("Files = %v", f)
	}
	if c.Path() != "" {
		t.Errorf("Path = %q", c.Path())
	}
	if err := c.Delete(); err != nil {
		t.Errorf("Delete: %v", err)
	}
	if _, err := iso.Recover("task-1"); err != nil {
		t.Errorf("Recover: %v", err)
	}
}

func TestNewBadRoot(t *testing.T) {
	iso, err := New("apron/../../etc")
	if err == nil || iso.Name() != "none" {
		t.Errorf("New(bad root) = %s, %v; want none and a warning", iso.Name(), err)
	}
}

func TestMode(t *testing.T) {
	if m := Mode(); !slices.Contains([]string{"v1 (hybrid)", "v1", "v2", "unavailable"}, m) {
		t.Errorf("Mode = %q", m)
	}
}

func TestLimits(t *testing.T) {
	iso, root := newIsolator(t)
	weight := func(shares uint64) string {
		return strconv.FormatUint(cgroup2.ConvertCPUSharesToCgroupV2Value(shares), 10)
	}
	for _, tc := range []struct {
		name   string
		l      Limits
		v1, v2 map[string]string
	}{
		{"half-core", Limits{CPUs: 0.5, MemMiB: 64, Pids: 32},
			map[string]string{"cpu.cfs_quota_us": "50000", "cpu.cfs_period_us": "100000", "cpu.shares": "512",
				"memory.limit_in_bytes": "67108864", "pids.max": "32"},
			map[string]string{"cpu.max": "50000 100000", "cpu.weight": weight(512),
				"memory.max": "67108864", "pids.max": "32"}},
		{"two-cores", Limits{CPUs: 2, MemMiB: 1.5, Pids: 1000},
			map[string]string{"cpu.cfs_quota_us": "200000", "cpu.cfs_period_us": "100000", "cpu.shares": "2048",
				"memory.limit_in_bytes": "1572864", "pids.max": "1000"},
			map[string]string{"cpu.max": "200000 100000", "cpu.weight": weight(2048),
				"memory.max": "1572864", "pids.max": "1000"}},
		{"unlimited", Limits{},
			map[string]string{"cpu.cfs_quota_us": "-1", "cpu.cfs_period_us": "100000", "cpu.shares": "1024",
				"memory.limit_in_bytes": "9223372036854771712", "pids.max": "max"},
			map[string]string{"cpu.max": "max 100000", "cpu.weight": "100",
				"memory.max": "max", "pids.max": "max"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := create(t, iso, tc.name, tc.l)
			if want := "/" + root + "/" + tc.name; c.Path() != want {
				t.Errorf("Path = %q, want %q", c.Path(), want)
			}
			want := tc.v1
			if iso.Name() == "cgroups-v2" {
				want = tc.v2
			}
			got := c.Files()
			for k, v := range want {
				if got[k] != v {
					t.Errorf("%s = %q, want %q", k, got[k], v)
				}
			}
			if len(got) != len(want) {
				t.Errorf("Files = %v, want keys of %v", got, want)
			}

			cmd := start(t, "sleep 5")
			if err := c.Add(cmd.Process.Pid); err != nil {
				t.Fatal(err)
			}
			pids, err := c.Pids()
			if err != nil || !slices.Contains(pids, cmd.Process.Pid) {
				t.Errorf("Pids = %v, %v; want %d in it", pids, err, cmd.Process.Pid)
			}
			if oom, err := c.OOMKilled(); oom || err != nil {
				t.Errorf("OOMKilled = %v, %v; want false", oom, err)
			}
			killAll(t, c)
			cmd.Wait()
			if err := c.Delete(); err != nil {
				t.Fatal(err)
			}
			for _, d := range iso.(dirser).dirs(c.Path()) {
				if _, err := os.Stat(d); !errors.Is(err, fs.ErrNotExist) {
					t.Errorf("%s still there after Delete (%v)", d, err)
				}
			}
			if err := c.Delete(); err != nil {
				t.Errorf("second Delete: %v", err)
			}
			if pids, err := c.Pids(); len(pids) != 0 || err != nil {
				t.Errorf("Pids after Delete = %v, %v", pids, err)
			}
		})
	}
}

func TestCreateErrors(t *testing.T) {
	iso, _ := newIsolator(t)
	for _, id := range []string{"", "..", "a/b", ".x"} {
		if _, err := iso.Create(id, Limits{}); err == nil {
			t.Errorf("Create(%q) accepted", id)
		}
	}
	create(t, iso, "dup", Limits{CPUs: 1})
	if _, err := iso.Create("dup", Limits{CPUs: 1}); !errors.Is(err, fs.ErrExist) {
		t.Errorf("second Create(dup) = %v, want ErrExist", err)
	}
}

func TestOOM(t *testing.T) {
	iso, _ := newIsolator(t)
	c := create(t, iso, "oom", Limits{CPUs: 1, MemMiB: 16, Pids: 32})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	// The gate: sh waits for a line before it allocates, so that it is in
	// the container first. tail keeps all its input: there is no newline.
	cmd := exec.CommandContext(ctx, "/bin/sh", "-c", `read x; exec sh -c "head -c 200m /dev/zero | tail"`)
	gate, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if err := c.Add(cmd.Process.Pid); err != nil {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatal(err)
	}
	gate.Write([]byte("go\n"))
	gate.Close()
	err = cmd.Wait()
	t.Logf("exit: %v", err)
	if ctx.Err() != nil {
		t.Fatal("the allocation did not end within a minute")
	}
	oom, err := c.OOMKilled()
	if err != nil || !oom {
		t.Errorf("OOMKilled = %v, %v; want true", oom, err)
	}
}

func TestRecover(t *testing.T) {
	iso, root := newIsolator(t)
	c := create(t, iso, "kept", Limits{CPUs: 0.5, MemMiB: 64, Pids: 32})
	cmd := start(t, "sleep 5")
	if err := c.Add(cmd.Process.Pid); err != nil {
		t.Fatal(err)
	}

	again, err := New(root) // as after an agent restart
	if err != nil {
		t.Fatal(err)
	}
	if _, err := again.Recover("gone"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Recover(gone) = %v, want ErrNotExist", err)
	}
	if _, err := again.Recover("../kept"); err == nil {
		t.Error("Recover accepted a bad id")
	}
	r, err := again.Recover("kept")
	if err != nil {
		t.Fatal(err)
	}
	if r.Path() != c.Path() {
		t.Errorf("Path = %q, want %q", r.Path(), c.Path())
	}
	want, _ := c.Pids()
	got, err := r.Pids()
	if err != nil || !slices.Equal(got, want) || !slices.Contains(got, cmd.Process.Pid) {
		t.Errorf("recovered Pids = %v, %v; want %v with %d", got, err, want, cmd.Process.Pid)
	}
	if f, g := c.Files(), r.Files(); len(f) == 0 || !mapsEqual(f, g) {
		t.Errorf("recovered Files = %v, want %v", g, f)
	}

	if err := r.Delete(); err == nil {
		t.Error("Delete with a live process succeeded")
	}
	killAll(t, r)
	cmd.Wait()
	if err := r.Delete(); err != nil {
		t.Fatal(err)
	}
	if err := c.Delete(); err != nil {
		t.Errorf("Delete of the deleted original: %v", err)
	}
	if _, err := again.Recover("kept"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Recover after Delete = %v, want ErrNotExist", err)
	}
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func TestRootFor(t *testing.T) {
	t.Chdir(t.TempDir())
	wd, _ := os.Getwd()
	one, two := RootFor("/tmp/one/apron-up/agent-1"), RootFor("/tmp/two/apron-up/agent-1")
	if one == two {
		t.Errorf("two clusters' agent-1 share the cgroup root %s", one)
	}
	if !strings.HasPrefix(one, "apron/agent-1-") {
		t.Errorf("RootFor = %q, want apron/agent-1-<hash>", one)
	}
	if a, b := RootFor("work/a1"), RootFor(filepath.Join(wd, "work", "a1")+"/"); a != b {
		t.Errorf("the same work dir, relative and absolute, gives %s and %s", a, b)
	}
	if RootFor("/tmp/one/apron-up/agent-1") != one {
		t.Error("RootFor is not the same on a second call (an agent restarted on its work dir)")
	}
	for _, dir := range []string{"/", "/tmp/my agent", "/tmp/.hidden", "/tmp/ünï", "/tmp/" + strings.Repeat("x", 300)} {
		r := RootFor(dir)
		if _, err := cleanRoot(r); err != nil {
			t.Errorf("RootFor(%q) = %q, not a valid root: %v", dir, r, err)
		}
	}
}

// Close keeps a root with a container in it (the agent restarted on it
// recovers the container) and removes an empty one.
func TestCloseRemovesOnlyAnEmptyRoot(t *testing.T) {
	iso, root := newIsolator(t)
	c := create(t, iso, "left", Limits{CPUs: 0.5, MemMiB: 64, Pids: 32})
	if err := iso.Close(); err != nil {
		t.Fatal(err)
	}
	again, err := New(root)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := again.Recover("left"); err != nil {
		t.Fatalf("after Close with a container left: %v", err)
	}
	if err := c.Delete(); err != nil {
		t.Fatal(err)
	}
	if err := again.Close(); err != nil {
		t.Fatal(err)
	}
	for _, d := range iso.(dirser).dirs("/" + root) {
		if _, err := os.Stat(d); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s after Close of an empty root: %v, want it gone", d, err)
		}
	}
	if err := None().Close(); err != nil {
		t.Error(err)
	}
}

// A task that runs as another user must be unable to write any file of
// its container, of its root or of the hierarchy's root: they are all
// root's, writable by root only. (Its agent, root, moves it in before it
// drops root.)
func TestCgroupFilesAreRootsOnly(t *testing.T) {
	iso, root := newIsolator(t)
	c := create(t, iso, "t", Limits{CPUs: 1, MemMiB: 64, Pids: 16})
	d := iso.(dirser)
	var dirs []string
	for _, p := range []string{c.Path(), "/" + root, "/"} {
		dirs = append(dirs, d.dirs(p)...)
	}
	for _, dir := range dirs {
		entries, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		paths := []string{dir}
		for _, e := range entries {
			paths = append(paths, filepath.Join(dir, e.Name()))
		}
		for _, path := range paths {
			var st syscall.Stat_t
			if err := syscall.Lstat(path, &st); err != nil {
				continue // a file gone meanwhile
			}
			if st.Uid != 0 || st.Mode&0o022 != 0 {
				t.Errorf("%s: uid %d, mode %o: another user could write it", path, st.Uid, st.Mode&0o777)
			}
		}
	}
}
