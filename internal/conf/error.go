package conf

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v4"
)

// Error is a mistake at one key of a configuration.
type Error struct {
	File   string // the file, or another source such as --set; may be empty
	Line   int    // 1-based; 0 when not known
	Column int    // of a syntax error; 0 otherwise
	Path   string // the key as written, such as cluster[0].count; "" for the whole file
	Msg    string // what is wrong and what is allowed
}

// Error reads file:line: path: message.
func (e *Error) Error() string {
	var b strings.Builder
	switch {
	case e.File != "":
		b.WriteString(e.File)
		if e.Line > 0 {
			b.WriteString(":" + strconv.Itoa(e.Line))
			if e.Column > 0 {
				b.WriteString(":" + strconv.Itoa(e.Column))
			}
		}
		b.WriteString(": ")
	case e.Line > 0:
		b.WriteString("line " + strconv.Itoa(e.Line) + ": ")
	}
	if e.Path != "" {
		b.WriteString(e.Path + ": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Errorf makes an error at the key path.
func Errorf(path, format string, args ...any) *Error {
	return &Error{Path: path, Msg: fmt.Sprintf(format, args...)}
}

// At puts err under the key path: an *Error's path gets path in front,
// any other error becomes an *Error at path. At(path, nil) is nil.
func At(path string, err error) error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		c := *e
		c.Path = Join(path, e.Path)
		return &c
	}
	return &Error{Path: path, Msg: err.Error()}
}

// Join joins key paths: Join("sim", "cluster[0]") is sim.cluster[0],
// Join("cluster", "[0]") is cluster[0].
func Join(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	case strings.HasPrefix(b, "["):
		return a + b
	}
	return a + "." + b
}

// Index is the path of a list's element: Index("cluster", 0) is
// cluster[0].
func Index(path string, i int) string { return path + "[" + strconv.Itoa(i) + "]" }

// Locate names the file of err and, when err is an *Error whose key is in
// doc (nil for none), the line of that key. An *Error that names its file
// already (one in another file) is left as it is; any other error is
// prefixed with the file's name.
func Locate(err error, file string, doc *yaml.Node) error {
	if err == nil {
		return nil
	}
	var e *Error
	if !errors.As(err, &e) {
		return fmt.Errorf("%s: %w", file, err)
	}
	if e.File != "" {
		return err
	}
	c := *e
	c.File = file
	if c.Line == 0 {
		if n, _ := Find(doc, c.Path); n != nil {
			c.Line = n.Line
		}
	}
	return &c
}

// Parent is the path of the key that holds path's last key or element:
// Parent("cluster[0].count") is cluster[0], Parent("cluster") is "".
func Parent(path string) string {
	i := max(strings.LastIndexByte(path, '.'), strings.LastIndexByte(path, '['))
	if i < 0 {
		return ""
	}
	return path[:i]
}
