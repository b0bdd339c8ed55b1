package pki

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"

	"github.com/apronlab/apron/runtime/auth"
)

// privateDir makes dir (0700, its parents 0755) if missing and checks that the
// secrets in it are this user's alone: dir is a directory (not a link)
// owned by this user, made 0700, in a folder no one else can rename it
// out of (owned by this user or root, and writable by others only when
// sticky, as /tmp is).
func privateDir(dir string) error {
	if dir == "" {
		return errors.New("pki: no directory given for the secrets")
	}
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return fmt.Errorf("pki: %w", err)
	}
	if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("pki: %w", err)
	}
	me := os.Geteuid()
	st, err := os.Lstat(dir)
	if err != nil {
		return fmt.Errorf("pki: %w", err)
	}
	if !st.IsDir() || owner(st) != me {
		return fmt.Errorf("pki: %s is not a directory of user %d (a link, or another user's): refusing to keep secrets in it", dir, me)
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return fmt.Errorf("pki: %w", err)
	}
	parent := filepath.Dir(dir)
	pst, err := os.Stat(parent)
	if err != nil {
		return fmt.Errorf("pki: %w", err)
	}
	if o := owner(pst); o != me && o != 0 || pst.Mode()&0o022 != 0 && pst.Mode()&fs.ModeSticky == 0 {
		return fmt.Errorf("pki: %s, the folder of %s, belongs to user %d with mode %s: another user could replace the secrets; use a folder of your own", parent, dir, owner(pst), pst.Mode())
	}
	return nil
}

func owner(st fs.FileInfo) int {
	if s, ok := st.Sys().(*syscall.Stat_t); ok {
		return int(s.Uid)
	}
	return -1
}

// Install writes principal's client bundle to path (made 0600, its folder
// 0700 if new), naming the files of the secrets' directory, marked as
// apron up's. A file there that apron up did not write is left alone and
// reported.
func (s *Secrets) Install(principal, path string) error {
	id, ok := s.ids[principal]
	if !ok {
		return fmt.Errorf("pki: no principal %q in %s", principal, s.Dir)
	}
	if old, err := os.ReadFile(path); err == nil {
		if !writtenByUp(old) {
			return fmt.Errorf("%s holds a client bundle that apron up did not write: left as it is; point clients at %s with --credential or %s", path, id.Bundle, auth.ClientEnv)
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	return writeJSON(path, auth.Bundle{Principal: principal, Secret: id.Secret, CA: s.CA, Cert: id.Cert, Key: id.Key, WrittenBy: auth.WrittenByUp})
}

// Uninstall removes the bundle at path if apron up wrote it (Install),
// and reports whether it did.
func Uninstall(path string) (bool, error) {
	old, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if !writtenByUp(old) {
		return false, nil
	}
	return true, os.Remove(path)
}

// writtenByUp reports whether data is a bundle apron up wrote.
func writtenByUp(data []byte) bool {
	var b auth.Bundle
	return json.Unmarshal(data, &b) == nil && b.WrittenBy == auth.WrittenByUp
}

// Curlrc writes a curl config (curl -K FILE) that verifies the servers
// with the CA and presents principal's certificate, and returns its path.
func (s *Secrets) Curlrc(principal string) (string, error) {
	id, ok := s.ids[principal]
	if !ok {
		return "", fmt.Errorf("pki: no principal %q in %s", principal, s.Dir)
	}
	path := filepath.Join(s.Dir, principal+".curlrc")
	body := fmt.Sprintf("# curl -K %s URL: as principal %s, by its certificate\ncacert = %q\ncert = %q\nkey = %q\n", path, principal, s.CA, id.Cert, id.Key)
	return path, writeFile(path, []byte(body))
}
