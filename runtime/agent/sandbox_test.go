package agent

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/apronlab/apron/runtime/agent/core"
	"golang.org/x/sys/unix"
)

// withoutOpenat2 makes openBeneath take its fallback, as on a kernel
// without openat2, until the test ends.
func withoutOpenat2(t *testing.T) {
	t.Cleanup(func() { openat2 = unix.Openat2 })
	openat2 = func(int, string, *unix.OpenHow) (int, error) { return -1, unix.ENOSYS }
}

// A sandbox file is opened only if it is a regular file of the sandbox's
// owner reached through no link: with openat2 and with its fallback.
func TestSandboxFileFollowsNoLink(t *testing.T) {
	for _, mode := range []string{"openat2", "fallback"} {
		t.Run(mode, func(t *testing.T) {
			if mode == "fallback" {
				withoutOpenat2(t)
			}
			work := t.TempDir()
			a := &Agent{opts: Options{WorkDir: work}}
			sb := filepath.Join(work, "sandboxes", "fw", "t")
			must(t, os.MkdirAll(sb, 0o755))
			must(t, os.WriteFile(filepath.Join(sb, "stdout"), []byte("out"), 0o640))
			must(t, os.WriteFile(filepath.Join(sb, exitFile), []byte("3\n"), 0o640))
			must(t, os.Symlink("/etc/passwd", filepath.Join(sb, "link")))
			must(t, os.Symlink(filepath.Join(sb, exitFile), filepath.Join(sb, "exitlink")))
			must(t, unix.Mkfifo(filepath.Join(sb, "fifo"), 0o640))
			must(t, os.Symlink("t", filepath.Join(work, "sandboxes", "fw", "linked")))
			must(t, os.Symlink("fw", filepath.Join(work, "sandboxes", "fwlink")))
			type test struct {
				fw, task, name string
				want           error // nil: opens, reads "out"
			}
			tests := []test{
				{"fw", "t", "stdout", nil},
				{"fw", "t", "link", errLink},
				{"fw", "t", "fifo", errForeign},
				{"fw", "t", "missing", fs.ErrNotExist},
				{"fw", "linked", "stdout", errLink},
				{"fwlink", "t", "stdout", errLink},
				{"fw", "t", "../t/stdout", errOutside},
				{"fw", "t", "/etc/passwd", errOutside},
			}
			if os.Geteuid() == 0 { // a file of another user: a hard link to it, say
				must(t, os.WriteFile(filepath.Join(sb, "foreign"), nil, 0o644))
				must(t, os.Chown(filepath.Join(sb, "foreign"), 65534, 65534))
				tests = append(tests, test{"fw", "t", "foreign", errForeign})
			}
			for _, tt := range tests {
				f, err := a.sandboxFile(core.TaskKey{Framework: tt.fw, Task: tt.task}, tt.name)
				if tt.want == nil {
					if err != nil {
						t.Errorf("%s/%s/%s: %v", tt.fw, tt.task, tt.name, err)
						continue
					}
					data, _ := io.ReadAll(f)
					f.Close()
					if string(data) != "out" {
						t.Errorf("%s/%s/%s read %q", tt.fw, tt.task, tt.name, data)
					}
					continue
				}
				if !errors.Is(err, tt.want) {
					t.Errorf("%s/%s/%s: %v, want %v", tt.fw, tt.task, tt.name, err, tt.want)
				}
				if f != nil {
					f.Close()
				}
			}
			if got := a.exitOf(core.TaskKey{Framework: "fw", Task: "t"}); got != 3 {
				t.Errorf("exit status %d, want 3", got)
			}
			must(t, os.Rename(filepath.Join(sb, "exitlink"), filepath.Join(sb, exitFile)))
			if got := a.exitOf(core.TaskKey{Framework: "fw", Task: "t"}); got != -1 {
				t.Errorf("exit status through a link %d, want -1 (none)", got)
			}
		})
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
