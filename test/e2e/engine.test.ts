/**
 * The prod program on the real engine, with no cluster: a full offline preview in k3s mode,
 * and a render-mode ephemeral stack through up, a no-change preview and destroy.
 */
import { existsSync, readdirSync, readFileSync } from "fs";
import * as path from "path";
import { describe, expect, it } from "vitest";
import { withEphemeralStack } from "../../testkit/stack";

const BACKUP_KEYS = {
  backupAccessKeyId: "engine-test-access-key",
  backupSecretAccessKey: "engine-test-secret-access-key",
};

function files(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile())
    .map((d) => path.join(d.parentPath, d.name));
}

describe("prod on the real engine", () => {
  it("GIVEN the prod stack in k3s mode without an SSH key WHEN the real engine previews it offline THEN it warns that fjord:sshPrivateKey is required and would create over 100 resources, nodes, cluster, platform, databases and observability included", async () => {
    await withEphemeralStack({ name: "prod-preview", baseStack: "prod" }, async ({ stack }) => {
      const preview = await stack.preview();
      expect(preview.stdout).toContain("fjord:sshPrivateKey is required");
      const creates = preview.changeSummary.create ?? 0;
      // Nodes, the cluster, every namespace, service, database, the gateway and observability.
      expect(creates).toBeGreaterThan(100);
      for (const type of [
        "fjord:nodes:VpsNode",
        "fjord:nodes:K3sCluster",
        "fjord:kubernetes:Platform",
        "fjord:kubernetes:ServiceDatabase",
        "fjord:kubernetes:Observability",
      ]) {
        expect(preview.stdout, type).toContain(type);
      }
    });
  });

  it("GIVEN the prod stack in render mode WHEN the real engine brings it up, previews it again and destroys it THEN the manifests are written, the second preview changes nothing, and destroy removes them", async () => {
    let renderDir = "";
    await withEphemeralStack(
      {
        name: "prod-render",
        baseStack: "prod",
        config: { cluster: { mode: "render", renderDir: "out/manifests" } },
        // Prod backs every database up, so `up` needs the object store's keys (render mode
        // writes the runners' manifests; nothing connects).
        secrets: BACKUP_KEYS,
      },
      async (e) => {
        renderDir = path.join(e.workDir, "out/manifests");
        const up = await e.up();
        expect(up.summary.result).toBe("succeeded");
        expect(up.outputs.outputs.value.renderDir).toBe(renderDir);
        const manifests = files(renderDir);
        const kinds = manifests.map((f) => path.basename(f));
        expect(kinds.some((k) => /deployment.*orders/i.test(k))).toBe(true);
        expect(kinds.some((k) => /statefulset.*orders-db/i.test(k))).toBe(true);
        const all = manifests.map((f) => readFileSync(f, "utf8")).join("\n---\n");
        expect(all).toContain("ssl_protocols TLSv1.2 TLSv1.3;");
        expect(all).toContain("kind: NetworkPolicy");
        await e.expectNoChanges();
      },
    );
    expect(files(renderDir)).toEqual([]);
  });

  it("GIVEN the prod stack with gateway kind haproxy WHEN it goes up THEN it fails naming fjord:gateway.kind and its allowed values, and no resource is created", async () => {
    await withEphemeralStack(
      {
        name: "prod-bad",
        baseStack: "prod",
        config: {
          cluster: { mode: "render" },
          gateway: { kind: "haproxy", domains: ["api.example.no"] },
        },
      },
      async (e) => {
        await expect(e.up()).rejects.toThrow(
          /fjord:gateway\.kind: got "haproxy"; allowed: "nginx", "traefik"/,
        );
        const state = await e.stack.exportStack();
        const made = (state.deployment?.resources ?? []).filter(
          (r: { type: string }) => !r.type.startsWith("pulumi:"),
        );
        expect(made).toEqual([]);
      },
    );
  });

  it("GIVEN kubeconfig mode and a cluster address on loopback where nothing listens WHEN it goes up THEN the error names fjord:kubeconfig, the context and the server, and nothing but the stack is recorded", async () => {
    // GIVEN kubeconfig mode and a cluster address on loopback where nothing listens
    const kubeconfig = [
      "apiVersion: v1",
      "kind: Config",
      "current-context: gone",
      "contexts: [{name: gone, context: {cluster: gone, user: u}}]",
      'clusters: [{name: gone, cluster: {server: "https://127.0.0.1:1"}}]',
      "users: [{name: u, user: {token: t}}]",
    ].join("\n");
    await withEphemeralStack(
      {
        name: "prod-gone",
        baseStack: "prod",
        config: { cluster: { mode: "kubeconfig" } },
        secrets: { kubeconfig, ...BACKUP_KEYS },
      },
      async (e) => {
        // WHEN it goes up THEN one line names the key, the server and the fix
        await expect(e.up()).rejects.toThrow(
          /fjord:kubeconfig: the cluster of context "gone" at https:\/\/127\.0\.0\.1:1 does not answer \(ECONNREFUSED\)/,
        );
        // ... and nothing but the stack itself was recorded
        const state = await e.stack.exportStack();
        const made = (state.deployment?.resources ?? []).filter(
          (r: { type: string }) => !r.type.startsWith("pulumi:pulumi:"),
        );
        expect(made).toEqual([]);
      },
    );
  });
});
