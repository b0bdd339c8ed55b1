package main

import (
	"strings"
	"testing"

	"github.com/apronlab/apron/internal/buildinfo"
)

func TestVersion(t *testing.T) {
	in := buildinfo.Read()
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"version"}, "apron " + in.Version + "\n"},
		{[]string{"version"}, "go " + in.Go + "\n"},
		{[]string{"--version"}, "apron version " + in.String() + "\n"},
	} {
		got, err := runApron(t, c.args...)
		if err != nil || !strings.Contains(got, c.want) {
			t.Errorf("apron %v: %v\n%s\nwant %q in it", c.args, err, got, c.want)
		}
	}
	if _, err := runApron(t, "version", "extra"); err == nil {
		t.Error("apron version extra: no error")
	}
}
