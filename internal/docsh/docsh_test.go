package docsh

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

const sample = "# Title\n\n```sh\ngo run ./cmd/apron sim   # one run\n# a comment line\napron execute --name x \\\n    --command \"echo hi && sleep 1\" --resources 'cpus:1;mem:128'\napron up --agents 2 &\ncall() { curl -s \"$1\"; }\ncall '{\"id\":\"'$FW'\"}'\nX=$PWD/bin jupyter notebook\n```\n\n```yaml\nkey: 1\n```\n  ```sh\n  make test\n  ```\n"

func TestCommands(t *testing.T) {
	blocks, err := Parse("doc.md", []byte(sample))
	if err != nil {
		t.Fatal(err)
	}
	if len(blocks) != 2 || blocks[0].Line != 4 || blocks[1].Line != 18 {
		t.Fatalf("blocks %+v, want two sh blocks from lines 4 and 18", blocks)
	}
	cmds, err := blocks[0].Commands("FW=fw-1", "PWD=/src")
	if err != nil {
		t.Fatal(err)
	}
	want := []Command{
		{Line: 4, Source: "go run ./cmd/apron sim", Args: []string{"go", "run", "./cmd/apron", "sim"}},
		{Line: 6, Source: `apron execute --name x --command "echo hi && sleep 1" --resources 'cpus:1;mem:128'`,
			Args: []string{"apron", "execute", "--name", "x", "--command", "echo hi && sleep 1", "--resources", "cpus:1;mem:128"}},
		{Line: 8, Source: "apron up --agents 2", Args: []string{"apron", "up", "--agents", "2"}, Background: true},
		{Line: 9, Source: `call() { curl -s "$1"; }`, Func: true},
		{Line: 10, Source: `call '{"id":"'$FW'"}'`, Args: []string{"call", `{"id":"fw-1"}`}},
		{Line: 11, Source: "X=$PWD/bin jupyter notebook", Args: []string{"jupyter", "notebook"}},
	}
	if len(cmds) != len(want) {
		t.Fatalf("%d commands, want %d: %+v", len(cmds), len(want), cmds)
	}
	for i, w := range want {
		w.File = "doc.md"
		if !reflect.DeepEqual(cmds[i], w) {
			t.Errorf("command %d:\n got %+v\nwant %+v", i, cmds[i], w)
		}
	}
	if cmds, _ := blocks[1].Commands(); len(cmds) != 1 || cmds[0].Source != "make test" {
		t.Errorf("the indented block: %+v", cmds)
	}
}

func TestFences(t *testing.T) {
	for _, tt := range []struct{ name, doc, err string }{
		{"text after a closing fence", "```yaml\na: 1\n``` `custom` spells a generator out\n", "doc.md:3: a closing code fence followed by \"`custom` spells a generator out\""},
		{"never closed", "text\n```sh\nmake\n", "doc.md:2: a code fence that never closes"},
		{"fine", "```\nplain\n```\n```sh\nmake\n```\n", ""},
	} {
		_, err := Parse("doc.md", []byte(tt.doc))
		if (err == nil) != (tt.err == "") || err != nil && !strings.Contains(err.Error(), tt.err) {
			t.Errorf("%s: err %v, want %q", tt.name, err, tt.err)
		}
	}
	if _, err := Parse("doc.md", []byte("```sh\nif then fi (\n```\n")); err != nil {
		t.Errorf("Parse does not parse the shell: %v", err)
	}
	b, _ := Parse("doc.md", []byte("```sh\nif then fi (\n```\n"))
	if _, err := b[0].Commands(); err == nil || !strings.Contains(err.Error(), "doc.md:2") {
		t.Errorf("bad shell: err %v, want one naming doc.md:2", err)
	}
}

// Blocks never panics, and every block it returns is text of the file.
func FuzzParse(f *testing.F) {
	f.Add([]byte(sample))
	for _, p := range []string{"../../README.md", "../../docs/api.md", "../../docs/simulation.md"} {
		if data, err := os.ReadFile(filepath.FromSlash(p)); err == nil {
			f.Add(data)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		blocks, err := Parse("fuzz.md", data)
		if err != nil {
			return
		}
		text := strings.TrimSuffix(strings.ReplaceAll(string(data), "\r\n", "\n"), "\r") // lines as the scanner reads them
		for _, b := range blocks {
			if !strings.Contains(text, strings.TrimSuffix(b.Text, "\n")) {
				t.Fatalf("block %q is not in the file", b.Text)
			}
			_, _ = b.Commands()
		}
	})
}
