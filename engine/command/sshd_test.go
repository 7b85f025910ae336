package main

import (
	"bufio"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"fjord.local/engine/kittest"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"golang.org/x/crypto/ssh"
)

// keyPair is an ed25519 key: the OpenSSH private key file text and the authorized_keys line.
type keyPair struct{ private, public string }

func newKey(t *testing.T) keyPair {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	block, err := ssh.MarshalPrivateKey(priv, "fjord-test")
	if err != nil {
		t.Fatal(err)
	}
	sshPub, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return keyPair{string(pem.EncodeToMemory(block)), strings.TrimSpace(string(ssh.MarshalAuthorizedKey(sshPub)))}
}

// testSshd is a real OpenSSH server on a loopback port, with its own host key and config.
type testSshd struct {
	t       *testing.T
	dir     string
	port    int
	hostKey keyPair
	client  keyPair
	cmd     *exec.Cmd
	log     string
}

func sshdBinary(t *testing.T) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("the SSH tests start sshd, which needs root here")
	}
	for _, p := range []string{"/usr/sbin/sshd", "/usr/local/sbin/sshd"} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	t.Skip("sshd is not installed (apt-get install openssh-server)")
	return ""
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = l.Close() }()
	return l.Addr().(*net.TCPAddr).Port
}

// newSshd prepares a server (not started) that accepts the returned client key.
func newSshd(t *testing.T) *testSshd {
	t.Helper()
	bin := sshdBinary(t)
	s := &testSshd{t: t, dir: t.TempDir(), port: freePort(t), hostKey: newKey(t), client: newKey(t)}
	if err := os.MkdirAll("/run/sshd", 0o755); err != nil { // privilege separation directory
		t.Fatal(err)
	}
	write := func(name, text string) string {
		p := filepath.Join(s.dir, name)
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	hostKey := write("host_ed25519", s.hostKey.private)
	keys := write("authorized_keys", s.client.public+"\n")
	write("sshd_config", strings.Join([]string{
		"ListenAddress 127.0.0.1", "HostKey " + hostKey, "AuthorizedKeysFile " + keys,
		"PidFile " + filepath.Join(s.dir, "sshd.pid"), "UsePAM no", "PermitRootLogin prohibit-password",
		"PasswordAuthentication no", "KbdInteractiveAuthentication no", "StrictModes no",
		"AcceptEnv FJORD_*", "Subsystem sftp internal-sftp", "LogLevel VERBOSE", "",
	}, "\n"))
	s.log = filepath.Join(s.dir, "sshd.log")
	s.cmd = exec.Command(bin, "-D", "-e", "-f", filepath.Join(s.dir, "sshd_config"), "-p", fmt.Sprint(s.port))
	t.Cleanup(s.stop)
	return s
}

func (s *testSshd) start() {
	s.t.Helper()
	logf, err := os.OpenFile(s.log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		s.t.Fatal(err)
	}
	cmd := exec.Command(s.cmd.Path, s.cmd.Args[1:]...)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	s.cmd = cmd
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if c, err := net.DialTimeout("tcp", s.addr(), time.Second); err == nil {
			_ = c.SetDeadline(time.Now().Add(2 * time.Second))
			banner, _ := bufio.NewReader(c).ReadString('\n')
			_ = c.Close()
			if strings.HasPrefix(banner, "SSH-2.0-") {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	log, _ := os.ReadFile(s.log)
	s.t.Fatalf("sshd on %s did not come up:\n%s", s.addr(), log)
}

func (s *testSshd) stop() {
	if s.cmd != nil && s.cmd.Process != nil && s.cmd.ProcessState == nil {
		_ = s.cmd.Process.Kill()
		_ = s.cmd.Wait()
	}
}

func (s *testSshd) addr() string { return fmt.Sprintf("127.0.0.1:%d", s.port) }

// connection is the `connection` input for this server, secret as the SDK sends it.
func (s *testSshd) connection(extra map[string]any) resource.PropertyValue {
	u, err := user.Current()
	if err != nil {
		s.t.Fatal(err)
	}
	m := map[string]any{
		"host": "127.0.0.1", "port": float64(s.port), "user": u.Username, "privateKey": s.client.private,
		"dialErrorLimit": float64(0), "perDialTimeout": float64(5),
	}
	for k, v := range extra {
		m[k] = v
	}
	return resource.MakeSecret(resource.NewObjectProperty(resource.NewPropertyMapFromMap(m)))
}

// captured is a provider whose engine log messages are kept for inspection.
type captured struct {
	*provider
	lines []string
}

func newCaptured() *captured {
	c := &captured{provider: newProvider()}
	c.log = func(_ context.Context, _ pulumirpc.LogSeverity, _, msg string, _ bool) {
		c.lines = append(c.lines, msg)
	}
	return c
}

var marshal = kittest.Marshal

var unmarshal = kittest.Unmarshal

// create runs Check and Create the way the engine does and returns the state.
func (c *captured) create(t *testing.T, typ string, inputs resource.PropertyMap) (resource.PropertyMap, error) {
	t.Helper()
	ctx := context.Background()
	chk, err := c.Check(ctx, &pulumirpc.CheckRequest{Type: typ, News: marshal(t, inputs)})
	if err != nil {
		return nil, err
	}
	if len(chk.GetFailures()) > 0 {
		return nil, fmt.Errorf("check: %s", chk.GetFailures()[0].GetReason())
	}
	resp, err := c.Create(ctx, &pulumirpc.CreateRequest{Type: typ, Urn: "urn:test", Properties: chk.GetInputs()})
	if err != nil {
		return nil, err
	}
	return unmarshal(t, resp.GetProperties()), nil
}
