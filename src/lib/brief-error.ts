// One line of an error for a log field: Temporal's and the driver's messages can be long and
// multi-line. Used by the background loops (callback relay, reconciler) that log and carry on.
export function briefError(err: unknown): string {
  const text = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  return (text.split('\n')[0] ?? text).slice(0, 300);
}
