package conf

import (
	"errors"
	"strings"

	"github.com/pelletier/go-toml/v2"
	"github.com/pelletier/go-toml/v2/unstable"
	"go.yaml.in/yaml/v4"
)

// ParseTOML reads TOML text into a tree of its tables, arrays and keys with
// their lines, for Find; its values are the texts as written. A syntax
// error is an *Error at its line and column.
func ParseTOML(data []byte) (*yaml.Node, error) {
	var check map[string]any
	if err := toml.Unmarshal(data, &check); err != nil {
		var de *toml.DecodeError
		if errors.As(err, &de) {
			line, col := de.Position()
			return nil, &Error{Line: line, Column: col, Msg: strings.TrimPrefix(de.Error(), "toml: ")}
		}
		return nil, &Error{Msg: err.Error()}
	}
	root := mapping(0)
	table := root
	var p unstable.Parser
	p.Reset(data)
	for p.NextExpression() {
		e := p.Expression()
		switch e.Kind {
		case unstable.Table:
			table = tomlPath(&p, root, keys(e), false)
		case unstable.ArrayTable:
			table = tomlPath(&p, root, keys(e), true)
		case unstable.KeyValue:
			tomlKeyValue(&p, table, e)
		}
	}
	return root, nil
}

func mapping(line int) *yaml.Node {
	return &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Line: line}
}

// tomlPath walks the dotted key from m, making tables on the way (the last
// element of an array of tables), and returns the table at its end: for
// [[a.b]], a new element of the array b.
func tomlPath(p *unstable.Parser, m *yaml.Node, key []*unstable.Node, array bool) *yaml.Node {
	for i, k := range key {
		last := i == len(key)-1
		line := p.Shape(k.Raw).Start.Line
		_, val, _ := lookup(m, []string{string(k.Data)})
		if val == nil {
			val = mapping(line)
			if array && last {
				val = &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq", Line: line}
			}
			m.Content = append(m.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: string(k.Data), Line: line}, val)
		}
		if val.Kind == yaml.SequenceNode {
			if array && last {
				val.Content = append(val.Content, mapping(line))
			}
			if len(val.Content) == 0 {
				return val
			}
			val = val.Content[len(val.Content)-1]
		}
		m = val
	}
	return m
}

// tomlKeyValue adds key = value to the table m.
func tomlKeyValue(p *unstable.Parser, m *yaml.Node, e *unstable.Node) {
	key := keys(e)
	last := key[len(key)-1]
	m = tomlPath(p, m, key[:len(key)-1], false)
	line := p.Shape(last.Raw).Start.Line
	m.Content = append(m.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: string(last.Data), Line: line}, tomlValue(p, e.Value(), line))
}

// keys are the parts of a dotted key.
func keys(e *unstable.Node) []*unstable.Node {
	var out []*unstable.Node
	for it := e.Key(); it.Next(); {
		out = append(out, it.Node())
	}
	return out
}

func tomlValue(p *unstable.Parser, v *unstable.Node, line int) *yaml.Node {
	switch v.Kind {
	case unstable.Array:
		n := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq", Line: line}
		for it := v.Children(); it.Next(); {
			n.Content = append(n.Content, tomlValue(p, it.Node(), line))
		}
		return n
	case unstable.InlineTable:
		n := mapping(line)
		for it := v.Children(); it.Next(); {
			tomlKeyValue(p, n, it.Node())
		}
		return n
	}
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: string(v.Data), Line: line}
}
