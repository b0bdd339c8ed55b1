package main

import (
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/viper"
)

// version is set by the build (-ldflags "-X main.version=...").
var version = "dev"

// newRoot builds the command tree. Every flag can also come from the
// environment (APRON_POLICY for --policy) or from a config file (--config),
// through viper.
func newRoot() *cobra.Command {
	v := viper.New()
	root := &cobra.Command{
		Use:           "apron",
		Short:         "A testbed for datacenter resource sharing: policies, simulation, live clusters",
		Version:       version,
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			v.SetEnvPrefix("APRON")
			v.SetEnvKeyReplacer(strings.NewReplacer("-", "_"))
			v.AutomaticEnv()
			if err := v.BindPFlags(cmd.Flags()); err != nil {
				return err
			}
			if file := v.GetString("config"); file != "" {
				v.SetConfigFile(file)
				return v.ReadInConfig()
			}
			return nil
		},
	}
	root.PersistentFlags().String("config", "", "config file (YAML, TOML or JSON) with flag values")
	root.AddCommand(newAlloc(v))
	return root
}
