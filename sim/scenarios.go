package sim

import (
	"bytes"
	"embed"

	"github.com/apronlab/apron/internal/bundle"
)

//go:embed scenarios/*.yaml
var scenarios embed.FS

// Scenarios returns the names of the simulation configs built into apron.
func Scenarios() []string { return bundle.Names(scenarios, "scenarios") }

// LoadConfig reads a simulation config file, or a built-in scenario by name
// when no such file exists.
func LoadConfig(name string) (*Config, error) {
	data, err := ConfigSource(name)
	if err != nil {
		return nil, err
	}
	return ParseConfig(name, bytes.NewReader(data))
}

// ConfigSource returns the YAML of a simulation config file, or of a
// built-in scenario by name when no such file exists.
func ConfigSource(name string) ([]byte, error) { return bundle.Read(name, scenarios, "scenarios") }
