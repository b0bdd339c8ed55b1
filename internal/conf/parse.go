package conf

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v4"
)

// Parse reads YAML (or JSON) text into its tree: the top mapping, or an
// empty one for an empty text. A syntax error is an *Error at its exact
// line and column.
func Parse(data []byte) (*yaml.Node, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		var le *yaml.LoadError
		if !errors.As(err, &le) {
			return nil, &Error{Msg: err.Error()}
		}
		msg := le.Message
		if le.ContextMsg != "" && le.ContextMark.Line > 0 && le.ContextMark.Line != le.Mark.Line {
			msg += fmt.Sprintf(" (%s on line %d)", le.ContextMsg, le.ContextMark.Line)
		}
		return nil, &Error{Line: le.Mark.Line, Column: le.Mark.Column, Msg: msg}
	}
	root := resolve(&doc)
	if root == nil || isNull(root) {
		return &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}, nil
	}
	return root, nil
}

// resolve steps through a document to its content and through an alias
// to its anchor.
func resolve(n *yaml.Node) *yaml.Node {
	for n != nil {
		switch {
		case n.Kind == yaml.DocumentNode && len(n.Content) > 0:
			n = n.Content[0]
		case n.Kind == yaml.DocumentNode:
			return nil
		case n.Kind == yaml.AliasNode:
			n = n.Alias
		default:
			return n
		}
	}
	return nil
}

func isNull(n *yaml.Node) bool {
	return n.Kind == 0 || n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// Find finds a key path (cluster[0].count) in a tree: the node of the last
// key (or list element) it reaches, and whether that is the whole path.
// Keys match without regard to case, and a key written with dots
// (allocator.policy: drf) matches the path's keys it spells.
func Find(root *yaml.Node, path string) (n *yaml.Node, whole bool) {
	n, _, whole = walk(root, path)
	return n, whole
}

// Value is the value at a key path of a tree, or nil if it has none.
func Value(root *yaml.Node, path string) *yaml.Node {
	_, v, whole := walk(root, path)
	if !whole {
		return nil
	}
	return v
}

func walk(root *yaml.Node, path string) (n, node *yaml.Node, whole bool) {
	segs := segments(path)
	node = resolve(root)
	for i := 0; i < len(segs); {
		switch {
		case node == nil:
			return n, nil, false
		case isIndex(segs[i]):
			k, _ := strconv.Atoi(strings.Trim(segs[i], "[]"))
			if node.Kind != yaml.SequenceNode || k >= len(node.Content) {
				return n, nil, false
			}
			n = node.Content[k]
			node = resolve(n)
			i++
		case node.Kind == yaml.MappingNode:
			key, val, used := lookup(node, segs[i:])
			if key == nil {
				return n, nil, false
			}
			n, node = key, resolve(val)
			i += used
		default:
			return n, nil, false
		}
	}
	return n, node, root != nil
}

// lookup finds the key in a mapping that spells the most of segs' leading
// keys, and how many it spells.
func lookup(m *yaml.Node, segs []string) (key, val *yaml.Node, used int) {
	keys := 0
	for keys < len(segs) && !isIndex(segs[keys]) {
		keys++
	}
	for j := keys; j >= 1; j-- {
		want := strings.Join(segs[:j], ".")
		for i := 0; i+1 < len(m.Content); i += 2 {
			if strings.EqualFold(m.Content[i].Value, want) {
				return m.Content[i], m.Content[i+1], j
			}
		}
	}
	return nil, nil, 0
}

// segments splits a key path into keys and [i] indexes.
func segments(path string) []string {
	var out []string
	for _, part := range strings.Split(path, ".") {
		for part != "" {
			i := strings.IndexByte(part[1:], '[') + 1
			if i == 0 {
				i = len(part)
			}
			out = append(out, part[:i])
			part = part[i:]
		}
	}
	return out
}

func isIndex(s string) bool { return strings.HasPrefix(s, "[") && strings.HasSuffix(s, "]") }
