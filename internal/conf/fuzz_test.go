package conf_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/apronlab/apron/internal/conf"
)

// Parse and Decode take any text without panicking, and every error they
// give is an *Error. Seeds: the built-in scenarios and studies, and bad
// texts.
func FuzzParseDecode(f *testing.F) {
	for _, glob := range []string{"../../sim/scenarios/*.yaml", "../../experiments/*.yaml"} {
		files, _ := filepath.Glob(glob)
		for _, p := range files {
			if data, err := os.ReadFile(p); err == nil {
				f.Add(data, false)
			}
		}
	}
	for _, s := range []string{"seed: 1\ncluster:\n  - name: a\n    count: two\n", "cluster: [{name: a}, {name: b, count: 2.5}]\n", "a: &x {b: 1}\nc: *x\n",
		"foo: bar: baz\n", "tags: \"a\n", "{\"seed\": 1, \"rate\": \"x\"}"} {
		f.Add([]byte(s), false)
	}
	f.Add([]byte("name = \"t\"\n[[sim.cluster]]\nname = \"a\"\ncount = 2\n[sweep]\na.b = [1]\n"), true)
	f.Fuzz(func(t *testing.T, data []byte, toml bool) {
		parse := conf.Parse
		if toml {
			parse = conf.ParseTOML
		}
		root, err := parse(data)
		var e *conf.Error
		if err != nil {
			if !errors.As(err, &e) {
				t.Fatalf("parse error %T %v is no *conf.Error", err, err)
			}
			return
		}
		var c config
		if err := conf.Decode(root, &c); err != nil && !errors.As(err, &e) {
			t.Fatalf("decode error %T %v is no *conf.Error", err, err)
		}
		if err := conf.Locate(conf.Errorf("seed", "x"), "f", root); err == nil {
			t.Fatal("no error located")
		}
	})
}
