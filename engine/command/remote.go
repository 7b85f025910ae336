package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"golang.org/x/crypto/ssh"
)

// runRemote runs s.script through the SSH user's login shell on the connection's host (an SSH
// "exec" request), stdin fed from s.stdin and closed after it.
func (p *provider) runRemote(ctx context.Context, urn string, inputs resource.PropertyMap, s spec) (outcome, error) {
	res := outcome{exitCode: -1}
	conn, err := parseConnection(inputs["connection"])
	if err != nil {
		return res, err
	}
	cl, err := dial(ctx, conn)
	if err != nil {
		return res, fmt.Errorf("%s command: %w", s.step, err)
	}
	defer cl.Close()
	sess, err := cl.NewSession()
	if err != nil {
		return res, fmt.Errorf("%s command: opening an SSH session on %s: %w", s.step, conn, err)
	}
	defer func() { _ = sess.Close() }()

	// sshd sets only the variables its AcceptEnv allows and refuses the rest; like upstream, the
	// command then runs without them (a refusal is logged at debug level, by name only).
	var refused []string
	for _, kv := range s.env {
		name, value, _ := strings.Cut(kv, "=")
		if err := sess.Setenv(name, value); err != nil && !strings.HasPrefix(name, "PULUMI_COMMAND_") {
			refused = append(refused, name)
		}
	}
	if len(refused) > 0 {
		p.log(ctx, pulumirpc.LogSeverity_DEBUG, urn, fmt.Sprintf(
			"%s refused the environment variables %s (see AcceptEnv in sshd_config); the command runs without them",
			conn.addr(), strings.Join(refused, ", ")), false)
	}
	if s.stdin != "" {
		sess.Stdin = strings.NewReader(s.stdin)
	}
	var stdout, stderr bytes.Buffer
	var done func()
	sess.Stdout, sess.Stderr, done = p.outputs(ctx, urn, s, &stdout, &stderr)

	// A cancelled operation (engine cancel, Ctrl-C) stops the remote command too.
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		select {
		case <-ctx.Done():
			_ = sess.Signal(ssh.SIGTERM)
			cl.Close()
		case <-stop:
		}
	}()

	err = sess.Run(s.script)
	done()
	res.stdout, res.stderr = stdout.String(), stderr.String()
	var exit *ssh.ExitError
	var missing *ssh.ExitMissingError
	switch {
	case err == nil:
		return res, nil
	case errors.As(err, &exit):
		res.exitCode = exit.ExitStatus()
		if exit.Signal() != "" {
			res.signal = "SIG" + exit.Signal()
		}
		return res, failure(s, conn.String(), res)
	case errors.As(err, &missing):
		return res, failure(s, conn.String(), res)
	case ctx.Err() != nil:
		return res, fmt.Errorf("%s command on %s was cancelled: %w", s.step, conn, ctx.Err())
	}
	return res, fmt.Errorf("%s command on %s: %w", s.step, conn, err)
}
