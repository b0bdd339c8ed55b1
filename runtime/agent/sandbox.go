package agent

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/apronlab/apron/runtime/agent/core"
	"github.com/apronlab/apron/runtime/agent/launch"
	"github.com/apronlab/apron/runtime/api"
	"golang.org/x/sys/unix"
)

// A task's sandbox is WORK_DIR/sandboxes/FW/TASK, made afresh for each
// start and owned by the task's user (0750), with its stdout and stderr
// (0640) and the exit status its wrapper writes. The task owns it, so the
// agent reads a file of it (to serve it, or the exit status) only through
// openBeneath: never through a symbolic link, never out of the sandbox, and
// only a regular file of the sandbox's owner (not a hard link to another's).

// exitFile holds a task's exit status in its sandbox.
const exitFile = "exit_status"

// Why a sandbox file is refused.
var (
	errLink    = errors.New("a symbolic link, which the agent does not follow in a sandbox")
	errOutside = errors.New("a path out of the sandbox")
	errForeign = errors.New("not a regular file of the sandbox's owner")
)

// sandbox is a task's sandbox directory, for ids that are valid names only.
func (a *Agent) sandbox(k core.TaskKey) (string, error) {
	if err := api.ValidName(k.Framework); err != nil {
		return "", fmt.Errorf("no sandbox for framework id %q: %w", k.Framework, err)
	}
	if err := api.ValidName(k.Task); err != nil {
		return "", fmt.Errorf("no sandbox for task id %q: %w", k.Task, err)
	}
	return filepath.Join(a.opts.WorkDir, "sandboxes", k.Framework, k.Task), nil
}

// makeSandbox makes the sandbox of a task about to start, with its stdout
// and stderr, and gives it to owner (nil: the agent's own user). A task id
// used again gets a new one: the old one, which its task may have filled
// with links, is collected.
func (a *Agent) makeSandbox(k core.TaskKey, owner *launch.Identity) (dir string, stdout, stderr *os.File, err error) {
	dir, err = a.sandbox(k)
	if err != nil {
		return "", nil, nil, err
	}
	if _, err := os.Lstat(dir); err == nil {
		a.removeSandbox(k)
	}
	if err := mkdirSandbox(dir); err != nil {
		return "", nil, nil, fmt.Errorf("sandbox: %w", err)
	}
	d, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return "", nil, nil, fmt.Errorf("sandbox: %w", &fs.PathError{Op: "open", Path: dir, Err: err})
	}
	defer unix.Close(d)
	stdout, err = createIn(d, dir, "stdout", owner)
	if err == nil {
		stderr, err = createIn(d, dir, "stderr", owner)
	}
	if err == nil && owner != nil {
		err = unix.Fchown(d, int(owner.UID), int(owner.GID))
	}
	if err == nil {
		err = unix.Fchmod(d, 0o750)
	}
	if err != nil {
		stdout.Close() // nil-safe
		stderr.Close()
		return "", nil, nil, fmt.Errorf("sandbox %s: %w", dir, err)
	}
	return dir, stdout, stderr, nil
}

// createIn creates a new file for appending in the directory d (at path
// dir), owned by owner.
func createIn(d int, dir, name string, owner *launch.Identity) (*os.File, error) {
	fd, err := unix.Openat(d, name, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_APPEND|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o640)
	if err != nil {
		return nil, &fs.PathError{Op: "create", Path: name, Err: err}
	}
	if owner != nil {
		if err := unix.Fchown(fd, int(owner.UID), int(owner.GID)); err != nil {
			unix.Close(fd)
			return nil, &fs.PathError{Op: "chown", Path: name, Err: err}
		}
	}
	return os.NewFile(uintptr(fd), filepath.Join(dir, name)), nil
}

// mkdirSandbox makes a task's sandbox, only the agent's for now: one mkdir
// when its framework's folder exists, as it does for every task but a
// framework's first; the folder is made again if the collection of a
// sandbox removed it meanwhile.
func mkdirSandbox(dir string) error {
	for try := 0; ; try++ {
		err := os.Mkdir(dir, 0o700)
		if !errors.Is(err, fs.ErrNotExist) || try == 3 {
			return err
		}
		if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
			return err
		}
	}
}

// sandboxFile opens a file of a task's sandbox to read (see above).
func (a *Agent) sandboxFile(k core.TaskKey, name string) (*os.File, error) {
	if _, err := a.sandbox(k); err != nil {
		return nil, err
	}
	work, err := unix.Open(a.opts.WorkDir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: a.opts.WorkDir, Err: err}
	}
	defer unix.Close(work)
	// Not O_DIRECTORY, which would say ENOTDIR of a link, not ELOOP; and
	// O_NONBLOCK, so that a FIFO does not hold the agent.
	path := "sandboxes/" + k.Framework + "/" + k.Task
	d, err := openBeneath(work, path, unix.O_RDONLY|unix.O_NONBLOCK)
	if err != nil {
		return nil, err
	}
	defer unix.Close(d)
	var dst, st unix.Stat_t
	if err := unix.Fstat(d, &dst); err != nil || dst.Mode&unix.S_IFMT != unix.S_IFDIR {
		return nil, &fs.PathError{Op: "open", Path: path, Err: unix.ENOTDIR}
	}
	fd, err := openBeneath(d, name, unix.O_RDONLY|unix.O_NONBLOCK)
	if err != nil {
		return nil, err
	}
	if err := unix.Fstat(fd, &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFREG || st.Uid != dst.Uid {
		unix.Close(fd)
		return nil, &fs.PathError{Op: "open", Path: name, Err: errForeign}
	}
	return os.NewFile(uintptr(fd), name), nil
}

// openat2 is unix.Openat2; tests replace it to take the fallback.
var openat2 = unix.Openat2

// openBeneath opens name, a relative slash-separated path, under the
// directory dirfd with flags, following no symbolic link and never leaving
// the directory: with openat2 (RESOLVE_BENEATH, RESOLVE_NO_SYMLINKS,
// RESOLVE_NO_MAGICLINKS), or where the kernel has none, one component at a
// time with O_NOFOLLOW, refusing "..".
func openBeneath(dirfd int, name string, flags int) (int, error) {
	how := unix.OpenHow{Flags: uint64(flags | unix.O_NOFOLLOW | unix.O_CLOEXEC),
		Resolve: unix.RESOLVE_BENEATH | unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_NO_MAGICLINKS}
	for try := 0; ; try++ {
		fd, err := openat2(dirfd, name, &how)
		switch {
		case err == nil:
			return fd, nil
		case errors.Is(err, unix.EAGAIN) && try < 8: // a rename raced the lookup
		case errors.Is(err, unix.ENOSYS):
			return openEachNoFollow(dirfd, name, flags)
		default:
			return -1, openErr(name, err)
		}
	}
}

// openEachNoFollow is openBeneath without openat2.
func openEachNoFollow(dirfd int, name string, flags int) (int, error) {
	parts := strings.Split(name, "/")
	fd := dirfd
	for i, p := range parts {
		if p == "" || p == "." || p == ".." {
			if fd != dirfd {
				unix.Close(fd)
			}
			return -1, openErr(name, unix.EXDEV)
		}
		fl := unix.O_RDONLY | unix.O_DIRECTORY
		if i == len(parts)-1 {
			fl = flags
		}
		next, err := unix.Openat(fd, p, fl|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if errors.Is(err, unix.ENOTDIR) && isLink(fd, p) {
			err = unix.ELOOP // what O_DIRECTORY says of a link
		}
		if fd != dirfd {
			unix.Close(fd)
		}
		if err != nil {
			return -1, openErr(name, err)
		}
		fd = next
	}
	return fd, nil
}

// isLink says whether name in the directory dirfd is a symbolic link.
func isLink(dirfd int, name string) bool {
	var st unix.Stat_t
	return unix.Fstatat(dirfd, name, &st, unix.AT_SYMLINK_NOFOLLOW) == nil && st.Mode&unix.S_IFMT == unix.S_IFLNK
}

// openErr says why opening name failed: a link, a path out, or err.
func openErr(name string, err error) error {
	switch {
	case errors.Is(err, unix.ELOOP):
		err = errLink
	case errors.Is(err, unix.EXDEV):
		err = errOutside
	}
	return &fs.PathError{Op: "open", Path: name, Err: err}
}

// exitOf is the exit status the task's wrapper left in its sandbox; -1:
// none, or none the agent may read.
func (a *Agent) exitOf(k core.TaskKey) int {
	f, err := a.sandboxFile(k, exitFile)
	if err != nil {
		return -1
	}
	defer f.Close()
	data, _ := io.ReadAll(io.LimitReader(f, 32))
	n, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil {
		return -1
	}
	return n
}
