package sim

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"strings"
)

//go:embed scenarios/*.yaml
var scenarios embed.FS

// Scenarios returns the names of the simulation configs built into apron.
func Scenarios() []string {
	entries, _ := fs.ReadDir(scenarios, "scenarios")
	var names []string
	for _, e := range entries {
		names = append(names, strings.TrimSuffix(e.Name(), ".yaml"))
	}
	return names
}

// LoadConfig reads a simulation config file, or a built-in scenario by name
// when no such file exists.
func LoadConfig(name string) (*Config, error) {
	data, err := os.ReadFile(name)
	if errors.Is(err, fs.ErrNotExist) {
		if b, berr := scenarios.ReadFile(path.Join("scenarios", strings.TrimSuffix(name, ".yaml")+".yaml")); berr == nil {
			return ParseConfig(name, bytes.NewReader(b))
		}
		return nil, fmt.Errorf("%s: no such file, nor a built-in scenario (built in: %s)", name, strings.Join(Scenarios(), ", "))
	}
	if err != nil {
		return nil, err
	}
	return ParseConfig(name, bytes.NewReader(data))
}
