/**
 * Prometheus static jobs for the Docker target. Job names follow the observability contract
 * (JOBS) where one label set fits the whole job; services and databases get a job each, because a
 * static job carries one label set and alerts read `service` from the series.
 */
import type { PlatformPlan } from "../plan";
import { JOBS, PORTS, backupScrapeJob, type StaticJob } from "../plan/observability";
import type { Topology } from "./topology";

export interface ScrapeInputs {
  /** host:port and path of the gateway's metrics (nginx exporter or Traefik itself). */
  gateway: { endpoint: string; path: string };
  /** Node exporter container name. */
  nodeExporter: string;
}

export function dockerScrapeJobs(
  platform: PlatformPlan,
  topo: Topology,
  inputs: ScrapeInputs,
): StaticJob[] {
  const jobs: StaticJob[] = [
    { job: JOBS.prometheus, targets: [`localhost:${PORTS.prometheus}`] },
    { job: JOBS.nodeExporter, targets: [`${inputs.nodeExporter}:${PORTS.nodeExporter}`] },
    { job: JOBS.gateway, targets: [inputs.gateway.endpoint], metricsPath: inputs.gateway.path },
  ];
  for (const { spec: s, database } of platform.services) {
    jobs.push({
      job: `service-${s.name}`,
      targets: topo.replicas(s.name).map((r) => `${r}:${s.port}`),
      metricsPath: s.metricsPath,
      labels: { service: s.name },
    });
    if (database) {
      jobs.push({
        job: `${JOBS.databases}-${s.name}`,
        targets: [`${topo.databaseHost(s.name)}-exporter:${database.plan.exporterPort}`],
        labels: { service: s.name, engine: database.plan.engine },
      });
      // The runner sits on the metrics network under the name ServiceDatabase gives it.
      if (database.plan.backup) {
        jobs.push(
          backupScrapeJob({
            service: s.name,
            host: `${topo.databaseHost(s.name)}-backup`,
            port: database.plan.backup.metricsPort,
          }),
        );
      }
    }
  }
  return jobs;
}
