package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/apronlab/apron/allocator"
	"github.com/apronlab/apron/runtime/api"
	"github.com/apronlab/apron/runtime/auth"
	"github.com/apronlab/apron/runtime/burn"
	"github.com/apronlab/apron/runtime/local"
	"github.com/apronlab/apron/runtime/masters"
	"github.com/apronlab/apron/runtime/pki"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"github.com/spf13/viper"
)

func newUp(v *viper.Viper) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "up",
		Short: "Start a local master (or several) and agents, and keep them up until Ctrl-C",
		Long: `up starts a master and agents in this process on loopback ports. With
--masters 3 the masters are a replicated cluster, each a process of its own
(apron master --id --peers --data-dir WORK-DIR/master-N) on --listen's port
and the next ones, so that one can be killed: the others elect a new leader,
and the agents, which know every master, follow it. Ctrl-C stops the agents,
then the masters; no master outlives apron up. With --data-dir the masters
keep their registry there from one apron up to the next.

The cluster is secure by default: apron up makes a CA, certificates and
secrets in WORK-DIR/secrets (principals master, ops and one per agent),
the masters and agents serve HTTPS and authenticate every call, and the
operator's client bundle (principal ops) goes to $APRON_CREDENTIALS, else
~/.config/apron/credentials.json, where apron execute, apron policy and
apron run find it. It prints the web UI's login link and a curl command
that work. --insecure turns all of it off.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts, err := masterOptions(v.GetString("policy"))
			if err != nil {
				return err
			}
			var r allocator.Resources
			if s := v.GetString("resources"); s != "" {
				if r, err = allocator.ParseResources(s); err != nil {
					return fmt.Errorf("--resources: %w", err)
				}
			}
			masterLimits(v, &opts)
			self, _ := os.Executable()
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			insecure := v.GetBool("insecure")
			if insecure {
				insecureBanner(cmd.ErrOrStderr(), "the cluster")
			}
			c, err := local.Start(ctx, local.Config{Master: opts, MasterAddr: v.GetString("listen"), Agents: v.GetInt("agents"),
				Masters: v.GetInt("masters"), MasterArgs: masterArgs(v), MasterOutput: cmd.ErrOrStderr(), DataDir: v.GetString("data-dir"),
				Prefix: v.GetString("prefix"), Resources: r, AgentPort: v.GetInt("agent-port"), WorkDir: v.GetString("work-dir"),
				Isolation: !v.GetBool("no-isolation"), Self: self, Log: logger(cmd), Insecure: insecure})
			if err != nil {
				return err
			}
			defer c.Stop()
			if c.Warning != nil {
				fmt.Fprintf(cmd.ErrOrStderr(), "WARNING: %v (no cgroup limits)\n", c.Warning)
			}
			curl, err := installBundle(cmd.ErrOrStderr(), c)
			if err != nil {
				return err
			}
			if err := printUp(ctx, cmd.OutOrStdout(), c, opts.Policy.Policy, curl); err != nil {
				return err
			}
			<-ctx.Done()
			fmt.Fprintln(cmd.OutOrStdout(), "stopping")
			return nil
		},
	}
	cmd.Flags().Int("agents", 2, "number of agents")
	cmd.Flags().Int("masters", 1, "number of masters: 1 runs in this process; 3 (or more) are a replicated cluster of processes")
	cmd.Flags().String("listen", "127.0.0.1:5050", "the master's address; of several, the first's (the others take the next ports; port 0: free ports)")
	cmd.Flags().Int("agent-port", 0, "the first agent's port; the others follow (default: the port after the masters', or free ports with --listen port 0)")
	cmd.Flags().String("prefix", "agent", "agents are named PREFIX-1..PREFIX-N")
	cmd.Flags().String("resources", "", `each agent's resources (default: the machine's, split evenly)`)
	cmd.Flags().String("policy", "", "policy file, simulation config or manifest.json")
	cmd.Flags().String("work-dir", filepath.Join(os.TempDir(), "apron-up"), "agents' sandboxes and checkpoints (and several masters' logs, fresh at each start)")
	cmd.Flags().String("data-dir", "", "keep the masters' registry here (a raft log; of several masters, in DIR/master-N): the next apron up forgets nothing")
	cmd.Flags().Bool("no-isolation", false, "run tasks without cgroups")
	cmd.Flags().Bool("insecure", false, "no authentication and no TLS (default: a CA, certificates and credentials made in WORK-DIR/secrets)")
	masterFlags(cmd)
	return cmd
}

// masterArgs are the flags apron up gives its master processes: the
// policy and each master flag whose value (from apron up's command line,
// the environment or a settings file) is not its default.
func masterArgs(v *viper.Viper) []string {
	probe := &cobra.Command{}
	masterFlags(probe)
	var args []string
	probe.Flags().VisitAll(func(f *pflag.Flag) {
		if val := v.GetString(f.Name); val != f.DefValue {
			args = append(args, "--"+f.Name+"="+val)
		}
	})
	if p := v.GetString("policy"); p != "" {
		args = append(args, "--policy="+p)
	}
	return args
}

// printUp prints the cluster: its masters (of several, which leads), its
// agents, and what to try; curl is the curl command line that reaches the
// masters.
func printUp(ctx context.Context, out io.Writer, c *local.Cluster, policy, curl string) error {
	st, err := c.Summary(ctx)
	if err != nil {
		return err
	}
	if len(c.Procs) == 0 {
		fmt.Fprintf(out, "apron master: %s (policy %s); web UI: %s\n", c.URL, policy, webUI(c, c.URL))
	} else {
		leader := c.Leader(ctx)
		fmt.Fprintf(out, "apron masters (policy %s), each a process; any master's web UI and API lead to the leader's:\n", policy)
		for _, p := range c.Procs {
			role := "standby"
			if p.URL == leader {
				role = "leader"
			}
			fmt.Fprintf(out, "  master %d: %s (pid %d), %s; web UI: %s\n", p.ID, p.URL, p.Pid, role, webUI(c, p.URL))
		}
	}
	for _, a := range st.Agents {
		fmt.Fprintf(out, "  agent %s at %s: %s, isolation %s\n", a.ID, a.URL, a.Resources.Total, a.Isolation)
	}
	if c.Secrets != nil {
		fmt.Fprintf(out, "Secrets (CA, certificates, credentials, ACLs): %s; the web UI's certificate is signed by %s\n", c.Secrets.Dir, c.Secrets.CA)
	}
	fmt.Fprintf(out, "\nTry:\n  apron execute --master %s --name my-first-task --command \"echo hello world && sleep 10\" --resources \"cpus:1;mem:128\"\n", c.MasterList())
	if len(c.Procs) > 0 {
		fmt.Fprintf(out, "  kill -9 the leader's pid: another master leads within seconds, and the agents and their tasks carry on\n")
	}
	fmt.Fprintf(out, "State: %s %s/state    Metrics: %s %s/metrics\nCtrl-C stops the cluster.\n", curl, c.URL, curl, c.URL)
	return nil
}

// webUI is the link to a master's web UI: with a secure cluster, its
// login link, which gives the browser a session as ops.
func webUI(c *local.Cluster, url string) string {
	if c.Secrets == nil {
		return url + "/"
	}
	ops, _ := c.Secrets.Identity(pki.Ops)
	return url + "/login?token=" + ops.Secret
}

// installBundle writes the operator's client bundle where clients look
// for it ($APRON_CREDENTIALS, else the user's config), so that apron
// execute and apron policy work with no flag, and returns the curl command
// that reaches the masters. An insecure cluster takes away a bundle an
// earlier apron up wrote, which would send clients to https.
func installBundle(w io.Writer, c *local.Cluster) (string, error) {
	path, err := auth.ClientPath("")
	if c.Secrets == nil {
		removed := false
		if err == nil {
			removed, err = pki.Uninstall(path)
		}
		switch {
		case err != nil:
			fmt.Fprintf(w, "WARNING: a client bundle of an earlier apron up may send clients to https: %v\n", err)
		case removed:
			fmt.Fprintf(w, "removed %s, the client bundle of an earlier apron up: clients speak plain HTTP to this cluster\n", path)
		}
		return "curl -s", nil
	}
	curlrc, cerr := c.Secrets.Curlrc(pki.Ops)
	if cerr != nil {
		return "", cerr
	}
	ops, _ := c.Secrets.Identity(pki.Ops)
	if err == nil {
		err = c.Secrets.Install(pki.Ops, path)
	}
	if err != nil {
		fmt.Fprintf(w, "WARNING: the client bundle: %v; give clients --credential %s\n", err, ops.Bundle)
	} else {
		fmt.Fprintf(w, "client bundle (principal ops) for apron execute, policy and run: %s\n", path)
	}
	return "curl -sK " + curlrc, nil
}

func newPolicy(v *viper.Viper) *cobra.Command {
	cmd := &cobra.Command{Use: "policy", Short: "Show or change a live master's policy"}
	apply := &cobra.Command{
		Use:   "apply FILE",
		Short: "Swap a running master's policy (weights, quotas, partitions or the policy itself) at its next allocation cycle",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			data, err := os.ReadFile(args[0])
			if err != nil {
				return err
			}
			ms, err := clientMasters(v, v.GetString("master"))
			if err != nil {
				return err
			}
			resp, err := ms.Do(cmd.Context(), ms.Client(0), masters.Request{Method: http.MethodPost,
				Path: "/api/v1/policy?name=" + url.QueryEscape(filepath.Base(args[0])), Body: data, Header: http.Header{"Content-Type": {"application/yaml"}}})
			if err != nil {
				return err
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != http.StatusAccepted {
				var e api.ErrorBody
				if json.Unmarshal(body, &e) == nil && e.Error != "" {
					body = []byte(e.Error)
				}
				return fmt.Errorf("the master refused the policy (%s): %s", resp.Status, bytes.TrimSpace(body))
			}
			fmt.Fprintf(cmd.OutOrStdout(), "accepted; it takes effect at the next allocation cycle:\n%s", body)
			return nil
		},
	}
	apply.Flags().String("master", "127.0.0.1:5050", masterHelp)
	clientFlag(apply)
	show := &cobra.Command{
		Use:   "show",
		Short: "Print the policy a master runs (and one waiting for the next cycle)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ms, err := clientMasters(v, v.GetString("master"))
			if err != nil {
				return err
			}
			resp, err := ms.Do(cmd.Context(), ms.Client(0), masters.Request{Path: "/api/v1/policy"})
			if err != nil {
				return err
			}
			defer resp.Body.Close()
			_, err = io.Copy(cmd.OutOrStdout(), resp.Body)
			return err
		},
	}
	show.Flags().String("master", "127.0.0.1:5050", masterHelp)
	clientFlag(show)
	cmd.AddCommand(apply, show)
	return cmd
}

func newBurn(v *viper.Viper) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "burn",
		Short: "Use CPU and memory for a while: what a replayed task runs on a live cluster",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return burn.Run(ctx, burn.Spec{CPUs: v.GetFloat64("cpus"), MemMiB: v.GetFloat64("mem"), Duration: v.GetDuration("duration")})
		},
	}
	cmd.Flags().Float64("cpus", 1, "cores to keep busy (a fraction runs a duty cycle)")
	cmd.Flags().Float64("mem", 0, "MiB to allocate and touch")
	cmd.Flags().Duration("duration", 10*time.Second, "how long; 0 until killed")
	return cmd
}
