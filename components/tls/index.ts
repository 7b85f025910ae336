import * as pulumi from "@pulumi/pulumi";
import * as command from "@pulumi/command";

export interface SelfSignedCertificateArgs {
  /** DNS names the certificate is valid for; the first is the common name. */
  domains: string[];
  /** @default 397 (the longest lifetime browsers accept) */
  validityDays?: number;
}

/**
 * A self-signed ECDSA certificate made with the local `openssl`, for stacks without a CA.
 * The key is a secret output from birth, so it is encrypted in state and masked in logs.
 */
export class SelfSignedCertificate extends pulumi.ComponentResource {
  public readonly certPem: pulumi.Output<string>;
  public readonly keyPem: pulumi.Output<string>;

  constructor(
    name: string,
    args: SelfSignedCertificateArgs,
    opts?: pulumi.ComponentResourceOptions,
  ) {
    super("fjord:tls:SelfSignedCertificate", name, {}, opts);
    const validityDays = args.validityDays ?? 397;
    const san = args.domains.map((d) => (/^[\d.]+$/.test(d) ? `IP:${d}` : `DNS:${d}`)).join(",");

    const gen = new command.local.Command(
      `${name}-openssl`,
      {
        create: [
          "set -eu",
          "d=$(mktemp -d); trap 'rm -rf \"$d\"' EXIT",
          'openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days "$DAYS" ' +
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
    this.certPem = pulumi.unsecret(split.apply((s) => s.cert));
    this.keyPem = pulumi.secret(split.apply((s) => s.key));
    this.registerOutputs({ certPem: this.certPem, keyPem: this.keyPem });
  }
}
