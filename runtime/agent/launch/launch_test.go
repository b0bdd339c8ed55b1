package launch

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// started starts a helper in a temporary sandbox and returns it with the
// paths of its stdout and stderr.
func started(t *testing.T) (p *Process, stdout, stderr string) {
	t.Helper()
	dir := t.TempDir()
	stdout, stderr = filepath.Join(dir, "stdout"), filepath.Join(dir, "stderr")
	out, err := os.Create(stdout)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	errf, err := os.Create(stderr)
	if err != nil {
		t.Fatal(err)
	}
	defer errf.Close()
	p, err = Start(dir, out, errf)
	if err != nil {
		t.Fatal(err)
	}
	return p, stdout, stderr
}

func read(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func nobody(t *testing.T) Identity {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("switching users needs root")
	}
	id, err := Lookup("nobody")
	if err != nil {
		t.Skipf("no user nobody here: %v", err)
	}
	return id
}

// Held at its gate, the helper has not run the task and has no
// environment; released, the task runs as the user, with only its groups,
// in a cgroup namespace of its own and with only the environment given.
func TestHelperRunsTheTaskAsTheUser(t *testing.T) {
	id := nobody(t)
	t.Setenv("APRON_TEST_SECRET", "hunter2")
	p, stdout, _ := started(t)
	pid := p.Cmd.Process.Pid
	if cmdline := cmdline(t, pid); cmdline != helperName+"\x00" {
		t.Errorf("held helper's command line %q, want %s", cmdline, helperName)
	}
	if env := read(t, filepath.Join("/proc", strconv.Itoa(pid), "environ")); env != "" {
		t.Errorf("held helper's environment %q, want none", env)
	}
	own, err := os.Readlink("/proc/self/ns/cgroup")
	if err != nil {
		t.Skipf("no cgroup namespaces: %v", err)
	}
	err = p.Release(Spec{User: &id, CgroupNS: true, Env: []string{"GIVEN=yes", "PATH=/usr/bin:/bin"},
		Argv: []string{"/bin/sh", "-c", "id -u; id -g; id -G; readlink /proc/self/ns/cgroup; env"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Cmd.Wait(); err != nil {
		t.Fatalf("task: %v", err)
	}
	lines := strings.Split(read(t, stdout), "\n")
	want := []string{strconv.Itoa(int(id.UID)), strconv.Itoa(int(id.GID)), joinGroups(id.Groups)}
	for i, w := range want {
		if lines[i] != w {
			t.Errorf("line %d: %q, want %q (uid, gid, groups); output %q", i, lines[i], w, lines)
		}
	}
	if lines[3] == own || !strings.HasPrefix(lines[3], "cgroup:[") {
		t.Errorf("cgroup namespace %q, want a new one (the agent's is %s)", lines[3], own)
	}
	env := strings.Join(lines[4:], "\n")
	if !strings.Contains(env, "GIVEN=yes") || strings.Contains(env, "hunter2") || strings.Contains(env, "HOME=") {
		t.Errorf("task environment:\n%s\nwant GIVEN=yes and nothing of the agent's", env)
	}
}

// cmdline reads a just-started process's command line. The kernel closes
// the close-on-exec pipe that ends exec.Cmd.Start before it has set up the
// new image's arguments, so for a moment the command line reads empty.
func cmdline(t *testing.T, pid int) string {
	t.Helper()
	path := filepath.Join("/proc", strconv.Itoa(pid), "cmdline")
	for range 1000 {
		if s := read(t, path); s != "" {
			return s
		}
		time.Sleep(time.Millisecond)
	}
	return ""
}

func joinGroups(gs []uint32) string {
	var s []string
	for _, g := range gs {
		s = append(s, strconv.Itoa(int(g)))
	}
	return strings.Join(s, " ")
}

func TestReleaseSaysWhatFailed(t *testing.T) {
	p, _, _ := started(t)
	err := p.Release(Spec{Argv: []string{"/no/such/command"}})
	if err == nil || !strings.Contains(err.Error(), "exec /no/such/command") {
		t.Errorf("release of a missing command: %v, want the exec error", err)
	}
	if err := p.Cmd.Wait(); err == nil || p.Cmd.ProcessState.ExitCode() != 127 {
		t.Errorf("helper ended %v, want exit status 127", err)
	}
}

func TestAbortReapsTheHelper(t *testing.T) {
	p, _, _ := started(t)
	p.Abort()
	if p.Cmd.ProcessState == nil {
		t.Error("aborted helper not reaped")
	}
}

func TestLookup(t *testing.T) {
	root, err := Lookup("root")
	if err != nil || root.UID != 0 || root.GID != 0 || len(root.Groups) == 0 {
		t.Errorf("Lookup(root) = %+v, %v", root, err)
	}
	if _, err := Lookup("no-such-user-apron"); err == nil || !strings.Contains(err.Error(), `user "no-such-user-apron" does not exist`) {
		t.Errorf("Lookup of a missing user: %v", err)
	}
}

// The cost of a task's start that the helper adds: starting it, releasing
// it and its exec of the command (true).
func BenchmarkStartRelease(b *testing.B) {
	dir := b.TempDir()
	out, err := os.Create(filepath.Join(dir, "out"))
	if err != nil {
		b.Fatal(err)
	}
	defer out.Close()
	for b.Loop() {
		p, err := Start(dir, out, out)
		if err != nil {
			b.Fatal(err)
		}
		if err := p.Release(Spec{Argv: []string{"/bin/true"}}); err != nil {
			b.Fatal(err)
		}
		if err := p.Cmd.Wait(); err != nil {
			b.Fatal(err)
		}
	}
}
