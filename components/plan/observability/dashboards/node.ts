/** VPS nodes: the noisy-neighbour signals (steal, I/O wait, disk latency) first. */
import { cpuModePercent, JOBS, PSEUDO_FS, type ObservabilityModel } from "../model";
import { dashboard, Ids, labelVariable, row, timeSeries } from "./common";

const SEL = `job="${JOBS.nodeExporter}",instance=~"$instance"`;
const FS = `${SEL},fstype!~"${PSEUDO_FS}"`;
const NIC = `${SEL},device!~"lo|veth.*|cni.*|flannel.*"`;
const rate = (metric: string, extra = "") => `rate(${metric}{${SEL}${extra}}[$__rate_interval])`;
const cpuMode = (mode: string) => cpuModePercent(SEL, mode, "$__rate_interval");

export function nodeDashboard(m: ObservabilityModel) {
  const ids = new Ids();
  const t = m.thresholds;
  return dashboard(
    "fjord-nodes",
    "fjord / VPS nodes",
    "CPU steal and I/O wait expose noisy neighbours on shared VPS hosts; red lines are the alert thresholds.",
  )
    .withVariable(labelVariable("instance", "Node", `node_uname_info{job="${JOBS.nodeExporter}"}`))
    .withRow(row(ids, "CPU"))
    .withPanel(
      timeSeries(ids, "CPU steal", [{ expr: cpuMode("steal"), legend: "{{instance}}" }], {
        unit: "percent",
        threshold: t.cpuStealPercent,
        min: 0,
        description: "Time the hypervisor ran someone else while this VM wanted the CPU.",
      }),
    )
    .withPanel(
      timeSeries(ids, "I/O wait", [{ expr: cpuMode("iowait"), legend: "{{instance}}" }], {
        unit: "percent",
        threshold: t.ioWaitPercent,
        min: 0,
      }),
    )
    .withPanel(
      timeSeries(
        ids,
        "CPU by mode",
        [
          {
            expr: `100 * avg by (instance, mode) (${rate("node_cpu_seconds_total", ',mode!="idle"')})`,
            legend: "{{instance}} {{mode}}",
          },
        ],
        { unit: "percent", min: 0 },
      ),
    )
    .withPanel(
      timeSeries(
        ids,
        "Load (5 min) per vCPU",
        [
          {
            expr:
              `node_load5{${SEL}} / on (instance) ` +
              `count by (instance) (node_cpu_seconds_total{${SEL},mode="idle"})`,
            legend: "{{instance}}",
          },
        ],
        { min: 0 },
      ),
    )
    .withRow(row(ids, "Disk"))
    .withPanel(
      timeSeries(
        ids,
        "Disk latency",
        [
          {
            expr: `${rate("node_disk_read_time_seconds_total")} / ${rate("node_disk_reads_completed_total")}`,
            legend: "{{instance}} {{device}} read",
          },
          {
            expr: `${rate("node_disk_write_time_seconds_total")} / ${rate("node_disk_writes_completed_total")}`,
            legend: "{{instance}} {{device}} write",
          },
        ],
        { unit: "s", min: 0 },
      ),
    )
    .withPanel(
      timeSeries(
        ids,
        "Disk busy",
        [{ expr: rate("node_disk_io_time_seconds_total"), legend: "{{instance}} {{device}}" }],
        { unit: "percentunit", min: 0 },
      ),
    )
    .withPanel(
      timeSeries(
        ids,
        "Filesystem free",
        [
          {
            expr: `100 * node_filesystem_avail_bytes{${FS}} / node_filesystem_size_bytes{${FS}}`,
            legend: "{{instance}} {{mountpoint}}",
          },
        ],
        { unit: "percent", min: 0 },
      ),
    )
    .withRow(row(ids, "Memory and network"))
    .withPanel(
      timeSeries(
        ids,
        "Memory available",
        [
          {
            expr: `100 * node_memory_MemAvailable_bytes{${SEL}} / node_memory_MemTotal_bytes{${SEL}}`,
            legend: "{{instance}}",
          },
        ],
        { unit: "percent", threshold: t.memoryAvailablePercent, min: 0 },
      ),
    )
    .withPanel(
      timeSeries(
        ids,
        "Network",
        [
          {
            expr: `8 * rate(node_network_receive_bytes_total{${NIC}}[$__rate_interval])`,
            legend: "{{instance}} {{device}} in",
          },
          {
            expr: `-8 * rate(node_network_transmit_bytes_total{${NIC}}[$__rate_interval])`,
            legend: "{{instance}} {{device}} out",
          },
        ],
        {
          unit: "bps",
          description:
            "On Kubernetes the exporter runs without host networking, so this is its pod's interface, not the VPS's.",
        },
      ),
    );
}
