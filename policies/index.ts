/**
 * fjord's policy pack (constructing it starts the gRPC server the engine talks to). Levels per
 * environment come from policies/config/<env>.json via
 * `pulumi preview --policy-pack policies --policy-pack-config ...`.
 */
import { PolicyPack } from "@pulumi/policy";
import { policies } from "./policies";

new PolicyPack("fjord", {
  description:
    "fjord: residency (Norway by default), TLS, resources, availability, security and backups of the platform.",
  enforcementLevel: "mandatory",
  policies,
});
