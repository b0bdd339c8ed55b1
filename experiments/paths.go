package experiments

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// TracesEnv names the folder of trace samples that a path beginning
// $TRACES/ stands in; unset, it is ../shared/traces, beside the checkout
// when apron runs from it.
const TracesEnv = "APRON_TRACES"

// resolvePaths rewrites the trace paths of a simulation config tree:
// $TRACES/ as TracesEnv says, and a relative path against the study
// file's folder. A file that is not there is an error saying where it was
// looked for.
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
		for i, f := range files {
			p, ok := f.(string)
			if !ok {
				continue
			}
			files[i] = s.resolve(p)
			if _, err := os.Stat(files[i].(string)); err != nil {
				return fmt.Errorf("%s.trace: %s: looked for %s: %w (a path beginning $TRACES/ is under $%s, default ../shared/traces from the working directory; other relative paths are from the study file's folder)",
					section, p, files[i], err, TracesEnv)
			}
		}
	}
	return nil
}

func (s *Study) resolve(p string) string {
	if rest, ok := strings.CutPrefix(p, "$TRACES/"); ok {
		root := os.Getenv(TracesEnv)
		if root == "" {
			root = filepath.Join("..", "shared", "traces")
		}
		return filepath.Join(root, rest)
	}
	if s.dir == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(s.dir, p)
}
