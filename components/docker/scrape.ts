/**
 * Prometheus static jobs for the Docker target. Job names follow the observability contract
 * (JOBS) where one label set fits the whole job; services and databases get a job each, because a
 * static job carries one label set and alerts read `service` from the series.
 */
import type { Spec } from "../config";
import { JOBS, PORTS } from "../plan/observability/model";
import type { StaticJob } from "../plan/observability/prometheus";
import { planDatabase } from "../plan/database";
import type { Topology } from "./topology";

export interface ScrapeInputs {
  /** host:port and path of the gateway's metrics (nginx exporter or Traefik itself). */
  gateway: { endpoint: string; path: string };
  /** Node exporter container name. */
  nodeExporter: string;
}

export function dockerScrapeJobs(spec: Spec, topo: Topology, inputs: ScrapeInputs): StaticJob[] {
  const jobs: StaticJob[] = [
    { job: JOBS.prometheus, targets: [`localhost:${PORTS.prometheus}`] },
    { job: JOBS.nodeExporter, targets: [`${inputs.nodeExporter}:${PORTS.nodeExporter}`] },
    { job: JOBS.gateway, targets: [inputs.gateway.endpoint], metricsPath: inputs.gateway.path },
  ];
  for (const s of spec.services) {
    jobs.push({
      job: `service-${s.name}`,
      targets: topo.replicas(s.name).map((r) => `${r}:${s.port}`),
      metricsPath: s.metricsPath,
      labels: { service: s.name },
    });
    if (s.database) {
      const plan = planDatabase(s.database);
      jobs.push({
        job: `${JOBS.databases}-${s.name}`,
        targets: [`${topo.databaseHost(s.name)}-exporter:${plan.exporterPort}`],
        labels: { service: s.name, engine: s.database.engine },
      });
    }
  }
  return jobs;
}
