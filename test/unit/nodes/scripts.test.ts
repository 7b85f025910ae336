/**
 * The rendered host scripts, run for real with bash against a temp root, as when building an image
 * (nothing live changes): what they write, that a re-run converges, and how failures read.
 */
import { spawnSync } from "child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "fs";
import { tmpdir } from "os";
import * as path from "path";
import { afterAll, describe, expect, it } from "vitest";
import {
  launcher,
  renderDrainBody,
  renderFactsBody,
  renderFirewallBody,
  renderKubeconfigBody,
  renderNftables,
  renderK3sBody,
  renderK3sConfig,
  renderPrepBody,
  renderStep,
  renderSysctl,
  type StepContext,
} from "../../../components/nodes";
import {
  installRecordPath,
  readInstallRecord,
  writeFakeAirgap,
} from "../../../testkit/k3s-installer";

const roots: string[] = [];
afterAll(() => roots.forEach((r) => rmSync(r, { recursive: true, force: true })));
function tempRoot(): string {
  const r = mkdtempSync(path.join(tmpdir(), "fjord-root-"));
  roots.push(r);
  return r;
}

const ctx = (root: string, step: string): StepContext => ({
  node: "osl-1",
  region: "no-osl1",
  step,
  root,
  live: false,
  hint: "fix it and run pulumi up again",
});

/** Runs a script the way a node does: the launcher in sh, the script on stdin. */
function run(c: StepContext, body: string, action: "create" | "update" | "delete" = "create") {
  const r = spawnSync("sh", ["-c", launcher(c, action)], {
    input: renderStep(c, body),
    encoding: "utf8",
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("step wrapper", () => {
  it("GIVEN a step body whose second command fails WHEN it runs THEN it stops there, and stderr starts with the node, step, error and exit code and ends with the hint", () => {
    const r = run(ctx(tempRoot(), "prep"), "echo working\nls /definitely/not/here\necho never");
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(
      /^fjord: node osl-1: prep failed: ls: cannot access '\/definitely\/not\/here'.* \(exit 2\)\n/,
    );
    expect(r.stderr).toMatch(/hint: fix it and run pulumi up again\n$/);
    expect(r.stdout).toBe("working\n");
  });

  it("GIVEN a body that prints FJORD_ACTION and runs cat WHEN it runs as update THEN it prints update, and cat reads nothing of the script on stdin", () => {
    const r = run(ctx(tempRoot(), "x"), 'echo "$FJORD_ACTION"\ncat\necho after', "update");
    expect(r).toMatchObject({ code: 0, stdout: "update\nafter\n" });
  });
});

describe("prep script", () => {
  it("GIVEN an image root whose fstab has swap WHEN the prep script runs twice THEN the first run writes sysctl, modules, udev and timesync files and comments swap out, and the second changes nothing", () => {
    // GIVEN
    const root = tempRoot();
    mkdirSync(path.join(root, "etc"));
    writeFileSync(
      path.join(root, "etc/fstab"),
      "UUID=1 / ext4 defaults 0 1\n/swapfile none swap sw 0 0\n",
    );
    // WHEN
    const r = run(ctx(root, "prep"), renderPrepBody({ nvme: true }));
    // THEN
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(readFileSync(path.join(root, "etc/sysctl.d/90-fjord.conf"), "utf8")).toBe(
      renderSysctl(),
    );
    expect(readFileSync(path.join(root, "etc/modules-load.d/90-fjord.conf"), "utf8")).toBe(
      "overlay\nbr_netfilter\n",
    );
    expect(
      readFileSync(path.join(root, "etc/udev/rules.d/60-fjord-nvme-scheduler.rules"), "utf8"),
    ).toContain('ATTR{queue/scheduler}="none"');
    expect(
      readFileSync(path.join(root, "etc/systemd/timesyncd.conf.d/90-fjord.conf"), "utf8"),
    ).toContain("NTP=0.no.pool.ntp.org");
    expect(readFileSync(path.join(root, "etc/fstab"), "utf8")).toBe(
      "UUID=1 / ext4 defaults 0 1\n# fjord: swap off for the kubelet: /swapfile none swap sw 0 0\n",
    );
    expect(statSync(path.join(root, "etc/sysctl.d/90-fjord.conf")).mode & 0o777).toBe(0o644);

    // Converges: a second run changes nothing and says so by writing nothing.
    const again = run(ctx(root, "prep"), renderPrepBody({ nvme: true }));
    expect(again).toMatchObject({ code: 0, stdout: "", stderr: "" });
  });
});

describe("k3s script (image root, air-gapped, the test's recording installer)", () => {
  function stage(root: string) {
    const dir = path.join(root, "var/tmp/fjord-airgap");
    mkdirSync(dir, { recursive: true });
    writeFakeAirgap(dir);
  }
  const body = (root: string, token = "s3cret-token-value") =>
    renderK3sBody({
      role: "agent",
      version: "v1.31.4+k3s1",
      config: renderK3sConfig({
        node: "osl-1",
        role: "agent",
        host: "192.0.2.11",
        region: "no-osl1",
        gateway: true,
        serverUrl: "https://192.0.2.10:6443",
        clusterInit: false,
      }),
      token,
      airgap: {
        stagingDir: path.join(root, "var/tmp/fjord-airgap"),
        imagesFile: "k3s-airgap-images-amd64.tar.zst",
      },
    });

  it("GIVEN an image root with the air-gap files staged WHEN the k3s script runs THEN it places the files, runs the installer into the root without starting k3s, and never prints the token", () => {
    // GIVEN
    const root = tempRoot();
    stage(root);
    // WHEN
    const r = run(ctx(root, "k3s"), body(root));
    // THEN
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(readInstallRecord(root)).toEqual({
      args: [],
      env: {
        INSTALL_K3S_BIN_DIR: `${root}/usr/local/bin`,
        INSTALL_K3S_EXEC: "agent",
        INSTALL_K3S_SKIP_DOWNLOAD: "true",
        INSTALL_K3S_SKIP_ENABLE: "true",
        INSTALL_K3S_SKIP_START: "true",
        INSTALL_K3S_SYSTEMD_DIR: `${root}/etc/systemd/system`,
        INSTALL_K3S_VERSION: "v1.31.4+k3s1",
      },
    });
    expect(r.stdout).toContain(`k3s v1.31.4+k3s1 agent installed under ${root}, not started`);
    expect(statSync(path.join(root, "usr/local/bin/k3s")).mode & 0o777).toBe(0o755);
    expect(
      existsSync(
        path.join(root, "var/lib/rancher/k3s/agent/images/k3s-airgap-images-amd64.tar.zst"),
      ),
    ).toBe(true);
    expect(readFileSync(path.join(root, "etc/rancher/k3s/fjord-token"), "utf8")).toBe(
      "s3cret-token-value\n",
    );
    expect(statSync(path.join(root, "etc/rancher/k3s/fjord-token")).mode & 0o777).toBe(0o600);
    expect(readFileSync(path.join(root, "etc/rancher/k3s/config.yaml"), "utf8")).toContain(
      'server: "https://192.0.2.10:6443"',
    );
    const record = readFileSync(installRecordPath(root), "utf8");
    expect(r.stdout + r.stderr + record).not.toContain("s3cret");
  });

  it("GIVEN k3s created twice on a node, as a replacement does WHEN the older copy is deleted THEN k3s stays, and after an update the last delete removes it", () => {
    const root = tempRoot();
    stage(root);
    expect(run(ctx(root, "k3s"), body(root), "create").code).toBe(0);
    // A replacement (e.g. after a key rotation) creates the new copy before deleting the old one.
    expect(run(ctx(root, "k3s"), body(root), "create").code).toBe(0);
    const old = run(ctx(root, "k3s"), body(root), "delete");
    expect(old.stdout).toContain("claimed by a newer deployment");
    expect(existsSync(path.join(root, "etc/rancher/k3s/config.yaml"))).toBe(true);
    // An update re-runs without claiming again, so the real removal still uninstalls.
    expect(run(ctx(root, "k3s"), body(root), "update").code).toBe(0);
    const removed = run(ctx(root, "k3s"), body(root), "delete");
    expect(removed.stdout).toContain("k3s removed");
    expect(existsSync(path.join(root, "etc/rancher/k3s/config.yaml"))).toBe(false);
    expect(existsSync(path.join(root, "usr/local/bin/k3s"))).toBe(false);
    expect(existsSync(path.join(root, "usr/local/lib/fjord/k3s-install.sh"))).toBe(false);
  });

  it("GIVEN an image root without the air-gap files WHEN the k3s script runs THEN it fails naming the node, the step and the missing file, and the installer never runs", () => {
    const root = tempRoot();
    const r = run(ctx(root, "k3s"), body(root));
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/^fjord: node osl-1: k3s failed: air-gap file .*\/k3s is missing/);
    expect(existsSync(installRecordPath(root))).toBe(false);
  });
});

describe("kubeconfig script", () => {
  it("GIVEN an image root, where k3s never started WHEN the kubeconfig script runs THEN it succeeds, prints nothing and says there is no kubeconfig", () => {
    const r = run(ctx(tempRoot(), "kubeconfig"), renderKubeconfigBody({ timeoutSeconds: 2 }));
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain("no kubeconfig");
  });
});

describe("drain script", () => {
  it("GIVEN a drain step and no API WHEN it is created, then deleted THEN creating only announces the drain, and deleting removes the node without one", () => {
    const root = tempRoot();
    const c = { ...ctx(root, "drain osl-2") };
    expect(run(c, renderDrainBody({ target: "osl-2" }), "create").stdout).toContain(
      "will drain osl-2",
    );
    const del = run(c, renderDrainBody({ target: "osl-2" }), "delete");
    expect(del.code).toBe(0);
    expect(del.stderr).toContain("osl-2 is removed without a drain");
  });
});

describe("every rendered script", () => {
  // Paths not exercised here (live k3s install, downloads) must at least be valid bash.
  const config = renderK3sConfig({
    node: "s1",
    role: "server",
    host: "192.0.2.11",
    region: "no-osl1",
    gateway: false,
    clusterInit: true,
  });
  const bodies: [string, string][] = [
    ["facts", renderFactsBody(3)],
    ["prep", renderPrepBody({ nvme: true, ntpServers: ["ntp.example.no"] })],
    [
      "firewall",
      renderFirewallBody(
        renderNftables({
          node: "s1",
          role: "server",
          sshPort: 22,
          adminCidrs: [],
          gateway: true,
          http3: true,
          peers: [],
          serverPeers: [],
        }),
      ),
    ],
    [
      "k3s download",
      renderK3sBody({ role: "server", version: "v1.31.4+k3s1", config, token: "t" }),
    ],
    [
      "k3s airgap",
      renderK3sBody({
        role: "agent",
        version: "v1.31.4+k3s1",
        config,
        token: "t",
        airgap: { stagingDir: "/var/tmp/fjord-airgap", imagesFile: "i.tar" },
      }),
    ],
    ["drain", renderDrainBody({ target: "a1", timeoutSeconds: 60 })],
    ["kubeconfig", renderKubeconfigBody()],
  ];
  it.each(bodies)(
    "GIVEN the %s step WHEN its script and launcher are syntax-checked THEN the script is valid bash and the launcher valid sh",
    (step, body) => {
      const c = { ...ctx("", step), live: true };
      const script = spawnSync("bash", ["-n"], { input: renderStep(c, body), encoding: "utf8" });
      expect(script.stderr).toBe("");
      expect(script.status).toBe(0);
      const sh = spawnSync("sh", ["-n", "-c", launcher(c, "delete")], { encoding: "utf8" });
      expect(sh.stderr).toBe("");
    },
  );

  it("GIVEN the k3s version latest WHEN the k3s script is rendered THEN it is refused as not a k3s release", () => {
    expect(() => renderK3sBody({ role: "agent", version: "latest", config, token: "t" })).toThrow(
      /not a k3s release/,
    );
  });
});
