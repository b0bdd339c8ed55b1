package main

import (
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/apronlab/apron/experiments"
	"github.com/apronlab/apron/runtime/auth"
	"github.com/apronlab/apron/traces/samples"
)

// otherEnv are the APRON_ variables that are no flag's: read by apron, or
// set around it.
var otherEnv = []struct {
	names    []string
	about    string
	commands []string // the commands that read it; none: only apron --help lists it
}{
	{[]string{samples.Env}, "the folder a trace path beginning $TRACES/ stands in (default: the samples shipped with apron)", []string{"run", "sim", "trace"}},
	{[]string{auth.ClientEnv}, "the client bundle when --credential names none (default: the one apron up writes, " + userBundle + ")", []string{"run", "execute", "apply", "show", "up"}},
	{[]string{"APRON_SANDBOX", "APRON_TASK_ID", "APRON_FRAMEWORK_ID"}, "set by an agent in a task's environment", nil},
	{[]string{"APRON_ROOT"}, "the checkout the notebooks link to (make notebooks sets it)", nil},
	{[]string{"APRON_BENCH_SCALE", "APRON_BENCH_WORKDIR"}, "read by benchmarks (BENCHMARKS.md)", nil},
}

// envName is the variable that sets a flag: APRON_AGENT_TIMEOUT for
// --agent-timeout. One flag is set by another name: the servers'
// --credentials by APRON_SERVER_CREDENTIALS, since APRON_CREDENTIALS names
// the client bundle (auth.ClientEnv), which a shell exports for clients.
func envName(flag string) string {
	return envKeys.Replace("APRON_" + strings.ToUpper(flag))
}

// envKeys turns APRON_ and a flag's name in capitals into the variable
// that sets it (viper's key replacer).
var envKeys = strings.NewReplacer("-", "_", "APRON_CREDENTIALS", "APRON_SERVER_CREDENTIALS")

// checkEnvironment checks the APRON_ variables: one that sets a flag of
// cmd must fit it (an error otherwise); one that sets no flag of any
// command, no study key and is none of otherEnv is reported on stderr, as
// a mistyped name would be silently ignored.
func checkEnvironment(cmd *cobra.Command) error {
	known := knownEnv(cmd.Root())
	for _, kv := range os.Environ() {
		name, val, _ := strings.Cut(kv, "=")
		if !strings.HasPrefix(name, "APRON_") {
			continue
		}
		if f := flagOf(cmd, name); f != nil {
			if err := fits(f, val); err != nil && !cmd.Flags().Changed(f.Name) {
				return fmt.Errorf("%s: %q %v", name, val, err)
			}
			continue
		}
		if !known(name) {
			fmt.Fprintf(cmd.ErrOrStderr(), "apron: warning: %s is set, but apron reads no such variable (no command has a flag --%s); %s reads %s (apron --help lists the others)\n",
				name, strings.ToLower(strings.ReplaceAll(strings.TrimPrefix(name, "APRON_"), "_", "-")), cmd.CommandPath(), strings.Join(commandEnv(cmd), ", "))
		}
	}
	return nil
}

func flagOf(cmd *cobra.Command, env string) *pflag.Flag {
	var found *pflag.Flag
	cmd.Flags().VisitAll(func(f *pflag.Flag) {
		if envName(f.Name) == env {
			found = f
		}
	})
	return found
}

// knownEnv tells whether a variable sets a flag of any command, a study
// key, or is one of otherEnv.
func knownEnv(root *cobra.Command) func(string) bool {
	names := map[string]bool{}
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		c.Flags().VisitAll(func(f *pflag.Flag) { names[envName(f.Name)] = true })
		c.PersistentFlags().VisitAll(func(f *pflag.Flag) { names[envName(f.Name)] = true })
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
	for _, o := range otherEnv {
		for _, n := range o.names {
			names[n] = true
		}
	}
	return func(name string) bool {
		if names[name] {
			return true
		}
		for _, k := range experiments.Keys() {
			if k := envName(k); name == k || strings.HasPrefix(name, k+"_") {
				return true
			}
		}
		return false
	}
}

// commandEnv lists the variables a command reads: its flags' and the
// others it reads.
func commandEnv(cmd *cobra.Command) []string {
	var out []string
	cmd.Flags().VisitAll(func(f *pflag.Flag) {
		if f.Name != "help" {
			out = append(out, envName(f.Name))
		}
	})
	for _, o := range otherEnv {
		if slices.Contains(o.commands, cmd.Name()) {
			out = append(out, o.names...)
		}
	}
	slices.Sort(out)
	return out
}

// envHelp is the Environment section of a command's help.
func envHelp(cmd *cobra.Command) string {
	var b strings.Builder
	item := func(names, about string) { fmt.Fprintf(&b, "  %s\n        %s\n", names, about) }
	if !cmd.HasParent() {
		item("APRON_<FLAG>", "sets a flag of the command run: APRON_ and the flag's name in capitals, - as _\n"+
			"        (APRON_POLICY=drf for --policy); the command line wins, then the environment, then --settings")
	} else {
		flags := slices.DeleteFunc(commandEnv(cmd), func(n string) bool { return flagOf(cmd, n) == nil })
		item(strings.Join(flags, ", "), "set the flags above; the command line wins, then the environment, then --settings")
		if cmd.Name() == "run" {
			item("APRON_<KEY>", "sets a study key, dots as _ (APRON_SEEDS=3, APRON_SIM_SEED=7)")
		}
	}
	for _, o := range otherEnv {
		if !cmd.HasParent() || slices.Contains(o.commands, cmd.Name()) {
			item(strings.Join(o.names, ", "), o.about)
		}
	}
	return b.String()
}

// withEnvHelp adds the Environment section to the help of cmd and every
// command below it.
func withEnvHelp(root *cobra.Command) {
	cobra.AddTemplateFunc("envHelp", envHelp)
	root.SetUsageTemplate(root.UsageTemplate() + "\nEnvironment:\n{{envHelp .}}")
}
