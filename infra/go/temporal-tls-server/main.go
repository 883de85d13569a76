// A single-process Temporal server whose frontend speaks TLS (optionally mTLS, optionally
// requiring an API key), for testing how our processes connect to a secured Temporal cluster.
// `temporal server start-dev` has no TLS flags; this embeds the same server version the CLI
// pins (go.mod), configured the way the CLI's dev server is, plus frontend TLS.
package main

import (
	"context"
	"crypto/subtle"
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/server/common/authorization"
	"go.temporal.io/server/common/cluster"
	"go.temporal.io/server/common/config"
	"go.temporal.io/server/common/dynamicconfig"
	"go.temporal.io/server/common/log"
	"go.temporal.io/server/common/membership/static"
	sqliteplugin "go.temporal.io/server/common/persistence/sql/sqlplugin/sqlite"
	"go.temporal.io/server/common/primitives"
	sqliteschema "go.temporal.io/server/schema/sqlite"
	"go.temporal.io/server/temporal"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
)

const host = "127.0.0.1"

func main() {
	port := flag.Int("port", 0, "frontend gRPC port (TLS)")
	httpPort := flag.Int("http-port", 0, "frontend HTTP port")
	namespace := flag.String("namespace", "default", "namespace to create")
	cert := flag.String("tls-cert", "", "PEM server certificate (chain)")
	key := flag.String("tls-key", "", "PEM server private key")
	ca := flag.String("tls-ca", "", "PEM CA the system worker trusts the frontend by")
	clientCA := flag.String("client-ca", "", "PEM CA of client certificates: when set, clients must present one (mTLS)")
	workerCert := flag.String("worker-cert", "", "PEM client certificate of the system worker (needed with -client-ca)")
	workerKey := flag.String("worker-key", "", "PEM client key of the system worker")
	serverName := flag.String("server-name", "", "name the system worker expects in the frontend certificate")
	keywords := flag.String("keyword-attributes", "", "comma-separated custom search attributes (Keyword) the namespace starts with")
	flag.Parse()
	// Kept off the command line, like every other secret in infra.
	apiKey := os.Getenv("VSC_TLS_SERVER_API_KEY")
	if *port == 0 || *httpPort == 0 || *cert == "" || *key == "" || *ca == "" {
		fmt.Fprintln(os.Stderr, "usage: temporal-tls-server -port N -http-port N -tls-cert F -tls-key F -tls-ca F [-client-ca F -worker-cert F -worker-key F] [-server-name S]")
		os.Exit(2)
	}

	conf := &config.Config{}
	conf.Global.Membership.MaxJoinDuration = 30 * time.Second
	conf.Global.Membership.BroadcastAddress = host
	conf.Global.TLS.Frontend.Server = config.ServerTLS{CertFile: *cert, KeyFile: *key}
	if *clientCA != "" {
		conf.Global.TLS.Frontend.Server.ClientCAFiles = []string{*clientCA}
		conf.Global.TLS.Frontend.Server.RequireClientAuth = true
	}
	conf.Global.TLS.Frontend.Client = config.ClientTLS{RootCAFiles: []string{*ca}, ServerName: *serverName}
	conf.Global.TLS.SystemWorker = config.WorkerTLS{
		CertFile: *workerCert,
		KeyFile:  *workerKey,
		Client:   config.ClientTLS{RootCAFiles: []string{*ca}, ServerName: *serverName},
	}

	sqlConf := &config.SQL{
		PluginName:        sqliteplugin.PluginName,
		ConnectAttributes: map[string]string{"mode": "memory", "cache": "shared"},
		DatabaseName:      fmt.Sprintf("tls%d", *port),
	}
	// Created with the namespace, so clients find them without a round of adding and waiting.
	attributes := map[string]enums.IndexedValueType{}
	for _, name := range strings.Split(*keywords, ",") {
		if name != "" {
			attributes[name] = enums.INDEXED_VALUE_TYPE_KEYWORD
		}
	}
	nsConfig, err := sqliteschema.NewNamespaceConfig("active", *namespace, false, attributes)
	must(err)
	must(sqliteschema.CreateNamespaces(sqlConf, nsConfig))
	conf.Persistence.DefaultStore = "sqlite-default"
	conf.Persistence.VisibilityStore = "sqlite-default"
	conf.Persistence.NumHistoryShards = 1
	conf.Persistence.DataStores = map[string]config.DataStore{"sqlite-default": {SQL: sqlConf}}
	conf.ClusterMetadata = &cluster.Config{
		FailoverVersionIncrement: 10,
		MasterClusterName:        "active",
		CurrentClusterName:       "active",
		ClusterInformation: map[string]cluster.ClusterInformation{
			"active": {
				Enabled:                true,
				InitialFailoverVersion: 1,
				RPCAddress:             fmt.Sprintf("%s:%d", host, *port),
				HTTPAddress:            fmt.Sprintf("%s:%d", host, *httpPort),
				ClusterID:              "tls-test-cluster",
			},
		},
	}
	conf.DCRedirectionPolicy.Policy = "noop"
	ports := map[string]int{"frontend": *port, "history": freePort(), "matching": freePort(), "worker": freePort()}
	conf.Services = map[string]config.Service{}
	for name, p := range ports {
		var svc config.Service
		svc.RPC.GRPCPort = p
		svc.RPC.BindOnIP = host
		if name == "frontend" {
			svc.RPC.HTTPPort = *httpPort
		}
		conf.Services[name] = svc
	}
	conf.Archival.History.State = "disabled"
	conf.Archival.Visibility.State = "disabled"
	conf.NamespaceDefaults.Archival.History.State = "disabled"
	conf.NamespaceDefaults.Archival.Visibility.State = "disabled"
	conf.PublicClient.HostPort = fmt.Sprintf("%s:%d", host, *port)

	logger := log.NewZapLogger(log.BuildZapLogger(log.Config{Level: "warn", Format: "console"}))
	hosts := map[primitives.ServiceName]static.Hosts{}
	for name, p := range ports {
		hosts[primitives.ServiceName(name)] = static.SingleLocalHost(fmt.Sprintf("%s:%d", host, p))
	}
	dyn := dynamicconfig.StaticClient{
		dynamicconfig.FrontendMaxNamespaceVisibilityRPSPerInstance.Key(): 100,
		dynamicconfig.Key("matching.numTaskqueueReadPartitions"):         1,
		dynamicconfig.Key("matching.numTaskqueueWritePartitions"):        1,
	}
	opts := []temporal.ServerOption{
		temporal.WithConfig(conf),
		temporal.ForServices(temporal.DefaultServices),
		temporal.WithStaticHosts(hosts),
		temporal.WithLogger(logger),
		temporal.WithAuthorizer(authorization.NewNoopAuthorizer()),
		temporal.WithClaimMapper(func(*config.Config) authorization.ClaimMapper { return authorization.NewNoopClaimMapper() }),
		temporal.WithDynamicConfigClient(dyn),
	}
	if apiKey != "" {
		opts = append(opts, temporal.WithChainedFrontendGrpcInterceptors(requireAPIKey(apiKey)))
	}
	server, err := temporal.NewServer(opts...)
	must(err)
	must(server.Start())
	fmt.Printf("temporal-tls-server listening on %s:%d\n", host, *port)
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGINT, syscall.SIGTERM)
	<-stop
	server.Stop()
}

// requireAPIKey refuses calls of TypeScript SDK clients (what is under test: client-name
// temporal-typescript, sent by Connection and NativeConnection alike) without
// `authorization: Bearer <key>`, as Temporal Cloud does. The server's own components call the
// frontend without a key and pass; so does DescribeNamespace, which the operator handlers call back
// into the frontend with the caller's client-name but not its key. A test server's rule, not an
// access control.
func requireAPIKey(apiKey string) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		md, _ := metadata.FromIncomingContext(ctx)
		if names := md.Get("client-name"); len(names) == 0 || names[0] != "temporal-typescript" ||
			strings.HasSuffix(info.FullMethod, "/DescribeNamespace") {
			return handler(ctx, req)
		}
		for _, v := range md.Get("authorization") {
			if token, ok := strings.CutPrefix(v, "Bearer "); ok && subtle.ConstantTimeCompare([]byte(token), []byte(apiKey)) == 1 {
				return handler(ctx, req)
			}
		}
		return nil, serviceerror.NewPermissionDenied("missing or wrong API key", "")
	}
}

func freePort() int {
	l, err := net.Listen("tcp", host+":0")
	must(err)
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func must(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "temporal-tls-server:", err)
		os.Exit(1)
	}
}
