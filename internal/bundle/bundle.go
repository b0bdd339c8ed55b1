package bundle

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"strings"
)

// Names returns the names (without .yaml) of the files in dir of fsys.
func Names(fsys fs.FS, dir string) []string {
	entries, _ := fs.ReadDir(fsys, dir)
	var names []string
	for _, e := range entries {
		names = append(names, strings.TrimSuffix(e.Name(), ".yaml"))
	}
	return names
}

// Read reads the file name, or, if there is none, the bundled dir/name.yaml;
// the error for neither lists what is bundled.
func Read(name string, fsys fs.FS, dir string) ([]byte, error) {
	data, err := os.ReadFile(name)
	if !errors.Is(err, fs.ErrNotExist) {
		return data, err
	}
	if b, berr := fs.ReadFile(fsys, path.Join(dir, strings.TrimSuffix(name, ".yaml")+".yaml")); berr == nil {
		return b, nil
	}
	return nil, fmt.Errorf("%s: no such file, nor a bundled one (bundled: %s)", name, strings.Join(Names(fsys, dir), ", "))
}

// AgentNames names the agents of a group: the group's name for one agent,
// name-1 ... name-N for count N > 1.
func AgentNames(group string, count int) []string {
	if count <= 1 {
		return []string{group}
	}
	names := make([]string, count)
	for i := range names {
		names[i] = fmt.Sprintf("%s-%d", group, i+1)
	}
	return names
}
