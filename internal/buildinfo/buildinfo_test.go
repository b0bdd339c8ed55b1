package buildinfo

import (
	"runtime/debug"
	"strings"
	"testing"
)

func TestFrom(t *testing.T) {
	vcs := []debug.BuildSetting{{Key: "-compiler", Value: "gc"}, {Key: "vcs", Value: "git"},
		{Key: "vcs.revision", Value: "cad6ca992b11fbf721f7f87d44325e89cda2e267"}, {Key: "vcs.time", Value: "2026-12-02T05:25:56Z"}, {Key: "vcs.modified", Value: "true"}}
	tests := []struct {
		name     string
		bi       debug.BuildInfo
		short    string
		longHas  []string
		modified bool
	}{
		{"go install @version", debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v1.2.0"}},
			"v1.2.0", []string{"apron v1.2.0\n", "vcs.revision unknown", "go go1.26.8\n"}, false},
		{"checkout, modified", debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"}, Settings: vcs},
			"(devel) commit cad6ca992b11 (modified)",
			[]string{"apron (devel)\n", "vcs.revision cad6ca992b11fbf721f7f87d44325e89cda2e267\n", "vcs.time 2026-12-02T05:25:56Z\n", "vcs.modified true\n"}, true},
		{"checkout, clean", debug.BuildInfo{Main: debug.Module{Version: "v0.0.0-20261202052556-cad6ca992b11"}, Settings: vcs[:4]},
			"v0.0.0-20261202052556-cad6ca992b11", []string{"vcs.modified false\n"}, false},
		{"test binary", debug.BuildInfo{}, "(devel)", []string{"apron (devel)\n"}, false},
	}
	for _, tt := range tests {
		in := From(&tt.bi)
		if got := in.String(); got != tt.short {
			t.Errorf("%s: String() = %q, want %q", tt.name, got, tt.short)
		}
		if in.Modified != tt.modified {
			t.Errorf("%s: Modified = %v", tt.name, in.Modified)
		}
		long := in.Long()
		for _, want := range tt.longHas {
			if !strings.Contains(long, want) {
				t.Errorf("%s: Long() lacks %q:\n%s", tt.name, want, long)
			}
		}
	}
}

// This test binary has build info; Read reports it, never an empty version.
func TestRead(t *testing.T) {
	in := Read()
	if in.Version == "" || in.Go == "" {
		t.Errorf("Read() = %+v, want a version and a toolchain", in)
	}
}
