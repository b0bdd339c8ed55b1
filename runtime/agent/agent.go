package agent

import (
	"cmp"
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/user"
	goruntime "runtime"
	"strings"
	"sync"
	"time"

	"github.com/apronlab/apron/allocator"
	"github.com/apronlab/apron/runtime/agent/core"
	"github.com/apronlab/apron/runtime/agent/isolation"
	"github.com/apronlab/apron/runtime/agent/launch"
	"github.com/apronlab/apron/runtime/api"
	"github.com/apronlab/apron/runtime/auth"
	"github.com/apronlab/apron/runtime/masters"
)

// Options configure an agent.
type Options struct {
	// Master is the masters: a base URL or host:port, or several,
	// comma-separated, of which the agent follows the leader (package
	// masters).
	Master     string
	Name       string // the agent's id; default: the checkpointed one
	Hostname   string
	URL        string // where this agent serves /state and sandboxes
	Resources  allocator.Resources
	Attributes map[string]string
	WorkDir    string
	Isolator   isolation.Isolator
	Grace      time.Duration // SIGTERM to SIGKILL; default 3s
	Retry      time.Duration // status update retry; default 1s, doubling to 10s
	GCDelay    time.Duration // an ended task's sandbox is removed this long after its end is acknowledged; default 1h
	// MasterTimeout: no call accepted by the master for this long, the
	// agent subscribes again; default 3 heartbeat intervals.
	MasterTimeout time.Duration
	// Self is the apron binary, $APRON in task commands (what apron burn
	// runs from). It is never guessed: in a test binary os.Executable is
	// the test itself, which would run the tests again for every task.
	Self string
	// Credential is who the agent is to the master: its calls carry it,
	// and the master's certificate is verified with its CA, so that the
	// agent takes launches and kills only from its master. Nil: none
	// (a master run --insecure).
	Credential *auth.Client
	// Credentials are the principals that may read the agent's /state and
	// sandboxes (the master's, the operators'); nil: anyone (--insecure).
	Credentials *auth.Credentials
	// TaskUser is who a task runs as when neither its command nor its
	// framework names a user; default DefaultTaskUser. An agent that is not
	// root cannot switch users: it runs every task as itself, and takes
	// no other TaskUser.
	TaskUser string
	// AllowRootTasks lets tasks run as root (uid 0); without it a task
	// whose user is root fails.
	AllowRootTasks bool
	Log            *slog.Logger
}

// DefaultTaskUser is Options.TaskUser's default.
const DefaultTaskUser = "nobody"

// postTimeout bounds a HEARTBEAT or STATUS post.
const postTimeout = 10 * time.Second

// Agent runs tasks for a master.
type Agent struct {
	opts        Options
	store       *journal
	incarnation uint64        // this start's count on the work dir
	root        bool          // the agent runs as root: tasks run as their users
	cgroupNS    bool          // tasks get a new cgroup namespace
	masters     *masters.List // where calls go
	hc          *http.Client  // posts
	sc          *http.Client  // event streams

	mu    sync.Mutex
	core  *core.Core
	procs map[core.TaskKey]*proc // the processes the agent watches
	gens  map[uint64]generation  // the contexts of the streams not yet closed
	ctx   context.Context        // Run's; nil before
	timer *time.Timer
}

// generation is one subscribe attempt's context: its stream and posts.
type generation struct {
	ctx    context.Context
	cancel context.CancelFunc
}

// New checks the options and recovers the checkpointed tasks of the work
// directory: those still running are watched again, those that ended while
// the agent was down get their final status.
func New(opts Options) (*Agent, error) {
	if opts.Master == "" || opts.WorkDir == "" || opts.Resources.IsEmpty() {
		return nil, fmt.Errorf("agent: the master URL, a work dir and some resources are required")
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	if opts.Isolator == nil {
		opts.Isolator = isolation.None()
	}
	ms, err := masters.WithCredential(opts.Master, opts.Credential)
	if err != nil {
		return nil, fmt.Errorf("agent: %w", err)
	}
	if err := os.MkdirAll(opts.WorkDir, 0o755); err != nil {
		return nil, fmt.Errorf("agent: work dir: %w", err)
	}
	a := &Agent{opts: opts, store: newJournal(osFS{}, opts.WorkDir), procs: map[core.TaskKey]*proc{}, gens: map[uint64]generation{},
		masters: ms, hc: ms.ClientWith(postTransport(), postTimeout), sc: ms.StreamClient()}
	if err := privateDir(a.store.dir); err != nil { // task commands and their environments
		return nil, fmt.Errorf("agent: checkpoint: %w", err)
	}
	if err := a.name(); err != nil {
		return nil, err
	}
	if err := a.taskUser(); err != nil {
		return nil, err
	}
	if err := a.recover(); err != nil {
		return nil, err
	}
	return a, nil
}

// privateDir makes dir, or makes it the agent's only (0700).
func privateDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	return os.Chmod(dir, 0o700)
}

// postTransport keeps enough idle connections for the posts that go out
// together (a status per task ending at once), not the default 2.
func postTransport() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = 16
	return t
}

// name settles the agent's name: the one given, else the checkpointed
// one, and checkpoints it.
func (a *Agent) name() error {
	if a.opts.Name == "" {
		a.opts.Name = a.store.loadName()
	}
	if a.opts.Name == "" {
		return fmt.Errorf("agent: no name given and none checkpointed in %s", a.opts.WorkDir)
	}
	if err := api.ValidName(a.opts.Name); err != nil {
		return fmt.Errorf("agent: name: %w", err)
	}
	a.opts.Log = a.opts.Log.With("agent", a.opts.Name) // every line says which agent
	if err := a.store.saveName(a.opts.Name); err != nil {
		return fmt.Errorf("agent: checkpoint: %w", err)
	}
	n, err := a.store.nextIncarnation()
	if err != nil {
		return fmt.Errorf("agent: checkpoint: %w", err)
	}
	a.incarnation = n
	return nil
}

// taskUser settles the default user of tasks: TaskUser, which must exist
// (and be root only with AllowRootTasks), for an agent that is root; the
// agent's own user otherwise. Tasks get a new cgroup namespace where the
// agent may make one.
func (a *Agent) taskUser() error {
	a.root = os.Geteuid() == 0
	a.cgroupNS = a.root && launch.CgroupNamespaces()
	if !a.root {
		self := ""
		if u, err := user.Current(); err == nil {
			self = u.Username
		}
		if a.opts.TaskUser != "" && a.opts.TaskUser != self {
			return fmt.Errorf("agent: task user %q: an agent that is not root (it runs as %q) runs every task as itself; leave the task user out", a.opts.TaskUser, self)
		}
		a.opts.TaskUser = self
		a.opts.Log.Warn("the agent is not root: every task runs as its user, with no user of its own", "user", self)
		return nil
	}
	a.opts.TaskUser = cmp.Or(a.opts.TaskUser, DefaultTaskUser)
	if _, err := a.identity(a.opts.TaskUser); err != nil {
		return fmt.Errorf("agent: task user: %w", err)
	}
	a.checkReach()
	return nil
}

func (a *Agent) config() core.Config {
	return core.Config{Name: a.opts.Name, Hostname: a.opts.Hostname, URL: a.opts.URL, Resources: api.FromResources(a.opts.Resources),
		Attributes: a.opts.Attributes, Isolation: a.opts.Isolator.Name(), Grace: a.opts.Grace, RetryMin: a.opts.Retry, RetryMax: max(core.DefaultRetryMax, a.opts.Retry),
		MasterTimeout: a.opts.MasterTimeout, GCDelay: a.opts.GCDelay, Rand: rand.Reader, Incarnation: a.incarnation, TaskUser: a.opts.TaskUser}
}

// Name is the agent's id.
func (a *Agent) Name() string { return a.opts.Name }

// Run registers with the master and serves it until ctx ends; a lost
// connection is retried. Tasks keep running after Run returns, and their
// ends are still checkpointed; with none left, the agent's cgroup root is
// removed.
func (a *Agent) Run(ctx context.Context) error {
	a.mu.Lock()
	if a.ctx != nil {
		a.mu.Unlock()
		return fmt.Errorf("agent %s: Run called twice", a.opts.Name)
	}
	a.ctx = ctx
	a.timer = time.AfterFunc(time.Hour, func() { a.step(func(c *core.Core, now time.Time) { c.Tick(now) }) })
	a.arm()
	a.mu.Unlock()
	<-ctx.Done()
	a.mu.Lock()
	defer a.mu.Unlock()
	a.timer.Stop()
	for g := range a.gens {
		a.closeGen(g)
	}
	if err := a.opts.Isolator.Close(); err != nil {
		a.opts.Log.Warn("leaving the cgroup root", "err", err)
	}
	return nil
}

// step feeds the core one input and does what it asks: persist, then
// effects, then messages; then re-arms the timer.
func (a *Agent) step(input func(c *core.Core, now time.Time)) {
	a.mu.Lock()
	defer a.mu.Unlock()
	input(a.core, time.Now())
	a.perform(a.core.Ready())
	a.arm()
}

// arm sets the timer to the core's deadline.
func (a *Agent) arm() {
	if a.timer == nil || a.ctx.Err() != nil {
		return
	}
	d := a.core.Deadline()
	if d.IsZero() {
		a.timer.Stop()
		return
	}
	a.timer.Reset(max(time.Until(d), 0))
}

// Detect returns this machine's resources as Mesos counts them: every
// CPU, and the memory less 1 GiB or half of it, whichever is less, left to
// the system.
func Detect() (allocator.Resources, error) {
	mem, err := memTotalMiB()
	if err != nil {
		return nil, err
	}
	mem -= min(1024, mem/2)
	return allocator.ParseResources(fmt.Sprintf("cpus:%d;mem:%d", goruntime.NumCPU(), mem))
}

func memTotalMiB() (int64, error) {
	data, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0, fmt.Errorf("detecting memory: %w", err)
	}
	var kb int64
	for _, line := range strings.Split(string(data), "\n") {
		if _, err := fmt.Sscanf(line, "MemTotal: %d kB", &kb); err == nil {
			return kb / 1024, nil
		}
	}
	return 0, fmt.Errorf("detecting memory: no MemTotal in /proc/meminfo")
}
