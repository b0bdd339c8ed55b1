// Package buildinfo says which apron this is: the module version and the
// version-control commit Go stamped into the binary
// (runtime/debug.ReadBuildInfo), for `apron version`, the web UI and the
// runs' manifests.
package buildinfo
