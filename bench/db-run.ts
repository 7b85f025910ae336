/** What one database configuration's rounds record, shared by the PostgreSQL and MariaDB benches. */
export interface DbRun {
  config: string;
  rwTps: number[];
  roTps: number[];
  /** Server CPU (its cgroup) per transaction, in ms: robust to other load, unlike TPS. */
  rwCpuMsPerTx: number[];
  roCpuMsPerTx: number[];
  peakBytes: number;
  /** Peak anonymous + shared memory: what counts towards an OOM kill. */
  peakAnonBytes: number;
  oomKills: number;
  durability: string;
  settings: string;
}

export const newDbRun = (config: string): DbRun => ({
  config,
  rwTps: [],
  roTps: [],
  rwCpuMsPerTx: [],
  roCpuMsPerTx: [],
  peakBytes: 0,
  peakAnonBytes: 0,
  oomKills: 0,
  durability: "",
  settings: "",
});
