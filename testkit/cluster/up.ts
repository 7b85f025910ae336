/** `up` on the test cluster that, when it fails, adds the cluster's own account of what did not become ready. */
import type { TestCluster } from ".";
import type { Ephemeral } from "../stack";

export async function upOrExplain(cluster: TestCluster, e: Ephemeral) {
  try {
    return await e.up();
  } catch (err) {
    throw new Error(
      `${(err as Error).message.slice(-4000)}\n--- cluster diagnosis:\n${await cluster.diagnose()}`,
    );
  }
}
