package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"github.com/spf13/viper"
	"go.yaml.in/yaml/v4"

	"github.com/apronlab/apron/internal/conf"
)

// configure gives a command's flags their values from the environment
// (APRON_POLICY for --policy) and a settings file (--settings), through v:
// the command line wins, then the environment, then the file. A value that
// does not fit its flag, or a key of the file that is no flag of the
// command, is an error; an APRON_ variable that nothing reads is a
// warning.
func configure(cmd *cobra.Command, v *viper.Viper) error {
	v.SetEnvPrefix("APRON")
	v.SetEnvKeyReplacer(envKeys)
	v.AutomaticEnv()
	if err := v.BindPFlags(cmd.Flags()); err != nil {
		return err
	}
	if err := checkEnvironment(cmd); err != nil {
		return err
	}
	if file := v.GetString("settings"); file != "" {
		if err := checkSettings(cmd, file); err != nil {
			return err
		}
		v.SetConfigFile(file)
		return v.ReadInConfig()
	}
	return nil
}

// checkSettings checks that every key of a settings file is a flag of the
// command and its value fits the flag, naming the file and line when not.
func checkSettings(cmd *cobra.Command, file string) error {
	data, err := os.ReadFile(file)
	if err != nil {
		return fmt.Errorf("--settings: %w", err)
	}
	parse := conf.Parse
	switch strings.ToLower(filepath.Ext(file)) {
	case ".toml":
		parse = conf.ParseTOML
	case ".yaml", ".yml", ".json":
	default:
		return fmt.Errorf("--settings %s: want a .yaml, .yml, .json or .toml file", file)
	}
	tree, err := parse(data)
	if err == nil {
		err = settingKeys(cmd, tree)
	}
	return conf.Locate(err, file, tree)
}

func settingKeys(cmd *cobra.Command, tree *yaml.Node) error {
	if tree.Kind != yaml.MappingNode {
		return conf.Errorf("", "want keys (the flags of %s, without --) and their values", cmd.CommandPath())
	}
	for i := 0; i+1 < len(tree.Content); i += 2 {
		key, val := tree.Content[i].Value, tree.Content[i+1]
		f := cmd.Flags().Lookup(key)
		if f == nil || key == "help" || key == "settings" {
			return conf.Errorf(key, "unknown key; %s's keys are %s (its flags, without --)", cmd.CommandPath(), strings.Join(flagNames(cmd), ", "))
		}
		if val.Kind == yaml.SequenceNode && strings.HasSuffix(f.Value.Type(), "Array") {
			continue
		}
		if val.Kind != yaml.ScalarNode {
			return conf.Errorf(key, "want %s, not a list or a map", what(f))
		}
		if err := fits(f, val.Value); err != nil {
			return conf.Errorf(key, "%q %v", val.Value, err)
		}
	}
	return nil
}

// flagNames are the flags a settings file may set for cmd.
func flagNames(cmd *cobra.Command) []string {
	var names []string
	cmd.Flags().VisitAll(func(f *pflag.Flag) {
		if f.Name != "help" && f.Name != "settings" {
			names = append(names, f.Name)
		}
	})
	slices.Sort(names)
	return names
}

// fits checks a text as the value of flag f.
func fits(f *pflag.Flag, s string) error {
	var err error
	switch f.Value.Type() {
	case "int", "int64", "int32":
		_, err = strconv.ParseInt(s, 10, 64)
	case "uint", "uint64", "uint32":
		_, err = strconv.ParseUint(s, 10, 64)
	case "float64", "float32":
		_, err = strconv.ParseFloat(s, 64)
	case "bool":
		_, err = strconv.ParseBool(s)
	case "duration":
		_, err = time.ParseDuration(s)
	}
	if err != nil {
		return fmt.Errorf("is not %s (the value of --%s)", what(f), f.Name)
	}
	return nil
}

// what says in words what flag f takes.
func what(f *pflag.Flag) string {
	switch f.Value.Type() {
	case "int", "int64", "int32":
		return "a whole number"
	case "uint", "uint64", "uint32":
		return "a whole number of 0 or more"
	case "float64", "float32":
		return "a number"
	case "bool":
		return "true or false"
	case "duration":
		return "a duration such as 10s or 1m"
	}
	return "a text"
}
