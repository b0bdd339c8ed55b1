package docsh

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strings"

	"mvdan.cc/sh/v3/expand"
	"mvdan.cc/sh/v3/syntax"
)

// Block is one ```sh block of a Markdown file.
type Block struct {
	File string
	Line int // of the first line inside the fence, 1-based
	Text string
}

// Blocks reads a Markdown file's ```sh blocks. It fails if a fence is left
// open, or if a closing fence has text after it on its line (the block
// would swallow the text after it).
func Blocks(path string) ([]Block, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(path, data)
}

// Parse is Blocks of a file's contents; path names it in errors.
func Parse(path string, data []byte) ([]Block, error) {
	var (
		out     []Block
		open    bool   // inside a fence
		info    string // the open fence's info string
		start   int
		content strings.Builder
	)
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		trimmed := strings.TrimLeft(line, " ")
		if !strings.HasPrefix(trimmed, "```") {
			if open {
				content.WriteString(line + "\n")
			}
			continue
		}
		rest := strings.TrimLeft(trimmed, "`")
		if !open {
			open, info, start = true, strings.TrimSpace(rest), n+1
			content.Reset()
			continue
		}
		if strings.TrimSpace(rest) != "" {
			return nil, fmt.Errorf("%s:%d: a closing code fence followed by %q on its line: put the text on the next line", path, n, strings.TrimSpace(rest))
		}
		open = false
		if info == "sh" {
			out = append(out, Block{File: path, Line: start, Text: content.String()})
		}
	}
	if open {
		return nil, fmt.Errorf("%s:%d: a code fence that never closes", path, start-1)
	}
	return out, sc.Err()
}

// Command is one command of a block.
type Command struct {
	File string
	Line int
	// Source is the command as written, on one line, comments dropped.
	Source string
	// Args are its words, quotes removed and $VARIABLES expanded from the
	// environment given to Commands; nil for what is not a simple command
	// (a function definition, a pipeline).
	Args []string
	// Background is a command ending in &.
	Background bool
	// Func is a shell function's definition, not a command.
	Func bool
}

// Commands parses the block's commands; env ("NAME=value" pairs) gives the
// variables their words use.
func (b Block) Commands(env ...string) ([]Command, error) {
	f, err := syntax.NewParser().Parse(strings.NewReader(b.Text), b.File)
	if err != nil {
		return nil, fmt.Errorf("%s:%d: %w", b.File, b.Line, err)
	}
	cfg := &expand.Config{Env: expand.ListEnviron(env...)}
	printer := syntax.NewPrinter(syntax.SingleLine(true))
	var out []Command
	for _, st := range f.Stmts {
		c := Command{File: b.File, Line: b.Line + int(st.Pos().Line()) - 1, Background: st.Background}
		var src bytes.Buffer
		if err := printer.Print(&src, st.Cmd); err != nil {
			return nil, err
		}
		c.Source = strings.TrimSpace(src.String())
		switch cmd := st.Cmd.(type) {
		case *syntax.FuncDecl:
			c.Func = true
		case *syntax.CallExpr:
			for _, w := range cmd.Args {
				s, err := expand.Literal(cfg, w)
				if err != nil {
					return nil, fmt.Errorf("%s:%d: %w", b.File, c.Line, err)
				}
				c.Args = append(c.Args, s)
			}
		}
		out = append(out, c)
	}
	return out, nil
}
