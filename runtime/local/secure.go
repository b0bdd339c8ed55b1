package local

import (
	"crypto/tls"
	"errors"
	"fmt"
	"path/filepath"

	"github.com/apronlab/apron/runtime/agent"
	"github.com/apronlab/apron/runtime/auth"
	"github.com/apronlab/apron/runtime/master"
	"github.com/apronlab/apron/runtime/pki"
)

// secure makes the cluster's secrets in WorkDir/secrets, unless it runs
// Insecure: a CA, a certificate and secret for the masters (principal
// master), the operator (ops) and each agent (its name), and the
// credentials and ACLs the masters and agents read.
func (c *Cluster) secure(cfg Config) error {
	if cfg.Insecure {
		return nil
	}
	if cfg.WorkDir == "" {
		return errors.New("local cluster: its secrets go in WorkDir/secrets, and no WorkDir is given (or run it Insecure)")
	}
	agents := make([]string, cfg.Agents)
	for i := range agents {
		agents[i] = agentName(cfg, i)
	}
	s, err := pki.Generate(pki.Spec{Dir: SecretsDir(cfg.WorkDir), Agents: agents})
	if err != nil {
		return fmt.Errorf("local cluster: %w", err)
	}
	c.Secrets = s
	c.Client, err = s.Client(pki.Ops)
	return err
}

// SecretsDir is where a cluster of work dir keeps its secrets.
func SecretsDir(workDir string) string { return filepath.Join(workDir, "secrets") }

// agentName is the name of agent i (from 0).
func agentName(cfg Config, i int) string { return fmt.Sprintf("%s-%d", cfg.Prefix, i+1) }

// masterSecurity gives the master in this process its credential,
// credentials, ACLs and audit log (WorkDir/audit.log), and returns its
// TLS configuration; nil for an insecure cluster.
func (c *Cluster) masterSecurity(cfg Config, opts *master.Options) (*tls.Config, error) {
	s := c.Secrets
	if s == nil {
		return nil, nil
	}
	var err error
	if opts.Credential, err = s.Client(pki.Master); err != nil {
		return nil, err
	}
	if opts.Credentials, err = auth.LoadCredentials(s.Credentials); err != nil {
		return nil, err
	}
	if opts.Authorizer, err = auth.LoadACLs(s.ACLs); err != nil {
		return nil, err
	}
	if opts.Audit, err = auth.OpenAudit(filepath.Join(cfg.WorkDir, "audit.log")); err != nil {
		return nil, err
	}
	return s.ServerTLS(pki.Master)
}

// masterFlags are the security flags of master process id.
func (c *Cluster) masterFlags(cfg Config, id int) []string {
	s := c.Secrets
	if s == nil {
		return []string{"--insecure"}
	}
	return s.ServerFlags(pki.Master, filepath.Join(cfg.WorkDir, fmt.Sprintf("audit-master-%d.log", id)))
}

// agentSecurity gives agent name its credential and the credentials that
// may read it, and returns its TLS configuration; nil for an insecure
// cluster.
func (c *Cluster) agentSecurity(name string, opts *agent.Options) (*tls.Config, error) {
	s := c.Secrets
	if s == nil {
		return nil, nil
	}
	var err error
	if opts.Credential, err = s.Client(name); err != nil {
		return nil, err
	}
	if opts.Credentials, err = auth.LoadCredentials(s.AgentCredentials); err != nil {
		return nil, err
	}
	return s.ServerTLS(name)
}
