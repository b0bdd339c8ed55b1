package integration

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// upMaster is a master as apron up --masters prints it.
type upMaster struct {
	url, role string
	pid       int
}

var upMasterLine = regexp.MustCompile(`(?m)^  master (\d+): (https?://\S+) \(pid (\d+)\), (leader|standby); web UI: `)

// upMasters waits for apron up to print its cluster and returns its
// masters and the list it tells apron execute to use.
func upMasters(t *testing.T, up *proc) ([]upMaster, string) {
	t.Helper()
	waitPrinted(t, up)
	out := up.out.String()
	var ms []upMaster
	for i, m := range upMasterLine.FindAllStringSubmatch(out, -1) {
		pid, _ := strconv.Atoi(m[3])
		if m[1] != strconv.Itoa(i+1) {
			t.Fatalf("apron up lists master %s at place %d:\n%s", m[1], i+1, out)
		}
		ms = append(ms, upMaster{url: m[2], pid: pid, role: m[4]})
	}
	list := regexp.MustCompile(`apron execute --master (\S+) `).FindStringSubmatch(out)
	if list == nil {
		t.Fatalf("apron up does not say how to run apron execute:\n%s", out)
	}
	return ms, list[1]
}

// execute runs apron execute of one short task through masters and
// checks that it finishes.
func execute(t *testing.T, masters, name string) {
	t.Helper()
	out, err := exec.Command(apronBin, "execute", "--master", masters, "--name", name, "--command", "echo hello", "--resources", "cpus:0.5;mem:64").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "TASK_FINISHED") {
		t.Fatalf("execute %s: %v\n%s", name, err, out)
	}
}

// waitExit waits for p to exit, for up to within.
func waitExit(t *testing.T, p *proc, within time.Duration) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- p.cmd.Wait() }()
	select {
	case err := <-done:
		return err
	case <-time.After(within):
		t.Fatalf("apron %s did not exit within %v", strings.Join(p.cmd.Args[1:], " "), within)
		return nil
	}
}

// processesIn are the processes whose command line names dir.
func processesIn(dir string) []string {
	var out []string
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err == nil && strings.Contains(string(cmdline), dir) {
			out = append(out, e.Name()+": "+strings.ReplaceAll(string(cmdline), "\x00", " "))
		}
	}
	return out
}

// apron up --masters 3 as the README shows it: three master processes, one
// leading; apron execute through the list it prints runs a task; kill -9
// of the leader's process while a task runs: another master leads, the
// agents follow it, the running task finishes and its apron execute ends
// well, and a new apron execute works; Ctrl-C stops everything, and no
// process of the cluster is left.
func TestUpThreeMastersFailover(t *testing.T) {
	_, useBundle := upClient(t)
	work := t.TempDir()
	up := start(t, "up", "--masters", "3", "--agents", "2", "--listen", "127.0.0.1:0", "--resources", "cpus:1;mem:256", "--work-dir", work, "--agent-timeout", "10s")
	ms, list := upMasters(t, up)
	useBundle()
	var urls []string
	lead := -1
	for i, m := range ms {
		urls = append(urls, m.url)
		if m.role == "leader" {
			if lead >= 0 {
				t.Fatalf("apron up prints two leaders:\n%s", up.out)
			}
			lead = i
		}
	}
	if len(ms) != 3 || lead < 0 || list != strings.Join(urls, ",") {
		t.Fatalf("apron up prints %d masters, leader %d, and apron execute --master %s; want 3, one leading, and the list of all:\n%s", len(ms), lead+1, list, up.out)
	}
	execute(t, list, "before")

	across := start(t, "execute", "--master", list, "--name", "across", "--command", "sleep 3", "--resources", "cpus:0.5;mem:64")
	for deadline := time.Now().Add(20 * time.Second); !strings.Contains(across.out.String(), "TASK_RUNNING"); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the task to run across the failover did not start:\n%s", across.out)
		}
	}
	if err := syscall.Kill(ms[lead].pid, syscall.SIGKILL); err != nil {
		t.Fatalf("kill -9 %d, the leader: %v", ms[lead].pid, err)
	}
	killed := time.Now()
	cl := &masters{t: t, urls: urls}
	next := cl.leader(lead)
	t.Logf("master %d leads %v after master %d was killed", next+1, time.Since(killed).Round(time.Millisecond), lead+1)
	c := &cluster{t: t, url: urls[next]}
	c.waitFor("both agents on the new leader", func(st masterState) bool {
		return len(st.Agents) == 2 && st.Agents[0].Connected && st.Agents[1].Connected
	})
	if err := waitExit(t, across, 30*time.Second); err != nil || !strings.Contains(across.out.String(), "TASK_FINISHED") {
		t.Errorf("the task running across the failover: %v\n%s", err, across.out)
	}
	// As the README runs it: host:port, the bundle apron up wrote making
	// each https.
	execute(t, strings.ReplaceAll(list, "https://", ""), "after")

	if err := up.cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	if err := waitExit(t, up, 30*time.Second); err != nil {
		t.Errorf("apron up after Ctrl-C: %v", err)
	}
	for _, m := range ms {
		if syscall.Kill(m.pid, 0) == nil {
			t.Errorf("master process %d outlived apron up", m.pid)
		}
	}
	if left := processesIn(work); len(left) > 0 {
		t.Errorf("processes left after apron up stopped:\n%s", strings.Join(left, "\n"))
	}
}

// alive reports whether process pid runs (a zombie does not: it has ended
// and waits for its parent to collect it).
func alive(pid int) bool {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	_, rest, _ := strings.Cut(string(stat), ") ")
	return !strings.HasPrefix(rest, "Z") && !strings.HasPrefix(rest, "X")
}

// kill -9 of apron up itself takes its masters with it: the kernel kills
// them (Pdeathsig), with no Ctrl-C to stop them.
func TestUpMastersDieWithIt(t *testing.T) {
	upClient(t)
	work := t.TempDir()
	up := start(t, "up", "--masters", "3", "--agents", "1", "--listen", "127.0.0.1:0", "--resources", "cpus:1;mem:64", "--work-dir", work)
	ms, _ := upMasters(t, up)
	if len(ms) != 3 {
		t.Fatalf("apron up prints %d masters, want 3:\n%s", len(ms), up.out)
	}
	up.kill9()
	deadline := time.Now().Add(5 * time.Second)
	for _, m := range ms {
		for alive(m.pid) {
			if time.Now().After(deadline) {
				t.Fatalf("master process %d runs 5 s after apron up was killed", m.pid)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	if left := processesIn(work); len(left) > 0 {
		t.Errorf("processes left after apron up was killed:\n%s", strings.Join(left, "\n"))
	}
}
