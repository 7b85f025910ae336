import { describe, expect, it } from "vitest";
import { edit, runResource, unknown } from "./harness";
import { T, deployment, dockerContainer } from "./fixtures";
import {
  noHostNamespaces,
  noPrivilegedContainers,
  pinnedImages,
  runAsNonRoot,
  unpinned,
} from "../../../policies/security";

const dep = deployment();
const main = (d: typeof dep) => d.spec.template.spec.containers[0];
const k8s = (props: Record<string, unknown>) => ({ type: T.deployment, props });
const docker = (props: Record<string, unknown>) => ({ type: T.docker, props });

describe("no-privileged-containers", () => {
  it("passes fjord's restricted containers", async () => {
    expect((await runResource(noPrivilegedContainers, k8s(dep))).violations).toEqual([]);
    expect(
      (await runResource(noPrivilegedContainers, docker(dockerContainer()))).violations,
    ).toEqual([]);
  });
  it("refuses a privileged container", async () => {
    const r = await runResource(
      noPrivilegedContainers,
      k8s(edit(dep, (d) => (main(d).securityContext.privileged = true))),
    );
    expect(r.mandatory).toEqual([
      "Deployment fjord-orders/orders container 'orders' runs privileged, which gives it full control of the host; remove privileged: true and add only the capabilities it needs.",
    ]);
  });
  it("refuses SYS_ADMIN added to an init container", async () => {
    const d = edit(
      dep,
      (x) =>
        (x.spec.template.spec.initContainers = [
          {
            name: "setup",
            image: "busybox:1.36",
            securityContext: { capabilities: { add: ["SYS_ADMIN"] } },
          },
        ]),
    );
    expect((await runResource(noPrivilegedContainers, k8s(d))).mandatory).toEqual([
      "Deployment fjord-orders/orders init container 'setup' adds the SYS_ADMIN capability, as good as privileged; drop it.",
    ]);
  });
  it("refuses a privileged Docker container", async () => {
    expect(
      (await runResource(noPrivilegedContainers, docker(dockerContainer({ privileged: true }))))
        .mandatory,
    ).toEqual([
      "Docker container 'fjord-dev-orders-1' runs privileged, which gives it full control of the host; remove privileged: true and add only the capabilities it needs.",
    ]);
  });
  it("is not applicable to a Service", async () => {
    expect(
      (await runResource(noPrivilegedContainers, { type: T.service, props: {} })).notApplicable,
    ).toEqual(["Only Kubernetes workloads and Docker containers run containers."]);
  });
});

describe("no-host-namespaces", () => {
  it("passes the fixtures", async () => {
    expect((await runResource(noHostNamespaces, k8s(dep))).violations).toEqual([]);
    expect((await runResource(noHostNamespaces, docker(dockerContainer()))).violations).toEqual([]);
  });
  it("refuses hostNetwork, unless configured", async () => {
    const d = edit(dep, (x) => (x.spec.template.spec.hostNetwork = true));
    expect((await runResource(noHostNamespaces, k8s(d))).mandatory).toEqual([
      "Deployment fjord-orders/orders shares the host's network namespace (hostNetwork: true); remove it.",
    ]);
    expect(
      (await runResource(noHostNamespaces, k8s(d), { config: { allowHostNetwork: true } }))
        .violations,
    ).toEqual([]);
  });
  it("refuses hostPID on a CronJob", async () => {
    const cron = {
      spec: { jobTemplate: { spec: { template: { spec: { hostPID: true, containers: [] } } } } },
    };
    expect(
      (await runResource(noHostNamespaces, { type: T.cronJob, name: "backup", props: cron }))
        .mandatory,
    ).toEqual(["CronJob backup shares the host's PID namespace (hostPID: true); remove it."]);
  });
  it("refuses Docker's host network", async () => {
    expect(
      (await runResource(noHostNamespaces, docker(dockerContainer({ networkMode: "host" }))))
        .mandatory,
    ).toEqual([
      "Docker container 'fjord-dev-orders-1' shares the host's network namespace (networkMode: host); use a container network / private namespace instead.",
    ]);
  });
  it("is not applicable to a ConfigMap", async () => {
    expect(
      (await runResource(noHostNamespaces, { type: T.configMap, props: {} })).notApplicable,
    ).toHaveLength(1);
  });
});

describe("run-as-non-root", () => {
  it("passes pod-level runAsNonRoot with container uids", async () => {
    expect((await runResource(runAsNonRoot, k8s(dep))).violations).toEqual([]);
  });
  it("refuses uid 0", async () => {
    const d = edit(dep, (x) => (main(x).securityContext.runAsUser = 0));
    expect((await runResource(runAsNonRoot, k8s(d))).mandatory).toEqual([
      "Deployment fjord-orders/orders container 'orders' runs as root (runAsUser: 0); set runAsUser to a non-zero uid and runAsNonRoot: true.",
    ]);
  });
  it("refuses a container with neither runAsNonRoot nor a uid", async () => {
    const d = edit(dep, (x) => {
      x.spec.template.spec.securityContext = {};
      main(x).securityContext = {};
    });
    expect((await runResource(runAsNonRoot, k8s(d))).mandatory).toEqual([
      "Deployment fjord-orders/orders container 'orders' may run as root: neither runAsNonRoot: true nor a non-zero runAsUser is set on the container or the pod; set securityContext.runAsNonRoot: true.",
    ]);
  });
  it("lets a container override the pod's runAsNonRoot", async () => {
    const d = edit(dep, (x) => (main(x).securityContext = { runAsNonRoot: false }));
    expect((await runResource(runAsNonRoot, k8s(d))).mandatory).toHaveLength(1);
  });
  it("reports a computed securityContext as cannot-verify, never as a pass", async () => {
    const d = edit(dep, (x) => (main(x).securityContext.runAsUser = unknown("number")));
    const r = await runResource(runAsNonRoot, k8s(d));
    expect(r.mandatory).toEqual([]);
    expect(r.advisory).toEqual([
      "Cannot verify whether Deployment fjord-orders/orders container 'orders' runs as root at preview: its securityContext is computed.",
    ]);
  });
  it("refuses Docker containers without a user, or as root", async () => {
    expect(
      (await runResource(runAsNonRoot, docker(dockerContainer({ user: undefined })))).mandatory,
    ).toEqual([
      "Docker container 'fjord-dev-orders-1' sets no user, so it runs as the image's default user (root for most images); set user to a non-zero uid, e.g. \"10001:10001\".",
    ]);
    expect(
      (await runResource(runAsNonRoot, docker(dockerContainer({ user: "root:root" })))).mandatory,
    ).toEqual([
      "Docker container 'fjord-dev-orders-1' runs as root (user: \"root:root\"); set user to a non-zero uid.",
    ]);
  });
  it("is not applicable to a Namespace", async () => {
    expect(
      (await runResource(runAsNonRoot, { type: T.namespace, props: {} })).notApplicable,
    ).toHaveLength(1);
  });
});

describe("pinned-images", () => {
  it.each([
    ["nginx:1.27.2", undefined],
    ["registry.example.no:5000/orders:1.4.2", undefined],
    ["nginx@sha256:" + "a".repeat(64), undefined],
    ["sha256:" + "b".repeat(64), undefined],
    ["nginx", "has no tag, so it means :latest"],
    ["localhost:5000/orders", "has no tag, so it means :latest"],
    ["traefik:latest", "uses the moving tag :latest"],
  ])("%s", (image, why) => expect(unpinned(image, ["latest"])).toBe(why));

  it("refuses :latest in a workload and explains the fix", async () => {
    const d = edit(dep, (x) => (main(x).image = "traefik:latest"));
    expect((await runResource(pinnedImages, k8s(d))).mandatory).toEqual([
      "Deployment fjord-orders/orders container 'orders' image 'traefik:latest' uses the moving tag :latest; pin it to a version tag or digest (e.g. 'traefik:1.2.3').",
    ]);
  });
  it("refuses an untagged Docker RemoteImage", async () => {
    expect(
      (
        await runResource(pinnedImages, {
          type: T.remoteImage,
          name: "nginx-image",
          props: { name: "nginx" },
        })
      ).mandatory,
    ).toEqual([
      "docker:index/remoteImage:RemoteImage 'nginx-image' image 'nginx' has no tag, so it means :latest; pin it to a version tag or digest (e.g. 'nginx:1.2.3').",
    ]);
  });
  it("leaves a computed Docker image to the image resource it comes from", async () => {
    const r = await runResource(pinnedImages, docker(dockerContainer({ image: unknown() })));
    expect(r.violations).toEqual([]);
    const built = {
      type: "docker:index/image:Image",
      name: "app-image",
      props: { imageName: "registry.example.no/app" },
    };
    expect((await runResource(pinnedImages, built)).mandatory).toEqual([
      "docker:index/image:Image 'app-image' image 'registry.example.no/app' has no tag, so it means :latest; pin it to a version tag or digest (e.g. 'registry.example.no/app:1.2.3').",
    ]);
  });
  it("cannot verify a computed image in a pod spec", async () => {
    const d = edit(dep, (x) => (main(x).image = unknown()));
    expect((await runResource(pinnedImages, k8s(d))).advisory).toEqual([
      "Cannot verify the image of Deployment fjord-orders/orders container 'orders' at preview: image is computed.",
    ]);
  });
  it("is not applicable to a Secret", async () => {
    expect((await runResource(pinnedImages, { type: T.secret, props: {} })).notApplicable).toEqual([
      "Only workloads, Docker containers and images reference images.",
    ]);
  });
});
