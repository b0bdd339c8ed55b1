package conf_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/apronlab/apron/internal/conf"
)

type dur time.Duration

func (d *dur) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return errors.New("is not a duration; want one such as 1s")
	}
	*d = dur(v)
	return nil
}

func (dur) Example() string { return "a duration such as 1s" }

type group struct {
	Name  string            `yaml:"name"`
	Count int               `yaml:"count"`
	Attrs map[string]string `yaml:"attributes"`
}

type Inner struct {
	Trace []string `yaml:"trace"`
}

type config struct {
	Seed    uint64   `yaml:"seed"`
	Rate    float64  `yaml:"rate"`
	On      bool     `yaml:"on"`
	Every   dur      `yaml:"every"`
	Cluster []group  `yaml:"cluster"`
	Opt     *Inner   `yaml:"opt"`
	Tags    []string `yaml:"tags"`
	Any     any      `yaml:"any"`
	Inner   `yaml:",inline"`
}

func decode(text string) (config, error) {
	var c config
	root, err := conf.Parse([]byte(text))
	if err == nil {
		err = conf.Decode(root, &c)
	}
	return c, conf.Locate(err, "c.yaml", root)
}

func TestDecodeErrorsSayWhereAndWhat(t *testing.T) {
	for _, c := range []struct{ name, text, want string }{
		{"not a whole number", "seed: 1\ncluster:\n  - name: a\n    count: two\n",
			`c.yaml:4: cluster[0].count: "two" is not a whole number`},
		{"fraction for an int", "cluster: [{name: a}, {name: b, count: 2.5}]\n",
			`c.yaml:1: cluster[1].count: 2.5 is not a whole number`},
		{"negative for a uint", "seed: -1\n", `c.yaml:1: seed: -1 is not a whole number of 0 or more`},
		{"not a number", "\n\nrate: fast\n", `c.yaml:3: rate: "fast" is not a number`},
		{"not a bool", "on: maybe\n", `c.yaml:1: on: "maybe" is not true or false`},
		{"unknown key", "seed: 1\nopt:\n  trace: [a]\n  tarce: b\n", `c.yaml:4: opt.tarce: unknown key; want one of trace`},
		{"unknown top key lists inline keys", "sed: 1\n", `c.yaml:1: sed: unknown key; want one of seed, rate, on, every, cluster, opt, tags, any, trace`},
		{"text refused", "every: 5q\n", `c.yaml:1: every: "5q" is not a duration; want one such as 1s`},
		{"list for a text value", "every: [1s]\n", `c.yaml:1: every: want a value such as a duration such as 1s, not a list`},
		{"scalar for a list", "cluster: host\n", `c.yaml:1: cluster: "host" is not a list; want a list such as [a map, ...]`},
		{"scalar for a struct", "cluster: [host]\n", `c.yaml:1: cluster[0]: "host" is not a map; want the keys name, count, attributes`},
		{"map for a number", "rate: {a: 1}\n", `c.yaml:1: rate: want a number, not a map`},
		{"map value", "cluster:\n- name: a\n  attributes: {rack: [1]}\n", `c.yaml:3: cluster[0].attributes.rack: want a text, not a list`},
		{"twice", "seed: 1\nrate: 2\nseed: 3\n", `c.yaml:3: seed: given twice (first on line 1); want each key once`},
		{"syntax: mapping value", "seed: 1\nrate: 2\non: true\ntags: [a]\nfoo: bar: baz\n", `c.yaml:5:9: mapping values are not allowed in this context`},
		{"syntax: tab", "seed: 1\nrate: 2\non: true\ntags: [a]\n\tfoo: 1\n", `c.yaml:5:1: found character that cannot start any token`},
		{"syntax: flow list", "seed: 1\nrate: 2\non: true\ntags: [a]\nany: [1, 2}\n", `c.yaml:5:11: did not find expected ',' or ']'`},
		{"syntax: open quote", "seed: 1\ntags: \"a\n", `c.yaml:3:1: found unexpected end of stream (while scanning a quoted scalar on line 2)`},
		{"JSON", "{\n\t\"seed\": 1,\n\t\"rate\": \"x\"\n}\n", `c.yaml:3: rate: "x" is not a number`},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := decode(c.text)
			if err == nil || err.Error() != c.want {
				t.Fatalf("err = %v\nwant    %s", err, c.want)
			}
		})
	}
}

func TestDecodeReadsValues(t *testing.T) {
	c, err := decode("seed: 7\nrate: 0.5\non: true\nevery: 2s\ncluster: [{name: a, count: 3, attributes: {rack: r1}}]\nopt: {trace: [x]}\ntrace: [y, z]\nany: {k: [1, two]}\ntags: ~\n")
	if err != nil {
		t.Fatal(err)
	}
	want := config{Seed: 7, Rate: 0.5, On: true, Every: dur(2 * time.Second),
		Cluster: []group{{Name: "a", Count: 3, Attrs: map[string]string{"rack": "r1"}}},
		Opt:     &Inner{Trace: []string{"x"}}, Any: map[string]any{"k": []any{1, "two"}}, Inner: Inner{Trace: []string{"y", "z"}}}
	if !reflect.DeepEqual(c, want) {
		t.Fatalf("decoded %+v\nwant    %+v", c, want)
	}
}

func TestFindAndPaths(t *testing.T) {
	root, err := conf.Parse([]byte("sim:\n  cluster:\n    - name: a\n      count: 2\nset: {allocator.policy: drf}\nsweep:\n  allocator:\n    offer_timeout: [1s]\n"))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		path  string
		line  int
		whole bool
	}{
		{"sim.cluster[0].count", 4, true},
		{"sim.cluster[0]", 3, true},
		{"SIM.cluster", 2, true},
		{"set.allocator.policy", 5, true},
		{"sweep.allocator.offer_timeout", 8, true},
		{"sim.cluster[3].count", 2, false},
		{"sim.frameworks", 1, false},
		{"nosuch", 0, false},
	} {
		n, whole := conf.Find(root, c.path)
		line := 0
		if n != nil {
			line = n.Line
		}
		if line != c.line || whole != c.whole {
			t.Errorf("Find(%s) = line %d, whole %v; want %d, %v", c.path, line, whole, c.line, c.whole)
		}
	}
	err = conf.At("sim", conf.At("cluster[0]", conf.Errorf("count", "bad")))
	if got := conf.Locate(err, "s.yaml", root).Error(); got != "s.yaml:4: sim.cluster[0].count: bad" {
		t.Errorf("located: %s", got)
	}
	if got := conf.Locate(errors.New("plain"), "s.yaml", root).Error(); got != "s.yaml: plain" {
		t.Errorf("plain error located: %s", got)
	}
	if !strings.HasPrefix(conf.Join("a", "[1]"), "a[1]") || conf.Index("x", 2) != "x[2]" {
		t.Error("Join or Index")
	}
}

func TestParseTOMLLines(t *testing.T) {
	text := "name = \"t\"\nbase = \"static-vs-shared\"\nseeds = 2\n\n[sim.allocator]\npolicy = \"drf\"\n\n[[sim.cluster]]\nname = \"a\"\ncount = 1\n\n[[sim.cluster]]\nname = \"b\"\ncount = \"two\"\nattributes = {rack = \"r1\"}\n\n[sweep]\n\"allocator.offer_timeout\" = [\"1s\", \"2s\"]\nframeworks.hadoop.refuse = [\"1s\"]\n"
	root, err := conf.ParseTOML([]byte(text))
	if err != nil {
		t.Fatal(err)
	}
	for path, line := range map[string]int{"name": 1, "seeds": 3, "sim.allocator.policy": 6, "sim.cluster[0].count": 10,
		"sim.cluster[1].count": 14, "sim.cluster[1]": 12, "sim.cluster[1].attributes.rack": 15, "sweep.allocator.offer_timeout": 18, "sweep.frameworks.hadoop.refuse": 19} {
		n, whole := conf.Find(root, path)
		if !whole || n.Line != line {
			t.Errorf("%s: found %v at %+v; want line %d", path, whole, n, line)
		}
	}
	_, err = conf.ParseTOML([]byte("name = \"t\"\nbase = \nseeds = 1\n"))
	var e *conf.Error
	if !errors.As(err, &e) || e.Line != 2 {
		t.Fatalf("syntax error %v; want one on line 2", err)
	}
}

type nest []nest

// Aliases cannot make a small file decode into billions of values.
func TestDecodeBoundsAliases(t *testing.T) {
	text := "a: &a [[], [], [], [], [], [], [], [], [], []]\n"
	prev := "a"
	for _, name := range []string{"b", "c", "d", "e", "f", "g", "h"} {
		text += name + ": &" + name + " [*" + prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev + "]\n"
		prev = name
	}
	text += "tags: *h\n"
	var c map[string]nest
	root, err := conf.Parse([]byte(text))
	if err != nil {
		t.Fatal(err)
	}
	var e *conf.Error
	if err := conf.Decode(root, &c); !errors.As(err, &e) || !strings.Contains(e.Msg, "more than 1000000 values") {
		t.Fatalf("err = %v; want the bound", err)
	}
}
