package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeFile(t *testing.T, name, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// A settings file's keys are the command's flags: anything else, or a
// value that does not fit its flag, is an error at the file's line that
// lists what is allowed.
func TestSettingsFileErrors(t *testing.T) {
	for _, c := range []struct{ name, text, want string }{
		{"s.yaml", "seed: 3\npolcy: static\n", "s.yaml:2: polcy: unknown key; apron sim's keys are config, out, policy, seed (its flags, without --)"},
		{"s.yaml", "seed: x3\n", `s.yaml:1: seed: "x3" is not a whole number of 0 or more (the value of --seed)`},
		{"s.yaml", "policy: [drf]\n", "s.yaml:1: policy: want a text, not a list or a map"},
		{"s.yaml", "seed: 3\n  policy: drf\n", "s.yaml:2:9: mapping values are not allowed in this context"},
		{"s.toml", "seed = 3\n\n[sim]\npolicy = \"drf\"\n", "s.toml:3: sim: unknown key; apron sim's keys are"},
		{"s.json", "{\"seed\": 3,\n \"settings\": \"x\"}", "s.json:2: settings: unknown key;"},
		{"s.ini", "seed=3\n", "want a .yaml, .yml, .json or .toml file"},
	} {
		p := writeFile(t, c.name, c.text)
		_, err := runApron(t, "sim", "--settings", p, "--out", t.TempDir())
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s %q: err = %v\nwant %s", c.name, c.text, err, c.want)
		}
	}
}

// The settings file sets flags the command line does not; the environment
// comes between.
func TestSettingsFileApplies(t *testing.T) {
	dir := t.TempDir()
	p := writeFile(t, "s.toml", "policy = \"static\"\nseed = 9\nout = \""+dir+"\"\n")
	t.Setenv("APRON_SEED", "5")
	if _, err := runApron(t, "sim", "--settings", p); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if !strings.Contains(string(data), `"policy": "static"`) || !strings.Contains(string(data), `"seed": 5`) {
		t.Fatalf("manifest has not the file's policy and the environment's seed:\n%s", data)
	}
}

// An APRON_ variable that nothing reads is reported, naming it and what
// the command reads; one for another command's flag, a study key or a
// known variable is not; one that does not fit its flag is an error.
func TestEnvironmentChecked(t *testing.T) {
	t.Setenv("APRON_POLCY", "static")
	for _, ok := range []string{"APRON_TRACES", "APRON_LISTEN", "APRON_SEEDS", "APRON_SIM_SEED", "APRON_ROOT", "APRON_TASK_ID"} {
		t.Setenv(ok, "1")
	}
	out, err := runApron(t, "sim", "--out", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	want := "apron: warning: APRON_POLCY is set, but apron reads no such variable (no command has a flag --polcy); apron sim reads APRON_CONFIG, APRON_OUT, APRON_POLICY, APRON_SEED, APRON_SETTINGS"
	if !strings.Contains(out, want) || strings.Count(out, "warning") != 1 {
		t.Fatalf("output:\n%s\nwant one warning: %s", out, want)
	}
	t.Setenv("APRON_SEED", "abc")
	if _, err := runApron(t, "sim", "--out", t.TempDir()); err == nil || err.Error() != `APRON_SEED: "abc" is not a whole number of 0 or more (the value of --seed)` {
		t.Fatalf("err = %v", err)
	}
	if _, err := runApron(t, "sim", "--seed", "2", "--out", t.TempDir()); err != nil {
		t.Fatalf("--seed given: the environment's bad seed should not matter: %v", err)
	}
}

// Help lists the environment: the root every variable apron reads or
// sets, a command its flags' variables and the others it reads.
func TestHelpListsEnvironment(t *testing.T) {
	for _, c := range []struct {
		args []string
		want []string
	}{
		{[]string{"--help"}, []string{"Environment:", "APRON_<FLAG>", "APRON_TRACES", "APRON_SANDBOX, APRON_TASK_ID, APRON_FRAMEWORK_ID", "APRON_ROOT"}},
		{[]string{"sim", "--help"}, []string{"Environment:\n  APRON_CONFIG, APRON_OUT, APRON_POLICY, APRON_SEED, APRON_SETTINGS\n"}},
		{[]string{"run", "--help"}, []string{"APRON_SET,", "APRON_<KEY>", "APRON_TRACES"}},
		{[]string{"master", "--help"}, []string{"APRON_ACLS, APRON_AGENT_REREGISTER_TIMEOUT, APRON_AGENT_TIMEOUT, APRON_AUDIT_LOG, APRON_CREDENTIAL, APRON_DATA_DIR, APRON_FRAMEWORK_HEARTBEAT, APRON_ID, APRON_INSECURE, APRON_LISTEN",
			"APRON_SERVER_CREDENTIALS, APRON_SETTINGS, APRON_TLS_CA"}},
		{[]string{"execute", "--help"}, []string{"APRON_CREDENTIAL, APRON_MASTER", "APRON_CREDENTIALS\n        the client bundle"}},
		{[]string{"trace", "info", "--help"}, []string{"APRON_FORMAT, APRON_MACHINES, APRON_MACHINE_CPUS"}},
	} {
		out, err := runApron(t, c.args...)
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range c.want {
			if !strings.Contains(out, w) {
				t.Errorf("apron %v lacks %q:\n%s", c.args, w, out)
			}
		}
	}
}

// --set comes from the environment or a settings file too.
func TestRunSetFromEnvironmentAndSettings(t *testing.T) {
	t.Setenv("APRON_SET", "seeds=3")
	out, err := runApron(t, "run", "--dry-run", "static-vs-shared")
	if err != nil || !strings.Contains(out, "x 3 seeds") {
		t.Fatalf("APRON_SET=seeds=3: %v\n%s", err, out)
	}
	os.Unsetenv("APRON_SET") // t.Setenv restores it
	p := writeFile(t, "s.yaml", "set: [seeds=4, \"policies=[drf]\"]\n")
	out, err = runApron(t, "run", "--dry-run", "static-vs-shared", "--settings", p)
	if err != nil || !strings.Contains(out, "4 runs (1 policies x 1 sweep points x 4 seeds)") {
		t.Fatalf("set in the settings file: %v\n%s", err, out)
	}
}
