package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
)

// connection is the `connection` input of the remote resources (and its `proxy`), with the
// defaults the SDK fills in (port 22, user root, dialErrorLimit 10, perDialTimeout 15).
type connection struct {
	host, user, password, privateKey, privateKeyPassword, agentSocket, hostKey string
	port, dialErrorLimit                                                       int
	perDialTimeout                                                             time.Duration
	proxy                                                                      *connection
}

// Retry delays between dials: the first wait, growth per attempt, and the cap.
var (
	dialDelay    = 500 * time.Millisecond
	dialBackoff  = 1.6
	dialMaxDelay = 5 * time.Second
)

func parseConnection(v resource.PropertyValue) (*connection, error) {
	v = unsecret(v)
	if !v.IsObject() {
		return nil, errors.New("connection is required")
	}
	obj := v.ObjectValue()
	num := func(k resource.PropertyKey, def int) int {
		if x := unsecret(obj[k]); x.IsNumber() {
			return int(x.NumberValue())
		}
		return def
	}
	c := &connection{
		host: plainString(obj["host"]), user: plainString(obj["user"]),
		password: plainString(obj["password"]), privateKey: plainString(obj["privateKey"]),
		privateKeyPassword: plainString(obj["privateKeyPassword"]),
		agentSocket:        plainString(obj["agentSocketPath"]), hostKey: plainString(obj["hostKey"]),
		port: num("port", 22), dialErrorLimit: num("dialErrorLimit", 10),
		perDialTimeout: time.Duration(num("perDialTimeout", 15)) * time.Second,
	}
	if c.user == "" {
		c.user = "root"
	}
	if c.host == "" {
		return nil, errors.New("connection.host is required")
	}
	if p := unsecret(obj["proxy"]); p.IsObject() {
		proxy, err := parseConnection(p)
		if err != nil {
			return nil, fmt.Errorf("proxy: %w", err)
		}
		c.proxy = proxy
	}
	return c, nil
}

// checkConnection returns why a connection input is unusable, or "".
func checkConnection(v resource.PropertyValue) string {
	if v.ContainsUnknowns() {
		return ""
	}
	c, err := parseConnection(v)
	if err != nil {
		return err.Error()
	}
	for ; c != nil; c = c.proxy {
		if c.hostKey != "" {
			if _, err := parseHostKeys(c.hostKey); err != nil {
				return fmt.Sprintf("hostKey of %s: %v", c, err)
			}
		}
	}
	return ""
}

func (c *connection) addr() string { return net.JoinHostPort(c.host, strconv.Itoa(c.port)) }

func (c *connection) String() string { return c.user + "@" + c.addr() }

func parseHostKeys(text string) ([]ssh.PublicKey, error) {
	var keys []ssh.PublicKey
	rest := []byte(text)
	for len(bytes.TrimSpace(rest)) > 0 {
		key, _, _, r, err := ssh.ParseAuthorizedKey(rest)
		if err != nil {
			return nil, fmt.Errorf("not an authorized_keys line (\"ssh-ed25519 AAAA...\"): %w", err)
		}
		keys, rest = append(keys, key), r
	}
	return keys, nil
}

// permanent marks dial errors that another attempt cannot fix (a host key mismatch must not be
// retried quietly either); dial fails on them at once.
type permanent struct{ msg string }

func (e *permanent) Error() string { return e.msg }

// config builds the SSH client configuration. Without hostKey any server key is accepted, as
// upstream does; with it, the server must present one of the given keys, and only their algorithms
// are offered so a server with several host keys presents the expected one.
func (c *connection) config() (*ssh.ClientConfig, func(), error) {
	cfg := &ssh.ClientConfig{User: c.user, HostKeyCallback: ssh.InsecureIgnoreHostKey()} //nolint:gosec // documented default
	cleanup := func() {}
	if c.hostKey != "" {
		want, err := parseHostKeys(c.hostKey)
		if err != nil {
			return nil, nil, fmt.Errorf("hostKey: %w", err)
		}
		for _, k := range want {
			cfg.HostKeyAlgorithms = append(cfg.HostKeyAlgorithms, hostKeyAlgorithms(k.Type())...)
		}
		cfg.HostKeyCallback = func(_ string, _ net.Addr, got ssh.PublicKey) error {
			var fps []string
			for _, k := range want {
				if bytes.Equal(k.Marshal(), got.Marshal()) {
					return nil
				}
				fps = append(fps, ssh.FingerprintSHA256(k))
			}
			return &permanent{fmt.Sprintf("host key mismatch: %s presented %s %s, connection.hostKey expects %s",
				c.addr(), got.Type(), ssh.FingerprintSHA256(got), strings.Join(fps, " or "))}
		}
	}
	var signers []ssh.Signer
	if c.privateKey != "" {
		var s ssh.Signer
		var err error
		if c.privateKeyPassword != "" {
			s, err = ssh.ParsePrivateKeyWithPassphrase([]byte(c.privateKey), []byte(c.privateKeyPassword))
		} else {
			s, err = ssh.ParsePrivateKey([]byte(c.privateKey))
		}
		if err != nil {
			return nil, nil, fmt.Errorf("privateKey of %s cannot be used: %w", c, err)
		}
		signers = append(signers, s)
	}
	sock, explicit := c.agentSocket, c.agentSocket != ""
	if !explicit {
		sock = os.Getenv("SSH_AUTH_SOCK")
	}
	var agentSigners func() ([]ssh.Signer, error)
	if sock != "" {
		conn, err := net.Dial("unix", sock)
		switch {
		case err == nil:
			agentSigners, cleanup = agent.NewClient(conn).Signers, func() { _ = conn.Close() }
		case explicit:
			return nil, nil, fmt.Errorf("agentSocketPath %s: %w", sock, err)
		}
	}
	// One publickey method: the client tries each method name once, so a second would be skipped.
	if len(signers) > 0 || agentSigners != nil {
		cfg.Auth = append(cfg.Auth, ssh.PublicKeysCallback(func() ([]ssh.Signer, error) {
			all := append([]ssh.Signer{}, signers...)
			if agentSigners != nil {
				if more, err := agentSigners(); err == nil {
					all = append(all, more...)
				}
			}
			return all, nil
		}))
	}
	if c.password != "" {
		pw := c.password
		cfg.Auth = append(cfg.Auth, ssh.Password(pw),
			ssh.KeyboardInteractive(func(_, _ string, questions []string, _ []bool) ([]string, error) {
				answers := make([]string, len(questions))
				for i := range answers {
					answers[i] = pw
				}
				return answers, nil
			}))
	}
	return cfg, cleanup, nil
}

func hostKeyAlgorithms(keyType string) []string {
	if keyType == ssh.KeyAlgoRSA {
		return []string{ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSASHA256, ssh.KeyAlgoRSA}
	}
	return []string{keyType}
}

// client is an SSH connection, possibly through a proxy (bastion) connection.
type client struct {
	*ssh.Client
	proxy *client
}

func (c *client) Close() {
	_ = c.Client.Close()
	if c.proxy != nil {
		c.proxy.Close()
	}
}

// dial connects to c (through its proxy, if any), retrying failed attempts with growing delays
// until dialErrorLimit of them failed (-1: no limit): dialErrorLimit+1 attempts, as upstream.
func dial(ctx context.Context, c *connection) (*client, error) {
	delay := dialDelay
	for attempt := 1; ; attempt++ {
		cl, err := dialOnce(ctx, c)
		if err == nil {
			return cl, nil
		}
		var perm *permanent
		if errors.As(err, &perm) || ctx.Err() != nil ||
			(c.dialErrorLimit >= 0 && attempt > c.dialErrorLimit) {
			tries := "1 attempt"
			if attempt > 1 {
				tries = fmt.Sprintf("%d attempts", attempt)
			}
			return nil, fmt.Errorf("cannot connect to %s (%s): %w", c, tries, err)
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("cannot connect to %s: %w (while retrying after: %v)", c, ctx.Err(), err)
		case <-time.After(delay):
		}
		delay = min(time.Duration(float64(delay)*dialBackoff), dialMaxDelay)
	}
}

// dialOnce makes one connection attempt; perDialTimeout bounds the TCP connect plus the SSH
// handshake, which is where an overloaded or half-started server hangs.
func dialOnce(ctx context.Context, c *connection) (*client, error) {
	cfg, cleanup, err := c.config()
	if err != nil {
		return nil, &permanent{err.Error()}
	}
	defer cleanup()
	var proxy *client
	var conn net.Conn
	if c.proxy != nil {
		if proxy, err = dialOnce(ctx, c.proxy); err != nil {
			return nil, fmt.Errorf("proxy %s: %w", c.proxy, err)
		}
		conn, err = proxy.Dial("tcp", c.addr())
	} else {
		d := net.Dialer{Timeout: c.perDialTimeout}
		conn, err = d.DialContext(ctx, "tcp", c.addr())
	}
	if err != nil {
		if proxy != nil {
			proxy.Close()
		}
		return nil, err
	}
	if c.perDialTimeout > 0 {
		_ = conn.SetDeadline(time.Now().Add(c.perDialTimeout))
	}
	sc, chans, reqs, err := ssh.NewClientConn(conn, c.addr(), cfg)
	if err != nil {
		_ = conn.Close()
		if proxy != nil {
			proxy.Close()
		}
		return nil, err
	}
	_ = conn.SetDeadline(time.Time{})
	return &client{Client: ssh.NewClient(sc, chans, reqs), proxy: proxy}, nil
}
