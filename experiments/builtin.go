package experiments

import (
	"embed"
	"io/fs"
	"strings"
)

// The ready studies, built into apron so that they run anywhere by name.
//
//go:embed *.yaml
var studies embed.FS

// Builtin returns the names of the built-in studies.
func Builtin() []string {
	entries, _ := fs.ReadDir(studies, ".")
	var out []string
	for _, e := range entries {
		out = append(out, strings.TrimSuffix(e.Name(), ".yaml"))
	}
	return out
}

func builtin(name string) ([]byte, bool) {
	data, err := fs.ReadFile(studies, strings.TrimSuffix(name, ".yaml")+".yaml")
	return data, err == nil
}
