package main

import (
	"crypto/tls"
	"fmt"
	"io"
	"strings"

	"github.com/apronlab/apron/runtime/auth"
	"github.com/spf13/cobra"
	"github.com/spf13/viper"
)

// serverFlags are the security flags of apron master (master true) and
// apron agent.
func serverFlags(cmd *cobra.Command, master bool) {
	f := cmd.Flags()
	who := "the principals that may call it (Mesos' {\"credentials\": [{\"principal\", \"secret\"}]}, mode 0600)"
	if !master {
		who = "the principals that may read its /state and sandboxes (the master's, the operators'; mode 0600)"
	}
	f.String("credentials", "", who)
	f.String("tls-cert", "", "serve HTTPS (HTTP/1.1 and HTTP/2) with this certificate (PEM)")
	f.String("tls-key", "", "the key of --tls-cert (PEM, mode 0600)")
	f.String("tls-ca", "", "the CA that signs clients' certificates (mutual TLS: a verified certificate's common name is the principal) and the servers' it calls")
	f.String("credential", "", "its own client bundle, for what it calls (default: its --tls-cert and --tls-key, verified servers by --tls-ca)")
	f.Bool("insecure", false, "no authentication and no TLS: anyone who reaches it may do anything")
	if master {
		f.String("acls", "", "ACLs (Mesos' --acls JSON; default with --credentials: every principal may do everything but run tasks as root)")
		f.String("audit-log", "", "append every operator action to this file, as JSON lines")
	}
}

// security is what a server's security flags give.
type security struct {
	TLS         *tls.Config       // nil: plain HTTP
	Credentials *auth.Credentials // nil: --insecure
	ACLs        auth.Authorizer   // nil: the master's default (every principal of --credentials may do everything but run tasks as root)
	Audit       *auth.Audit
	Client      *auth.Client // its own, for what it calls; nil: none
}

// Scheme is the server's URL scheme.
func (s *security) Scheme() string {
	if s.TLS != nil {
		return "https"
	}
	return "http"
}

// serverSecurity reads the security flags of a server (apron master,
// apron agent): --insecure, or --credentials with optional TLS. Neither
// is an error that says what to give.
func serverSecurity(v *viper.Viper, cmd *cobra.Command) (*security, error) {
	name := cmd.CommandPath()
	if v.GetBool("insecure") {
		var set []string
		for _, f := range []string{"credentials", "tls-cert", "tls-key", "tls-ca", "credential", "acls", "audit-log"} {
			if cmd.Flags().Lookup(f) != nil && v.GetString(f) != "" {
				set = append(set, "--"+f)
			}
		}
		if len(set) > 0 {
			return nil, fmt.Errorf("%s: --insecure turns authentication and TLS off, and %s turns them on: give one or the other", name, strings.Join(set, ", "))
		}
		return &security{}, nil
	}
	if v.GetString("credentials") == "" {
		return nil, fmt.Errorf("%s: no --credentials and no --insecure: give --credentials FILE (the principals that may call it), best with --tls-cert, --tls-key and --tls-ca; or --insecure to run with no authentication and no TLS (apron up makes all of these files)", name)
	}
	s := &security{}
	var err error
	if s.Credentials, err = auth.LoadCredentials(v.GetString("credentials")); err != nil {
		return nil, fmt.Errorf("--credentials: %w", err)
	}
	cert, key, ca := v.GetString("tls-cert"), v.GetString("tls-key"), v.GetString("tls-ca")
	switch {
	case (cert == "") != (key == ""):
		return nil, fmt.Errorf("%s: --tls-cert %q and --tls-key %q: give both (or neither, for plain HTTP)", name, cert, key)
	case cert == "" && ca != "":
		return nil, fmt.Errorf("%s: --tls-ca without --tls-cert and --tls-key: a server that verifies client certificates serves TLS", name)
	case cert != "":
		if s.TLS, err = auth.ServerTLS(cert, key, ca); err != nil {
			return nil, fmt.Errorf("TLS: %w", err)
		}
	}
	if s.Client, err = ownCredential(v.GetString("credential"), ca, cert, key); err != nil {
		return nil, err
	}
	if cmd.Flags().Lookup("acls") == nil {
		return s, nil
	}
	if file := v.GetString("acls"); file != "" {
		acls, err := auth.LoadACLs(file)
		if err != nil {
			return nil, fmt.Errorf("--acls: %w", err)
		}
		s.ACLs = acls
	}
	if file := v.GetString("audit-log"); file != "" {
		if s.Audit, err = auth.OpenAudit(file); err != nil {
			return nil, fmt.Errorf("--audit-log: %w", err)
		}
	}
	return s, nil
}

// ownCredential is a server's credential for what it calls: its bundle,
// or else its TLS certificate (none without TLS).
func ownCredential(bundle, ca, cert, key string) (*auth.Client, error) {
	if bundle != "" {
		c, err := auth.LoadClient(bundle)
		if err != nil {
			return nil, fmt.Errorf("--credential: %w", err)
		}
		return c, nil
	}
	if cert == "" {
		return nil, nil
	}
	c, err := auth.ClientFromTLS(ca, cert, key)
	if err != nil {
		return nil, fmt.Errorf("its own credential, from --tls-cert and --tls-key (give --credential for another): %w", err)
	}
	return c, nil
}

// announce says how a server is secured: loudly when it is not.
func (s *security) announce(w io.Writer, addr string) {
	switch {
	case s.Credentials == nil:
		insecureBanner(w, addr)
	case s.TLS == nil:
		fmt.Fprintf(w, "WARNING: no --tls-cert: secrets cross the network to %s in clear\n", addr)
	}
}

// insecureBanner says loudly that what runs at where is open to anyone.
func insecureBanner(w io.Writer, where string) {
	const stars = "********************************************************************************"
	fmt.Fprintf(w, "%s\nWARNING: --insecure: no authentication and no TLS. Anyone who can reach %s may\n"+
		"register agents and frameworks, run and kill tasks, read sandboxes and change the policy.\n%s\n", stars, where, stars)
}

// clientFlag is the --credential flag of a client command.
func clientFlag(cmd *cobra.Command) {
	cmd.Flags().String("credential", "", "client bundle: {\"principal\", \"secret\", \"ca\", \"cert\", \"key\"}, mode 0600 (default: $"+auth.ClientEnv+", else the one apron up writes)")
}

// clientCredential is a client's bundle: --credential, else
// $APRON_CREDENTIALS, else the user's default if present; nil: none.
func clientCredential(v *viper.Viper) (*auth.Client, error) {
	c, err := auth.FindClient(v.GetString("credential"))
	if err != nil {
		return nil, fmt.Errorf("credential: %w", err)
	}
	return c, nil
}

// userBundle says where the default client bundle is.
const userBundle = "$XDG_CONFIG_HOME/apron/credentials.json, by default ~/.config/apron/credentials.json"
