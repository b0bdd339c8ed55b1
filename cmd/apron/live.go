package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/apronlab/apron/allocator"
	"github.com/apronlab/apron/runtime/agent"
	"github.com/apronlab/apron/runtime/agent/isolation"
	"github.com/apronlab/apron/runtime/master"
	"github.com/apronlab/apron/runtime/master/core"
	"github.com/apronlab/apron/runtime/masters"
	"github.com/apronlab/apron/runtime/webui"
	"github.com/apronlab/apron/sim"
	"github.com/spf13/cobra"
	"github.com/spf13/viper"
)

func newMaster(v *viper.Viper) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "master",
		Short: "Run a live master: the allocator behind the scheduler API, /state and /metrics",
		Long: `master runs the allocator package in wall time. --policy takes a policy file
(the allocator keys of a simulation config), a whole simulation config, or a
simulation run's manifest.json; without it the master runs DRF with Mesos'
defaults. POST a new policy to /api/v1/policy (apron policy apply) to change
it without a restart. The API is documented in docs/api.md.

With --data-dir the master keeps its registry (agents, frameworks, tasks,
the policy) in a raft log there, and a restart forgets nothing. With --id
and --peers it is one of a replicated cluster: the masters elect a leader,
which serves; the others redirect clients to it (307, and GET
/master/redirect) and take over if it fails.

It needs --credentials (the principals that may call it), best with
--tls-cert, --tls-key and --tls-ca (HTTPS, mutual TLS), or --insecure
(no authentication, no TLS); docs/api.md has the flags and file formats.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts, err := masterOptions(v.GetString("policy"))
			if err != nil {
				return err
			}
			limits := masterLimits(v, &opts)
			opts.Log = logger(cmd)
			sec, err := serverSecurity(v, cmd)
			if err != nil {
				return err
			}
			opts.Credential, opts.Credentials, opts.Authorizer, opts.Audit = sec.Client, sec.Credentials, sec.ACLs, sec.Audit
			if opts.Replica, err = replicaOptions(v, sec); err != nil {
				return err
			}
			m, err := master.New(opts)
			if err != nil {
				return err
			}
			ln, err := net.Listen("tcp", v.GetString("listen"))
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			go m.Run(ctx)
			sec.announce(cmd.ErrOrStderr(), v.GetString("listen"))
			fmt.Fprintf(cmd.ErrOrStderr(), "apron master on %s://%s (web UI at /), policy %s (%s)\n", sec.Scheme(), v.GetString("listen"), opts.Policy.Policy, opts.PolicySource)
			return serve(ctx, ln, webui.Handler(m), limits, sec.TLS)
		},
	}
	cmd.Flags().String("listen", "127.0.0.1:5050", "address to serve on")
	cmd.Flags().String("policy", "", "policy file, simulation config or manifest.json")
	cmd.Flags().String("data-dir", "", "keep the registry in a raft log in this directory (a restart forgets nothing)")
	cmd.Flags().Uint64("id", 0, "this master's number among --peers (1 for the first)")
	cmd.Flags().String("peers", "", "every master of a replicated cluster, host:port or URLs, comma-separated, in --id order")
	cmd.Flags().Duration("raft-tick", 100*time.Millisecond, "raft's clock: a leader is suspected after 10 to 20 ticks of silence")
	masterFlags(cmd)
	serverFlags(cmd, true)
	return cmd
}

// replicaOptions reads --data-dir, --id and --peers: nil for a master that
// keeps everything in memory. Peers given as host:port are https when the
// master serves TLS.
func replicaOptions(v *viper.Viper, sec *security) (*master.ReplicaOptions, error) {
	dir, peers, id := v.GetString("data-dir"), v.GetString("peers"), v.GetUint64("id")
	if dir == "" && peers == "" {
		return nil, nil
	}
	if dir == "" {
		return nil, fmt.Errorf("--peers needs --data-dir: a replicated master keeps its log there")
	}
	list := v.GetString("listen")
	if peers != "" {
		list = peers
	}
	ms, err := masters.WithCredential(list, sec.Client)
	if err != nil {
		return nil, fmt.Errorf("--peers: %w", err)
	}
	o := &master.ReplicaOptions{ID: 1, DataDir: dir, Tick: v.GetDuration("raft-tick"), Peers: ms.Masters()}
	if peers != "" {
		o.ID = id
		if id == 0 || int(id) > len(o.Peers) {
			return nil, fmt.Errorf("--id %d: want this master's number among the %d --peers, 1 to %d", id, len(o.Peers), len(o.Peers))
		}
	}
	return o, nil
}

// masterFlags are the flags of a master's timeouts and bounds (apron
// master, apron up).
func masterFlags(cmd *cobra.Command) {
	f := cmd.Flags()
	f.Duration("agent-timeout", 75*time.Second, "mark an agent unreachable after this long without a heartbeat (Mesos: 75s)")
	f.Duration("agent-reregister-timeout", 10*time.Minute, "after a start with no memory of its tasks, how long agents have to re-register with theirs (Mesos: 10m)")
	f.Duration("unreachable-timeout", 15*time.Minute, "an unreachable agent's tasks are TASK_GONE after this long")
	f.Duration("framework-heartbeat", 15*time.Second, "how often a framework's event stream gets a HEARTBEAT (Mesos: 15s); a framework that hears nothing for 3 takes its master for gone")
	f.Int("max-frameworks", 1000, "frameworks subscribed at once")
	f.Int("max-agents", 100000, "agents registered at once")
	f.Int("max-tasks-per-framework", 100000, "tasks of one framework not yet completed")
	f.Int("max-tasks-per-accept", 1000, "tasks in one ACCEPT")
	f.Int("max-reconcile", 10000, "tasks named in one RECONCILE")
	f.Int("max-name", 1024, "bytes of a name, hostname, URL or message")
	f.Int("max-command", 65536, "bytes of a task's command")
	f.Int("retain", 1000, "completed tasks kept per framework")
	f.Int("max-outbox", 16<<20, "bytes queued for one event stream before its subscriber is disconnected")
	f.Int("max-connections", 10000, "HTTP connections open at once")
}

// masterLimits sets a master's options from masterFlags and returns its
// server's limits.
func masterLimits(v *viper.Viper, opts *master.Options) master.ServerLimits {
	opts.AgentTimeout = v.GetDuration("agent-timeout")
	opts.UnreachableTimeout = v.GetDuration("unreachable-timeout")
	opts.ReregisterTimeout = v.GetDuration("agent-reregister-timeout")
	opts.Heartbeat = v.GetDuration("framework-heartbeat")
	opts.MaxOutbox = v.GetInt("max-outbox")
	opts.Limits = core.Limits{MaxFrameworks: v.GetInt("max-frameworks"), MaxAgents: v.GetInt("max-agents"),
		MaxTasksPerFramework: v.GetInt("max-tasks-per-framework"), MaxTasksPerAccept: v.GetInt("max-tasks-per-accept"),
		MaxReconcile: v.GetInt("max-reconcile"), MaxName: v.GetInt("max-name"), MaxCommand: v.GetInt("max-command"), Retain: v.GetInt("retain")}
	return master.ServerLimits{MaxConnections: v.GetInt("max-connections")}
}

// masterOptions reads the policy a master starts with.
func masterOptions(file string) (master.Options, error) {
	opts := master.Options{ParsePolicy: sim.ParsePolicy, PolicySource: "default"}
	if file == "" {
		cfg, err := sim.ParsePolicy("default", []byte("policy: drf\n"))
		opts.Policy = cfg
		return opts, err
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return opts, err
	}
	opts.Policy, err = sim.ParsePolicy(file, data)
	opts.PolicySource = file
	return opts, err
}

func logger(cmd *cobra.Command) *slog.Logger {
	return slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), &slog.HandlerOptions{Level: slog.LevelInfo}))
}

// serve serves h on ln until ctx ends, over TLS with cfg (nil: plain
// HTTP). The callers listen before they start talking to others, so that
// whoever learns their address can reach it.
func serve(ctx context.Context, ln net.Listener, h http.Handler, limits master.ServerLimits, cfg *tls.Config) error {
	srv := master.NewServerTLS(h, limits, cfg)
	go func() {
		<-ctx.Done()
		_ = srv.Close()
	}()
	if err := master.Serve(srv, ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

func newAgent(v *viper.Viper) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "agent",
		Short: "Run a live agent: register resources with a master and run tasks in cgroups",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			res, err := agentResources(v.GetString("resources"))
			if err != nil {
				return err
			}
			if res, err = withGPUs(cmd, res, v.GetString("gpus")); err != nil {
				return err
			}
			attrs, err := agentAttributes(v.GetString("attributes"))
			if err != nil {
				return err
			}
			sec, err := serverSecurity(v, cmd)
			if err != nil {
				return err
			}
			listen := v.GetString("listen")
			host, _ := os.Hostname()
			name := v.GetString("name")
			if name == "" {
				_, port, _ := net.SplitHostPort(listen)
				name = host + "-" + port
			}
			iso := isolation.None()
			if !v.GetBool("no-isolation") {
				var warn error
				if iso, warn = isolation.New(isolation.RootFor(v.GetString("work-dir"))); warn != nil {
					fmt.Fprintf(cmd.ErrOrStderr(), "WARNING: %v (no cgroup limits)\n", warn)
				}
			}
			self, _ := os.Executable()
			a, err := agent.New(agent.Options{Master: v.GetString("master"), Name: name, Hostname: host, URL: sec.Scheme() + "://" + listen, Self: self,
				Resources: res, Attributes: attrs, WorkDir: v.GetString("work-dir"), Isolator: iso, Grace: v.GetDuration("grace"), Log: logger(cmd),
				GCDelay: v.GetDuration("gc-delay"), MasterTimeout: v.GetDuration("master-timeout"), Credential: sec.Client, Credentials: sec.Credentials,
				TaskUser: v.GetString("task-user"), AllowRootTasks: v.GetBool("allow-root-tasks")})
			if err != nil {
				return err
			}
			// Listen before registering: the master gives the agent's URL
			// to whoever reads its state.
			ln, err := net.Listen("tcp", listen)
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			ran := make(chan struct{})
			go func() { _ = a.Run(ctx); close(ran) }()
			sec.announce(cmd.ErrOrStderr(), listen)
			fmt.Fprintf(cmd.ErrOrStderr(), "apron agent %s on %s://%s, %s, isolation %s, master %s\n", a.Name(), sec.Scheme(), listen, res, iso.Name(), v.GetString("master"))
			err = serve(ctx, ln, a.Handler(), master.ServerLimits{}, sec.TLS)
			stop()
			<-ran // Run has let go of the cgroup root
			return err
		},
	}
	cmd.Flags().String("master", "127.0.0.1:5050", masterHelp)
	cmd.Flags().String("listen", "127.0.0.1:5051", "address to serve /state and sandboxes on")
	cmd.Flags().String("name", "", "agent id (default: the one in the work dir, else hostname-port)")
	cmd.Flags().String("resources", "", `resources to offer, e.g. "cpus:4;mem:4096" (default: detected)`)
	cmd.Flags().String("gpus", "", `GPU devices to offer, comma-separated MODEL:INDEX (T4:0,T4:1), MODEL or INDEX, or none (default: nvidia-smi's, when installed)`)
	cmd.Flags().String("attributes", "", `attributes of the agent, offered with its resources (Mesos' --attributes), e.g. "rack:r1;zone:2"`)
	cmd.Flags().String("work-dir", "/tmp/apron-agent", "sandboxes and checkpoints")
	cmd.Flags().Duration("grace", 3*time.Second, "time between SIGTERM and SIGKILL when a task is killed")
	cmd.Flags().Duration("gc-delay", time.Hour, "remove an ended task's sandbox this long after its end is acknowledged (Mesos' --gc_delay)")
	cmd.Flags().Duration("master-timeout", 0, "subscribe again when the master accepted no call for this long (0: 3 heartbeat intervals)")
	cmd.Flags().Bool("no-isolation", false, "run tasks without cgroups")
	serverFlags(cmd, false)
	cmd.Flags().String("task-user", "", `user a task runs as when neither it nor its framework names one (default "nobody"; an agent that is not root runs every task as itself)`)
	cmd.Flags().Bool("allow-root-tasks", false, "let tasks run as root (uid 0); without it such a task fails, whatever the master allowed")
	return cmd
}

func agentResources(s string) (allocator.Resources, error) {
	if s == "" {
		return agent.Detect()
	}
	r, err := allocator.ParseResources(s)
	if err != nil {
		return nil, fmt.Errorf("--resources: %w", err)
	}
	return r, nil
}

// withGPUs adds an agent's GPU devices to res: those --gpus lists, else
// nvidia-smi's. GPUs in --resources too are an error.
func withGPUs(cmd *cobra.Command, res allocator.Resources, list string) (allocator.Resources, error) {
	gpus, err := agent.GPUs(list)
	if list == "" && err == nil && res.Sum("gpus") == 0 {
		gpus, err = agent.DetectGPUs(cmd.Context())
	}
	switch {
	case err != nil:
		return nil, err
	case len(gpus) > 0 && res.Sum("gpus") > 0:
		return nil, fmt.Errorf("--resources %s already offers gpus; give GPU devices with --gpus only", res)
	}
	return allocator.NumberDevices(res.Add(gpus))
}

// agentAttributes reads --attributes: name:value pairs separated by ';',
// as Mesos' agents take them.
func agentAttributes(s string) (map[string]string, error) {
	if s == "" {
		return nil, nil
	}
	out := map[string]string{}
	for _, kv := range strings.Split(s, ";") {
		name, value, ok := strings.Cut(kv, ":")
		if !ok || strings.TrimSpace(name) == "" || value == "" {
			return nil, fmt.Errorf("--attributes: %q is not name:value; give pairs separated by ';', e.g. \"rack:r1;zone:2\"", kv)
		}
		out[strings.TrimSpace(name)] = value
	}
	return out, nil
}

// masterHelp is the help of every --master flag.
const masterHelp = "the master's host:port or URL; of a replicated cluster, the masters', comma-separated (calls follow the leader)"

// clientMasters reads a client's --master flag, s, and its credential
// (clientCredential).
func clientMasters(v *viper.Viper, s string) (*masters.List, error) {
	cred, err := clientCredential(v)
	if err != nil {
		return nil, err
	}
	ms, err := masters.WithCredential(s, cred)
	if err != nil {
		return nil, fmt.Errorf("--master: %w", err)
	}
	return ms, nil
}
