package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

// spec is one command run, decoded from a resource's inputs.
type spec struct {
	step   string // create, update, delete, or command (the local:run invoke)
	script string
	env    []string // NAME=value, sorted by name
	stdin  string
	// logStdout/logStderr: which streams go to the engine log while the command runs.
	logStdout, logStderr bool
	redact               *redactor
}

// outcome is what a finished (or failed) command printed.
type outcome struct {
	stdout, stderr string
	exitCode       int    // -1 when the command did not report one
	signal         string // set when it was killed by a signal
}

// secretInputKeys feed the command or its output: a secret among them makes stdout/stderr secret,
// since the command may well print what it was given.
var secretInputKeys = []resource.PropertyKey{"command", "create", "delete", "environment", "stdin", "update"}

// run runs the command in inputs[key] (if any) and returns inputs plus stdout/stderr (and, locally,
// assets/archive). prev holds the previous state: its outputs are kept when there is no command,
// and exported as PULUMI_COMMAND_STDOUT/STDERR unless addPreviousOutputInEnv is false.
func (p *provider) run(ctx context.Context, typ, urn string, inputs resource.PropertyMap, key string,
	prev resource.PropertyMap,
) (resource.PropertyMap, error) {
	outs := inputs.Copy()
	s := spec{step: key, script: plainString(inputs[resource.PropertyKey(key)]), redact: newRedactor(inputs)}
	if s.script == "" {
		for _, k := range []resource.PropertyKey{"stdout", "stderr", "assets", "archive"} {
			if v, ok := prev[k]; ok {
				outs[k] = v
			}
		}
		return outs, nil
	}
	if env := unsecret(inputs["environment"]); env.IsObject() {
		for k, v := range env.ObjectValue() {
			s.env = append(s.env, string(k)+"="+plainString(v))
		}
		sort.Strings(s.env)
	}
	if addPrev := unsecret(inputs["addPreviousOutputInEnv"]); prev != nil && (!addPrev.IsBool() || addPrev.BoolValue()) {
		s.env = append(s.env, "PULUMI_COMMAND_STDOUT="+plainString(prev["stdout"]),
			"PULUMI_COMMAND_STDERR="+plainString(prev["stderr"]))
	}
	s.stdin = plainString(inputs["stdin"])
	switch plainString(inputs["logging"]) {
	case "stdout":
		s.logStdout = true
	case "stderr":
		s.logStderr = true
	case "none":
	default: // stdoutAndStderr, the default
		s.logStdout, s.logStderr = true, true
	}

	var res outcome
	var err error
	if typ == remoteCommand {
		res, err = p.runRemote(ctx, urn, inputs, s)
	} else {
		res, err = p.runLocal(ctx, urn, inputs, s)
	}
	if err != nil {
		return nil, errors.New(s.redact.apply(err.Error()))
	}
	out := resource.NewStringProperty(strings.TrimSuffix(res.stdout, "\n"))
	errOut := resource.NewStringProperty(strings.TrimSuffix(res.stderr, "\n"))
	for _, k := range secretInputKeys {
		if inputs[k].ContainsSecrets() {
			out, errOut = resource.MakeSecret(out), resource.MakeSecret(errOut)
			break
		}
	}
	outs["stdout"], outs["stderr"] = out, errOut
	if typ == localCommand {
		if err := collectAssets(inputs, outs); err != nil {
			return nil, err
		}
	}
	return outs, nil
}

// failure is the error for a command that ran and failed: where, the exit code, and what it
// printed on stderr (or, when that is empty, the end of stdout). Host scripts put the cause first
// on stderr, so stderr is kept from its start.
func failure(s spec, where string, res outcome) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%s command", s.step)
	if where != "" {
		fmt.Fprintf(&b, " on %s", where)
	}
	switch {
	case res.signal != "":
		fmt.Fprintf(&b, " was killed by signal %s", res.signal)
	case res.exitCode >= 0:
		fmt.Fprintf(&b, " failed with exit code %d", res.exitCode)
	default:
		b.WriteString(" failed without an exit status (connection lost?)")
	}
	if text := strings.TrimSpace(res.stderr); text != "" {
		fmt.Fprintf(&b, "; stderr:\n%s", clip(text, 24<<10, 8<<10))
	} else if text := strings.TrimSpace(res.stdout); text != "" {
		fmt.Fprintf(&b, "; no stderr, stdout ends with:\n%s", clip(text, 0, 8<<10))
	} else {
		b.WriteString("; it printed nothing")
	}
	return errors.New(b.String())
}

// clip keeps the first head and the last tail bytes of a long text.
func clip(s string, head, tail int) string {
	if len(s) <= head+tail {
		return s
	}
	return strings.ToValidUTF8(s[:head]+fmt.Sprintf("\n[... %d bytes left out ...]\n", len(s)-head-tail)+
		s[len(s)-tail:], "")
}

// redactor blanks secret values (secret environment values, connection passwords) out of
// everything logged or returned in an error. Values under 4 characters are left alone: blanking
// them would garble the text without protecting much.
type redactor struct{ values []string }

func newRedactor(inputs resource.PropertyMap) *redactor {
	r := &redactor{}
	add := func(v resource.PropertyValue) {
		if s := plainString(v); len(s) >= 4 {
			r.values = append(r.values, s)
		}
	}
	env := inputs["environment"]
	if env.IsSecret() || unsecret(env).IsObject() {
		for _, v := range unsecret(env).ObjectValue() {
			if env.IsSecret() || v.IsSecret() {
				add(v)
			}
		}
	}
	conn := unsecret(inputs["connection"])
	for conn.IsObject() {
		obj := conn.ObjectValue()
		add(obj["password"])
		add(obj["privateKeyPassword"])
		conn = unsecret(obj["proxy"])
	}
	// Longest first, so a secret containing another is blanked whole.
	sort.Slice(r.values, func(i, j int) bool { return len(r.values[i]) > len(r.values[j]) })
	return r
}

func (r *redactor) apply(s string) string {
	if r == nil {
		return s
	}
	for _, v := range r.values {
		s = strings.ReplaceAll(s, v, "[secret]")
	}
	return s
}

// lineLog is an io.Writer that sends each complete line to the engine log as it arrives.
type lineLog struct {
	emit func(string)
	buf  []byte
}

// maxLogLine bounds memory for output without newlines; longer lines are logged in pieces.
const maxLogLine = 16 << 10

func (l *lineLog) Write(b []byte) (int, error) {
	l.buf = append(l.buf, b...)
	for {
		i := bytes.IndexByte(l.buf, '\n')
		if i < 0 {
			if len(l.buf) >= maxLogLine {
				l.emit(string(l.buf))
				l.buf = l.buf[:0]
			}
			return len(b), nil
		}
		l.emit(strings.TrimSuffix(string(l.buf[:i]), "\r"))
		l.buf = l.buf[i+1:]
	}
}

func (l *lineLog) flush() {
	if len(l.buf) > 0 {
		l.emit(string(l.buf))
		l.buf = nil
	}
}

// outputs returns the writers for a command's stdout and stderr: each captures into its buffer
// and, if s says so, streams lines to the engine log as status messages of urn (like upstream,
// which shows them in the progress display while the command runs). done flushes partial lines.
func (p *provider) outputs(ctx context.Context, urn string, s spec, stdout, stderr *bytes.Buffer) (
	io.Writer, io.Writer, func(),
) {
	emit := func(line string) {
		p.log(ctx, pulumirpc.LogSeverity_INFO, urn, s.redact.apply(line), true)
	}
	var logs []*lineLog
	wrap := func(buf *bytes.Buffer, on bool) io.Writer {
		if !on {
			return buf
		}
		l := &lineLog{emit: emit}
		logs = append(logs, l)
		return io.MultiWriter(buf, l)
	}
	outW, errW := wrap(stdout, s.logStdout), wrap(stderr, s.logStderr)
	return outW, errW, func() {
		for _, l := range logs {
			l.flush()
		}
	}
}

func unsecret(v resource.PropertyValue) resource.PropertyValue {
	for v.IsSecret() {
		v = v.SecretValue().Element
	}
	return v
}

func plainString(v resource.PropertyValue) string {
	v = unsecret(v)
	switch {
	case v.IsString():
		return v.StringValue()
	case v.IsNumber() || v.IsBool():
		return fmt.Sprint(v.V)
	}
	return ""
}
