/**
 * The gateway behaviour table (gateway-table.ts) against Debian's real nginx running the rendered
 * nginx.conf, on loopback.
 */
import { ensureNginx, nginxConfForPlan, startNginx, tlsFiles } from "../../testkit/nginx";
import { gatewayBehaviour } from "./gateway-table";

ensureNginx();

gatewayBehaviour({
  name: "nginx",
  start: (plan, cert) => startNginx({ confText: nginxConfForPlan(plan), files: tlsFiles(cert) }),
  // limit_req is a leaky bucket: the request that finds it empty, plus `burst` queued (nodelay).
  admittedAtOnce: (rl) => rl.burst + 1,
  // Passive: the failed requests themselves count towards max_fails; nothing else to wait for.
  awaitEjected: async () => {},
  readmission: "fail_timeout",
  ratioBreaker: false,
});
