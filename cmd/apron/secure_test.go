package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// APRON_CREDENTIALS names the client bundle a shell exports for apron
// execute and the others; a master does not take it for its --credentials
// (APRON_SERVER_CREDENTIALS sets those), and warns of nothing.
func TestClientBundleIsNoServerCredentials(t *testing.T) {
	bundle := filepath.Join(t.TempDir(), "credentials.json")
	if err := os.WriteFile(bundle, []byte(`{"principal": "ops", "secret": "0123456789abcdef"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("APRON_CREDENTIALS", bundle)
	out, err := runApron(t, "master", "--listen", "127.0.0.1:0")
	if err == nil || !strings.Contains(err.Error(), "no --credentials and no --insecure") || strings.Contains(out, "warning") {
		t.Errorf("apron master with APRON_CREDENTIALS set: %v\n%s\nwant the refusal for want of --credentials, and no warning", err, out)
	}
	t.Setenv("APRON_SERVER_CREDENTIALS", bundle)
	if _, err := runApron(t, "master", "--listen", "127.0.0.1:0"); err == nil || !strings.Contains(err.Error(), "--credentials: credentials "+bundle) {
		t.Errorf("APRON_SERVER_CREDENTIALS: %v; want it read as --credentials", err)
	}
}
