// Final-state notifications (src/notify/): their environment variables, parsed and bounded here and
// merged into src/config.ts's schema like src/config-observability.ts, so a bad value stops the
// process with one line naming it. The secret is never part of a message.
import { z } from 'zod';
import { describeBounds, parseDuration, withinBounds, type DurationBounds } from './lib/duration';
import { NOTIFY_URL_EXPECTED, notifyUrlProblem } from './notify/url';
import { SECRET_EXPECTED, secretProblem } from './notify/signature';

/** How long a notification is retried: at least a minute (a few attempts), at most 30 days. */
export const NOTIFY_GIVE_UP_BOUNDS: DurationBounds = { minMs: 60_000, maxMs: 30 * 86_400_000 };
export const DEFAULT_NOTIFY_GIVE_UP_MS = 3 * 86_400_000;

export const notifySchema = {
  NOTIFY_URL: z
    .string()
    .trim()
    .superRefine((s, ctx) => {
      const problem = notifyUrlProblem(s);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    })
    .optional(),
  NOTIFY_SECRET: z
    .string()
    .trim()
    .superRefine((s, ctx) => {
      const problem = secretProblem(s);
      if (problem) ctx.addIssue({ code: 'custom', message: `${SECRET_EXPECTED} (${problem})` });
    })
    .optional(),
  NOTIFY_GIVE_UP_AFTER: z
    .string()
    .refine(
      (s) => {
        const ms = parseDuration(s);
        return ms !== undefined && withinBounds(ms, NOTIFY_GIVE_UP_BOUNDS);
      },
      `a whole-unit duration ${describeBounds(NOTIFY_GIVE_UP_BOUNDS)}, e.g. 3d`,
    )
    .transform((s) => parseDuration(s) as number)
    .default(DEFAULT_NOTIFY_GIVE_UP_MS),
} as const;

export const NOTIFY_EXPECTED: Record<keyof typeof notifySchema, string> = {
  NOTIFY_URL: NOTIFY_URL_EXPECTED,
  NOTIFY_SECRET: SECRET_EXPECTED,
  NOTIFY_GIVE_UP_AFTER: `a whole-unit duration ${describeBounds(NOTIFY_GIVE_UP_BOUNDS)}, e.g. 3d`,
};

export interface NotifyConfig {
  /** Where a signing's final state is POSTed when its start request names no notifyUrl. */
  defaultUrl?: string;
  /** `whsec_…`; in sandbox mode, when unset, one is generated into DATA_DIR (src/dependencies.ts). */
  secret?: string;
  /** Delivery is retried this long after the first attempt, then given up. */
  giveUpAfterMs: number;
}

type Parsed = { [K in keyof typeof notifySchema]: z.output<(typeof notifySchema)[K]> };

/** The parsed variables, or the variable and expectation of a cross-check that fails. */
export function notifyFrom(p: Parsed, sandbox: boolean): { notify: NotifyConfig } | { variable: string; expectation: string } {
  // Outside the sandbox nobody generates a secret: a default URL without one could never be signed.
  if (p.NOTIFY_URL !== undefined && p.NOTIFY_SECRET === undefined && !sandbox) {
    return { variable: 'NOTIFY_SECRET', expectation: `required when NOTIFY_URL is set; expected ${SECRET_EXPECTED}` };
  }
  return {
    notify: {
      ...(p.NOTIFY_URL !== undefined ? { defaultUrl: p.NOTIFY_URL } : {}),
      ...(p.NOTIFY_SECRET !== undefined ? { secret: p.NOTIFY_SECRET } : {}),
      giveUpAfterMs: p.NOTIFY_GIVE_UP_AFTER,
    },
  };
}
