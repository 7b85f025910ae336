/** Where data may live: the stack's region, extra regions, and the jurisdictions allowed. */
import { z } from "zod";
import { DEFAULT_REGION, DEFAULT_REGIONS } from "../../../lib/regions";

export const region = z.string().default(DEFAULT_REGION).meta({
  description: "Region of the gateway and the default placement of nodes and services.",
});

export const allowedJurisdictions = z
  .array(
    z.string().regex(/^([A-Z]{2}|EEA)$/, {
      error: 'must be an ISO 3166-1 alpha-2 code such as NO, or "EEA" for every EEA state',
    }),
  )
  .min(1)
  .default(["NO"])
  .meta({
    description:
      'ISO country codes data may live in ("EEA" for every EEA state); the config checks where services and nodes are placed, the residency policies check the resources.',
  });

const regionEntry = z.strictObject({
  jurisdiction: z
    .string()
    .regex(/^[A-Z]{2}$/, { error: "must be an ISO 3166-1 alpha-2 code such as NO" })
    .meta({ description: "ISO 3166-1 alpha-2 code of the law that applies there." }),
  eea: z.boolean().meta({ description: "Whether the jurisdiction is in the EEA." }),
  city: z.string().default("").meta({ description: "Name shown in reports." }),
});

export const regions = z
  .record(z.string(), regionEntry)
  .default({})
  .meta({
    description: `Extra regions, added to the built-in catalogue (${Object.keys(DEFAULT_REGIONS).join(", ")}).`,
  });
