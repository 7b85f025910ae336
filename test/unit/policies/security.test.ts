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
  it("GIVEN fjord's restricted Deployment and Docker container WHEN judged THEN both pass", async () => {
    expect((await runResource(noPrivilegedContainers, k8s(dep))).violations).toEqual([]);
    expect(
      (await runResource(noPrivilegedContainers, docker(dockerContainer()))).violations,
    ).toEqual([]);
  });
  it("GIVEN a privileged container WHEN judged THEN it is refused", async () => {
    const r = await runResource(
      noPrivilegedContainers,
      k8s(edit(dep, (d) => (main(d).securityContext.privileged = true))),
    );
    expect(r.mandatory).toEqual([
      "Deployment fjord-orders/orders container 'orders' runs privileged, which gives it full control of the host; remove privileged: true and add only the capabilities it needs.",
    ]);
  });
  it("GIVEN an init container adding SYS_ADMIN WHEN judged THEN it is refused as good as privileged", async () => {
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
  it("GIVEN a privileged Docker container WHEN judged THEN it is refused", async () => {
    expect(
      (await runResource(noPrivilegedContainers, docker(dockerContainer({ privileged: true }))))
        .mandatory,
    ).toEqual([
      "Docker container 'fjord-dev-orders-1' runs privileged, which gives it full control of the host; remove privileged: true and add only the capabilities it needs.",
    ]);
  });
  it("GIVEN a Service WHEN judged THEN the policy is not applicable", async () => {
    expect(
      (await runResource(noPrivilegedContainers, { type: T.service, props: {} })).notApplicable,
    ).toEqual(["Only Kubernetes workloads and Docker containers run containers."]);
  });
});

describe("no-host-namespaces", () => {
  it("GIVEN the Deployment and Docker fixtures WHEN judged THEN both pass", async () => {
    expect((await runResource(noHostNamespaces, k8s(dep))).violations).toEqual([]);
    expect((await runResource(noHostNamespaces, docker(dockerContainer()))).violations).toEqual([]);
  });
  it("GIVEN hostNetwork: true WHEN judged THEN it is refused, and WHEN allowHostNetwork is configured THEN it passes", async () => {
    const d = edit(dep, (x) => (x.spec.template.spec.hostNetwork = true));
    expect((await runResource(noHostNamespaces, k8s(d))).mandatory).toEqual([
      "Deployment fjord-orders/orders shares the host's network namespace (hostNetwork: true); remove it.",
    ]);
    expect(
      (await runResource(noHostNamespaces, k8s(d), { config: { allowHostNetwork: true } }))
        .violations,
    ).toEqual([]);
  });
  it("GIVEN a CronJob with hostPID: true WHEN judged THEN it is refused", async () => {
    const cron = {
      spec: { jobTemplate: { spec: { template: { spec: { hostPID: true, containers: [] } } } } },
    };
    expect(
      (await runResource(noHostNamespaces, { type: T.cronJob, name: "backup", props: cron }))
        .mandatory,
    ).toEqual(["CronJob backup shares the host's PID namespace (hostPID: true); remove it."]);
  });
  it("GIVEN a Docker container in networkMode host WHEN judged THEN it is refused", async () => {
    expect(
      (await runResource(noHostNamespaces, docker(dockerContainer({ networkMode: "host" }))))
        .mandatory,
    ).toEqual([
      "Docker container 'fjord-dev-orders-1' shares the host's network namespace (networkMode: host); use a container network / private namespace instead.",
    ]);
  });
  it("GIVEN a ConfigMap WHEN judged THEN the policy is not applicable", async () => {
    expect(
      (await runResource(noHostNamespaces, { type: T.configMap, props: {} })).notApplicable,
    ).toHaveLength(1);
  });
});

describe("run-as-non-root", () => {
  it("GIVEN pod-level runAsNonRoot with container uids WHEN judged THEN it passes", async () => {
    expect((await runResource(runAsNonRoot, k8s(dep))).violations).toEqual([]);
  });
  it("GIVEN a container with runAsUser 0 WHEN judged THEN it is refused as running as root", async () => {
    const d = edit(dep, (x) => (main(x).securityContext.runAsUser = 0));
    expect((await runResource(runAsNonRoot, k8s(d))).mandatory).toEqual([
      "Deployment fjord-orders/orders container 'orders' runs as root (runAsUser: 0); set runAsUser to a non-zero uid and runAsNonRoot: true.",
    ]);
  });
  it("GIVEN neither runAsNonRoot nor a uid on the pod or container WHEN judged THEN it is refused as possibly root", async () => {
    const d = edit(dep, (x) => {
      x.spec.template.spec.securityContext = {};
      main(x).securityContext = {};
    });
    expect((await runResource(runAsNonRoot, k8s(d))).mandatory).toEqual([
      "Deployment fjord-orders/orders container 'orders' may run as root: neither runAsNonRoot: true nor a non-zero runAsUser is set on the container or the pod; set securityContext.runAsNonRoot: true.",
    ]);
  });
  it("GIVEN a container setting runAsNonRoot false under the pod's runAsNonRoot WHEN judged THEN the container's setting wins and it is refused", async () => {
    const d = edit(dep, (x) => (main(x).securityContext = { runAsNonRoot: false }));
    expect((await runResource(runAsNonRoot, k8s(d))).mandatory).toHaveLength(1);
  });
  it("GIVEN a computed runAsUser WHEN judged THEN it is advised as unverifiable, never a pass", async () => {
    const d = edit(dep, (x) => (main(x).securityContext.runAsUser = unknown("number")));
    const r = await runResource(runAsNonRoot, k8s(d));
    expect(r.mandatory).toEqual([]);
    expect(r.advisory).toEqual([
      "Cannot verify whether Deployment fjord-orders/orders container 'orders' runs as root at preview: its securityContext is computed.",
    ]);
  });
  it("GIVEN a Docker container without a user or with user root:root WHEN judged THEN each is refused", async () => {
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
  it("GIVEN a Namespace WHEN judged THEN the policy is not applicable", async () => {
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
  ])(
    "GIVEN image %s WHEN checked against the moving tag latest THEN unpinned returns %s (undefined when pinned)",
    (image, why) => expect(unpinned(image, ["latest"])).toBe(why),
  );

  it("GIVEN a workload image traefik:latest WHEN judged THEN it is refused with the fix", async () => {
    const d = edit(dep, (x) => (main(x).image = "traefik:latest"));
    expect((await runResource(pinnedImages, k8s(d))).mandatory).toEqual([
      "Deployment fjord-orders/orders container 'orders' image 'traefik:latest' uses the moving tag :latest; pin it to a version tag or digest (e.g. 'traefik:1.2.3').",
    ]);
  });
  it("GIVEN an untagged Docker RemoteImage WHEN judged THEN it is refused", async () => {
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
  it("GIVEN a Docker container with a computed image WHEN judged THEN it passes, and the untagged Image resource it would come from is refused instead", async () => {
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
  it("GIVEN a computed image in a pod spec WHEN judged THEN it is advised as unverifiable", async () => {
    const d = edit(dep, (x) => (main(x).image = unknown()));
    expect((await runResource(pinnedImages, k8s(d))).advisory).toEqual([
      "Cannot verify the image of Deployment fjord-orders/orders container 'orders' at preview: image is computed.",
    ]);
  });
  it("GIVEN a Secret WHEN judged THEN the policy is not applicable", async () => {
    expect((await runResource(pinnedImages, { type: T.secret, props: {} })).notApplicable).toEqual([
      "Only workloads, Docker containers and images reference images.",
    ]);
  });
});
