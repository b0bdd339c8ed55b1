package main

import (
	"fmt"
	"strings"

	"github.com/apronlab/apron/allocator"
	"github.com/apronlab/apron/allocator/playground"
	"github.com/spf13/cobra"
	"github.com/spf13/viper"
)

func newAlloc(v *viper.Viper) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "alloc [SCENARIO.yaml]",
		Short: "Place a scenario's tasks by progressive filling and show what a policy does",
		Long: `alloc runs the allocation playground: it places the tasks of a scenario's
frameworks one at a time, always the next framework in the policy's order, on
the first agent where the task fits, until nothing more fits. A scenario may
list timed events (end_task, end_framework, add_agent, remove_agent,
set_weight); they happen in time order and filling resumes after each time.
Then it prints the tasks, resources and dominant share per framework at the
end, the pick order and what each time's events did.

SCENARIO is a YAML file or the name of a bundled scenario (` + strings.Join(playground.Bundled(), ", ") + `);
without one, the DRF paper's worked example runs. The scenario format is in
docs/playground.md; unknown keys are errors naming the file, line and key.
Policies: ` + strings.Join(allocator.Policies(), ", ") + `.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := "drf-paper"
			if len(args) == 1 {
				name = args[0]
			}
			s, err := playground.Load(name)
			if err != nil {
				return err
			}
			r, err := playground.Run(s, v.GetString("policy"))
			if err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			if v.GetBool("json") {
				return r.WriteJSON(cmd.OutOrStdout())
			}
			fmt.Fprintf(cmd.OutOrStdout(), "scenario %s\n", name)
			return r.WriteText(cmd.OutOrStdout())
		},
	}
	cmd.Flags().String("policy", "", "policy to use instead of the scenario's")
	cmd.Flags().Bool("json", false, "print JSON")
	return cmd
}
