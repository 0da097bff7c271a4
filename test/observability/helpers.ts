// Helpers of the observability tests: a log destination that keeps the lines, and a free port.
import { createServer } from 'node:net';

/** A pino destination that keeps every line written to it. */
export function captureLines(): { write(line: string): void; lines: string[]; text(): string; records(): Record<string, unknown>[] } {
  const lines: string[] = [];
  return {
    lines,
    write(line: string) {
      for (const l of line.split('\n')) if (l.trim() !== '') lines.push(l);
    },
    text: () => lines.join('\n'),
    records: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

/** A port free at the time of asking (127.0.0.1). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const addr = server.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      server.close(() => resolve(port));
    });
  });
}
