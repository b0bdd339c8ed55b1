package experiments

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/apronlab/apron/internal/conf"
)

// A simulation config is changed as a generic YAML tree: maps, lists and
// scalars. A key is a dotted path: map keys, list indexes, or, in a list of
// maps, the value of an element's name (frameworks.hadoop.refuse).

// flatten lists the leaves of m under their dotted paths; a list is a leaf.
func flatten(prefix string, m map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range m {
		key := k
		if prefix != "" {
			key = prefix + "." + k
		}
		if sub, ok := v.(map[string]any); ok && len(sub) > 0 {
			maps.Copy(out, flatten(key, sub))
			continue
		}
		out[key] = v
	}
	return out
}

// sortedKeys returns the keys of m in order.
func sortedKeys[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }

// setPath sets the value at a dotted path of tree, creating map entries on
// the way, and returns the path it set with list elements by index
// (frameworks[0].refuse for frameworks.hadoop.refuse).
func setPath(tree map[string]any, path string, value any) (string, error) {
	parts := strings.Split(path, ".")
	var node any = tree
	at := ""
	for i, p := range parts {
		last := i == len(parts)-1
		switch n := node.(type) {
		case map[string]any:
			at = conf.Join(at, p)
			if last {
				n[p] = value
				return at, nil
			}
			next, ok := n[p]
			if !ok || next == nil {
				next = map[string]any{}
				n[p] = next
			}
			node = next
		case []any:
			k, err := listIndex(n, p)
			if err != nil {
				return at, err
			}
			at = conf.Index(at, k)
			if last {
				n[k] = value
				return at, nil
			}
			node = n[k]
		default:
			return at, fmt.Errorf("%s is %v, not a map or a list; cannot set %s", at, node, path)
		}
	}
	return at, nil
}

// listIndex finds p in a list: an index, or the name of an element.
func listIndex(l []any, p string) (int, error) {
	if k, err := strconv.Atoi(p); err == nil {
		if k < 0 || k >= len(l) {
			return 0, fmt.Errorf("index %d: want 0 to %d", k, len(l)-1)
		}
		return k, nil
	}
	var names []string
	for k, e := range l {
		if m, ok := e.(map[string]any); ok {
			name := fmt.Sprint(m["name"])
			if strings.EqualFold(name, p) {
				return k, nil
			}
			names = append(names, name)
		}
	}
	return 0, fmt.Errorf("no element named %q; have %v", p, names)
}

// merge lays src over dst, map by map; anything else in src replaces.
func merge(dst, src map[string]any) {
	for k, v := range src {
		if sm, ok := v.(map[string]any); ok {
			if dm, ok := dst[k].(map[string]any); ok {
				merge(dm, sm)
				continue
			}
		}
		dst[k] = v
	}
}

func sortMetrics(ms []metric) {
	slices.SortFunc(ms, func(a, b metric) int {
		if c := strings.Compare(a.name, b.name); c != 0 {
			return c
		}
		return strings.Compare(a.key, b.key)
	})
}
