/**
 * Images for the test cluster, with no registry: fjord's local images (images/build.sh's
 * cached root filesystems, the same ones the dev stack runs on Docker), plus a pause image compiled
 * here from Kubernetes' own pause.c and a CoreDNS image around the Go-built binary. Each becomes an
 * OCI image streamed into every node's containerd.
 */
import { execFileSync, spawnSync, spawn } from "child_process";
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from "fs";
import { homedir } from "os";
import * as path from "path";
import { ensurePackages, findBinary } from "../apt";
import type { LocalImages } from "../images";
import { fileDigest, importLayout, ociLayout, parseChanges, type ImageConfig } from "../oci";
import { makeTempDir, removeDir } from "../proc";
import { ROOT } from "../stack";
import { kubeBinary } from "./control-plane";
import { PAUSE_IMAGE, SNAPSHOTTER } from "./node";

const CACHE = process.env.FJORD_CACHE ?? path.join(homedir(), ".cache/fjord");

export interface ClusterImage {
  ref: string;
  tar: string;
  config: ImageConfig;
}

/** The layer digest of a cached root filesystem, itself cached beside it (tars never change). */
async function digestOf(tar: string): Promise<string> {
  const file = `${tar}.sha256`;
  if (existsSync(file)) return readFileSync(file, "utf8").trim();
  const d = await fileDigest(tar);
  writeFileSync(file, d);
  return d;
}

/** A root filesystem holding one static binary (and nothing else), cached by the binary's digest. */
async function singleBinaryRootfs(name: string, binary: string, at: string): Promise<string> {
  const key = (await fileDigest(binary)).slice(7, 19);
  const tar = path.join(CACHE, "images", `${name}-${key}.tar`);
  if (existsSync(tar)) return tar;
  const dir = makeTempDir(`fjord-${name}-root-`);
  try {
    mkdirSync(path.join(dir, path.dirname(at)), { recursive: true });
    execFileSync("install", ["-m", "0755", binary, path.join(dir, at)]);
    mkdirSync(path.join(dir, "etc"), { recursive: true });
    writeFileSync(
      path.join(dir, "etc/passwd"),
      "root:x:0:0:root:/:/sbin/nologin\nnonroot:x:65532:65532::/:/sbin/nologin\n",
    );
    mkdirSync(path.dirname(tar), { recursive: true });
    execFileSync("tar", [
      "--numeric-owner",
      "--owner=0",
      "--group=0",
      "-C",
      dir,
      "-cf",
      `${tar}.tmp`,
      ".",
    ]);
    renameSync(`${tar}.tmp`, tar);
    return tar;
  } finally {
    removeDir(dir);
  }
}

/** Kubernetes' pause.c (from the k8s.io/kubernetes module), compiled static once per version. */
function pauseBinary(): string {
  const version = execFileSync(kubeBinary("kubelet"), ["--version"], { encoding: "utf8" })
    .trim()
    .split(" ")
    .pop()!;
  const out = path.join(CACHE, `pause-${version}`, "pause");
  if (existsSync(out)) return out;
  ensurePackages({ gcc: "gcc" });
  const src = execFileSync("go", ["mod", "download", "-json", `k8s.io/kubernetes@${version}`], {
    encoding: "utf8",
    cwd: CACHE,
    env: { ...process.env, GOFLAGS: "-mod=mod" },
  });
  const dir = (JSON.parse(src) as { Dir: string }).Dir;
  mkdirSync(path.dirname(out), { recursive: true });
  // prettier-ignore
  execFileSync(findBinary("gcc")!, [
    "-Os", "-static", "-Wall", "-Werror", `-DVERSION=${version}`,
    "-o", `${out}.tmp`, path.join(dir, "build/pause/linux/pause.c"),
  ]);
  renameSync(`${out}.tmp`, out);
  return out;
}

interface OciListEntry {
  role: string;
  ref: string;
  tar: string;
  changes: string[];
}

/**
 * Removes earlier builds of the families in `current` (`<family>-<12 hex>.tar`, with its .packages
 * and .sha256): build.sh keys a root filesystem by every input, so an older key is never used
 * again, and each one is hundreds of MB.
 */
export function pruneStaleRootfs(current: string[]): string[] {
  const removed: string[] = [];
  const keyed = (f: string) => /^(.*)-[0-9a-f]{12}\.tar$/.exec(f)?.[1];
  for (const tar of new Set(current)) {
    const family = keyed(path.basename(tar));
    if (!family) continue;
    const dir = path.dirname(tar);
    for (const f of readdirSync(dir)) {
      if (keyed(f) !== family || path.join(dir, f) === tar) continue;
      for (const g of [f, `${f}.sha256`, f.replace(/\.tar$/, ".packages")])
        rmSync(path.join(dir, g), { force: true });
      removed.push(f);
    }
  }
  return removed;
}

/** Runs images/build.sh without Docker and returns what it built, by `fjord:images` role. */
async function localImageList(binaries: ClusterBinaries): Promise<OciListEntry[]> {
  ensurePackages({ debootstrap: "debootstrap" });
  const dir = makeTempDir("fjord-oci-list-");
  const list = path.join(dir, "images.jsonl");
  const args = [path.join(ROOT, "images/build.sh"), "--no-import", "--oci-list", list];
  if (binaries.traefik) args.push("--traefik-binary", binaries.traefik);
  if (binaries.loki) args.push("--loki-binary", binaries.loki);
  args.push("--prometheus3-binary", binaries.prometheus3);
  try {
    await new Promise<void>((resolve, reject) => {
      const p = spawn("bash", args, { stdio: ["ignore", "inherit", "inherit"] });
      p.once("error", reject);
      p.once("exit", (code) =>
        code === 0
          ? resolve()
          : reject(new Error(`images/build.sh exited ${code}; logs in ${CACHE}/images/logs`)),
      );
    });
    const entries = readFileSync(list, "utf8")
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l) as OciListEntry);
    pruneStaleRootfs(entries.map((e) => e.tar));
    return entries;
  } finally {
    removeDir(dir);
  }
}

export interface ClusterImages {
  /** By `fjord:images` role (and sampleService), the refs the stack should use. */
  local: LocalImages;
  coredns: string;
  /** rclone's `serve s3` alone (when an rclone-s3 binary was given): the backup drill's store. */
  s3?: string;
  all: ClusterImage[];
}

export interface ClusterBinaries {
  traefik?: string;
  loki?: string;
  /** testkit/tools/s3.sh's rclone-s3, for an in-cluster S3 server (test/e2e/backup-kubernetes). */
  s3?: string;
  /** Required: fjord's prod Prometheus config discovers pods with kubernetes_sd_configs. */
  prometheus3: string;
}

export async function prepareClusterImages(binaries: ClusterBinaries): Promise<ClusterImages> {
  const entries = await localImageList(binaries);
  const all: ClusterImage[] = entries.map((e) => ({
    ref: e.ref,
    tar: e.tar,
    config: parseChanges(e.changes),
  }));
  const local = Object.fromEntries(entries.map((e) => [e.role, e.ref])) as unknown as LocalImages;
  all.push({
    ref: PAUSE_IMAGE,
    tar: await singleBinaryRootfs("pause", pauseBinary(), "/pause"),
    config: { Env: [], Entrypoint: ["/pause"], User: "65535:65535" },
  });
  const corednsBin = kubeBinary("coredns");
  const version =
    execFileSync(corednsBin, ["-version"], { encoding: "utf8" }).match(/CoreDNS-([\d.]+)/)?.[1] ??
    "0";
  const coredns = `fjord-local/coredns:${version}`;
  all.push({
    ref: coredns,
    tar: await singleBinaryRootfs("coredns", corednsBin, "/coredns"),
    config: { Env: [], Entrypoint: ["/coredns"], User: "65532:65532" },
  });
  let s3: string | undefined;
  if (binaries.s3) {
    const v = /rclone (v[\d.]+)/.exec(execFileSync(binaries.s3, ["version"], { encoding: "utf8" }));
    s3 = `fjord-local/rclone-s3:${v?.[1] ?? "0"}`;
    all.push({
      ref: s3,
      tar: await singleBinaryRootfs("rclone-s3", binaries.s3, "/rclone-s3"),
      config: { Env: [], Entrypoint: ["/rclone-s3"], User: "65532:65532" },
    });
  }
  return { local, coredns, ...(s3 ? { s3 } : {}), all };
}

/** Manifest digest of each image in a containerd's k8s.io namespace, by (normalized) name. */
function storedImages(containerdSock: string): Map<string, string> {
  const out = execFileSync("ctr", ["-a", containerdSock, "-n", "k8s.io", "images", "ls"], {
    encoding: "utf8",
  });
  const rows = out
    .split("\n")
    .slice(1)
    .map((l) => l.trim().split(/\s+/));
  return new Map(rows.filter((r) => r.length >= 3).map((r) => [r[0]!, r[2]!]));
}

/**
 * Makes one node's containerd hold exactly `images`: imports those it lacks (or holds with other
 * content), sequentially since each is hundreds of MB, and removes fjord-local images no longer
 * wanted, so a persistent store does not grow with every image change. Answers how many it imported.
 */
export async function importImages(
  images: ClusterImage[],
  containerdSock: string,
): Promise<number> {
  const stored = storedImages(containerdSock);
  let imported = 0;
  const wanted = new Set<string>();
  const wantedDigests = new Map<string, string>();
  for (const img of images) {
    const layer = await digestOf(img.tar);
    const layout = ociLayout(img.tar, img.ref, img.config, layer);
    wanted.add(layout.ref);
    wantedDigests.set(layout.ref, layout.manifestDigest);
    try {
      if (stored.get(layout.ref) !== layout.manifestDigest) {
        await importLayout(layout, containerdSock, SNAPSHOTTER);
        imported++;
      }
    } finally {
      layout.remove();
    }
    // Unpacked, the layer lives on as a snapshot; its blob would be a second full copy of the root
    // filesystem on every node (5 GB each here). CRI reads only the config and the snapshot, as
    // with its own discard_unpacked_layers. The next change of the image imports it again.
    spawnSync("ctr", ["-a", containerdSock, "-n", "k8s.io", "content", "rm", layer], {
      stdio: "ignore",
    });
  }
  // CRI also names every image it has seen by its ID (`sha256:<config digest>`); such a name keeps
  // an old image's snapshot alive after its tag is gone, so it goes too unless a wanted image
  // still answers to it. --sync: the snapshots and blobs are freed before the nodes start.
  const keep = new Set([...wantedDigests.values()]);
  const old = [...stored].filter(
    ([r, digest]) =>
      (r.startsWith("docker.io/fjord-local/") && !wanted.has(r)) ||
      (r.startsWith("sha256:") && !keep.has(digest)),
  );
  if (old.length)
    execFileSync(
      "ctr",
      ["-a", containerdSock, "-n", "k8s.io", "images", "rm", "--sync", ...old.map(([r]) => r)],
      { stdio: "ignore" },
    );
  return imported;
}
