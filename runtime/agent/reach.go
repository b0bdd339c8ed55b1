package agent

import (
	"io"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// Tasks run as users other than the agent's, who reach the sandbox, HOME,
// and $APRON by their paths. An agent that is root checks at start that
// every user can reach its work dir (it warns if not), and that every user
// can run the apron binary it gives tasks as $APRON; if not (say go run
// built it in a private temporary directory), tasks get a copy in
// WORK_DIR/bin (a hard link where the filesystem allows).

// unreachable says which element of path others (not its owner, nor its
// group) cannot search, or for the last element with last, use; "" if
// none.
func unreachable(path string, last uint32) string {
	abs, err := filepath.Abs(path)
	if err != nil {
		return path
	}
	need := last
	for p := abs; ; p = filepath.Dir(p) {
		var st unix.Stat_t
		if unix.Stat(p, &st) != nil || st.Mode&need != need {
			return p
		}
		if p == "/" {
			return ""
		}
		need = 0o001 // search
	}
}

// checkReach warns when other users cannot reach the work dir, and gives
// tasks a copy of the apron binary they can run when they cannot run it
// where it is (or warns that they cannot).
func (a *Agent) checkReach() {
	if p := unreachable(a.opts.WorkDir, 0o001); p != "" {
		a.opts.Log.Warn("tasks cannot reach their sandboxes by path (HOME, APRON_SANDBOX): other users cannot search "+p, "work_dir", a.opts.WorkDir)
	}
	if a.opts.Self == "" || unreachable(a.opts.Self, 0o001) == "" {
		return
	}
	bin := filepath.Join(a.opts.WorkDir, "bin")
	self := filepath.Join(bin, filepath.Base(a.opts.Self))
	err := os.MkdirAll(bin, 0o755)
	if err == nil {
		err = linkOrCopy(a.opts.Self, self)
	}
	if err != nil {
		a.opts.Log.Warn("tasks cannot run $APRON: other users cannot run it where it is, and copying it failed", "self", a.opts.Self, "err", err)
		return
	}
	a.opts.Log.Info("tasks run a copy of the apron binary, which other users cannot run where it is", "self", a.opts.Self, "copy", self)
	a.opts.Self = self
}

// linkOrCopy replaces dst with a hard link to src if others may run src,
// else with a copy of it, mode 0755 (src itself is left as it is).
func linkOrCopy(src, dst string) error {
	tmp := dst + ".new"
	_ = os.Remove(tmp)
	var st unix.Stat_t
	linked := unix.Stat(src, &st) == nil && st.Mode&0o001 != 0 && os.Link(src, tmp) == nil
	if !linked {
		if err := copyFile(src, tmp); err != nil {
			return err
		}
	}
	return os.Rename(tmp, dst)
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o700)
	if err != nil {
		return err
	}
	_, err = io.Copy(out, in)
	if err == nil {
		err = out.Chmod(0o755)
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	return err
}
