package buildinfo

import (
	"fmt"
	"runtime/debug"
	"strings"
)

// Info is what the Go toolchain recorded about the build.
type Info struct {
	// Version is the main module's version: a release ("v1.2.0") for
	// `go install ...@version`, "(devel)" or a pseudo-version for a build
	// from a checkout, "unknown" when the binary carries no build info.
	Version string
	// Revision, Time and Modified are the settings vcs.revision, vcs.time
	// and vcs.modified, present when the binary was built in a git checkout.
	Revision, Time string
	Modified       bool
	// Go is the toolchain that built the binary.
	Go string
}

// Read returns this binary's build information.
func Read() Info {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return Info{Version: "unknown"}
	}
	return From(bi)
}

// From extracts the build information from bi.
func From(bi *debug.BuildInfo) Info {
	in := Info{Version: bi.Main.Version, Go: bi.GoVersion}
	if in.Version == "" {
		in.Version = "(devel)" // a test binary, or `go run` of a file
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			in.Revision = s.Value
		case "vcs.time":
			in.Time = s.Value
		case "vcs.modified":
			in.Modified = s.Value == "true"
		}
	}
	return in
}

// String is the version on one line: "v1.2.0"; from a checkout the
// pseudo-version Go makes of the commit ("v0.0.0-20261202052556-
// cad6ca992b11+dirty" with uncommitted changes), or "(devel) commit
// cad6ca992b11 (modified)" from a toolchain that stamps no such version.
func (in Info) String() string {
	short := in.Revision[:min(12, len(in.Revision))]
	if short == "" || strings.Contains(in.Version, short) {
		return in.Version
	}
	s := in.Version + " commit " + short
	if in.Modified {
		s += " (modified)"
	}
	return s
}

// Long is the version with the whole commit, its time and the toolchain,
// one fact a line, as `apron version` prints it.
func (in Info) Long() string {
	var b strings.Builder
	fmt.Fprintf(&b, "apron %s\n", in.Version)
	if in.Revision != "" {
		fmt.Fprintf(&b, "vcs.revision %s\n", in.Revision)
		if in.Time != "" {
			fmt.Fprintf(&b, "vcs.time %s\n", in.Time)
		}
		fmt.Fprintf(&b, "vcs.modified %t\n", in.Modified)
	} else {
		b.WriteString("vcs.revision unknown (not built in a git checkout, or built with -buildvcs=false)\n")
	}
	if in.Go != "" {
		fmt.Fprintf(&b, "go %s\n", in.Go)
	}
	return b.String()
}
