// Helpers of the observability tests: a log destination that keeps the lines, and a free port.
import { createServer } from 'node:net';
import { Writable } from 'node:stream';

/** A log destination (a real stream, as pino-pretty wants one) that keeps every line written to it. */
export function captureLines(): Writable & { lines: string[]; text(): string; records(): Record<string, unknown>[] } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer | string, _enc, done) {
      for (const l of chunk.toString().split('\n')) if (l.trim() !== '') lines.push(l);
      done();
    },
  });
  return Object.assign(stream, {
    lines,
    text: () => lines.join('\n'),
    records: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>),
  });
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
