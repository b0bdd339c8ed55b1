package chaos

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// The files a task writes into its sandbox (its working directory): how
// its process really began and ended, whatever the agent and master say.
const (
	startFile = "chaos.start" // "start PID", one line per start
	endFile   = "chaos.end"   // "exit CODE" when it ran to its end, "term" when SIGTERM ended it
)

// Script is the shell command of a task: it records its start, sleeps,
// and records its exit code, or SIGTERM if it is killed before that
// (the agent's kill sends SIGTERM to its process group first). A process
// that has a start line and no end line was SIGKILLed. The sleep runs in
// the background so that the trap runs at once.
func Script(t TaskSpec) string {
	return fmt.Sprintf(": chaos %s; echo start $$ >> %s; trap 'echo term >> %s; exit 143' TERM; sleep %.3f & wait $!; echo exit %d >> %s; exit %d",
		t.ID, startFile, endFile, t.Sleep.Seconds(), t.Exit, endFile, t.Exit)
}

// Ending is how a task's process really ended, from its sandbox.
type Ending string

// Endings.
const (
	NeverStarted Ending = "never-started" // no start line: the command never ran
	Exited       Ending = "exited"        // it ran to its end and exited with Code
	Terminated   Ending = "terminated"    // SIGTERM ended it
	Killed       Ending = "sigkilled"     // it started and left no end line: SIGKILL (or it still runs: see Alive)
)

// Truth is what really happened to a task's process.
type Truth struct {
	Task    string    `json:"task"`
	Agent   int       `json:"agent"` // the index of the agent whose work dir holds its sandbox; -1: none
	Starts  int       `json:"starts"`
	Started time.Time `json:"started,omitzero"`
	Ending  Ending    `json:"ending"`
	Code    int       `json:"code,omitempty"` // the exit code when Exited
	Term    bool      `json:"term,omitempty"` // a SIGTERM reached it (also after it wrote its exit)
	Ended   time.Time `json:"ended,omitzero"`
	Alive   []int     `json:"alive,omitempty"` // its processes still running at the end
}

// parseTruth reads a task's two files' contents (empty when missing).
func parseTruth(start, end string) (starts int, ending Ending, code int, term bool, err error) {
	starts = strings.Count(start, "start ")
	if starts == 0 {
		return 0, NeverStarted, 0, strings.Contains(end, "term"), nil
	}
	words := strings.Fields(end)
	ending = Killed
	for i := 0; i < len(words); i++ {
		switch words[i] {
		case "term":
			term = true
			if ending == Killed {
				ending = Terminated
			}
		case "exit":
			if i+1 == len(words) {
				return starts, ending, 0, term, fmt.Errorf("%s: %q: an exit line without a code", endFile, end)
			}
			i++
			c, err := strconv.Atoi(words[i])
			if err != nil {
				return starts, ending, 0, term, fmt.Errorf("%s: %q: %v", endFile, end, err)
			}
			if ending == Killed {
				ending, code = Exited, c
			}
		default:
			return starts, ending, 0, term, fmt.Errorf("%s: %q: unexpected %q (allowed lines: exit CODE, term)", endFile, end, words[i])
		}
	}
	return starts, ending, code, term, nil
}

// readTruth finds a task's sandbox in the agents' work dirs and reads it.
func readTruth(workDirs []string, task string) (Truth, error) {
	tr := Truth{Task: task, Agent: -1, Ending: NeverStarted}
	for i, wd := range workDirs {
		dirs, _ := filepath.Glob(filepath.Join(wd, "sandboxes", "*", task))
		for _, dir := range dirs {
			start, st, err := readFile(filepath.Join(dir, startFile))
			if err != nil {
				return tr, err
			}
			end, et, err := readFile(filepath.Join(dir, endFile))
			if err != nil {
				return tr, err
			}
			if start == "" && end == "" {
				continue
			}
			if tr.Agent >= 0 {
				tr.Starts++ // a second sandbox: the task ran on two agents
				continue
			}
			tr.Agent, tr.Started, tr.Ended = i, st, et
			tr.Starts, tr.Ending, tr.Code, tr.Term, err = parseTruth(start, end)
			if err != nil {
				return tr, fmt.Errorf("task %s in %s: %w", task, dir, err)
			}
		}
	}
	return tr, nil
}

// readFile returns a file's contents and modification time; a missing
// file is empty.
func readFile(path string) (string, time.Time, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return "", time.Time{}, nil
	}
	if err != nil {
		return "", time.Time{}, err
	}
	fi, err := os.Stat(path)
	if err != nil {
		return "", time.Time{}, err
	}
	return string(data), fi.ModTime(), nil
}
