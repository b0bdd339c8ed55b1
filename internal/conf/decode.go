package conf

import (
	"encoding"
	"fmt"
	"reflect"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v4"
)

// Decode decodes a tree into out, a pointer to a struct whose fields carry
// yaml tags. It is strict: an unknown key, a value of the wrong kind or
// one its type's UnmarshalText refuses is an *Error at that key and line,
// saying what is allowed (the known keys; "a whole number"). A null leaves
// a field as it is.
func Decode(root *yaml.Node, out any) error {
	d := &decoder{budget: maxValues}
	return d.decode(root, reflect.ValueOf(out).Elem(), "")
}

// maxValues bounds the values one Decode reads, aliases expanded: a few
// lines of anchors and aliases can stand for billions of values.
const maxValues = 1_000_000

type decoder struct{ budget int }

var textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()

func (d *decoder) decode(n *yaml.Node, v reflect.Value, path string) error {
	n = resolve(n)
	if n == nil || isNull(n) {
		return nil
	}
	if d.budget--; d.budget < 0 {
		return at(n, path, "more than %d values (aliases expanded); want a smaller file", maxValues)
	}
	if reflect.PointerTo(v.Type()).Implements(textUnmarshaler) {
		if n.Kind != yaml.ScalarNode {
			return at(n, path, "want a value such as %s, not %s", example(v.Type()), kind(n))
		}
		if err := v.Addr().Interface().(encoding.TextUnmarshaler).UnmarshalText([]byte(n.Value)); err != nil {
			return at(n, path, "%s %v", show(n), err)
		}
		return nil
	}
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		return d.decode(n, v.Elem(), path)
	case reflect.Struct:
		return d.decodeStruct(n, v, path)
	case reflect.Map:
		return d.decodeMap(n, v, path)
	case reflect.Slice:
		return d.decodeSlice(n, v, path)
	case reflect.Interface:
		if err := n.Decode(v.Addr().Interface()); err != nil {
			return at(n, path, "%s cannot be read: %v", show(n), err)
		}
		return nil
	}
	return decodeScalar(n, v, path)
}

func (d *decoder) decodeStruct(n *yaml.Node, v reflect.Value, path string) error {
	fields := fieldsOf(v)
	if n.Kind != yaml.MappingNode {
		return at(n, path, "%s is not a map; want the keys %s", show(n), strings.Join(fields.names, ", "))
	}
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		key := n.Content[i].Value
		p := Join(path, key)
		if line, twice := seen[key]; twice {
			return at(n.Content[i], p, "given twice (first on line %d); want each key once", line)
		}
		seen[key] = n.Content[i].Line
		f, ok := fields.byName[key]
		if !ok {
			return at(n.Content[i], p, "unknown key; want one of %s", strings.Join(fields.names, ", "))
		}
		if err := d.decode(n.Content[i+1], f, p); err != nil {
			return err
		}
	}
	return nil
}

// fields are a struct's fields by their yaml names, inline structs
// flattened, in order.
type fields struct {
	names  []string
	byName map[string]reflect.Value
}

func fieldsOf(v reflect.Value) fields {
	fs := fields{byName: map[string]reflect.Value{}}
	var walk func(v reflect.Value)
	walk = func(v reflect.Value) {
		for i := range v.NumField() {
			sf := v.Type().Field(i)
			name, opts, _ := strings.Cut(sf.Tag.Get("yaml"), ",")
			switch {
			case !sf.IsExported() || name == "-":
			case opts == "inline":
				walk(v.Field(i))
			default:
				if name == "" {
					name = strings.ToLower(sf.Name)
				}
				fs.names = append(fs.names, name)
				fs.byName[name] = v.Field(i)
			}
		}
	}
	walk(v)
	return fs
}

func (d *decoder) decodeMap(n *yaml.Node, v reflect.Value, path string) error {
	if n.Kind != yaml.MappingNode {
		return at(n, path, "%s is not a map; want key: value pairs", show(n))
	}
	if v.IsNil() {
		v.Set(reflect.MakeMap(v.Type()))
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		key := reflect.New(v.Type().Key()).Elem()
		p := Join(path, n.Content[i].Value)
		if err := d.decode(n.Content[i], key, p); err != nil {
			return err
		}
		val := reflect.New(v.Type().Elem()).Elem()
		if err := d.decode(n.Content[i+1], val, p); err != nil {
			return err
		}
		v.SetMapIndex(key, val)
	}
	return nil
}

func (d *decoder) decodeSlice(n *yaml.Node, v reflect.Value, path string) error {
	if n.Kind != yaml.SequenceNode {
		return at(n, path, "%s is not a list; want a list such as [%s, ...]", show(n), example(v.Type().Elem()))
	}
	s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
	for i, e := range n.Content {
		if err := d.decode(e, s.Index(i), Index(path, i)); err != nil {
			return err
		}
	}
	v.Set(s)
	return nil
}

// decodeScalar reads a string, number or boolean as YAML resolves it.
func decodeScalar(n *yaml.Node, v reflect.Value, path string) error {
	want := example(v.Type())
	if n.Kind != yaml.ScalarNode {
		return at(n, path, "want %s, not %s", want, kind(n))
	}
	var err error
	switch v.Kind() {
	case reflect.String:
		v.SetString(n.Value)
		return nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		var x int64
		if err = n.Decode(&x); err == nil && v.OverflowInt(x) {
			err = fmt.Errorf("too large")
		}
		if err == nil {
			v.SetInt(x)
		}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		var x uint64
		if err = n.Decode(&x); err == nil && v.OverflowUint(x) {
			err = fmt.Errorf("too large")
		}
		if err == nil {
			v.SetUint(x)
		}
	case reflect.Float32, reflect.Float64:
		var x float64
		if err = n.Decode(&x); err == nil {
			v.SetFloat(x)
		}
	case reflect.Bool:
		var x bool
		if err = n.Decode(&x); err == nil {
			v.SetBool(x)
		}
	default:
		return at(n, path, "conf: no decoding into %s", v.Type())
	}
	if err != nil {
		return at(n, path, "%s is not %s", show(n), want)
	}
	return nil
}

// example says in words what a value of type t looks like.
func example(t reflect.Type) string {
	if reflect.PointerTo(t).Implements(textUnmarshaler) {
		if d, ok := reflect.New(t).Interface().(interface{ Example() string }); ok {
			return d.Example()
		}
		return "a text"
	}
	switch t.Kind() {
	case reflect.Pointer:
		return example(t.Elem())
	case reflect.String:
		return "a text"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return "a whole number"
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a whole number of 0 or more"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Bool:
		return "true or false"
	case reflect.Slice:
		return "a list"
	}
	return "a map"
}

// show quotes a text value and writes others as they are.
func show(n *yaml.Node) string {
	if n.Kind != yaml.ScalarNode {
		return kind(n)
	}
	if n.ShortTag() == "!!str" {
		return strconv.Quote(n.Value)
	}
	return n.Value
}

func kind(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a map"
	case yaml.SequenceNode:
		return "a list"
	}
	return "a single value"
}

func at(n *yaml.Node, path, format string, args ...any) *Error {
	return &Error{Line: n.Line, Path: path, Msg: fmt.Sprintf(format, args...)}
}
