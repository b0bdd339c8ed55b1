package main

import (
	"fmt"

	"github.com/apronlab/apron/internal/buildinfo"
	"github.com/spf13/cobra"
	"github.com/spf13/viper"
)

// version is apron's version on one line, from the build information Go
// stamps into the binary: printed by --version and written to manifests.
var version = buildinfo.Read().String()

// newRoot builds the command tree. Every flag can also come from the
// environment (APRON_POLICY for --policy) or from a settings file
// (--settings), through viper.
func newRoot() *cobra.Command {
	v := viper.New()
	root := &cobra.Command{
		Use:           "apron",
		Short:         "A testbed for datacenter resource sharing: policies, simulation, live clusters",
		Version:       version,
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			return configure(cmd, v)
		},
	}
	root.PersistentFlags().String("settings", "", "file (YAML, TOML or JSON) of flag values, keyed by flag name")
	root.AddCommand(newAlloc(v), newSim(v), newTrace(v), newRun(v), newPlot(v), newMerge(v),
		newMaster(v), newAgent(v), newExecute(v), newUp(v), newPolicy(v), newBurn(v), newVersion())
	withEnvHelp(root)
	return root
}

func newVersion() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print apron's module version, VCS commit and Go toolchain",
		Args:  cobra.NoArgs,
		Run: func(cmd *cobra.Command, _ []string) {
			fmt.Fprint(cmd.OutOrStdout(), buildinfo.Read().Long())
		},
	}
}
