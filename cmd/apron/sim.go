package main

import (
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/apronlab/apron/sim"
	"github.com/spf13/cobra"
	"github.com/spf13/viper"
)

func newSim(v *viper.Viper) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "sim",
		Short: "Simulate a workload on a cluster under an allocation policy",
		Long: `sim runs the discrete-event simulator: frameworks receive offers from the
allocator (the same code the live master runs), launch or decline, and tasks
run for their durations. It writes timeseries.csv, jobs.csv, frameworks.csv,
summary.json and manifest.json to the run directory, by default
results/sim/<config>-<policy> (a study's runs go to results/<study>/).

--config takes a YAML file or a built-in scenario (` + strings.Join(sim.Scenarios(), ", ") + `);
without one, static-vs-shared runs. Ctrl-C stops cleanly and writes what was
measured, marked incomplete.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			name := v.GetString("config")
			if name == "" {
				name = "static-vs-shared"
			}
			cfg, err := sim.LoadConfig(name)
			if err != nil {
				return err
			}
			if p := v.GetString("policy"); p != "" {
				cfg.Allocator.Policy = p
			}
			if cmd.Flags().Changed("seed") || v.IsSet("seed") {
				cfg.Seed = v.GetUint64("seed")
			}
			if err := cfg.Finish(); err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			out := v.GetString("out")
			if out == "" {
				out = simOut(name, cfg.Allocator.Policy)
			}
			return runSim(cmd, cfg, out)
		},
	}
	cmd.Flags().String("config", "", "simulation config (YAML file or built-in scenario name)")
	cmd.Flags().String("policy", "", "allocation policy, replacing the config's")
	cmd.Flags().Uint64("seed", 0, "random seed, replacing the config's")
	cmd.Flags().String("out", "", "run directory (default results/sim/<config>-<policy>)")
	return cmd
}

// simOut is a single simulation's default run directory,
// results/sim/<config>-<policy>: apart from a study's runs, which apron run
// writes to results/<study>/<policy>/seed-N.
func simOut(config, policy string) string {
	base := strings.TrimSuffix(strings.TrimSuffix(filepath.Base(config), ".yaml"), ".yml")
	return filepath.Join("results", "sim", base+"-"+policy)
}

func runSim(cmd *cobra.Command, cfg *sim.Config, out string) error {
	s, err := sim.New(cfg)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	bar := newProgress(cmd.ErrOrStderr(), "simulating", int64(time.Duration(cfg.Duration).Seconds()))
	res, err := s.Run(ctx, sim.Options{Dir: out, Version: version, Progress: func(p sim.Progress) {
		rate := float64(p.Events) / max(p.Wall.Seconds(), 1e-9)
		bar.update(int64(p.Now.Seconds()), fmt.Sprintf("simulated %s, %.0f events/s", p.Now.Truncate(time.Second), rate))
	}})
	bar.finish()
	if err != nil {
		return err
	}
	state := "complete"
	if !res.Complete {
		state = "incomplete (interrupted)"
	}
	fmt.Fprintf(cmd.OutOrStdout(), "%s: %s simulated in %s wall, %d events, %s\n", out, res.Simulated.Truncate(time.Millisecond),
		res.Wall.Truncate(time.Millisecond), res.Events, state)
	if !res.Complete {
		return fmt.Errorf("interrupted; results so far are in %s", out)
	}
	return nil
}
