package chaos

import (
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

func TestParseTruth(t *testing.T) {
	tests := []struct {
		name, start, end string
		starts           int
		ending           Ending
		code             int
		term, err        bool
	}{
		{"never ran", "", "", 0, NeverStarted, 0, false, false},
		{"sigkilled", "start 42\n", "", 1, Killed, 0, false, false},
		{"exited 0", "start 42\n", "exit 0\n", 1, Exited, 0, false, false},
		{"exited 3", "start 42\n", "exit 3\n", 1, Exited, 3, false, false},
		{"terminated", "start 42\n", "term\n", 1, Terminated, 0, true, false},
		{"terminated as it exited", "start 42\n", "exit 7\nterm\n", 1, Exited, 7, true, false},
		{"ran twice", "start 42\nstart 43\n", "exit 0\nexit 0\n", 2, Exited, 0, false, false},
		{"no code", "start 42\n", "exit\n", 1, Killed, 0, false, true},
		{"bad code", "start 42\n", "exit x\n", 1, Killed, 0, false, true},
		{"garbage", "start 42\n", "boom\n", 1, Killed, 0, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			starts, ending, code, term, err := parseTruth(tt.start, tt.end)
			if (err != nil) != tt.err {
				t.Fatalf("error %v, want one: %v", err, tt.err)
			}
			if err != nil {
				return
			}
			if starts != tt.starts || ending != tt.ending || code != tt.code || term != tt.term {
				t.Errorf("got %d %s %d %v, want %d %s %d %v", starts, ending, code, term, tt.starts, tt.ending, tt.code, tt.term)
			}
		})
	}
}

// The script, run as the agent runs it (sh -c in the sandbox, its own
// process group), leaves the truth of how it ended.
func TestScriptRecordsHowItEnded(t *testing.T) {
	tests := []struct {
		name   string
		spec   TaskSpec
		signal syscall.Signal // sent to the process group after 300 ms; 0: none
		ending Ending
		code   int
	}{
		{"finishes", TaskSpec{ID: "ok", Sleep: 50 * time.Millisecond}, 0, Exited, 0},
		{"fails", TaskSpec{ID: "bad", Sleep: 50 * time.Millisecond, Exit: 3}, 0, Exited, 3},
		{"killed", TaskSpec{ID: "term", Sleep: 30 * time.Second}, syscall.SIGTERM, Terminated, 0},
		{"sigkilled", TaskSpec{ID: "nine", Sleep: 30 * time.Second}, syscall.SIGKILL, Killed, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			work := t.TempDir()
			dir := filepath.Join(work, "sandboxes", "fw", tt.spec.ID)
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command("/bin/sh", "-c", Script(tt.spec))
			cmd.Dir, cmd.SysProcAttr = dir, &syscall.SysProcAttr{Setpgid: true}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			if tt.signal != 0 {
				time.Sleep(300 * time.Millisecond)
				_ = syscall.Kill(-cmd.Process.Pid, tt.signal)
			}
			_ = cmd.Wait()
			tr, err := readTruth([]string{t.TempDir(), work}, tt.spec.ID)
			if err != nil {
				t.Fatal(err)
			}
			if tr.Agent != 1 || tr.Starts != 1 || tr.Ending != tt.ending || tr.Code != tt.code || tr.Started.IsZero() {
				t.Errorf("truth %+v, want agent 1, one start, %s with %d", tr, tt.ending, tt.code)
			}
			if tt.ending != Killed && tr.Ended.Before(tr.Started) {
				t.Errorf("ended %v before it started %v", tr.Ended, tr.Started)
			}
			if tt.spec.Exit != 0 && cmd.ProcessState.ExitCode() != tt.spec.Exit {
				t.Errorf("exit code %d, want %d", cmd.ProcessState.ExitCode(), tt.spec.Exit)
			}
		})
	}
}

func TestReadTruthOfATaskThatNeverRan(t *testing.T) {
	tr, err := readTruth([]string{t.TempDir()}, "nope")
	if err != nil || tr.Agent != -1 || tr.Ending != NeverStarted {
		t.Errorf("truth %+v, err %v; want never started on no agent", tr, err)
	}
}
