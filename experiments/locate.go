package experiments

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"go.yaml.in/yaml/v4"

	"github.com/apronlab/apron/internal/conf"
)

// source is where a study's keys came from, so that an error names the
// file and line of the key that is wrong, or the --set or environment
// variable that gave it.
type source struct {
	name string     // the study file as given, or "<name> (built in)"
	dir  string     // the study file's folder; "" for a built-in study
	doc  *yaml.Node // the file's tree, with lines
	tree *yaml.Node // the keys as read, overrides included
	sets []string   // --set key=value, in order
	// short are the policies given by name only (policies: [drf]).
	short []int

	baseName string     // the base simulation, as found
	baseDoc  *yaml.Node // its tree, with lines
}

// parse reads the study file's tree for its lines; a syntax error is an
// error at its exact line.
func (src *source) parse(data []byte) error {
	parse := conf.Parse // YAML and JSON
	if strings.EqualFold(filepath.Ext(src.name), ".toml") {
		parse = conf.ParseTOML
	}
	doc, err := parse(data)
	if err != nil {
		return conf.Locate(err, src.name, nil)
	}
	src.doc = doc
	return nil
}

// locate names where the key of err was given: the study file and its
// line, a --set, or an environment variable.
func (src *source) locate(err error) error {
	var e *conf.Error
	if err == nil || !errors.As(err, &e) {
		if err != nil {
			return fmt.Errorf("study %s: %w", src.name, err)
		}
		return nil
	}
	if o := src.override(e.Path); o != "" {
		return conf.Locate(err, o, nil)
	}
	return conf.Locate(err, src.name, src.doc)
}

// override names the --set or the environment variable (APRON_SEEDS,
// APRON_SIM_SEED) that gave the key at path, or "" for the file.
func (src *source) override(path string) string {
	keys, _, _ := strings.Cut(path, "[")
	parts := strings.Split(keys, ".")
	for i := len(parts); i >= 1; i-- {
		prefix := strings.Join(parts[:i], ".")
		for k := len(src.sets) - 1; k >= 0; k-- {
			if key, _, _ := strings.Cut(src.sets[k], "="); strings.EqualFold(key, prefix) {
				return "--set " + src.sets[k]
			}
		}
		env := "APRON_" + strings.ToUpper(strings.ReplaceAll(prefix, ".", "_"))
		if _, ok := os.LookupEnv(env); ok {
			return env
		}
	}
	return ""
}

// write is a key a run's config got from the study's sweep or a policy's
// set: the study's key, and the config's key it resolved to.
type write struct{ key, at string }

// runError says where the key of a run's config that is wrong came from:
// a sweep or a policy's set, the study's sim section, or the base
// simulation; each with its file and line.
func (s *Study) runError(err error, id string, writes []write) error {
	var e *conf.Error
	if !errors.As(err, &e) {
		return fmt.Errorf("run %s: %w", id, err)
	}
	bare := &conf.Error{Path: e.Path, Msg: e.Msg}
	for i := len(writes) - 1; i >= 0; i-- {
		if rest, ok := under(e.Path, writes[i].at); ok {
			msg := e.Msg
			if rest != "" {
				msg = rest + ": " + msg
			}
			return s.src.locate(&conf.Error{Path: writes[i].key, Msg: msg})
		}
	}
	if s.src.baseDoc == nil || s.fromStudy(e.Path) {
		return s.src.locate(conf.At("sim", bare))
	}
	return conf.Locate(bare, s.src.baseName, s.src.baseDoc)
}

// fromStudy reports whether the study's sim section gave the config's key
// at path: the section is laid over the base map by map, so it did if it
// has the key, or a list or value at a key above it.
func (s *Study) fromStudy(path string) bool {
	var above []string
	for p := path; p != ""; p = conf.Parent(p) {
		above = append(above, p)
	}
	for i := len(above) - 1; i >= 0; i-- {
		v := conf.Value(s.src.tree, conf.Join("sim", above[i]))
		if v == nil {
			return false
		}
		if v.Kind != yaml.MappingNode {
			return true
		}
	}
	return true
}

// under reports whether path is at or below the key at, and the rest of
// it below.
func under(path, at string) (string, bool) {
	switch {
	case path == at:
		return "", true
	case strings.HasPrefix(path, at+"."):
		return path[len(at)+1:], true
	case strings.HasPrefix(path, at+"["):
		return path[len(at):], true
	}
	return "", false
}
