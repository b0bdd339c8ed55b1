package main

import (
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/apronlab/apron/allocator"
	"github.com/apronlab/apron/runtime/scheduler"
	"github.com/apronlab/apron/sim/framework"
	"github.com/spf13/cobra"
	"github.com/spf13/viper"
)

func newExecute(v *viper.Viper) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "execute",
		Short: "Run one command on a live cluster and print its status updates (like mesos-execute)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			res, err := allocator.ParseResources(v.GetString("resources"))
			if err != nil {
				return fmt.Errorf("--resources: %w", err)
			}
			if v.GetString("command") == "" {
				return fmt.Errorf("--command is required")
			}
			out := cmd.OutOrStdout()
			task := &scheduler.OneTask{Name: v.GetString("name"), Command: v.GetString("command"), Resources: res,
				Launched: func(agent string) {
					fmt.Fprintf(out, "Submitted task '%s' to agent '%s'\n", v.GetString("name"), agent)
				},
				Updated: func(s framework.Status) {
					fmt.Fprintf(out, "Received status update %s for task '%s'", s.State, s.Task)
					if s.Message != "" {
						fmt.Fprintf(out, "\n  message: '%s'", s.Message)
					}
					if s.Reason != "" {
						fmt.Fprintf(out, "\n  reason: %s", s.Reason)
					}
					fmt.Fprintln(out)
				}}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			opts := scheduler.Options{Master: masterURL(v.GetString("master")), Name: "apron-execute", Role: v.GetString("role"), Done: task.Done,
				OnSubscribed: func(d *scheduler.Driver) { fmt.Fprintf(out, "Subscribed with ID %s\n", d.ID()) }}
			if err := scheduler.Run(ctx, opts, task); err != nil {
				return err
			}
			f := task.Final()
			if f == nil {
				return fmt.Errorf("interrupted before the task ended")
			}
			if f.State != framework.TaskFinished {
				return fmt.Errorf("task %s ended %s", f.Task, f.State)
			}
			return nil
		},
	}
	cmd.Flags().String("master", "127.0.0.1:5050", "the master's host:port or URL")
	cmd.Flags().String("name", "apron-task", "the task's name and id")
	cmd.Flags().String("command", "", "shell command to run")
	cmd.Flags().String("resources", "cpus:1;mem:128", "resources the task needs")
	cmd.Flags().String("role", "*", "role to subscribe in")
	return cmd
}
