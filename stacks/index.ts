/**
 * fjord's stack entry point: config → spec → the target's Platform. This is the only module
 * that reads `pulumi.Config`.
 */
import * as pulumi from "@pulumi/pulumi";
import { backupKeys, loadSpec } from "./config";
import { deployKubernetes } from "./kubernetes";
import { deployDocker } from "./docker";

const { spec, warnings, secret } = loadSpec();
for (const w of warnings) void pulumi.log.warn(w);

const keys = backupKeys(spec, secret);
const deployed =
  spec.target === "kubernetes" ? deployKubernetes(spec, secret, keys) : deployDocker(spec, keys);

export const environment = spec.environment;
export const region = spec.region;
export const target = spec.target;
export const services = spec.services.map((s) => s.name);
export const outputs = deployed;
