package experiments

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"strings"

	"github.com/apronlab/apron/traces/samples"
)

// resolvePaths rewrites the trace paths of a simulation config tree into
// absolute paths: one beginning $TRACES/ as samples.Resolve says (the
// samples shipped with apron, or $APRON_TRACES), any other relative one
// against the study file's folder. A file that is not there is an error
// saying where it was looked for. The lists and maps it changes are
// copies, so that the study's own config is never rewritten.
func (s *Study) resolvePaths(tree map[string]any) error {
	for _, section := range []string{"workload", "machines"} {
		m, ok := tree[section].(map[string]any)
		if !ok {
			continue
		}
		files, ok := m["trace"].([]any)
		if !ok {
			continue
		}
		resolved := make([]any, len(files))
		for i, f := range files {
			p, ok := f.(string)
			if !ok {
				resolved[i] = f
				continue
			}
			r, err := s.resolve(p)
			if err != nil {
				return fmt.Errorf("%s.trace: %w", section, err)
			}
			resolved[i] = r
		}
		m = maps.Clone(m)
		m["trace"] = resolved
		tree[section] = m
	}
	return nil
}

func (s *Study) resolve(p string) (string, error) {
	if strings.HasPrefix(p, samples.Prefix) {
		return samples.Resolve(p)
	}
	r := p
	if s.dir != "" && !filepath.IsAbs(p) {
		r = filepath.Join(s.dir, p)
	}
	r, err := filepath.Abs(r)
	if err != nil {
		return "", fmt.Errorf("%s: %w", p, err)
	}
	if _, err := os.Stat(r); err != nil {
		return "", fmt.Errorf("%s: looked for %s: %w (a relative path is from the study file's folder; one beginning %s is in the samples shipped with apron, or under $%s when set)",
			p, r, err, samples.Prefix, samples.Env)
	}
	return r, nil
}
