/** What the gateway renderers need of the config as a whole (components/plan/gateway/validate.ts). */
import { problem as p, type Check } from "./check";

/** A name listed twice would be two `server_name`s for one host; once is what was meant. */
export const domainsOnce: Check = (spec) => {
  const seen = new Map<string, number>();
  return spec.gateway.domains.flatMap((d, i) => {
    const first = seen.get(d.toLowerCase());
    if (first === undefined) {
      seen.set(d.toLowerCase(), i);
      return [];
    }
    return [
      p(
        ["gateway", "domains", i],
        `"${d}" is already domains[${first}] (names are case-insensitive); list each domain once`,
      ),
    ];
  });
};

/** The gateway is always deployed, and a proxy config with no route does not render. */
export const someRoute: Check = (spec) =>
  spec.services.some((s) => s.route)
    ? []
    : [
        p(
          ["services"],
          'no service has a route, so the gateway would have nothing to serve; give at least one service a route, such as route: { path: "/orders/" }',
        ),
      ];
