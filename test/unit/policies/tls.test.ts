import { describe, expect, it } from "vitest";
import { runResource, unknown } from "./harness";
import {
  NGINX_CONF,
  T,
  TRAEFIK_DYNAMIC,
  TRAEFIK_STATIC,
  deployment,
  dockerContainer,
  gatewayConfigMap,
} from "./fixtures";
import {
  tlsHsts,
  tlsHttpRedirectOnly,
  tlsMinVersion,
  tlsStrongCiphers,
  traefikApiSecure,
} from "../../../policies/tls";
import { opensslCipherProblems, weakSuite } from "../../../policies/lib/ciphers";

const nginx = (conf: string) => ({
  type: T.configMap,
  props: gatewayConfigMap({ "nginx.conf": conf }),
});
const traefik = (stat: string, dyn: string) => ({
  type: T.configMap,
  props: gatewayConfigMap({ "traefik.yml": stat, "dynamic.yml": dyn }),
});
const upload = (file: string, content: string) => ({
  type: T.docker,
  props: dockerContainer({ name: "fjord-dev-gateway", uploads: [{ file, content }] }),
});
const LABEL = "ConfigMap fjord-system/gateway-config";

describe("cipher analysis", () => {
  it.each([
    ["ECDHE-RSA-AES128-GCM-SHA256", undefined],
    ["ECDHE-RSA-CHACHA20-POLY1305", undefined],
    ["ECDHE-RSA-AES128-SHA256", undefined],
    ["ECDHE-RSA-AES128-SHA", "CBC mode with SHA-1"],
    ["DES-CBC3-SHA", "DES"],
    ["RC4-MD5", "RC4"],
    ["TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", "CBC mode with SHA-1"],
    ["TLS_RSA_WITH_3DES_EDE_CBC_SHA", "3DES"],
    ["TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", undefined],
  ])(
    "GIVEN the cipher suite %s WHEN weakSuite reads it THEN it returns %s (undefined when strong)",
    (s, want) => expect(weakSuite(s)).toBe(want),
  );
  it.each([
    ["EECDH+AESGCM:EDH+AESGCM", []],
    ["HIGH:!aNULL:!SHA1:!3DES", []],
    [
      "HIGH:!aNULL:!MD5",
      ["'HIGH' also enables weak suites unless the string excludes them (!SHA1 !3DES)"],
    ],
    [
      "ALL:!aNULL",
      [
        "'ALL' also enables weak suites unless the string excludes them (!eNULL !SHA1 !3DES !RC4 !MD5 !EXPORT)",
      ],
    ],
    ["ECDHE-RSA-AES256-GCM-SHA384:RC4", ["'RC4' selects RC4 suites"]],
  ])(
    "GIVEN the OpenSSL cipher string %s WHEN opensslCipherProblems reads it THEN it returns %j",
    (s, want) => expect(opensslCipherProblems(s)).toEqual(want),
  );
});

describe("tls-min-version", () => {
  it("GIVEN fjord's nginx and Traefik configs WHEN judged THEN both pass", async () => {
    expect((await runResource(tlsMinVersion, nginx(NGINX_CONF))).violations).toEqual([]);
    expect(
      (await runResource(tlsMinVersion, traefik(TRAEFIK_STATIC, TRAEFIK_DYNAMIC))).violations,
    ).toEqual([]);
  });
  it("GIVEN nginx ssl_protocols with TLSv1 and TLSv1.1 WHEN judged THEN it is refused, naming both", async () => {
    const r = await runResource(
      tlsMinVersion,
      nginx(
        NGINX_CONF.replace("ssl_protocols TLSv1.2 TLSv1.3", "ssl_protocols TLSv1 TLSv1.1 TLSv1.2"),
      ),
    );
    expect(r.mandatory).toEqual([
      `${LABEL} (data key 'nginx.conf') allows protocols below TLS 1.2: ssl_protocols enables TLSv1 and TLSv1.1. Set ssl_protocols TLSv1.2 TLSv1.3.`,
    ]);
  });
  it("GIVEN an uploaded nginx TLS server without ssl_protocols WHEN judged THEN it is refused for old nginx's defaults", async () => {
    const r = await runResource(
      tlsMinVersion,
      upload(
        "/etc/nginx/nginx.conf",
        "http { server { listen 443 ssl; server_name a; add_header Strict-Transport-Security max-age=31536000; } }",
      ),
    );
    expect(r.mandatory).toEqual([
      "Docker container 'fjord-dev-gateway' (upload /etc/nginx/nginx.conf) allows protocols below TLS 1.2: the TLS server 'a' (listen 443) sets no ssl_protocols, and nginx before 1.23.4 then also accepts TLSv1 and TLSv1.1. Set ssl_protocols TLSv1.2 TLSv1.3.",
    ]);
  });
  it("GIVEN Traefik minVersion TLS 1.1 or a TLSOption CRD at TLS 1.0 WHEN judged THEN each is refused, and GIVEN TLS 1.2 WHEN minVersion 1.3 is configured THEN it is refused too", async () => {
    const dyn = TRAEFIK_DYNAMIC.replace("minVersion: VersionTLS12", "minVersion: VersionTLS11");
    expect((await runResource(tlsMinVersion, traefik(TRAEFIK_STATIC, dyn))).mandatory).toEqual([
      `${LABEL} (data key 'dynamic.yml') allows protocols below TLS 1.2: tls.options.default.minVersion is VersionTLS11. Set minVersion: VersionTLS12.`,
    ]);
    const crd = {
      type: T.tlsOption,
      name: "old",
      props: {
        metadata: { name: "old", namespace: "fjord-system" },
        spec: { minVersion: "VersionTLS10" },
      },
    };
    expect((await runResource(tlsMinVersion, crd)).mandatory).toEqual([
      "TLSOption fjord-system/old sets spec.minVersion to VersionTLS10, below TLS 1.2. Set spec.minVersion: VersionTLS12.",
    ]);
    expect(
      (
        await runResource(tlsMinVersion, traefik(TRAEFIK_STATIC, TRAEFIK_DYNAMIC), {
          config: { minVersion: "1.3" },
        })
      ).mandatory,
    ).toEqual([
      `${LABEL} (data key 'dynamic.yml') allows protocols below TLS 1.3: tls.options.default.minVersion is VersionTLS12. Set minVersion: VersionTLS13.`,
    ]);
  });
  it("GIVEN a computed nginx.conf WHEN judged THEN it is advised as unverifiable", async () => {
    expect((await runResource(tlsMinVersion, nginx(unknown()))).advisory).toEqual([
      `Cannot verify the TLS protocols of ${LABEL} (data key 'nginx.conf') at preview: the config is computed.`,
    ]);
  });
  it("GIVEN a Namespace WHEN judged THEN the policy is not applicable", async () => {
    expect(
      (await runResource(tlsMinVersion, { type: T.namespace, props: {} })).notApplicable,
    ).toHaveLength(1);
  });
});

describe("tls-strong-ciphers", () => {
  it("GIVEN fjord's AEAD-only suites in nginx and Traefik WHEN judged THEN both pass", async () => {
    expect((await runResource(tlsStrongCiphers, nginx(NGINX_CONF))).violations).toEqual([]);
    expect(
      (await runResource(tlsStrongCiphers, traefik(TRAEFIK_STATIC, TRAEFIK_DYNAMIC))).violations,
    ).toEqual([]);
  });
  it("GIVEN nginx ssl_ciphers HIGH:!aNULL:!MD5 (the seed article's) WHEN judged THEN it is refused as allowing weak ciphers", async () => {
    const r = await runResource(
      tlsStrongCiphers,
      nginx(NGINX_CONF.replace(/ssl_ciphers [^;]+;/, "ssl_ciphers HIGH:!aNULL:!MD5;")),
    );
    expect(r.mandatory).toEqual([
      `${LABEL} (data key 'nginx.conf') allows weak ciphers: 'HIGH' also enables weak suites unless the string excludes them (!SHA1 !3DES). In ssl_ciphers, list only AEAD suites, e.g. ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305.`,
    ]);
  });
  it("GIVEN a CBC-SHA1 suite in Traefik's cipherSuites WHEN judged THEN it is refused", async () => {
    const dyn = TRAEFIK_DYNAMIC.replace(
      "- TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
      "- TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA",
    );
    expect((await runResource(tlsStrongCiphers, traefik(TRAEFIK_STATIC, dyn))).mandatory).toEqual([
      `${LABEL} (data key 'dynamic.yml') allows weak ciphers: tls.options.default: 'TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA' is a weak suite (CBC mode with SHA-1). List only TLS_ECDHE_*_GCM_* and *_CHACHA20_POLY1305_* suites in cipherSuites.`,
    ]);
  });
  it("GIVEN an ingress-nginx ssl-ciphers annotation with AES128-SHA WHEN judged THEN it is refused", async () => {
    const ing = {
      metadata: {
        name: "web",
        namespace: "a",
        annotations: {
          "nginx.ingress.kubernetes.io/ssl-ciphers": "ECDHE-RSA-AES128-GCM-SHA256:AES128-SHA",
        },
      },
      spec: { tls: [{ hosts: ["a.no"] }] },
    };
    expect(
      (await runResource(tlsStrongCiphers, { type: T.ingress, props: ing })).mandatory,
    ).toEqual([
      "Ingress a/web (ssl-ciphers) allows weak ciphers: 'AES128-SHA' is a weak suite (CBC mode with SHA-1). List only AEAD suites, e.g. ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305.",
    ]);
  });
  it("GIVEN a PodDisruptionBudget WHEN judged THEN the policy is not applicable", async () => {
    expect(
      (await runResource(tlsStrongCiphers, { type: T.pdb, props: {} })).notApplicable,
    ).toHaveLength(1);
  });
});

describe("tls-hsts", () => {
  it("GIVEN fjord's nginx and Traefik configs WHEN judged THEN both pass", async () => {
    expect((await runResource(tlsHsts, nginx(NGINX_CONF))).violations).toEqual([]);
    expect(
      (await runResource(tlsHsts, traefik(TRAEFIK_STATIC, TRAEFIK_DYNAMIC))).violations,
    ).toEqual([]);
  });
  it("GIVEN an nginx TLS server without Strict-Transport-Security WHEN judged THEN it is refused", async () => {
    const r = await runResource(
      tlsHsts,
      nginx(NGINX_CONF.replace(/add_header Strict-Transport-Security [^;]+;/, "")),
    );
    expect(r.mandatory).toEqual([
      `${LABEL} (data key 'nginx.conf') does not enforce HSTS: the TLS server 'api.example.no' (listen 8443) sends no Strict-Transport-Security header. Add 'add_header Strict-Transport-Security "max-age=31536000; includeSubDomains" always;' to each TLS server.`,
    ]);
  });
  it("GIVEN a location with its own add_header WHEN judged THEN the inherited HSTS header counts as dropped and it is refused", async () => {
    const conf = NGINX_CONF.replace(
      "location /orders/ { proxy_pass http://up_orders; }",
      "location /orders/ { add_header X-Frame-Options DENY; proxy_pass http://up_orders; }",
    );
    expect((await runResource(tlsHsts, nginx(conf))).mandatory).toEqual([
      `${LABEL} (data key 'nginx.conf') does not enforce HSTS: location /orders/ in 'api.example.no' (listen 8443) (its own add_header drops the inherited one) sends no Strict-Transport-Security header. Add 'add_header Strict-Transport-Security "max-age=31536000; includeSubDomains" always;' to each TLS server.`,
    ]);
  });
  it("GIVEN a Traefik TLS router without the secure-headers middleware WHEN judged THEN it is refused", async () => {
    const dyn = TRAEFIK_DYNAMIC.replace(
      "middlewares: [gw-ratelimit, gw-secure-headers]",
      "middlewares: [gw-ratelimit]",
    );
    expect((await runResource(tlsHsts, traefik(TRAEFIK_STATIC, dyn))).mandatory).toEqual([
      `${LABEL} (data key 'dynamic.yml') does not enforce HSTS: TLS router 'orders' uses no headers middleware with stsSeconds of at least 15552000. Attach a headers middleware with stsSeconds: 31536000 to every TLS router (or to the websecure entry point).`,
    ]);
  });
  it("GIVEN a Traefik Middleware CRD with stsSeconds 0 WHEN judged THEN it is refused", async () => {
    const mw = {
      metadata: { name: "hsts", namespace: "web" },
      spec: { headers: { stsSeconds: 0 } },
    };
    expect((await runResource(tlsHsts, { type: T.middleware, props: mw })).mandatory).toEqual([
      "Middleware web/hsts sets spec.headers.stsSeconds to 0, below 15552000. Set stsSeconds to at least 15552000.",
    ]);
  });
  it("GIVEN a Service WHEN judged THEN the policy is not applicable", async () => {
    expect((await runResource(tlsHsts, { type: T.service, props: {} })).notApplicable).toHaveLength(
      1,
    );
  });
});

describe("tls-http-redirect-only", () => {
  it("GIVEN fjord's redirect-only plain servers and internal health port WHEN judged THEN both configs pass", async () => {
    expect((await runResource(tlsHttpRedirectOnly, nginx(NGINX_CONF))).violations).toEqual([]);
    expect(
      (await runResource(tlsHttpRedirectOnly, traefik(TRAEFIK_STATIC, TRAEFIK_DYNAMIC))).violations,
    ).toEqual([]);
  });
  it("GIVEN a plain-HTTP server that proxies WHEN judged THEN it is refused", async () => {
    const conf = NGINX_CONF.replace(
      "return 301 https://$host$request_uri;",
      "location / { proxy_pass http://up_orders; }",
    );
    expect((await runResource(tlsHttpRedirectOnly, nginx(conf))).mandatory).toEqual([
      `${LABEL} (data key 'nginx.conf') serves plain HTTP: the plain-HTTP server 'api.example.no' (listen 8080) serves location / instead of redirecting to HTTPS. Make each plain-HTTP server only 'return 301 https://$host$request_uri;'.`,
    ]);
  });
  it("GIVEN an /admin/ location on the internal plain port WHEN judged THEN it is refused as neither health nor metrics", async () => {
    const conf = NGINX_CONF.replace(
      "location / { return 404; }\n    }\n}",
      "location /admin/ { proxy_pass http://up_orders; }\n    }\n}",
    );
    expect((await runResource(tlsHttpRedirectOnly, nginx(conf))).mandatory).toEqual([
      `${LABEL} (data key 'nginx.conf') serves plain HTTP: the plain-HTTP server '_' (listen 9100) serves location /admin/, which is not a health or metrics path. Make each plain-HTTP server only 'return 301 https://$host$request_uri;'.`,
    ]);
  });
  it("GIVEN Traefik flags with a web entry point and no redirection WHEN judged THEN it is refused", async () => {
    const d = deployment("traefik", "fjord-system");
    d.spec.template.spec.containers[0].args = [
      "--entrypoints.web.address=:80",
      "--entrypoints.websecure.address=:443",
      "--entrypoints.websecure.http.tls=true",
    ];
    expect(
      (await runResource(tlsHttpRedirectOnly, { type: T.deployment, props: d })).mandatory,
    ).toEqual([
      "Deployment fjord-system/traefik (container 'traefik' command/args) serves plain HTTP: entry point 'web' (:80) serves plain HTTP without http.redirections.entryPoint.to. Set entryPoints.<name>.http.redirections.entryPoint.to to the HTTPS entry point.",
    ]);
  });
  it("GIVEN an Ingress without TLS WHEN judged THEN it is refused", async () => {
    const ing = { metadata: { name: "web", namespace: "a" }, spec: { rules: [{ host: "a.no" }] } };
    expect(
      (await runResource(tlsHttpRedirectOnly, { type: T.ingress, props: ing })).mandatory,
    ).toEqual([
      "Ingress a/web has no spec.tls, so its hosts are served over plain HTTP. Add a spec.tls entry with a certificate Secret.",
    ]);
  });
  it("GIVEN a NetworkPolicy WHEN judged THEN the policy is not applicable", async () => {
    expect(
      (await runResource(tlsHttpRedirectOnly, { type: T.networkPolicy, props: {} })).notApplicable,
    ).toHaveLength(1);
  });
});

describe("traefik-api-secure", () => {
  it("GIVEN fjord's Traefik static config WHEN judged THEN it passes", async () => {
    expect(
      (await runResource(traefikApiSecure, traefik(TRAEFIK_STATIC, TRAEFIK_DYNAMIC))).violations,
    ).toEqual([]);
  });
  it("GIVEN --api.insecure=true on a Traefik Deployment (the seed article's) WHEN judged THEN it is refused", async () => {
    const d = deployment("traefik", "fjord-system");
    d.spec.template.spec.containers[0].args = ["--api.insecure=true", "--providers.docker=true"];
    expect(
      (await runResource(traefikApiSecure, { type: T.deployment, props: d })).mandatory,
    ).toEqual([
      "Deployment fjord-system/traefik (container 'traefik' command/args) serves Traefik's API and dashboard without authentication (api.insecure). Remove --api.insecure / api.insecure: true and expose the dashboard through a router with authentication on an internal entry point.",
    ]);
  });
  it("GIVEN a bare --api.insecure on a Docker container or api.insecure: true in traefik.yml WHEN judged THEN each is refused", async () => {
    const c = {
      type: T.docker,
      props: dockerContainer({
        name: "traefik",
        image: "traefik:v3.1",
        command: ["--api.insecure"],
      }),
    };
    expect((await runResource(traefikApiSecure, c)).mandatory).toHaveLength(1);
    const stat = TRAEFIK_STATIC.replace("insecure: false", "insecure: true");
    expect((await runResource(traefikApiSecure, traefik(stat, TRAEFIK_DYNAMIC))).mandatory).toEqual(
      [
        `${LABEL} (data key 'traefik.yml') serves Traefik's API and dashboard without authentication (api.insecure). Remove --api.insecure / api.insecure: true and expose the dashboard through a router with authentication on an internal entry point.`,
      ],
    );
  });
  it("GIVEN the dashboard enabled WHEN the environment does not allow it THEN it is refused", async () => {
    const stat = TRAEFIK_STATIC.replace("dashboard: false", "dashboard: true");
    expect(
      (
        await runResource(traefikApiSecure, traefik(stat, TRAEFIK_DYNAMIC), {
          config: { allowDashboard: false },
        })
      ).mandatory,
    ).toEqual([
      `${LABEL} (data key 'traefik.yml') enables Traefik's dashboard, which this environment does not allow. Set api.dashboard: false.`,
    ]);
  });
  it("GIVEN a Traefik container with computed flags WHEN judged THEN it is advised as unverifiable", async () => {
    const c = {
      type: T.docker,
      props: dockerContainer({ name: "traefik", image: "traefik:v3.1", command: unknown("array") }),
    };
    expect((await runResource(traefikApiSecure, c)).advisory).toEqual([
      "Cannot verify the API settings of Docker container 'traefik' (command) at preview: the config is computed.",
    ]);
  });
  it("GIVEN a Namespace WHEN judged THEN the policy is not applicable", async () => {
    expect(
      (await runResource(traefikApiSecure, { type: T.namespace, props: {} })).notApplicable,
    ).toHaveLength(1);
  });
});
