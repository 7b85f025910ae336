import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { GATEWAY_TICKET_KEY_BYTES } from "../plan/gateway";

export interface SessionTicketKeysArgs {
  /** `fjord:gateway.tls.ticketKeyGeneration`: raising it by one rotates the keys. */
  generation: number;
}

/**
 * The gateway's TLS session ticket keys: the current one, which encrypts new tickets, and the
 * previous one, which still decrypts tickets issued before the last rotation.
 *
 * Two slots, one for even and one for odd generations. A slot's value is kept while its
 * generation stays the same, so raising the generation by one replaces only the slot that
 * becomes current: the other slot still holds what was current until then. Both values are
 * secret from birth and never leave Pulumi state in plain text.
 */
export class SessionTicketKeys extends pulumi.ComponentResource {
  /** Base64 of GATEWAY_TICKET_KEY_BYTES random bytes each. */
  public readonly current: pulumi.Output<string>;
  public readonly previous: pulumi.Output<string>;

  constructor(name: string, args: SessionTicketKeysArgs, opts?: pulumi.ComponentResourceOptions) {
    super("fjord:tls:SessionTicketKeys", name, {}, opts);
    const g = args.generation;
    if (!Number.isInteger(g) || g < 1)
      throw new pulumi.ResourceError(
        `fjord:gateway.tls.ticketKeyGeneration must be a whole number from 1, not ${g}`,
        this,
      );
    // The slot names must never change: a new name would replace both keys at once, and every
    // ticket in the hands of clients would stop resuming.
    const slot = (parity: 0 | 1) => {
      // The latest generation of this parity that has started (0 = none yet: a placeholder key).
      const gen = g % 2 === parity ? g : g - 1;
      return new random.RandomBytes(
        `${name}-slot${parity}`,
        { length: GATEWAY_TICKET_KEY_BYTES, keepers: { generation: String(gen) } },
        { parent: this, additionalSecretOutputs: ["base64", "hex"] },
      );
    };
    const even = slot(0);
    const odd = slot(1);
    const [cur, prev] = g % 2 === 0 ? [even, odd] : [odd, even];
    this.current = pulumi.secret(cur.base64);
    this.previous = pulumi.secret(prev.base64);
    this.registerOutputs({ current: this.current, previous: this.previous });
  }
}
