package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/apronlab/apron/allocator"
	"github.com/apronlab/apron/runtime/master"
	"github.com/apronlab/apron/runtime/masters"
	"github.com/apronlab/apron/runtime/scheduler"
	"github.com/apronlab/apron/sim/framework"
	"github.com/spf13/cobra"
	"github.com/spf13/viper"
)

func newExecute(v *viper.Viper) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "execute",
		Short: "Run one command on a live cluster and print its status updates (like mesos-execute)",
		Long: `execute subscribes a framework, launches the command on the first offer
that holds --resources and prints its status updates. When no offer has held
the task for --wait, it says why, from the master's /state: the task is
larger than any agent, the agents large enough keep part of it reserved for
other roles, the role's limit or other roles' guarantees leave too little,
or the agents are busy. --timeout gives up, with a non-zero exit.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			res, err := allocator.ParseResources(v.GetString("resources"))
			if err != nil {
				return fmt.Errorf("--resources: %w", err)
			}
			if v.GetString("command") == "" {
				return fmt.Errorf("--command is required")
			}
			ms, err := clientMasters(v, v.GetString("master"))
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			role := v.GetString("role")
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			if t := v.GetDuration("timeout"); t > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, t)
				defer cancel()
			}
			task := &scheduler.OneTask{Name: v.GetString("name"), Command: v.GetString("command"), Resources: res,
				Launched: func(agent string) {
					fmt.Fprintf(out, "Submitted task '%s' to agent '%s'\n", v.GetString("name"), agent)
				},
				Updated: func(s framework.Status) { printStatus(out, s) },
				Wait:    v.GetDuration("wait"),
				Waiting: func(largest *framework.Offer) {
					go func() {
						fmt.Fprintf(cmd.ErrOrStderr(), "No offer has held the task in %s: %s\n", v.GetDuration("wait"), whyUnfit(ctx, ms, res, role, largest))
					}()
				}}
			opts := scheduler.Options{Master: ms.String(), Credential: ms.Credential(), Name: "apron-execute", Role: role, Done: task.Done,
				OnSubscribed: func(d *scheduler.Driver) { fmt.Fprintf(out, "Subscribed with ID %s\n", d.ID()) }}
			err = scheduler.Run(ctx, opts, task)
			f := task.Final()
			switch {
			case f == nil && errors.Is(ctx.Err(), context.DeadlineExceeded) && !task.Started():
				return fmt.Errorf("--timeout %s: no offer held the task: %s", v.GetDuration("timeout"),
					whyUnfit(context.Background(), ms, res, role, task.Largest()))
			case f == nil && errors.Is(ctx.Err(), context.DeadlineExceeded):
				return fmt.Errorf("--timeout %s: the task had not ended; it was killed", v.GetDuration("timeout"))
			case err != nil:
				return err
			case f == nil:
				return fmt.Errorf("interrupted before the task ended")
			case f.State != framework.TaskFinished:
				return fmt.Errorf("task %s ended %s", f.Task, f.State)
			}
			return nil
		},
	}
	cmd.Flags().String("master", "127.0.0.1:5050", masterHelp)
	cmd.Flags().String("name", "apron-task", "the task's name and id")
	cmd.Flags().String("command", "", "shell command to run")
	cmd.Flags().String("resources", "cpus:1;mem:128", "resources the task needs")
	cmd.Flags().String("role", "*", "role to subscribe in")
	cmd.Flags().Duration("wait", 10*time.Second, "after this long without an offer that holds the task, say why none does")
	cmd.Flags().Duration("timeout", 0, "give up after this long, with a non-zero exit (0: never)")
	clientFlag(cmd)
	return cmd
}

func printStatus(out io.Writer, s framework.Status) {
	fmt.Fprintf(out, "Received status update %s for task '%s'", s.State, s.Task)
	if s.Message != "" {
		fmt.Fprintf(out, "\n  message: '%s'", s.Message)
	}
	if s.Reason != "" {
		fmt.Fprintf(out, "\n  reason: %s", s.Reason)
	}
	fmt.Fprintln(out)
}

// whyUnfit says what the largest offer was and why no agent takes the
// task, from the leading master's /state.
func whyUnfit(ctx context.Context, ms *masters.List, want allocator.Resources, role string, largest *framework.Offer) string {
	seen := "no offer came"
	if largest != nil {
		seen = fmt.Sprintf("the largest offer was %s from agent %s", largest.Resources, largest.Agent)
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	st, err := master.FetchState(ctx, ms.Client(0), ms)
	if err != nil {
		return fmt.Sprintf("the task wants %s; %s; reading the master's state to say why: %v", want, seen, err)
	}
	return fmt.Sprintf("the task wants %s in role %s; %s; %s", want, role, seen, scheduler.Unfit(want, role, st.Summary))
}
