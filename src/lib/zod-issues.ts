// How a failed zod parse is told to whoever sent the value: the service's configuration, the
// business API and the callback routes, the Evrotrust client (its callers' input and Evrotrust's
// answers), and the simulator. zod's messages name the expected and received types, never the
// received value, so the text is safe to answer with and to log.
import type { z } from 'zod';

/** zod's path as JavaScript writes it: `signers[0].phone`; '' for the value itself. */
export function issuePath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out === '' ? String(key) : `.${String(key)}`;
  }
  return out;
}

export interface IssueText {
  /** `issuePath`, or the `root` name when the issue is about the value itself. */
  path: string;
  message: string;
}

/** The first issue of `error` (there always is one), its path written by `issuePath`. */
export function firstZodIssue(error: z.ZodError, root = '(root)'): IssueText {
  const issue = error.issues[0];
  if (!issue) return { path: root, message: 'invalid' };
  return { path: issuePath(issue.path) || root, message: issue.message };
}

export interface FormatOptions {
  /** Every issue, joined by `; `, instead of the first only. */
  all?: boolean;
  /** Names the value itself, e.g. `(body)`; without it an issue about the whole value is its message alone. */
  root?: string;
}

/**
 * One line for the sender: `path: message` per issue, the path left out when the message already
 * starts with its field (our own messages do: "status must be an integer").
 */
export function formatZodIssues(error: z.ZodError, options: FormatOptions = {}): string {
  const issues = options.all ? error.issues : error.issues.slice(0, 1);
  if (issues.length === 0) return 'invalid';
  return issues
    .map((issue) => {
      const path = issuePath(issue.path) || options.root;
      const field = issue.path[0];
      const named = field !== undefined && issue.message.startsWith(String(field));
      return path === undefined || named ? issue.message : `${path}: ${issue.message}`;
    })
    .join('; ');
}
