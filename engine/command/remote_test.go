package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

func TestRemoteCreateWithEnvironmentAndStdin(t *testing.T) {
	s := newSshd(t)
	s.start()
	c := newCaptured()
	state, err := c.create(t, remoteCommand, resource.PropertyMap{
		"connection": s.connection(nil),
		"create":     resource.NewStringProperty(`echo "accepted=$FJORD_TOKEN refused=${OTHER:-unset}"; cat; echo warn >&2`),
		"stdin":      resource.NewStringProperty("from stdin\n"),
		"environment": resource.NewObjectProperty(resource.PropertyMap{
			"FJORD_TOKEN": resource.MakeSecret(resource.NewStringProperty("s3cret-value")),
			"OTHER":       resource.NewStringProperty("x"),
		}),
	})
	if err != nil {
		t.Fatal(err)
	}
	// sshd accepts FJORD_* only (AcceptEnv); OTHER is refused and the command runs without it.
	if got := plainString(state["stdout"]); got != "accepted=s3cret-value refused=unset\nfrom stdin" {
		t.Errorf("stdout = %q", got)
	}
	if got := plainString(state["stderr"]); got != "warn" {
		t.Errorf("stderr = %q", got)
	}
	if !state["stdout"].IsSecret() || !state["stderr"].IsSecret() {
		t.Error("stdout/stderr of a command with a secret environment value must be secret")
	}
	if !state["connection"].IsSecret() {
		t.Error("connection must stay secret")
	}
	logged := strings.Join(c.lines, "\n")
	if !strings.Contains(logged, "accepted=[secret] refused=unset") || !strings.Contains(logged, "warn") {
		t.Errorf("log lines = %q", c.lines)
	}
	if strings.Contains(logged, "s3cret-value") {
		t.Errorf("a secret environment value reached the log: %q", c.lines)
	}
}

func TestRemoteLoggingAndPreviousOutput(t *testing.T) {
	s := newSshd(t)
	s.start()
	c := newCaptured()
	state, err := c.create(t, remoteCommand, resource.PropertyMap{
		"connection": s.connection(nil),
		"create":     resource.NewStringProperty("echo out; echo err >&2"),
		"update":     resource.NewStringProperty("echo updated"),
		"logging":    resource.NewStringProperty("stderr"),
	})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(c.lines, "|") != "err" || state["stdout"].IsSecret() {
		t.Errorf("logging=stderr: logged %q, stdout secret=%v", c.lines, state["stdout"].IsSecret())
	}
	// A change to logging alone re-runs nothing; a change to update runs it.
	news := state.Copy()
	news["logging"] = resource.NewStringProperty("none")
	d := diff(remoteCommand, state, news, nil)
	if d.GetChanges() != pulumirpc.DiffResponse_DIFF_SOME || len(d.GetReplaces()) > 0 {
		t.Fatalf("diff for logging = %v", d)
	}
	upd, err := c.Update(context.Background(), &pulumirpc.UpdateRequest{
		Type: remoteCommand, Urn: "urn:test", Olds: marshal(t, state), OldInputs: marshal(t, state), News: marshal(t, news),
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := plainString(unmarshal(t, upd.GetProperties())["stdout"]); got != "out" {
		t.Errorf("stdout after a logging-only update = %q, want the create's", got)
	}
	news["update"] = resource.NewStringProperty("echo updated")
	news["stdin"] = resource.NewStringProperty("new")
	upd, err = c.Update(context.Background(), &pulumirpc.UpdateRequest{
		Type: remoteCommand, Urn: "urn:test", Olds: marshal(t, state), OldInputs: marshal(t, state), News: marshal(t, news),
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := plainString(unmarshal(t, upd.GetProperties())["stdout"]); got != "updated" {
		t.Errorf("stdout after update = %q", got)
	}
}

func TestRemoteFailureReportsExitCodeAndStderr(t *testing.T) {
	s := newSshd(t)
	s.start()
	_, err := newCaptured().create(t, remoteCommand, resource.PropertyMap{
		"connection": s.connection(nil),
		"create": resource.NewStringProperty(
			`echo progress; echo 'fjord: node n1: prep failed: disk full (exit 3)' >&2; echo 'hint: free space' >&2; exit 3`),
	})
	if err == nil {
		t.Fatal("a failing command must fail the create")
	}
	msg := err.Error()
	for _, want := range []string{"create command on ", s.addr(), "failed with exit code 3",
		"stderr:\nfjord: node n1: prep failed: disk full (exit 3)\nhint: free space"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error lacks %q:\n%s", want, msg)
		}
	}
}

func TestDialRetriesUntilTheServerIsUp(t *testing.T) {
	s := newSshd(t)
	go func() {
		time.Sleep(1500 * time.Millisecond)
		s.start()
	}()
	t0 := time.Now()
	state, err := newCaptured().create(t, remoteCommand, resource.PropertyMap{
		"connection": s.connection(map[string]any{"dialErrorLimit": float64(10)}),
		"create":     resource.NewStringProperty("echo up"),
	})
	if err != nil {
		t.Fatal(err)
	}
	if plainString(state["stdout"]) != "up" || time.Since(t0) < 1500*time.Millisecond {
		t.Errorf("stdout %q after %v", plainString(state["stdout"]), time.Since(t0))
	}
}

func TestDialGivesUpWithTheCause(t *testing.T) {
	s := newSshd(t) // never started: the port refuses connections
	_, err := newCaptured().create(t, remoteCommand, resource.PropertyMap{
		"connection": s.connection(map[string]any{"dialErrorLimit": float64(1)}),
		"create":     resource.NewStringProperty("true"),
	})
	if err == nil || !strings.Contains(err.Error(), s.addr()) || !strings.Contains(err.Error(), "connection refused") ||
		!strings.Contains(err.Error(), "2 attempts") {
		t.Fatalf("error = %v", err)
	}
}

func TestHostKeyIsVerifiedWhenGiven(t *testing.T) {
	s := newSshd(t)
	s.start()
	c := newCaptured()
	if _, err := c.create(t, remoteCommand, resource.PropertyMap{
		"connection": s.connection(map[string]any{"hostKey": s.hostKey.public}),
		"create":     resource.NewStringProperty("true"),
	}); err != nil {
		t.Fatalf("the right host key: %v", err)
	}
	t0 := time.Now()
	_, err := c.create(t, remoteCommand, resource.PropertyMap{
		"connection": s.connection(map[string]any{"hostKey": newKey(t).public, "dialErrorLimit": float64(10)}),
		"create":     resource.NewStringProperty("true"),
	})
	if err == nil || !strings.Contains(err.Error(), "host key mismatch") || !strings.Contains(err.Error(), s.addr()) {
		t.Fatalf("error = %v", err)
	}
	if time.Since(t0) > 3*time.Second {
		t.Errorf("a host key mismatch was retried (%v)", time.Since(t0))
	}
	if _, err := c.create(t, remoteCommand, resource.PropertyMap{
		"connection": s.connection(map[string]any{"hostKey": "not a key"}),
		"create":     resource.NewStringProperty("true"),
	}); err == nil || !strings.Contains(err.Error(), "hostKey") {
		t.Fatalf("a malformed hostKey: %v", err)
	}
}

func TestAuthenticationFailureText(t *testing.T) {
	s := newSshd(t)
	s.start()
	_, err := newCaptured().create(t, remoteCommand, resource.PropertyMap{
		"connection": s.connection(map[string]any{"privateKey": newKey(t).private}),
		"create":     resource.NewStringProperty("true"),
	})
	if err == nil || !strings.Contains(err.Error(), "unable to authenticate") || !strings.Contains(err.Error(), s.addr()) {
		t.Fatalf("error = %v", err)
	}
}
