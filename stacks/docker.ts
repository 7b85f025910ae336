/** Dev target: a Docker provider for the configured host, and the Platform on it. */
import * as pulumi from "@pulumi/pulumi";
import * as docker from "@pulumi/docker";
import type { Spec } from "../components/config";
import { type BackupKeys, Platform, checkDockerDaemon, dockerHost } from "../components/docker";

export function deployDocker(spec: Spec, backupKeys?: BackupKeys) {
  const host = dockerHost(spec.docker.host);
  // Previews too: the provider cannot read or diff anything without a daemon either.
  const problem = checkDockerDaemon(host);
  if (problem) throw new pulumi.RunError(problem);
  const provider = new docker.Provider(
    "docker",
    spec.docker.host ? { host: spec.docker.host } : {},
  );
  const platform = new Platform("fjord", { spec, backupKeys }, { providers: [provider] });
  return {
    dockerHost: host,
    gatewayUrl: platform.gatewayUrl,
    prometheusUrl: platform.prometheusUrl,
    grafanaUrl: platform.grafanaUrl,
    grafanaAdminPassword: platform.grafanaAdminPassword,
    databases: platform.databases,
    services: platform.services,
    networks: platform.networks,
    volumes: platform.volumes,
  };
}
