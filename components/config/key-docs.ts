/**
 * One line per config key for the reference table in docs/configuration.md. A unit test fails when
 * a key in the schema has no line here, so a new key cannot ship undocumented.
 */
import {
  DB_VERSIONS,
  MARIADB_MIN_MEMORY,
  POSTGRES_MANY_CORES,
  POSTGRES_MIN_MEMORY,
  POSTGRES_MIN_MEMORY_MANY_CORES,
} from "./checks-database";
import { formatMemory } from "./units";

export const KEY_DOCS: Record<string, string> = {
  "fjord:environment":
    "Environment; picks the policy config (availability is mandatory in prod, advisory in dev).",
  "fjord:target": "Where the platform runs: Docker on this machine (dev) or Kubernetes (prod).",
  "fjord:region": "Region of the gateway and the default placement of nodes and services.",
  "fjord:allowedJurisdictions":
    'ISO country codes data may live in ("EEA" for every EEA state); the config checks where services and nodes are placed, the residency policies check the resources.',
  "fjord:regions":
    "Extra regions, added to the built-in catalogue (no-osl1, no-osl2, no-svg1, se-sto1, fi-hel1, de-fra1, nl-ams1, us-east1).",
  "fjord:regions.<name>.jurisdiction": "ISO 3166-1 alpha-2 code of the law that applies there.",
  "fjord:regions.<name>.eea": "Whether the jurisdiction is in the EEA.",
  "fjord:regions.<name>.city": "Name shown in reports.",
  "fjord:ssh.user": "Default SSH user on nodes.",
  "fjord:ssh.port": "Default SSH port on nodes.",
  "fjord:ssh.adminCidrs":
    "Sources allowed to SSH to nodes through the host firewall (empty: anywhere, with a warning).",
  "fjord:nodes[].name": "Node name (also the Kubernetes node name).",
  "fjord:nodes[].host": "Address fjord connects to over SSH.",
  "fjord:nodes[].port": "SSH port; defaults to ssh.port.",
  "fjord:nodes[].user": "SSH user; defaults to ssh.user.",
  "fjord:nodes[].role": "k3s role; use 1 or 3 servers.",
  "fjord:nodes[].gateway": "Opens 80/443 (and UDP 443) on this node's firewall.",
  "fjord:nodes[].region": "Where the node is; defaults to the stack region.",
  "fjord:nodes[].class.vcpu": "vCPUs of the node class; limits must fit.",
  "fjord:nodes[].class.memory": "Memory of the node class; limits must fit.",
  "fjord:nodes[].class.disk":
    "Disk class; sets database I/O tuning, and NVMe is verified on the host.",
  "fjord:nodes[].class.virtualization": "Expected hypervisor.",
  "fjord:nodes[].allowNonKvm":
    "Accept a non-KVM hypervisor (container VPS cannot run k3s properly).",
  "fjord:cluster.mode":
    "k3s: install on the nodes over SSH; kubeconfig: use an existing cluster; render: write manifests only.",
  "fjord:cluster.renderDir": "Where render mode writes manifests (relative to the project).",
  "fjord:cluster.k3sVersion": "Pinned k3s release.",
  "fjord:cluster.airgap.k3sBinary": "Local path of the k3s binary to copy instead of downloading.",
  "fjord:cluster.airgap.imagesTarball": "Local path of the k3s airgap images tarball.",
  "fjord:cluster.airgap.installScript": "Local path of the k3s install script.",
  "fjord:docker.host": "Docker daemon to use (dev); defaults to DOCKER_HOST or the local socket.",
  "fjord:docker.publishAddress": "Host address published ports bind to.",
  "fjord:docker.httpPort": "Host port of the gateway's HTTP listener (redirects only).",
  "fjord:docker.httpsPort": "Host port of the gateway's HTTPS listener.",
  "fjord:docker.prometheusPort": "Host port of Prometheus.",
  "fjord:docker.grafanaPort": "Host port of Grafana (when observability.components.grafana).",
  "fjord:docker.logForwardPort":
    "Port of Fluent Bit's forward input, published on the daemon's 127.0.0.1 only; every container's logs go there.",
  "fjord:docker.logForward":
    "host:port of your own forward-protocol log agent to ship container logs to instead of fjord's Fluent Bit.",
  "fjord:gateway.kind": "Gateway implementation.",
  "fjord:gateway.replicas": "Gateway replicas, spread across nodes.",
  "fjord:gateway.domains": "Host names served; others are refused at the TLS handshake.",
  "fjord:gateway.resources.requests.cpu": "Gateway CPU request.",
  "fjord:gateway.resources.requests.memory": "Gateway memory request.",
  "fjord:gateway.resources.limits.cpu": "Gateway CPU limit.",
  "fjord:gateway.resources.limits.memory": "Gateway memory limit.",
  "fjord:gateway.tls.minVersion": "Lowest TLS version; 1.0 and 1.1 cannot be configured.",
  "fjord:gateway.tls.certificate":
    "self-signed (made with openssl at deploy time) or secret (an existing TLS Secret).",
  "fjord:gateway.tls.secretName": "The TLS Secret when certificate is secret.",
  "fjord:gateway.tls.hstsMaxAgeSeconds": "HSTS max-age.",
  "fjord:gateway.rateLimit.average": "Requests per second per client IP (the seed's 100).",
  "fjord:gateway.rateLimit.burst": "Extra requests absorbed at once before 429 (the seed's 50).",
  "fjord:gateway.piiHeaders":
    "Request headers removed before proxying, so personal data never reaches service logs.",
  "fjord:gateway.stripCookieOnPublic": "Remove Cookie on public routes.",
  "fjord:gateway.http3": "HTTP/3 on UDP 443 (Traefik only).",
  "fjord:gateway.upstream.keepalive": "Idle keepalive connections kept to each upstream.",
  "fjord:gateway.upstream.maxFails":
    "Failures within failTimeout that take an upstream server out (circuit breaking).",
  "fjord:gateway.upstream.failTimeout": "Failure window, and how long a failed server stays out.",
  "fjord:gateway.upstream.connectTimeout": "Upstream connect timeout, in whole ms.",
  "fjord:gateway.upstream.readTimeout": "Upstream response timeout (504 after it), in whole ms.",
  "fjord:gateway.upstream.nextUpstreamTries":
    "Tries per request across servers, the first included.",
  "fjord:gateway.circuitBreaker.expression": "Traefik circuit breaker trip condition.",
  "fjord:gateway.circuitBreaker.checkPeriod": "How often Traefik evaluates the breaker.",
  "fjord:gateway.circuitBreaker.fallbackDuration": "How long the breaker stays open.",
  "fjord:gateway.circuitBreaker.recoveryDuration":
    "How long traffic ramps back after the breaker closes.",
  "fjord:gateway.retry.attempts": "Traefik retries when a service does not answer.",
  "fjord:gateway.retry.initialInterval": "First retry backoff.",
  "fjord:services[].name": "Service name; its namespace is fjord-<name>.",
  "fjord:services[].image": "Pinned image: a tag other than latest, or a digest.",
  "fjord:services[].port": "Container port for HTTP, health and metrics.",
  "fjord:services[].replicas":
    "Replicas; more than one gets required anti-affinity on the hostname.",
  "fjord:services[].resources.requests.cpu": "CPU request.",
  "fjord:services[].resources.requests.memory": "Memory request.",
  "fjord:services[].resources.limits.cpu": "CPU limit; must fit on a node.",
  "fjord:services[].resources.limits.memory": "Memory limit; must fit on a node.",
  "fjord:services[].healthPath": "Readiness and liveness probe path.",
  "fjord:services[].metricsPath": "Prometheus scrape path.",
  "fjord:services[].region": "Placement for latency budgets; defaults to the stack region.",
  "fjord:services[].processingBudgetMs": "Worst-case time the service itself spends per request.",
  "fjord:services[].route.path": "Gateway path prefix, e.g. /orders/.",
  "fjord:services[].route.public": "Public routes have Cookie stripped.",
  "fjord:services[].route.budgetMs":
    "End-to-end latency budget in whole ms; defaults to latency.defaultRouteBudgetMs. The worst case of the route's call chain must fit (advisory in dev).",
  "fjord:services[].calls":
    "Synchronous calls: a service name, or {service, fanOut, mode: sequential|parallel}.",
  "fjord:services[].env": "Plain environment variables (never secrets).",
  "fjord:services[].database.engine": "postgres, or mysql (MariaDB).",
  "fjord:services[].database.version": `Server version; picks the default image (16.6 / 11.4.4). ${DB_VERSIONS.postgres.text}; ${DB_VERSIONS.mysql.text}.`,
  "fjord:services[].database.memory": `Memory limit; all tuning is derived from it. At least ${formatMemory(POSTGRES_MIN_MEMORY)} for PostgreSQL (${formatMemory(POSTGRES_MIN_MEMORY_MANY_CORES)} from ${POSTGRES_MANY_CORES} CPUs), ${formatMemory(MARIADB_MIN_MEMORY)} for MariaDB.`,
  "fjord:services[].database.cpu": "CPU limit.",
  "fjord:services[].database.storage": "Volume size.",
  "fjord:services[].database.disk":
    "Disk class for I/O tuning; defaults to the slowest class among the nodes (nvme without nodes).",
  "fjord:services[].database.name": "Database and user name; defaults to the service name.",
  "fjord:services[].database.image": "Image override for this database.",
  "fjord:observability.enabled":
    "Deploy Prometheus, Alertmanager, Grafana, Loki and the log shipper.",
  "fjord:observability.components.alertmanager":
    "Run Alertmanager (Prometheus then sends alerts nowhere when off).",
  "fjord:observability.components.grafana": "Run Grafana.",
  "fjord:observability.components.loki":
    "Run Loki (Grafana keeps a Loki data source that answers nothing when off).",
  "fjord:observability.components.logShipper": "Run Fluent Bit, the log shipper.",
  "fjord:observability.scrapeInterval": "Prometheus scrape interval.",
  "fjord:observability.retentionTime": "Prometheus retention by time.",
  "fjord:observability.retentionSize": "Prometheus retention by size.",
  "fjord:observability.storage": "Prometheus volume size.",
  "fjord:observability.logStorage": "Loki volume size.",
  "fjord:observability.grafanaAdminUser":
    "Grafana admin user; the password is generated and secret.",
  "fjord:observability.remoteWrite[].name": "Name of a remote_write target.",
  "fjord:observability.remoteWrite[].url": "remote_write URL; the residency policy must accept it.",
  "fjord:observability.alertWebhooks[].name": "Name of an Alertmanager webhook receiver.",
  "fjord:observability.alertWebhooks[].url": "Webhook URL; the residency policy must accept it.",
  "fjord:observability.logRetention": "Loki retention.",
  "fjord:observability.piiFields": "Log fields masked by the shipper before storage.",
  "fjord:observability.alerts.cpuStealPercent": "CPU steal alert threshold (5 minutes).",
  "fjord:observability.alerts.ioWaitPercent": "I/O wait alert threshold.",
  "fjord:observability.alerts.memoryAvailablePercent":
    "Memory pressure alert when available memory is below this.",
  "fjord:observability.alerts.diskFillHours":
    "Alert when a disk is predicted full within this many hours.",
  "fjord:observability.alerts.gateway5xxRatio": "Gateway 5xx ratio alert threshold.",
  "fjord:observability.alerts.dbConnectionsRatio":
    "Database connection saturation alert threshold.",
  "fjord:observability.alerts.certExpiryDays": "Certificate expiry alert threshold.",
  "fjord:observability.alerts.replicationLagSeconds": "Database replication lag alert threshold.",
  "fjord:latency.defaultRouteBudgetMs": "Budget of a route that sets none.",
  "fjord:latency.rttMs": 'Round-trip overrides in ms, keyed "regionA/regionB".',
  "fjord:images.nginx": "nginx gateway image.",
  "fjord:images.traefik": "Traefik gateway image.",
  "fjord:images.nginxExporter": "nginx metrics exporter sidecar.",
  "fjord:images.postgres":
    "PostgreSQL image for every database (default postgres:<version>-bookworm).",
  "fjord:images.mysql": "MariaDB image for every database (default mariadb:<version>).",
  "fjord:images.prometheus": "Prometheus image.",
  "fjord:images.alertmanager": "Alertmanager image.",
  "fjord:images.nodeExporter": "Node exporter image.",
  "fjord:images.grafana": "Grafana image.",
  "fjord:images.loki": "Loki image.",
  "fjord:images.logShipper": "Fluent Bit image.",
  "fjord:images.postgresExporter": "PostgreSQL exporter sidecar.",
  "fjord:images.mysqlExporter": "MariaDB exporter sidecar.",
  "fjord:sshPrivateKey":
    "Private key for SSH to the nodes: `pulumi config set --secret sshPrivateKey < key`.",
  "fjord:kubeconfig":
    "Kubeconfig of an existing cluster: `pulumi config set --secret kubeconfig < file`.",
};
