package main

import (
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
	"github.com/spf13/viper"

	"github.com/apronlab/apron/experiments"
)

func newRun(v *viper.Viper) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "run STUDY",
		Short: "Run a study: every policy, sweep point and seed in parallel, then its aggregate and figures",
		Long: `run reads a study (a YAML, TOML or JSON file, or a built-in study: ` + strings.Join(experiments.Builtin(), ", ") + `),
runs every (policy x sweep point x seed) on all cores, and writes
results/<study>/<run>/ (the simulator's outputs), aggregate.csv and
speedup.csv (means and 95% confidence intervals over the seeds) and
figures/ (PNG and SVG). Runs already finished with the same config are
skipped, so an interrupted study resumes. docs/experiments.md describes
study files.

With --backend live --master URL (or a comma-separated list of a
replicated cluster's masters) the same runs replay on a live cluster
(apron up starts one): each run's policy is applied to the master, its
frameworks run through the scheduler driver, every task a real process
(apron burn) using its cpus and mem for its duration divided by
--compress, and the master's reports become the same result files, with
backend: live in manifest.json; --backend sim,live does both, so the
figures draw simulated and live variants together.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			sets, _ := cmd.Flags().GetStringArray("set")
			if !cmd.Flags().Changed("set") {
				sets = v.GetStringSlice("set") // from the environment (space-separated) or --settings
			}
			if b := v.GetString("backend"); b != "" {
				sets = append(sets, "backends=["+b+"]")
			}
			if args[0] == experiments.FragmentationStudy {
				return runFragmentation(cmd, v)
			}
			s, err := experiments.Load(args[0], sets)
			if err != nil {
				return err
			}
			shard, shards, err := parseShard(v.GetString("shard"))
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if v.GetBool("dry-run") {
				return experiments.PrintMatrix(out, s)
			}
			if p := v.GetString("emit-slurm"); p != "" {
				return experiments.EmitSlurm(p, args[0], sets, v.GetString("out"), v.GetInt("shards"))
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			bar := newProgress(cmd.ErrOrStderr(), "runs", 0)
			var live *experiments.Live
			if m := v.GetString("master"); m != "" {
				ms, err := clientMasters(v, m)
				if err != nil {
					return err
				}
				live = &experiments.Live{Master: ms.String(), Credential: ms.Credential(), Compress: v.GetFloat64("compress")}
			}
			rep, err := experiments.Execute(ctx, s, experiments.Options{Dir: v.GetString("out"), Workers: v.GetInt("workers"),
				Shard: shard, Shards: shards, Version: version, Live: live,
				Progress: func(done, total int) { bar.update(int64(done), fmt.Sprintf("%d of %d runs done", done, total)) }})
			bar.finish()
			if ctx.Err() != nil {
				return fmt.Errorf("interrupted: %d of %d runs done; run the same command again to resume", rep.Skipped, rep.Total)
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(out, "%s: %d runs (%d run now, %d already done)\n", rep.Dir, rep.Total, rep.Ran, rep.Skipped)
			if rep.Aggregated {
				fmt.Fprintf(out, "aggregate: %s/aggregate.csv, %s/speedup.csv; figures: %s/figures\n\n", rep.Dir, rep.Dir, rep.Dir)
				md, err := experiments.Markdown(rep.Dir)
				if err != nil {
					return err
				}
				fmt.Fprint(out, md)
			} else {
				fmt.Fprintln(out, "other shards still to run; apron merge combines their results")
			}
			return nil
		},
	}
	cmd.Flags().Bool("dry-run", false, "print the expanded run matrix and stop")
	cmd.Flags().String("backend", "", "sim, live, or sim,live: where the runs run (default: the study's backends, else sim)")
	cmd.Flags().String("master", "", "live runs: "+masterHelp)
	cmd.Flags().Float64("compress", 1, "live runs: framework seconds per wall second (10 runs a 10-minute workload in a minute)")
	clientFlag(cmd)
	cmd.Flags().StringArray("set", nil, "override a study key, key=value (repeatable): --set seeds=3")
	cmd.Flags().String("out", "results", "results root; the study writes to <out>/<name>")
	cmd.Flags().Int("workers", 0, "runs at once (default: every core)")
	cmd.Flags().String("shard", "", "run one shard of the matrix, i/n (0-based i)")
	cmd.Flags().String("emit-slurm", "", "write a Slurm job-array script that runs the study in --shards shards, then merges, and stop")
	cmd.Flags().Int("shards", 4, "with --emit-slurm: how many shards (array tasks)")
	return cmd
}

// runFragmentation runs the openb fragmentation study, which is not a
// study file.
func runFragmentation(cmd *cobra.Command, v *viper.Viper) error {
	ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	dir := filepath.Join(v.GetString("out"), experiments.FragmentationStudy)
	bar := newProgress(cmd.ErrOrStderr(), "runs", 0)
	workers := v.GetInt("workers")
	if workers <= 0 {
		workers = runtime.NumCPU()
	}
	md, err := experiments.RunFragmentation(ctx, experiments.OpenbFragmentation(), dir, workers,
		func(done, total int) { bar.update(int64(done), fmt.Sprintf("%d of %d runs done", done, total)) })
	bar.finish()
	if err != nil {
		return err
	}
	fmt.Fprintf(cmd.OutOrStdout(), "%s: runs.csv, aggregate.csv, paper.csv; figures: %s/figures\n\n%s", dir, dir, md)
	return nil
}

// parseShard reads i/n; empty is no sharding.
func parseShard(s string) (int, int, error) {
	if s == "" {
		return 0, 0, nil
	}
	a, b, ok := strings.Cut(s, "/")
	i, err1 := strconv.Atoi(a)
	n, err2 := strconv.Atoi(b)
	if !ok || err1 != nil || err2 != nil || n < 1 || i < 0 || i >= n {
		return 0, 0, fmt.Errorf("--shard %q: want i/n with 0 <= i < n, such as 0/4", s)
	}
	return i, n, nil
}

func newPlot(v *viper.Viper) *cobra.Command {
	return &cobra.Command{
		Use:   "plot RESULTS_DIR",
		Short: "Redraw a study's aggregate and figures from its result files, without simulating",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := experiments.Finish(args[0]); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "figures: %s/figures\n", args[0])
			return nil
		},
	}
}

func newMerge(v *viper.Viper) *cobra.Command {
	return &cobra.Command{
		Use:   "merge DEST SHARD_DIR...",
		Short: "Combine the results of a study's shards into DEST, then aggregate and draw",
		Args:  cobra.MinimumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := experiments.Merge(args[0], args[1:]...); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "merged into %s: aggregate.csv, speedup.csv, figures/\n", args[0])
			return nil
		},
	}
}
