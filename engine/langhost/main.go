// Command pulumi-language-nodejs is fjord's Node.js language host for the Pulumi engine.
//
// The upstream host (module github.com/pulumi/pulumi/sdk/nodejs/cmd/pulumi-language-nodejs/v3) is
// not served by the Go module proxy this project can reach, so scripts/setup.sh builds this one
// instead, against github.com/pulumi/pulumi/sdk/v3 at the @pulumi/pulumi version from
// package-lock.json. It implements what the CLI needs to run TypeScript/JavaScript programs,
// policy packs and PulumiPlugin.yaml plugins through the scripts that ship in @pulumi/pulumi
// (cmd/run, cmd/run-policy-pack, cmd/run-plugin). Code generation (pulumi convert, package gen-sdk)
// is not implemented.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"

	"github.com/pulumi/pulumi/sdk/v3/go/common/util/cmdutil"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/logging"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/emptypb"
)

// version is stamped at build time with -ldflags "-X main.version=vX.Y.Z".
var version = "v0.0.0-dev"

// bailExitCode is what @pulumi/pulumi's run scripts exit with after they have already reported
// the error to the user (nodeJSProcessExitedAfterLoggingUserActionableMessage).
const bailExitCode = 32

func main() {
	tracing := flag.String("tracing", "", "Zipkin-compatible tracing endpoint")
	flag.String("root", "", "project root (unused)")
	flag.Bool("typescript", true, "compatibility flag (unused; runtime options come in ProgramInfo)")
	flag.Parse()
	logging.InitLogging(false, 0, false)

	h := &host{tracing: *tracing}
	if args := flag.Args(); len(args) > 0 {
		h.engine = args[len(args)-1]
	}
	handle, err := rpcutil.ServeWithOptions(rpcutil.ServeOptions{
		Init: func(srv *grpc.Server) error {
			pulumirpc.RegisterLanguageRuntimeServer(srv, h)
			return nil
		},
	})
	if err != nil {
		cmdutil.Exit(fmt.Errorf("starting the language host gRPC server: %w", err))
	}
	fmt.Printf("%d\n", handle.Port)
	if err := <-handle.Done; err != nil {
		cmdutil.Exit(fmt.Errorf("language host stopped serving: %w", err))
	}
}

type host struct {
	pulumirpc.UnimplementedLanguageRuntimeServer

	mu      sync.Mutex
	engine  string
	tracing string
}

func (h *host) engineAddr() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.engine
}

func (h *host) Handshake(_ context.Context, req *pulumirpc.LanguageHandshakeRequest,
) (*pulumirpc.LanguageHandshakeResponse, error) {
	h.mu.Lock()
	h.engine = req.GetEngineAddress()
	h.mu.Unlock()
	return &pulumirpc.LanguageHandshakeResponse{}, nil
}

func (h *host) GetPluginInfo(context.Context, *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: version}, nil
}

func (h *host) Cancel(context.Context, *emptypb.Empty) (*emptypb.Empty, error) {
	return &emptypb.Empty{}, nil
}

func (h *host) RuntimeOptionsPrompts(context.Context, *pulumirpc.RuntimeOptionsRequest,
) (*pulumirpc.RuntimeOptionsResponse, error) {
	return &pulumirpc.RuntimeOptionsResponse{}, nil
}

// programDir returns the directory holding the program (the Pulumi.yaml "main", else the root).
func programDir(info *pulumirpc.ProgramInfo, fallback string) string {
	if d := info.GetProgramDirectory(); d != "" {
		return d
	}
	if d := info.GetRootDirectory(); d != "" {
		return d
	}
	return fallback
}

// runtimeOption reads one `runtime.options` entry from Pulumi.yaml / PulumiPolicy.yaml.
func runtimeOption(info *pulumirpc.ProgramInfo, key string) (any, bool) {
	opts := info.GetOptions()
	if opts == nil {
		return nil, false
	}
	v, ok := opts.AsMap()[key]
	return v, ok
}

// findSDKScript walks up from dir to the first node_modules/@pulumi/pulumi/<rel>, the way Node's
// own module resolution would find it (symlinked node_modules included).
func findSDKScript(dir, rel string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	for d := abs; ; d = filepath.Dir(d) {
		p := filepath.Join(d, "node_modules", "@pulumi", "pulumi", rel)
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
		if filepath.Dir(d) == d {
			break
		}
	}
	return "", fmt.Errorf("it looks like the Pulumi SDK has not been installed: no node_modules/@pulumi/pulumi/%s "+
		"above %s; have you run npm install?", rel, abs)
}

func nodeArgs(info *pulumirpc.ProgramInfo) []string {
	if v, ok := runtimeOption(info, "nodeargs"); ok {
		if s, ok := v.(string); ok && strings.TrimSpace(s) != "" {
			return strings.Fields(s)
		}
	}
	return nil
}

// Run executes a Pulumi program: node <node args> @pulumi/pulumi/cmd/run <flags> <program> <args>.
func (h *host) Run(ctx context.Context, req *pulumirpc.RunRequest) (*pulumirpc.RunResponse, error) {
	info := req.GetInfo()
	dir := programDir(info, req.GetPwd())
	runScript, err := findSDKScript(dir, filepath.Join("cmd", "run"))
	if err != nil {
		return &pulumirpc.RunResponse{Error: err.Error()}, nil
	}

	args := append(nodeArgs(info), runScript)
	flagArg := func(name, value string) {
		if value != "" {
			args = append(args, "--"+name, value)
		}
	}
	flagArg("monitor", req.GetMonitorAddress())
	flagArg("engine", h.engineAddr())
	flagArg("organization", req.GetOrganization())
	flagArg("project", req.GetProject())
	flagArg("stack", req.GetStack())
	flagArg("pwd", dir)
	flagArg("root-directory", info.GetRootDirectory())
	flagArg("tracing", h.tracing)
	if req.GetParallel() > 0 {
		flagArg("parallel", fmt.Sprint(req.GetParallel()))
	}
	if req.GetDryRun() {
		args = append(args, "--dry-run")
	}
	entry := info.GetEntryPoint()
	if entry == "" {
		entry = "."
	}
	args = append(args, entry)
	args = append(args, req.GetArgs()...)

	cfg, err := json.Marshal(req.GetConfig())
	if err != nil {
		return nil, fmt.Errorf("serializing config: %w", err)
	}
	secretKeys, err := json.Marshal(append([]string{}, req.GetConfigSecretKeys()...))
	if err != nil {
		return nil, fmt.Errorf("serializing secret config keys: %w", err)
	}
	env := append(os.Environ(), "PULUMI_CONFIG="+string(cfg), "PULUMI_CONFIG_SECRET_KEYS="+string(secretKeys))
	env = append(env, typeScriptEnv(info)...)

	cmd := exec.CommandContext(ctx, "node", args...)
	cmd.Dir = dir
	cmd.Env = env
	cmd.Stdout = os.Stdout
	cmd.Stderr = os.Stderr
	logging.V(5).Infof("fjord language host: running node %s", strings.Join(args, " "))
	if err := cmd.Run(); err != nil {
		var exitErr *exec.ExitError
		if errors.As(err, &exitErr) {
			if exitErr.ExitCode() == bailExitCode {
				return &pulumirpc.RunResponse{Bail: true}, nil
			}
			return &pulumirpc.RunResponse{
				Error: fmt.Sprintf("Program exited with non-zero exit code: %d", exitErr.ExitCode()),
			}, nil
		}
		return &pulumirpc.RunResponse{Error: fmt.Sprintf("could not run node: %v", err)}, nil
	}
	return &pulumirpc.RunResponse{}, nil
}

// typeScriptEnv maps runtime options onto the variables @pulumi/pulumi/cmd/run reads.
func typeScriptEnv(info *pulumirpc.ProgramInfo) []string {
	ts := "true"
	if v, ok := runtimeOption(info, "typescript"); ok {
		if b, ok := v.(bool); ok && !b {
			ts = "false"
		}
	}
	env := []string{"PULUMI_NODEJS_TYPESCRIPT=" + ts}
	if v, ok := runtimeOption(info, "tsconfig"); ok {
		if s, ok := v.(string); ok && s != "" {
			env = append(env, "PULUMI_NODEJS_TSCONFIG_PATH="+s)
		}
	}
	return env
}

// RunPlugin runs a policy pack (kind "analyzer") or a PulumiPlugin.yaml plugin written in Node.js,
// streaming its output back to the engine.
func (h *host) RunPlugin(req *pulumirpc.RunPluginRequest,
	server grpc.ServerStreamingServer[pulumirpc.RunPluginResponse],
) error {
	info := req.GetInfo()
	dir := programDir(info, req.GetPwd())
	var args []string
	if req.GetKind() == "analyzer" {
		script, err := findSDKScript(dir, filepath.Join("cmd", "run-policy-pack"))
		if err != nil {
			return err
		}
		// usage: run-policy-pack <engine-address> <program>; the engine passes its address in Args.
		args = append(append(append(nodeArgs(info), script), req.GetArgs()...), dir)
	} else {
		script, err := findSDKScript(dir, filepath.Join("cmd", "run-plugin"))
		if err != nil {
			return err
		}
		args = append(append(append(nodeArgs(info), script), dir), req.GetArgs()...)
	}

	cmd := exec.CommandContext(server.Context(), "node", args...)
	cmd.Dir = dir // @pulumi/policy reads package.json from the working directory
	cmd.Env = append(append(os.Environ(), req.GetEnv()...), typeScriptEnv(info)...)

	var sendMu sync.Mutex
	send := func(msg *pulumirpc.RunPluginResponse) error {
		sendMu.Lock()
		defer sendMu.Unlock()
		return server.Send(msg)
	}
	stdout := &streamWriter{send: func(b []byte) error {
		return send(&pulumirpc.RunPluginResponse{Output: &pulumirpc.RunPluginResponse_Stdout{Stdout: b}})
	}}
	stderr := &streamWriter{send: func(b []byte) error {
		return send(&pulumirpc.RunPluginResponse{Output: &pulumirpc.RunPluginResponse_Stderr{Stderr: b}})
	}}
	cmd.Stdout, cmd.Stderr = stdout, stderr

	code := int32(0)
	if err := cmd.Run(); err != nil {
		var exitErr *exec.ExitError
		if !errors.As(err, &exitErr) {
			return fmt.Errorf("running node %s: %w", strings.Join(args, " "), err)
		}
		code = int32(exitErr.ExitCode())
	}
	return send(&pulumirpc.RunPluginResponse{Output: &pulumirpc.RunPluginResponse_Exitcode{Exitcode: code}})
}

// streamWriter forwards each Write as one gRPC message (copying the buffer, which exec reuses).
type streamWriter struct{ send func([]byte) error }

func (w *streamWriter) Write(p []byte) (int, error) {
	if err := w.send(append([]byte(nil), p...)); err != nil {
		return 0, err
	}
	return len(p), nil
}
