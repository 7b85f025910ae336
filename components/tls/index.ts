import * as pulumi from "@pulumi/pulumi";
import * as command from "@pulumi/command";

export { SessionTicketKeys, type SessionTicketKeysArgs } from "./ticket-keys";

export interface SelfSignedCertificateArgs {
  /** DNS names the certificate is valid for; the first is the common name. */
  domains: string[];
  /** @default 397 (the longest lifetime browsers accept) */
  validityDays?: number;
  /**
   * Also make an RSA 2048 pair for the same names, for the few clients that cannot verify ECDSA.
   * @default false
   */
  rsaFallback?: boolean;
}

/**
 * A self-signed ECDSA certificate made with the local `openssl`, for stacks without a CA.
 * The key is a secret output from birth, so it is encrypted in state and masked in logs.
 */
export class SelfSignedCertificate extends pulumi.ComponentResource {
  public readonly certPem: pulumi.Output<string>;
  public readonly keyPem: pulumi.Output<string>;
  /** The RSA pair, when `rsaFallback` is set. */
  public readonly rsa?: { certPem: pulumi.Output<string>; keyPem: pulumi.Output<string> };

  constructor(
    name: string,
    args: SelfSignedCertificateArgs,
    opts?: pulumi.ComponentResourceOptions,
  ) {
    super("fjord:tls:SelfSignedCertificate", name, {}, opts);
    const validityDays = args.validityDays ?? 397;
    const san = args.domains.map((d) => (/^[\d.]+$/.test(d) ? `IP:${d}` : `DNS:${d}`)).join(",");

    const pair = (suffix: string, newkey: string) => {
      const gen = new command.local.Command(
        `${name}-openssl${suffix}`,
        {
          create: [
            "set -eu",
            "d=$(mktemp -d); trap 'rm -rf \"$d\"' EXIT",
            `openssl req -x509 -newkey ${newkey} -nodes -days "$DAYS" ` +
              '-subj "/CN=$CN" -addext "subjectAltName=$SAN" -keyout "$d/key.pem" -out "$d/cert.pem" 2>"$d/err" ' +
              '|| { echo "fjord: openssl could not create the self-signed certificate (is openssl installed?):" >&2; cat "$d/err" >&2; exit 1; }',
            'cat "$d/cert.pem" "$d/key.pem"',
          ].join("\n"),
          environment: { CN: args.domains[0], SAN: san, DAYS: String(validityDays) },
          triggers: [san, validityDays],
          logging: "stderr",
        },
        { parent: this, additionalSecretOutputs: ["stdout"] },
      );
      const split = gen.stdout.apply((out) => {
        const at = out.indexOf("-----BEGIN PRIVATE KEY-----");
        return { cert: out.slice(0, at).trim() + "\n", key: out.slice(at).trim() + "\n" };
      });
      // The certificate is public; only the key stays secret.
      return {
        certPem: pulumi.unsecret(split.apply((s) => s.cert)),
        keyPem: pulumi.secret(split.apply((s) => s.key)),
      };
    };
    // The ECDSA command keeps its original name, so existing stacks keep their certificate.
    const ec = pair("", "ec -pkeyopt ec_paramgen_curve:prime256v1");
    this.certPem = ec.certPem;
    this.keyPem = ec.keyPem;
    if (args.rsaFallback) this.rsa = pair("-rsa", "rsa:2048");
    this.registerOutputs({
      certPem: this.certPem,
      keyPem: this.keyPem,
      ...(this.rsa ? { rsaCertPem: this.rsa.certPem, rsaKeyPem: this.rsa.keyPem } : {}),
    });
  }
}
