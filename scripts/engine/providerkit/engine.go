package providerkit

import (
	"context"
	"flag"
	"fmt"
	"strings"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/common/util/cmdutil"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/logging"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

// Engine is the engine's gRPC service as seen from a provider: the address the engine passes as
// the plugin's first argument. A nil *Engine (provider started without one, e.g. in tests) drops
// every message, so callers need no checks.
type Engine struct {
	client pulumirpc.EngineClient
	conn   *grpc.ClientConn
}

// DialEngine connects to the engine at addr (host:port).
func DialEngine(addr string) (*Engine, error) {
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()),
		rpcutil.GrpcChannelOptions())
	if err != nil {
		return nil, err
	}
	return &Engine{client: pulumirpc.NewEngineClient(conn), conn: conn}, nil
}

// Log sends a diagnostic for urn ("" for none). Ephemeral messages only update the resource's
// status column in the progress display; the others are kept in the update's diagnostics.
func (e *Engine) Log(ctx context.Context, sev pulumirpc.LogSeverity, urn, msg string, ephemeral bool) {
	if e == nil || msg == "" {
		return
	}
	// A lost log line must not fail the operation that produced it.
	_, _ = e.client.Log(ctx, &pulumirpc.LogRequest{
		Severity: sev, Message: strings.ToValidUTF8(msg, "\uFFFD"), Urn: urn, Ephemeral: ephemeral,
	})
}

// Close closes the connection.
func (e *Engine) Close() {
	if e != nil {
		_ = e.conn.Close()
	}
}

// ServeWithEngine is Serve for providers that talk back to the engine (logging): it connects to
// the engine address from the command line, stops serving when the engine goes away, and passes
// the connection (nil when started without an address) to newServer.
func ServeWithEngine(name string, newServer func(*Engine) pulumirpc.ResourceProviderServer) {
	flag.String("tracing", "", "ignored")
	flag.Parse()
	logging.InitLogging(false, 0, false)
	var engine *Engine
	cancel := make(chan bool)
	if args := flag.Args(); len(args) > 0 {
		var err error
		if engine, err = DialEngine(args[0]); err != nil {
			cmdutil.Exit(fmt.Errorf("%s provider: connecting to the engine at %s: %w", name, args[0], err))
		}
		defer engine.Close()
		ctx, stop := context.WithCancel(context.Background())
		// An engine killed without shutting its plugins down would otherwise leave this one behind.
		if err := rpcutil.Healthcheck(ctx, args[0], 5*time.Minute, stop); err != nil {
			cmdutil.Exit(fmt.Errorf("%s provider: engine health check: %w", name, err))
		}
		go func() { <-ctx.Done(); close(cancel) }()
	}
	srv := newServer(engine)
	handle, err := rpcutil.ServeWithOptions(rpcutil.ServeOptions{
		Cancel: cancel,
		Init: func(s *grpc.Server) error {
			pulumirpc.RegisterResourceProviderServer(s, srv)
			return nil
		},
	})
	if err != nil {
		cmdutil.Exit(fmt.Errorf("starting the %s provider: %w", name, err))
	}
	fmt.Printf("%d\n", handle.Port)
	if err := <-handle.Done; err != nil {
		cmdutil.Exit(fmt.Errorf("%s provider stopped serving: %w", name, err))
	}
}
