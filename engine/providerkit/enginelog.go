package providerkit

import (
	"context"
	"flag"
	"sync"

	"github.com/pulumi/pulumi/sdk/v3/go/common/util/logging"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

// The engine passes its gRPC address as the plugin's first argument; Serve's flag.Parse leaves it
// in flag.Arg(0). Dialled once, on the first message, so tests (no address) never dial.
var (
	engineOnce   sync.Once
	engineClient pulumirpc.EngineClient
)

func engine() pulumirpc.EngineClient {
	engineOnce.Do(func() {
		addr := flag.Arg(0)
		if addr == "" {
			return
		}
		conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()),
			rpcutil.GrpcChannelOptions())
		if err != nil {
			logging.V(3).Infof("providerkit: cannot dial the engine at %s: %v", addr, err)
			return
		}
		engineClient = pulumirpc.NewEngineClient(conn)
	})
	return engineClient
}

// EngineLog shows a diagnostic for urn in the CLI output. Best effort: a message that cannot be
// delivered is only logged, since it must never fail the resource operation.
func EngineLog(ctx context.Context, severity pulumirpc.LogSeverity, urn, message string) {
	engineLog(ctx, &pulumirpc.LogRequest{Severity: severity, Urn: urn, Message: message})
}

// EngineStatus shows an ephemeral status line for urn (replaced by the next one, like progress).
func EngineStatus(ctx context.Context, urn, message string) {
	engineLog(ctx, &pulumirpc.LogRequest{Severity: pulumirpc.LogSeverity_INFO, Urn: urn, Message: message,
		Ephemeral: true})
}

func engineLog(ctx context.Context, req *pulumirpc.LogRequest) {
	c := engine()
	if c == nil {
		logging.V(5).Infof("providerkit: %s", req.GetMessage())
		return
	}
	if _, err := c.Log(ctx, req); err != nil {
		logging.V(3).Infof("providerkit: engine log failed: %v", err)
	}
}
