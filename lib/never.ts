/**
 * Exhaustiveness for switches on unions: a new member becomes a type error at every switch that
 * forgets it, instead of silently taking some other branch at run time.
 */
export function assertNever(value: never, what: string): never {
  throw new Error(`unhandled ${what}: ${JSON.stringify(value)}`);
}
