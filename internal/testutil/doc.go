// Package testutil holds helpers shared by the tests of several packages:
// Sample finds a real trace sample shipped in traces/samples, so that no
// test depends on files beside the checkout or skips for want of them.
package testutil
